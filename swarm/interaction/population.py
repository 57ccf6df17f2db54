"""What an interaction mode sees and returns: keys naming weights, tallies of results, the population.

Plain data, shared by every mode of the registry (`swarm.interaction.MODES`) and by the arm's core, which
keeps the results and hands each mode the population once a round.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict

CURRENT = -1


class Key(NamedTuple):
    """An agent's weights: frozen at the start of this round (`round` CURRENT), else of round `round`."""

    agent: int
    round: int


@dataclass(frozen=True)
class Tally:
    """Games an agent finished against one opponent, and its scores in them summed (1 win, 0.5 draw).
    Fractional once decayed (`opponents.results_decay`): recent games weigh more than old ones."""

    games: float = 0.0
    score: float = 0.0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.games + other.games, self.score + other.score)

    def scaled(self, factor: float) -> Tally:
        return Tally(self.games * factor, self.score * factor)

    @property
    def rate(self) -> float:
        """The agent's expected score, with one prior game drawn (1/2 before any game), so a win rate is
        never 0 or 1 on a handful of games."""
        return (self.score + 0.5) / (self.games + 1)


Results = Mapping[
    tuple[int, Key], Tally
]  # (agent, opponent) -> its tally against it, recent games weigh more


def summed(results: Results, agent: int, keys: Sequence[Key] | None = None) -> Tally:
    """An agent's tallies added over `keys` (every opponent it met, by default)."""
    total = Tally()
    for (i, key), tally in results.items():
        if i == agent and (keys is None or key in keys):
            total += tally
    return total


@dataclass(frozen=True)
class Population:
    pools: Sequence[Sequence[int]]  # each agent's snapshot rounds, oldest first
    results: Results

    @property
    def size(self) -> int:
        return len(self.pools)

    def others(self, agent: int) -> list[Key]:
        """Every other member's current weights and snapshots."""
        return [Key(m, v) for m, pool in enumerate(self.pools) if m != agent for v in (CURRENT, *pool)]

    def snapshots(self, members: Sequence[int] | None = None) -> list[Key]:
        """Every snapshot of `members` (all, by default): the population's frozen players."""
        chosen = range(self.size) if members is None else members
        return [Key(m, v) for m in chosen for v in self.pools[m]]


@dataclass(frozen=True)
class Settings:
    places: int  # opponents' seats in an agent's game slots: slots x (seats - 1), slot by slot
    per_round: int  # opponents each agent draws
    latest_share: float  # self_play: share of games against the current self


class Options(BaseModel):
    """A mode's parameters (an arm's `options` in the budget file); a mode without any takes none."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    def min_agents(self) -> int:
        return 1

    def bests(self, agents: int) -> range:
        """The agents an arm's best may be chosen from."""
        return range(agents)
