"""Matchmaking: whom each agent of an arm plays in each of its game slots this round.

A pure function of the round's seeded RNG, frozen snapshots and the arm's interaction mode, so a run is
reproducible whatever Ray's scheduling. An opponent is `(member, version)`: `version` is `CURRENT` for the
member's weights frozen at the start of the round, else the round at whose start its snapshot was taken.

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
    agent: int, pool: Sequence[int], slots: int, latest_share: float, rng: np.random.Generator
) -> list[Opponent]:
    latest = rng.random(slots) < latest_share
    picks = rng.integers(len(pool), size=slots) if pool else np.zeros(slots, np.int64)
    return [(agent, CURRENT) if latest[s] or not pool else (agent, int(pool[picks[s]])) for s in range(slots)]


def population(
    agent: int, pools: Sequence[Sequence[int]], slots: int, rng: np.random.Generator
) -> list[Opponent]:
    candidates = [(m, v) for m, pool in enumerate(pools) if m != agent for v in (CURRENT, *pool)]
    picks = rng.integers(len(candidates), size=slots)
    return [candidates[p] for p in picks]


def pairings(
    mode: str, pools: Sequence[Sequence[int]], slots: int, latest_share: float, rng: np.random.Generator
) -> list[list[Opponent]]:
    """Opponents per slot for every agent of the arm (agent i has snapshot rounds `pools[i]`)."""
    if mode == "self_play":
        return [self_play(i, pool, slots, latest_share, rng) for i, pool in enumerate(pools)]
    if mode == "population":
        if len(pools) < 2:
            raise ValueError("population play needs at least two agents")
        return [population(i, pools, slots, rng) for i in range(len(pools))]
    raise ValueError(f"unknown interaction mode {mode!r}")
