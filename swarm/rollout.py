"""Playing games in lockstep: `collect` gathers a learner's transitions, `play` runs evaluation games.

At every step each player does one batched forward over all the games where it is to move, never one
forward per game. A learner learns only from its own seats; its seat alternates game by game.

A transition's reward is everything the learner receives from its move until its next move (so a loss
dealt by the opponent's reply lands on the learner's last move). `collect` stops at exactly `target`
transitions; a game still running then is played on until the learner's next turn, whose value estimate
bootstraps the last transition (or until the game ends, whose outcome closes it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from swarm.envs import GameBatch
from swarm.ladder import Searcher
from swarm.policy import ActorCritic, Player, forward_flops


@dataclass
class Batch:
    """One round of a learner's transitions, in the order they were taken.

    `next_index[i]` is the learner's following transition in the same game (-1 if none); a transition with
    neither a successor nor `done` was cut at the round's end and carries its `bootstrap` value.
    """

    obs: np.ndarray
    mask: np.ndarray
    action: np.ndarray
    logp: np.ndarray
    value: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    next_index: np.ndarray
    bootstrap: np.ndarray

    @classmethod
    def empty(cls, size: int, obs_dim: int, actions: int) -> Batch:
        return cls(
            obs=np.zeros((size, obs_dim), np.float32),
            mask=np.zeros((size, actions), bool),
            action=np.zeros(size, np.int64),
            logp=np.zeros(size, np.float32),
            value=np.zeros(size, np.float32),
            reward=np.zeros(size, np.float32),
            done=np.zeros(size, bool),
            next_index=np.full(size, -1, np.int64),
            bootstrap=np.zeros(size, np.float32),
        )


@dataclass
class RolloutStats:
    flops: int
    games: int  # games finished this round
    score: float  # learner's mean score in them: 1 win, 0.5 draw, 0 loss (nan if none finished)
    game_length: float


def act_grouped(
    players: Sequence[Player | Searcher],
    who: np.ndarray,
    rows: np.ndarray,
    games: GameBatch,
    generator: torch.Generator,
) -> tuple[np.ndarray, int]:
    """Actions in games `rows` whose player index is `who`: one batched call per distinct player.

    Networks see observations and masks; searchers (the ladder's heuristic and MCTS) search copies of the
    games' PettingZoo envs, so games with a searcher need the PettingZoo backend (`swarm.envs.Games`).
    Returns the actions and the networks' forward FLOPs.
    """
    actions = np.zeros(len(who), np.int64)
    flops = 0
    for p in np.unique(who):
        sel = np.flatnonzero(who == p)
        mine, player = rows[sel], players[p]
        if isinstance(player, Searcher):
            actions[sel] = player.search([games.envs[i] for i in mine], generator)
            continue
        obs, mask = torch.from_numpy(games.obs[mine]), torch.from_numpy(games.mask[mine])
        actions[sel] = player.act(obs, mask, generator).numpy()
        flops += player.act_flops(len(mine))
    return actions, flops


def score(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """1 for the higher return, 0.5 for equal, 0 for the lower: win/draw/loss in a zero-sum game."""
    return 0.5 + 0.5 * np.sign(np.asarray(own, np.float64) - other)


def collect(
    games: GameBatch,
    learner: ActorCritic,
    opponents: Sequence[Player],
    slot_opponent: np.ndarray,
    target: int,
    generator: torch.Generator,
    next_seed: Callable[[], int],
) -> tuple[Batch, RolloutStats]:
    """Play the learner against `opponents[slot_opponent[i]]` in game slot i until `target` transitions."""
    n = len(games)
    batch = Batch.empty(target, games.spec.obs_dim, games.spec.actions)
    learner_seat = np.arange(n) % 2
    pending = np.full(n, -1)  # the learner's last transition in each game, awaiting its outcome
    active = np.ones(n, bool)
    returns = np.zeros((n, 2), np.float32)
    scores, lengths = [], []
    count, flops = 0, 0
    games.reset_many(np.arange(n), [next_seed() for _ in range(n)])

    while active.any():
        live = np.flatnonzero(active)
        mine = games.to_move[live] == learner_seat[live]
        turn, wait = live[mine], live[~mine]

        # Learner's turn: value every such game (a successor's value or a bootstrap); act in as many
        # as the batch still needs.
        acting, acting_actions = turn[:0], np.zeros(0, np.int64)
        if len(turn):
            obs, mask = torch.from_numpy(games.obs[turn]), torch.from_numpy(games.mask[turn])
            with torch.no_grad():
                values = learner.value(obs).numpy()
            flops += forward_flops(learner.critic_sizes, len(turn))
            take = min(len(turn), target - count)
            acting, stopped = turn[:take], turn[take:]
            cut = pending[stopped]
            batch.bootstrap[cut[cut >= 0]] = values[take:][cut >= 0]
            pending[stopped], active[stopped] = -1, False
            if take:
                with torch.no_grad():
                    dist = learner.dist(obs[:take], mask[:take])
                    chosen = torch.multinomial(dist.probs, 1, generator=generator).squeeze(-1)
                    logp = dist.log_prob(chosen)
                flops += forward_flops(learner.actor_sizes, take)
                new = np.arange(count, count + take)
                prev = pending[acting]
                batch.next_index[prev[prev >= 0]] = new[prev >= 0]
                batch.obs[new], batch.mask[new] = games.obs[acting], games.mask[acting]
                batch.action[new], batch.logp[new], batch.value[new] = (
                    chosen.numpy(),
                    logp.numpy(),
                    values[:take],
                )
                pending[acting] = new
                acting_actions = chosen.numpy()
                count += take

        # Opponents' turn. Once the batch is full, only games whose last transition awaits its outcome go on.
        if count >= target:
            idle = wait[pending[wait] < 0]
            active[idle] = False
            wait = wait[pending[wait] >= 0]
        wait_actions, opp_flops = act_grouped(opponents, slot_opponent[wait], wait, games, generator)
        flops += opp_flops

        movers = np.concatenate([acting, wait])
        if not len(movers):
            continue
        rewards, done = games.step(movers, np.concatenate([acting_actions, wait_actions]))
        returns[movers] += rewards
        owner = pending[movers]
        np.add.at(batch.reward, owner[owner >= 0], rewards[owner >= 0, learner_seat[movers][owner >= 0]])

        finished = movers[done]
        closed = pending[finished]
        batch.done[closed[closed >= 0]] = True
        pending[finished] = -1
        for i in finished:
            seat = learner_seat[i]
            scores.append(float(score(returns[i, seat], returns[i, 1 - seat])))
            lengths.append(int(games.length[i]))
            returns[i] = 0
            if count < target:
                learner_seat[i] = 1 - seat
                games.reset(i, next_seed())
            else:
                active[i] = False

    stats = RolloutStats(
        flops=flops,
        games=len(scores),
        score=float(np.mean(scores)) if scores else float("nan"),
        game_length=float(np.mean(lengths)) if lengths else float("nan"),
    )
    return batch, stats


def play(
    games: GameBatch,
    players: Sequence[Player | Searcher],
    seating: np.ndarray,
    seeds: Sequence[int],
    generator: torch.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Play game g with `players[seating[g, seat]]` in each seat, at most len(games) at once.

    Returns each game's total reward per seat [G, 2] and its length in moves [G].
    """
    total = len(seeds)
    rewards = np.zeros((total, 2), np.float32)
    lengths = np.zeros(total, np.int64)
    slot_game = np.full(len(games), -1)
    started = 0
    for i in range(min(len(games), total)):
        games.reset(i, seeds[started])
        slot_game[i] = started
        started += 1

    while (slot_game >= 0).any():
        live = np.flatnonzero(slot_game >= 0)
        who = seating[slot_game[live], games.to_move[live]]
        actions, _ = act_grouped(players, who, live, games, generator)
        step_rewards, done = games.step(live, actions)
        rewards[slot_game[live]] += step_rewards
        for i in live[done]:
            lengths[slot_game[i]] = games.length[i]
            if started < total:
                games.reset(i, seeds[started])
                slot_game[i] = started
                started += 1
            else:
                slot_game[i] = -1
    return rewards, lengths
