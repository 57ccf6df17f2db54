"""Matchmaking: whom each agent of an arm plays in each of its game slots this round.

A pure function of the round's seeded RNG, frozen snapshots and the arm's interaction mode, so a run is
reproducible whatever Ray's scheduling. An opponent is `(member, version)`: `version` is `CURRENT` for the
member's weights frozen at the start of the round, else the round at whose start its snapshot was taken.

Each agent draws `per_round` opponents a round and its game slots are dealt among them in turn, so every
opponent gets the same number of slots (and, as seats alternate by slot, as many games moving first as
second) and each plays its games in one batched forward per step.

- self_play: the agent's current self with probability `latest_share`, else one of its own snapshots,
  uniformly (for N > 1 the agents never meet: N independent seeds).
- population: uniformly over the other members' current weights and all their snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CURRENT = -1
Opponent = tuple[int, int]


def self_play(
    agent: int, pool: Sequence[int], draws: int, latest_share: float, rng: np.random.Generator
) -> list[Opponent]:
    latest = rng.random(draws) < latest_share
    picks = rng.integers(len(pool), size=draws) if pool else np.zeros(draws, np.int64)
    return [(agent, CURRENT) if latest[d] or not pool else (agent, int(pool[picks[d]])) for d in range(draws)]


def population(
    agent: int, pools: Sequence[Sequence[int]], draws: int, rng: np.random.Generator
) -> list[Opponent]:
    candidates = [(m, v) for m, pool in enumerate(pools) if m != agent for v in (CURRENT, *pool)]
    return [candidates[p] for p in rng.integers(len(candidates), size=draws)]


def pairings(
    mode: str,
    pools: Sequence[Sequence[int]],
    slots: int,
    per_round: int,
    latest_share: float,
    rng: np.random.Generator,
) -> list[list[Opponent]]:
    """Opponent of every game slot, for every agent of the arm (agent i has snapshot rounds `pools[i]`)."""
    if mode == "self_play":
        drawn = [self_play(i, pool, per_round, latest_share, rng) for i, pool in enumerate(pools)]
    elif mode == "population":
        if len(pools) < 2:
            raise ValueError("population play needs at least two agents")
        drawn = [population(i, pools, per_round, rng) for i in range(len(pools))]
    else:
        raise ValueError(f"unknown interaction mode {mode!r}")
    return [[opponents[s % per_round] for s in range(slots)] for opponents in drawn]
