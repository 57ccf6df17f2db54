"""Population-based training (Jaderberg et al. 2017): the weak copy the strong, then explore.

Members play as in uniform population play. Every `every` rounds (the exploit step), members are ranked by
their recent training score (`opponents.results_decay`-weighted tallies over every opponent they met:
training games, never a game that judges), and each of the bottom `quantile` copies a member of the top
`quantile`, drawn uniformly: its weights, its optimizer state, its hyperparameters and its results; then
(explore) each of the named hyperparameters is multiplied by one of `factors`, drawn uniformly. Copying
spends nothing; the ledger records who copied whom and when, so the compute a member's weights embody
follows its lineage (`swarm.ledger.Ledger.embodied`).

Members start from the file's hyperparameters, each multiplied by a log-uniform draw in
[1 / spread, spread] (the random initial population of PBT). Every draw comes from the arm's seeded RNGs,
so copies and perturbations replay exactly on resume.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import Field, field_validator

from swarm.interaction.population import Population, summed
from swarm.interaction.uniform import Interacting

Hyperparameter = Literal["lr", "entropy_coef", "clip", "value_coef", "max_grad_norm"]  # unbounded above
Hypers = Mapping[str, float]


class PBT(Interacting):
    every: int = Field(10, ge=1, description="Rounds between exploit steps.")
    quantile: float = Field(
        0.25,
        gt=0,
        le=0.5,
        description="Share of the members that copy (the bottom) and that are copied (the top); at least "
        "one each.",
    )
    factors: tuple[float, float] = Field(
        (0.8, 1.2), description="Explore: each named hyperparameter of a copy is multiplied by one of these."
    )
    hyperparameters: list[Hyperparameter] = Field(
        ["lr", "entropy_coef", "clip"], min_length=1, description="The ppo fields PBT perturbs."
    )
    spread: float = Field(
        2.0,
        ge=1,
        le=100,
        description="Each member starts with each named hyperparameter at the file's value times a "
        "log-uniform draw in [1 / spread, spread]; 1 starts them all alike.",
    )

    @field_validator("factors")
    @classmethod
    def _positive(cls, factors: tuple[float, float]) -> tuple[float, float]:
        if min(factors) <= 0:
            raise ValueError(f"factors must be positive, got {list(factors)}")
        return factors


@dataclass(frozen=True)
class Copy:
    """At the start of a round, `agent` takes `source`'s weights, optimizer state and results, and the
    hyperparameters `hypers` (the source's, perturbed)."""

    agent: int
    source: int
    hypers: Hypers


def initial(options: PBT, base: Hypers, agents: int, rng: np.random.Generator) -> list[dict[str, float]]:
    """Every member's starting hyperparameters: the file's, each times a log-uniform draw."""
    spread = math.log(options.spread)
    return [
        {h: base[h] * math.exp(rng.uniform(-spread, spread)) for h in options.hyperparameters}
        for _ in range(agents)
    ]


def fitness(population: Population) -> list[float]:
    """Each member's recent training score (1/2 before it has played)."""
    return [summed(population.results, agent).rate for agent in range(population.size)]


def exploit(
    round_: int, population: Population, hypers: Sequence[Hypers], options: PBT, rng: np.random.Generator
) -> list[Copy]:
    """The round's copies: none but every `every` rounds (round 0 excepted); else each bottom member
    copies a top one that scores strictly better (truncation selection), its hyperparameters perturbed."""
    if round_ == 0 or round_ % options.every:
        return []
    score = fitness(population)
    ranked = sorted(range(population.size), key=lambda a: (score[a], a))
    k = max(1, int(options.quantile * population.size))
    bottom, top = ranked[:k], ranked[-k:]
    copies = []
    for agent in sorted(bottom):
        source = top[int(rng.integers(k))]
        factors = rng.choice(options.factors, size=len(options.hyperparameters))
        if score[source] > score[agent]:
            named = zip(options.hyperparameters, factors, strict=True)
            copies.append(Copy(agent, source, {h: hypers[source][h] * float(f) for h, f in named}))
    return copies
