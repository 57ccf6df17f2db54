"""The FLOP bound the arm core sizes rounds by: above what every round is charged, and tight on the default
network."""

from __future__ import annotations

import numpy as np
import pytest

from swarm import config, envs
from swarm.training import cost
from swarm.training.agent import Agent, opponent
from swarm.training.rollout import SELF

TICTACTOE = "classic/tictactoe-v3"  # short games: many openings and replies a round


def flops_config(make_config, env: str, every_seat: bool = False, **ppo) -> config.Experiment:
    data = make_config(env=env, budget={"unit": "flops", "total": 10**12}, network={"hidden": [16]})
    data["ppo"] |= ppo
    data["opponents"] |= {"per_round": 1, "every_seat": every_seat}
    data["arms"][1]["shards"] = min(2, data["ppo"]["envs"])
    return config.parse(data)


@pytest.mark.parametrize(
    ("env", "envs_", "arm", "every_seat"),
    [
        ("classic/connect_four-v3", 8, 0, False),
        ("classic/connect_four-v3", 3, 1, False),
        (TICTACTOE, 1, 0, False),
        (TICTACTOE, 5, 1, False),
        ("classic/connect_four-v3", 8, 0, True),
        (TICTACTOE, 5, 1, True),
        (TICTACTOE, 2, 0, True),
    ],
)
def test_no_round_is_charged_more_than_its_bound(make_config, env, envs_, arm, every_seat):
    """Rounds of every size from 1 agent-step, against two opponents, their games carried from round to round
    (arm 1 plays two shards): the charge lies between the exact part and the bound; learning from every seat
    it fills (`every_seat`), the agent fills the other seat itself in every third slot, or in all of them."""
    cfg = flops_config(make_config, env, every_seat, envs=envs_, epochs=2, rollout_steps=64, minibatches=2)
    spec, price = envs.describe(env), cost.of(cfg, arm)
    agent = Agent(spec, cfg, arm, 0)
    players = [opponent(agent.net.weights()), opponent(Agent(spec, cfg, arm, 1).net.weights())]
    slots = np.arange(envs_) % 2
    if every_seat:
        slots = np.where(np.arange(envs_) % 3 == 0, SELF, slots) if envs_ > 2 else np.full(envs_, SELF)
    rng = np.random.default_rng(0)
    for round_, target in enumerate([1, 1, 2, *rng.integers(1, 65, 12)]):
        charged = agent.train_round(round_, players, slots, int(target)).flops
        assert price.least_per_step * target <= charged <= price.bound(int(target))


def test_the_bound_is_within_ten_percent_of_a_default_batch(make_config):
    """The file's defaults (network [128, 128], 32 games, 4 epochs, batches of 1024) on Connect Four."""
    data = make_config(budget={"unit": "flops", "total": 10**13})
    data.pop("network"), data.pop("ppo")
    cfg = config.parse(data)
    price, spec = cost.of(cfg, 0), envs.describe(cfg.env)
    agent = Agent(spec, cfg, 0, 0)
    players = [opponent(agent.net.weights())]
    for round_ in range(2):
        charged = agent.train_round(round_, players, np.zeros(32, np.int64), 1024).flops
        assert charged <= price.bound(1024) <= 1.1 * charged


def test_agent_steps_cost_one_each(tiny):
    assert cost.of(tiny, 0) == cost.STEPS and cost.STEPS.slack == 0 and cost.STEPS.bound(7) == 7


def test_flops_are_refused_where_the_opponents_moves_cannot_be_bounded(make_config):
    cfg = config.Experiment.model_validate(
        make_config(env="pettingzoo.classic.rps_v2", budget={"unit": "flops", "total": 10**12})
    )
    with pytest.raises(ValueError, match=r"not known to .*use budget.unit: agent_steps"):
        cost.of(cfg, 0)
