"""Interaction modes: whom each agent of an arm plays in each of its game slots this round.

Modes are a registry (`MODES`), chosen by an arm's `interaction`. A mode is handed the population (each
agent's snapshot pool), the results so far, the round's settings and the round's seeded RNG, and draws each
agent's `per_round` opponents; `pairings` deals an agent's game slots among them in turn, so every opponent
gets the same number of slots (and, as seats alternate by slot, as many games moving first as second) and
each plays its games in one batched forward per step. A pure function of the RNG, so a run is reproducible
whatever Ray's scheduling.

An opponent is a `Key`: an agent's weights frozen at the start of the round (`round` is `CURRENT`), else
its snapshot taken at the start of that round.

- self_play: the agent's current self with probability `latest_share`, else one of its own snapshots,
  uniformly (for N > 1 the agents never meet: N independent seeds).
- population: uniformly over the other members' current weights and all their snapshots.

A new mode is a draw function and a `Mode` entry here; the config and the engine know modes only through
`MODES` and what each declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

CURRENT = -1


class Key(NamedTuple):
    """An agent's weights: frozen at the start of this round (`round` CURRENT), else of round `round`."""

    agent: int
    round: int


@dataclass(frozen=True)
class Tally:
    """Games an agent finished against one opponent, and its scores in them summed (1 win, 0.5 draw)."""

    games: int = 0
    score: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.games + other.games, self.score + other.score)


Results = Mapping[tuple[int, Key], Tally]  # (agent, opponent) -> its tally against it so far


@dataclass(frozen=True)
class Population:
    pools: Sequence[Sequence[int]]  # each agent's snapshot rounds, oldest first
    results: Results

    @property
    def size(self) -> int:
        return len(self.pools)


@dataclass(frozen=True)
class Settings:
    slots: int  # game slots of each agent
    per_round: int  # opponents each agent draws
    latest_share: float  # self_play: share of games against the current self


Draw = Callable[[Population, Settings, np.random.Generator], list[list[Key]]]


@dataclass(frozen=True)
class Mode:
    draw: Draw  # each agent's `per_round` opponents, drawn in agent order
    meets_others: bool  # whether an agent plays other members of its arm
    min_agents: int
    description: str


def draw_self_play(population: Population, settings: Settings, rng: np.random.Generator) -> list[list[Key]]:
    drawn = []
    for agent, pool in enumerate(population.pools):
        latest = rng.random(settings.per_round) < settings.latest_share
        picks = rng.integers(len(pool), size=settings.per_round) if pool else None
        drawn.append(
            [
                Key(agent, CURRENT) if latest[d] or picks is None else Key(agent, int(pool[picks[d]]))
                for d in range(settings.per_round)
            ]
        )
    return drawn


def draw_population(population: Population, settings: Settings, rng: np.random.Generator) -> list[list[Key]]:
    drawn = []
    for agent in range(population.size):
        candidates = [
            Key(m, v) for m, pool in enumerate(population.pools) if m != agent for v in (CURRENT, *pool)
        ]
        drawn.append([candidates[p] for p in rng.integers(len(candidates), size=settings.per_round)])
    return drawn


MODES: dict[str, Mode] = {
    "self_play": Mode(
        draw_self_play,
        meets_others=False,
        min_agents=1,
        description="an agent plays its current self and its own snapshots (for N > 1, N isolated seeds)",
    ),
    "population": Mode(
        draw_population,
        meets_others=True,
        min_agents=2,
        description="an agent plays the other members' current weights and snapshots, drawn uniformly",
    ),
}


def pairings(
    mode: str, population: Population, settings: Settings, rng: np.random.Generator
) -> list[list[Key]]:
    """The opponent of every game slot, for every agent of the arm."""
    chosen = MODES[mode]
    if population.size < chosen.min_agents:
        raise ValueError(f"{mode} play needs at least {chosen.min_agents} agents, got {population.size}")
    drawn = chosen.draw(population, settings, rng)
    return [[opponents[s % settings.per_round] for s in range(settings.slots)] for opponents in drawn]
