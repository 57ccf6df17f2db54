"""Trained ladder members: one recipe whatever the run's seeds and arms; trained once, stored with the run."""

import numpy as np
import pandas as pd
import pytest

from swarm import config, references
from swarm.results import rundir
from swarm.weights import save_weights


@pytest.fixture
def with_member(make_config) -> config.Experiment:
    data = make_config()
    data["evaluation"]["ladder"] = ["random", "heuristic", "trained-512"]
    return config.parse(data)


def test_the_recipe_is_the_file_training_one_self_play_agent_from_the_reference_seed(with_member):
    recipe = references.recipe(with_member, "trained-512")
    [arm] = recipe.arms
    assert (arm.agents, arm.interaction, arm.shards) == (1, "self_play", 1)
    assert (recipe.budget.unit, recipe.budget.total) == ("agent_steps", 512)
    assert recipe.seed == references.REFERENCE_SEED and recipe.seeds is None and recipe.tuning is None
    assert (recipe.ppo, recipe.network, recipe.opponents) == (
        with_member.ppo,
        with_member.network,
        with_member.opponents,
    )


def test_the_recipe_reads_nothing_of_the_runs_seeds_arms_or_budget(with_member):
    """So a member is the same yardstick for every seed, arm and budget of a run, and of a sweep."""
    arms = [
        {"name": "solo", "agents": 1, "interaction": "self_play", "ppo": {"lr": 0.01}},
        {"name": "many", "agents": 2, "interaction": "population"},
    ]
    other = config.parse(
        {**with_member.model_dump(), "arms": arms, "baseline": "solo", "primary": "many", "seed": 7}
    ).model_copy(update={"budget": config.Budget(unit="flops", total=10**9)})
    for run in (with_member.for_seed(3), other):
        assert references.recipe(run, "trained-512") == references.recipe(with_member, "trained-512")


def test_the_door_refuses_a_member_shorter_than_a_batch_and_the_reference_seed(make_config):
    data = make_config()
    data["evaluation"]["ladder"] = ["random", "trained-100"]
    with pytest.raises(
        config.ConfigError, match=r"trained-100 trains on 100 agent-steps.*use trained-256 or"
    ):
        config.parse(data)
    data["evaluation"]["ladder"] = ["random", "trained-256"]
    data["seed"] = references.REFERENCE_SEED
    with pytest.raises(config.ConfigError, match=f"seed: {references.REFERENCE_SEED} is the seed the ladder"):
        config.parse(data)


def test_a_stored_member_is_loaded_not_trained_again(with_member, tmp_path):
    """No Ray runs here: a resumed run (or sweep) finds the member's weights and trains nothing."""
    run = rundir.RunDir(tmp_path)
    stored = {"w": np.arange(6, dtype=np.float32).reshape(2, 3)}
    save_weights(stored, run.reference("trained-512"))
    untrained = lambda *_: pytest.fail("trained again")  # noqa: E731
    [(name, weights)] = references.train(with_member, run, untrained).items()
    assert name == "trained-512" and np.array_equal(weights["w"], stored["w"])


def test_a_run_of_two_seeds_trains_its_member_once_and_rates_it_on_the_ladder(multi_seed_run):
    """The member's weights and ledger sit at the run's top, not in a seed's directory; it spent exactly its
    agent-steps, charged to no arm of the run; each seed played it and rated it against the fixed ladder."""
    run = rundir.RunDir(multi_seed_run)
    assert run.reference("trained-512").is_file()
    ledger = pd.read_parquet(run.reference_ledger("trained-512"))
    assert set(ledger.arm) == {references.ARM} and ledger.agent_steps.sum() == 512
    for seed in (0, 1):
        assert not run.seed(seed).reference("trained-512").exists()
        assert references.ARM not in set(pd.read_parquet(run.seed(seed).ledger).arm)
        matches = pd.read_parquet(run.seed(seed).matches)
        assert {"random", "heuristic"} <= set(matches[matches.player_0 == "trained-512"].player_1) | set(
            matches[matches.player_1 == "trained-512"].player_0
        )
        rated = pd.read_parquet(run.seed(seed).ratings)
        assert "trained-512" in set(rated[rated.fit == "ladder"].player)
