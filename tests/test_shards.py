"""Shards: an agent's rounds come out the same whichever processes play its shards."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from swarm import config, envs, seeds
from swarm.players import RandomPlayer
from swarm.training import ppo, rollout
from swarm.training.agent import Agent, network
from swarm.training.shards import Shards, owned


@pytest.mark.parametrize("shards", range(1, 7))
def test_processes_share_out_every_shard_once_and_the_host_plays_shard_0(shards):
    for processes in range(1, shards + 1):
        played = [k for p in range(processes) for k in owned(shards, processes, p)]
        assert sorted(played) == list(range(shards)) and 0 in owned(shards, processes, 0)


def test_shards_split_the_slots_in_runs_and_seat_them_as_one_agent(spec, make_config):
    shards = Shards(spec, sharded(make_config, 3), 0, 0, 0, 1)
    assert [len(shards.games[k].games) for k in range(3)] == [3, 3, 2]  # 8 games, the first shards one more
    assert [shards.games[k].capacity for k in range(3)] == [86, 85, 85]  # batches of 256
    seats = np.concatenate([shards.games[k].learner_seat for k in range(3)])
    np.testing.assert_array_equal(seats, np.arange(8) % 2)  # half the games open with the learner to move


def sharded(make_config, shards: int) -> config.Experiment:
    data = make_config()
    data["arms"][0]["shards"] = shards
    return config.parse(data)


def train(spec, cfg: config.Experiment, processes: int, targets: list[int]) -> tuple[list, dict]:
    """Rounds of agent 0 of arm 0 with its shards on `processes` processes: this one (the agent's host) and
    the others, each a `Shards` of its own as on a rollout worker, handed the learner's weights each round."""
    torch.set_num_threads(1)
    agent = Agent(spec, cfg, 0, 0, processes)
    others = [Shards(spec, cfg, 0, 0, p, processes) for p in range(1, processes)]
    rival = Agent(spec, cfg, 1, 0).net  # seeded: the same rival in every call
    opponents, slot_opponent = [RandomPlayer(), rival], np.arange(cfg.ppo.envs) % 2
    reports = []
    for round_, target in enumerate(targets):
        learner = network(spec, cfg)
        learner.load_weights(agent.net.weights())  # as a worker gets them

        def elsewhere(round_: int = round_, target: int = target, learner=learner) -> tuple[dict, float]:
            parts = {}
            for shards in others:
                parts |= shards.collect(round_, learner, opponents, slot_opponent, target)[0]
            return parts, 0.0

        report = agent.train_round(round_, opponents, slot_opponent, target, 0.0, elsewhere)
        metrics = {k: v for k, v in report.metrics.items() if k != "seconds"}
        reports.append((report.agent_steps, report.flops, metrics, report.tallies))
    return reports, agent.net.weights()


def test_an_agent_trains_the_same_on_any_number_of_processes(spec, make_config):
    """Three shards on one, two or three processes: the same rounds to the bit, games kept across rounds,
    a round too short for every shard (2 transitions) included."""
    cfg = sharded(make_config, 3)
    targets = [256, 100, 2, 256]
    reference, expected = train(spec, cfg, 1, targets)
    assert [steps for steps, *_ in reference] == targets
    assert sum(metrics["games"] for _, _, metrics, _ in reference) > 0
    assert sum(r.games for *_, records in reference for r in records) == sum(
        m["games"] for _, _, m, _ in reference
    )
    for processes in (2, 3):
        reports, weights = train(spec, cfg, processes, targets)
        np.testing.assert_equal(reports, reference)
        np.testing.assert_equal(weights, expected)


def test_one_shard_plays_and_learns_as_an_unsharded_agent(spec, make_config):
    """With one shard an agent is the plain loop: one `Slots` of all its games and the agent's round RNGs,
    then PPO with the same generator."""
    cfg = sharded(make_config, 1)
    torch.set_num_threads(1)
    agent = Agent(spec, cfg, 0, 0)
    net = network(spec, cfg)
    net.load_weights(agent.net.weights())
    optimizer = ppo.optimizer(net, cfg.ppo)
    slots = rollout.Slots(envs.games(spec, cfg.ppo.envs, cfg.env_backend), cfg.ppo.rollout_steps)
    opponents, slot_opponent = [RandomPlayer()], np.zeros(cfg.ppo.envs, np.int64)
    for round_ in range(2):
        report = agent.train_round(round_, opponents, slot_opponent, 256)
        np_rng, generator = seeds.agent_rngs(cfg.seed, 0, 0, round_)

        def game_seeds(n: int, rng=np_rng) -> np.ndarray:
            return seeds.game_seeds(cfg.seed, "training", rng.integers(2**32, size=n))

        batch, played = slots.collect(net, opponents, slot_opponent, 256, generator, game_seeds)
        ppo.update(net, optimizer, batch, cfg.ppo, generator)
        assert (report.metrics["games"], report.metrics["score"]) == (played.games, played.score)
        np.testing.assert_equal(agent.net.weights(), net.weights())


def test_more_workers_than_games_is_refused_at_the_door(make_config):
    data = make_config()
    data["arms"][0]["shards"] = 9
    with pytest.raises(config.ConfigError, match=r"shards \(9\) exceeds ppo.envs \(8\)"):
        config.parse(data)
