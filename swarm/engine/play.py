"""Evaluation games: in this process, or spread over Ray tasks in chunks that do not depend on the CPUs.

Two kinds: two-sided games (seed, player_0, player_1), whose rewards are each side's, each team's or each
player's in one role (`play_local`, `play_games`), and free-for-all games (seed, a player per seat), whose
rewards are each seat's (`play_free_for_all_local`, `play_free_for_all`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import ray
import torch

from swarm import seeds
from swarm.config import Experiment
from swarm.envs import EnvSpec
from swarm.envs import games as games_of
from swarm.evaluation import ladder
from swarm.evaluation.roles import REFERENCE, game_role
from swarm.players import GAME, Player
from swarm.training.agent import Weights, opponent
from swarm.training.rollout import play, sides

CHUNK = 64  # evaluation games one task plays in lockstep
G = TypeVar("G")


def play_local(
    config: Experiment, games: list[tuple[int, str, str]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, player_0, player_1) games in this process, all in lockstep; players are agents by id
    (their weights given) or ladder members by name. In a game of k seats player_0's side fills the even
    seats and player_1's the odd ones (`rollout.sides`): rewards [G, 2] are each side's. In a cooperative
    game (`evaluation.kind`) each player's team fills every seat of its own episode of the game's seed:
    rewards [G, 2] are each team's return (mean over seats), lengths player_0's episode's. In a game judged
    by roles each player fills every seat of the game's role in its own episode (`play_roles`)."""
    spec = config.env_spec()
    if config.evaluation.kind == "roles":
        return play_roles(config, spec, games, weights)
    names = sorted({name for _, a, b in games for name in (a, b)})
    pairs = np.array([[names.index(a), names.index(b)] for _, a, b in games])
    seeds_ = [seed for seed, _, _ in games]
    teams = config.evaluation.kind == "cooperative"
    if teams:  # episode 2g: player_0's team, 2g + 1: player_1's, on the same seed
        seating, seeds_ = np.repeat(pairs.reshape(-1, 1), spec.seats, axis=1), list(np.repeat(seeds_, 2))
    else:
        seating = pairs[:, np.arange(spec.seats) % 2]
    rewards, lengths = _play(config, spec, names, seating, seeds_, weights)
    if teams:
        return rewards.mean(1).reshape(-1, 2), lengths[0::2]
    return sides(rewards), lengths


def play_roles(
    config: Experiment, spec: EnvSpec, games: list[tuple[int, str, str]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Role games (seed, player_0, player_1): episode 2g seats player_0 in every seat of game g's role
    (`roles.game_role`) and the reference player (random) in every other seat, episode 2g + 1 player_1 in
    the same seats of the same seed. Rewards [G, 2] are each player's return in the role (the mean over its
    seats), lengths player_0's episode's."""
    names = sorted({name for _, a, b in games for name in (a, b)} | {REFERENCE})
    players = np.array([names.index(name) for _, a, b in games for name in (a, b)])
    roles = [game_role(seed, spec.role_names) for seed, _, _ in games]
    mine = np.repeat([[seat == role for seat in spec.roles] for role in roles], 2, axis=0)  # [2G, seats]
    seating = np.where(mine, players[:, None], names.index(REFERENCE))
    seeds_ = list(np.repeat([seed for seed, _, _ in games], 2))
    rewards, lengths = _play(config, spec, names, seating, seeds_, weights)
    return ((rewards * mine).sum(1) / mine.sum(1)).reshape(-1, 2), lengths[0::2]


def play_free_for_all_local(
    config: Experiment, games: list[tuple[int, tuple[str, ...]]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, players) games in this process, all in lockstep, players[s] in seat s: each seat's return
    [G, k], no sides, and each game's length [G]."""
    spec = config.env_spec()
    names = sorted({name for _, players in games for name in players})
    seating = np.array([[names.index(name) for name in players] for _, players in games])
    return _play(config, spec, names, seating, [seed for seed, _ in games], weights)


def _play(
    config: Experiment,
    spec: EnvSpec,
    names: list[str],
    seating: np.ndarray,
    seeds_: list[int],
    weights: dict[str, Weights],
) -> tuple[np.ndarray, np.ndarray]:
    """`rollout.play` of players by name: agents and trained ladder members from their weights, the other
    ladder members built."""
    torch.set_num_threads(1)
    players: list[Player] = [opponent(weights[n]) if n in weights else ladder.build(n, spec) for n in names]
    # searchers (the ladder's heuristic and MCTS) search copies of PettingZoo envs; networks play anywhere
    searching = any(p.sees == GAME for p in players)
    env_games = games_of(spec, len(seating), "pettingzoo" if searching else config.env_backend)
    return play(env_games, players, seating, seeds_, seeds.eval_generator(seeds_[0]))


_play_chunk = ray.remote(num_cpus=1)(play_local)
_play_free_for_all_chunk = ray.remote(num_cpus=1)(play_free_for_all_local)


def play_games(
    config: Experiment, games: list[tuple[int, str, str]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, player_0, player_1) games in parallel Ray tasks; rewards [G, 2] and lengths [G]."""
    return _in_tasks(_play_chunk.remote, config, games, weights, 2)


def play_free_for_all(
    config: Experiment, games: list[tuple[int, tuple[str, ...]]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, players) games in parallel Ray tasks; each seat's rewards [G, k] and lengths [G]."""
    seats = config.env_spec().seats
    return _in_tasks(_play_free_for_all_chunk.remote, config, games, weights, seats)


def _in_tasks(
    task: Callable[[Experiment, list[G], ray.ObjectRef], ray.ObjectRef],
    config: Experiment,
    games: Sequence[G],
    weights: dict[str, Weights],
    width: int,
) -> tuple[np.ndarray, np.ndarray]:
    """`task`'s games in chunks, their rewards [G, width] and lengths [G] put back in the games' order."""
    if not games:
        return np.zeros((0, width), np.float32), np.zeros(0, np.int64)
    ref = ray.put(weights)
    # Chunks of at most CHUNK games, dealt out in turn so slow games (a search player's) spread evenly; they
    # depend on the schedule alone, so results do not depend on the number of CPUs.
    n = -(-len(games) // CHUNK)
    chunks = [np.arange(k, len(games), n) for k in range(n)]
    parts = ray.get([task(config, [games[i] for i in chunk], ref) for chunk in chunks])
    rewards, lengths = np.zeros((len(games), width), np.float32), np.zeros(len(games), np.int64)
    for chunk, (r, length) in zip(chunks, parts, strict=True):
        rewards[chunk], lengths[chunk] = r, length
    return rewards, lengths
