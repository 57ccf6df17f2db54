"""The scripted rung: MPE2's obvious policies play legally in every role and action space, beat random by a
margin measured on fixed seeds, agree on one matching whatever seat computes it, and are refused at the door
in a game without a script."""

import re

import numpy as np
import pytest
import torch

from swarm import config, engine, envs
from swarm.evaluation import ladder
from swarm.players import RandomPlayer, scripted
from swarm.training.rollout import play

pytest.importorskip("mpe2")

SPREAD, TAG = "mpe2.simple_spread_v3", "mpe2.simple_tag_v3"
EPISODES, CYCLES = 16, 15  # seeds 0..15; 15 rounds leave the gaps below wide


def spec_of(env: str, continuous: bool, **kwargs) -> envs.EnvSpec:
    return envs.describe(env, {"max_cycles": CYCLES, "continuous_actions": continuous, **kwargs})


def returns(spec: envs.EnvSpec, lineup: list[int]) -> np.ndarray:
    """Each seat's mean return over the fixed seeds, seat s played by random (0) or scripted (1)."""
    players = [RandomPlayer(spec.box), ladder.build("scripted", spec)]
    seating = np.tile(lineup, (EPISODES, 1))
    games = envs.games(spec, EPISODES)
    rewards, _ = play(games, players, seating, list(range(EPISODES)), torch.Generator().manual_seed(0))
    return rewards.mean(0)


@pytest.mark.parametrize("env", [SPREAD, TAG])
@pytest.mark.parametrize("continuous", [False, True])
def test_every_role_moves_legally(env, continuous):
    """Whoever is to move (a predator or the prey: the role read from the view's one-hot), its action is a
    legal Discrete move or a point inside the Box."""
    spec = spec_of(env, continuous)
    player, games = ladder.build("scripted", spec), envs.games(spec, 4)
    games.reset_many(np.arange(4), [0, 1, 2, 3])
    movers = set()
    for _ in range(2 * spec.seats):
        obs, mask = torch.from_numpy(games.obs), torch.from_numpy(games.mask)
        actions = player.act(obs, mask, torch.Generator()).numpy()
        if continuous:
            assert actions.shape == (4, spec.actions)
            assert (actions >= spec.box.low).all() and (actions <= spec.box.high).all()
        else:
            assert actions.dtype == np.int64 and games.mask[np.arange(4), actions].all()
        movers.update(games.to_move.tolist())
        games.step(np.arange(4), actions)  # the adapter raises IllegalMove on anything else
    assert movers == set(range(spec.seats))


@pytest.mark.parametrize("continuous", [False, True])
def test_a_scripted_team_covers_the_landmarks_better_than_random(continuous):
    """Measured on seeds 0..15, 15 rounds: random -15.6 a seat, scripted -7.5 (Discrete); -16.2 and -6.1
    (Box)."""
    spec = spec_of(SPREAD, continuous)
    team, floor = returns(spec, [1, 1, 1]).mean(), returns(spec, [0, 0, 0]).mean()
    assert team > floor + 4.0


@pytest.mark.parametrize("continuous", [False, True])
def test_scripted_predators_catch_and_scripted_prey_escape_more_than_random(continuous):
    """Against random prey, measured: random predators +3.8 each, scripted +38.8 (Discrete; +3.8 and +46.9
    Box). Against random predators: random prey -10.1, scripted -0.8 (Discrete; -9.0 and -1.1 Box): it flees
    and stays inside the area the env charges it for leaving."""
    spec = spec_of(TAG, continuous)
    assert spec.roles == ("adversary",) * 3 + ("agent",)
    floor = returns(spec, [0, 0, 0, 0])
    assert returns(spec, [1, 1, 1, 0])[:3].mean() > floor[:3].mean() + 20.0
    assert returns(spec, [0, 0, 0, 1])[3] > floor[3] + 5.0


@pytest.mark.parametrize("n", [2, 3, 5])
def test_every_seat_computes_one_matching_a_landmark_each(n):
    """On sampled states of simple_spread (random moves from reset), every seat's own landmark, computed from
    its own view alone, is a different landmark: the seats' targets are a permutation of the landmarks."""
    spec = envs.describe(SPREAD, {"N": n})
    player, generator = scripted.build(spec), np.random.default_rng(0)
    for seed in range(5):
        env = envs.make(SPREAD, {"N": n}).unwrapped
        env.reset(seed=seed)
        for _ in range(n * int(generator.integers(0, 8))):
            env.step(int(generator.integers(0, 5)))
        views = torch.tensor(np.stack([env.observe(agent) for agent in env.possible_agents]))
        targets = player.target(views).numpy()
        landmarks = np.stack([landmark.state.p_pos for landmark in env.world.landmarks])
        distance = np.linalg.norm(targets[:, None] - landmarks[None], axis=2)
        assert distance.min(axis=1).max() < 1e-5  # each target is a landmark...
        assert sorted(distance.argmin(axis=1)) == list(range(n))  # ...and no two seats share one


def test_the_matching_does_not_depend_on_who_lists_the_agents_or_landmarks():
    """Shuffling the agents and the landmarks shuffles the pairs with them, and nothing else."""
    generator = torch.Generator().manual_seed(0)
    agents, landmarks = torch.rand(64, 4, 2, generator=generator), torch.rand(64, 4, 2, generator=generator)
    pairs = scripted.matching(agents, landmarks)
    for _ in range(5):
        mine, theirs = torch.randperm(4, generator=generator), torch.randperm(4, generator=generator)
        assert torch.equal(scripted.matching(agents[:, mine], landmarks[:, theirs]), pairs[:, mine])
    # ties (two agents on one point) are broken by position, the same way whoever lists them
    twins = torch.tensor([[[0.0, 0.0], [0.0, 0.0]]]).expand(1, 2, 2)
    goals = torch.tensor([[[1.0, 0.0], [-1.0, 0.0]]])
    assert torch.equal(scripted.matching(twins, goals), scripted.matching(twins, goals.flip(1)))


def test_the_door_takes_scripted_where_there_is_a_script_and_refuses_it_elsewhere(make_config):
    """simple_spread (continuous too) and simple_tag (a role game) take scripted beside random, and an
    evaluation game plays it; Connect Four has no script, and env_kwargs that hide agents from the script
    are refused, each naming evaluation.ladder and the fix."""
    for env, kwargs in [(SPREAD, {"continuous_actions": True}), (TAG, {})]:
        data = make_config(env=env, env_kwargs={"max_cycles": 4, **kwargs})
        data["evaluation"] |= {"ladder": ["random", "scripted"]}
        assert config.parse(data).evaluation.ladder == ["random", "scripted"]
    rewards, _ = engine.play_local(config.parse(data), [(3, "scripted", "random")], {})
    assert rewards.shape == (1, 2)

    board = make_config()
    board["evaluation"] |= {"ladder": ["random", "scripted"]}
    message = (
        "evaluation.ladder: scripted plays only games with a script (mpe2.simple_spread_v3, "
        "mpe2.simple_tag_v3), not 'classic/connect_four-v3'; remove scripted from evaluation.ladder"
    )
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.parse(board)
    partial = make_config(env=SPREAD, env_kwargs={"max_cycles": 4, "num_agent_neighbors": 1})
    partial["evaluation"] |= {"ladder": ["random", "scripted"]}
    with pytest.raises(
        config.ConfigError, match=r"evaluation.ladder: scripted reads every agent .* num_agent_neighbors"
    ):
        config.parse(partial)
