"""Prioritized fictitious self-play (Vinyals et al. 2019, AlphaStar): opponents weighed by how hard they are.

An agent's win rate p against each candidate comes from its recent results (`Tally.rate`: decayed tallies
with one prior game drawn), and the candidate is drawn with probability proportional to f(p):

- `hard`: f(p) = (1 - p)^power, which favours the opponents the agent loses to (power 1 is AlphaStar's
  linear weighting, 2 its squared one);
- `variance`: f(p) = p (1 - p), which favours the opponents it beats about half the time.

Candidates are those of uniform population play (the other members' current weights and all their
snapshots), so `pfsp` and `population` differ in the weighting alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from swarm.interaction.population import Key, Population, Results, Settings, Tally
from swarm.interaction.uniform import Interacting

Weighting = Literal["hard", "variance"]


class PFSP(Interacting):
    weighting: Weighting = Field(
        "hard", description="hard: f(p) = (1 - p)^power, the hardest first; variance: f(p) = p (1 - p)."
    )
    power: float = Field(2.0, gt=0, le=16, description="hard: the exponent k of (1 - p)^k.")


def weights(rates: np.ndarray, weighting: Weighting, power: float = 1.0) -> np.ndarray:
    """Each candidate's draw probability from the learner's win rates against them; uniform where every
    f(p) is 0 (as AlphaStar's pseudocode does)."""
    rates = np.asarray(rates, dtype=float)
    f = (1 - rates) ** power if weighting == "hard" else rates * (1 - rates)
    total = f.sum()
    return f / total if total > 1e-10 else np.full(len(rates), 1 / len(rates))


def prioritized(
    agent: int,
    candidates: Sequence[Key],
    results: Results,
    draws: int,
    weighting: Weighting,
    power: float,
    rng: np.random.Generator,
) -> list[Key]:
    """`draws` of `candidates`, weighed by the agent's recent win rate against each."""
    rates = [results.get((agent, key), Tally()).rate for key in candidates]
    picks = rng.choice(len(candidates), size=draws, p=weights(np.array(rates), weighting, power))
    return [candidates[p] for p in picks]


def draw_pfsp(
    population: Population, settings: Settings, options: PFSP, rng: np.random.Generator
) -> list[list[Key]]:
    return [
        prioritized(
            agent,
            population.others(agent),
            population.results,
            settings.per_round,
            options.weighting,
            options.power,
            rng,
        )
        for agent in range(population.size)
    ]
