"""Interaction modes: whom each agent of an arm plays in each of its game slots this round, and (PBT) how
the population changes between rounds.

Modes are a registry (`MODES`), chosen by an arm's `interaction`, with their parameters in the arm's
`options` (each mode's `Options` model, validated at the door). A mode is handed the population (each
agent's snapshot pool), the results so far (recent games weighed more: `opponents.results_decay`), the
round's settings, its options and the round's seeded RNG, and draws each agent's `per_round` opponents;
`pairings` deals the places an agent's opponents fill (the seats other than its own in each game slot) among
them in turn, so every opponent gets the same number of places (and, as the learner's seat moves on slot by
slot, as many games moving first as second in a two-player game) and each plays its games in one batched
forward per step. A pure function of the RNG, so a run is reproducible whatever Ray's scheduling.

An opponent is a `Key`: an agent's weights frozen at the start of the round (`round` is `CURRENT`), else
its snapshot taken at the start of that round.

- self_play: the agent's current self with probability `latest_share`, else one of its own snapshots,
  uniformly (for N > 1 the agents never meet: N independent seeds).
- population: uniformly over the other members' current weights and all their snapshots.
- pfsp: the same candidates, weighed by how hard each is for the agent (`pfsp.py`).
- pbt: population play, and every few rounds the weakest copy the strongest and perturb (`pbt.py`).
- league: main agents, main exploiters and league exploiters (`league.py`).

A new mode is a draw function, an `Options` model and a `Mode` entry here; the config and the engine know
modes only through `MODES` and what each declares.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from swarm.interaction import pbt
from swarm.interaction.league import League, draw_league
from swarm.interaction.pfsp import PFSP, draw_pfsp
from swarm.interaction.population import (
    CURRENT,
    Key,
    Options,
    Population,
    Results,
    Settings,
    Tally,
    summed,
)
from swarm.interaction.uniform import Interacting, draw_population, draw_self_play

__all__ = ["CURRENT", "MODES", "Key", "Mode", "Options", "Population", "Results", "Settings", "Tally"]
__all__ += ["Evolution", "options", "pairings", "summed"]

Draw = Callable[[Population, Settings, Any, np.random.Generator], list[list[Key]]]


@dataclass(frozen=True)
class Evolution:
    """How a mode changes its population between rounds: members' starting hyperparameters, and each
    round's copies (`pbt.Copy`), drawn from the arm's evolution RNG."""

    initial: Callable[[Any, Mapping[str, float], int, np.random.Generator], list[dict[str, float]]]
    step: Callable[[int, Population, Sequence[Mapping[str, float]], Any, np.random.Generator], list[pbt.Copy]]


@dataclass(frozen=True)
class Mode:
    draw: Draw  # each agent's `per_round` opponents, drawn in agent order
    options: type[Options]  # its parameters, an arm's `options`
    meets_others: bool  # whether an agent plays other members of its arm
    meets_itself: bool  # whether its current self may fill its games' other seats (`opponents.every_seat`)
    description: str
    evolution: Evolution | None = None
    weighs_results: bool = False  # whether it reads the results so far (none can in a cooperative game)

    @property
    def min_agents(self) -> int:
        """Agents it needs with its default options."""
        return self.options().min_agents()


MODES: dict[str, Mode] = {
    "self_play": Mode(
        draw_self_play,
        Options,
        meets_others=False,
        meets_itself=True,
        description="an agent plays its current self and its own snapshots (for N > 1, N isolated seeds)",
    ),
    "population": Mode(
        draw_population,
        Interacting,
        meets_others=True,
        meets_itself=False,
        description="an agent plays the other members' current weights and snapshots, drawn uniformly",
    ),
    "pfsp": Mode(
        draw_pfsp,
        PFSP,
        meets_others=True,
        meets_itself=False,
        description="population play with opponents weighed by how hard they are for the agent "
        "(prioritized fictitious self-play; options weighting, power)",
        weighs_results=True,
    ),
    "pbt": Mode(
        draw_population,
        pbt.PBT,
        meets_others=True,
        meets_itself=False,
        description="population play; every `every` rounds the bottom quantile copies the top's weights, "
        "optimizer state and hyperparameters, then perturbs them (population-based training; options "
        "every, quantile, factors, hyperparameters, spread)",
        evolution=Evolution(pbt.initial, pbt.exploit),
        weighs_results=True,
    ),
    "league": Mode(
        draw_league,
        League,
        meets_others=True,
        meets_itself=True,
        description="main agents, main exploiters and league exploiters, AlphaStar's league; the best is a "
        "main agent (options mains, main_exploiters, self_play_share, exploiter_threshold, weighting, power)",
        weighs_results=True,
    ),
}


def options(mode: str, given: Mapping[str, Any] | None = None) -> Options:
    """The mode's options from an arm's `options` (its defaults where not given)."""
    return MODES[mode].options.model_validate(dict(given or {}))


def pairings(
    mode: str,
    population: Population,
    settings: Settings,
    rng: np.random.Generator,
    chosen: Options | None = None,
) -> list[list[Key]]:
    """The opponent of every place (`Settings.places`), for every agent of the arm; `chosen`: the arm's
    options."""
    entry, chosen = MODES[mode], chosen or options(mode)
    if population.size < chosen.min_agents():
        raise ValueError(f"{mode} play needs at least {chosen.min_agents()} agents, got {population.size}")
    drawn = entry.draw(population, settings, chosen, rng)
    return [[opponents[s % settings.per_round] for s in range(settings.places)] for opponents in drawn]
