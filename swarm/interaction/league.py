"""A league (Vinyals et al. 2019, AlphaStar): main agents, main exploiters and league exploiters.

An arm's agents take roles by index: the first `mains` are main agents, the next `main_exploiters` main
exploiters, the rest league exploiters. Every member's snapshots (taken every `opponents.snapshot_every`
rounds) are the league's frozen players. Each of an agent's draws is, by role:

- main agent: with probability `self_play_share`, a main agent's current weights (itself included:
  self-play among the mains); else PFSP over every frozen player of the league;
- main exploiter: a main agent's current weights, uniformly; while its recent score against them is below
  `exploiter_threshold`, PFSP with the variance weighting over the mains' snapshots instead (opponents it
  can learn from, as AlphaStar's main exploiters fall back to);
- league exploiter: PFSP over every frozen player of the league.

PFSP here uses the arm's `weighting` and `power` (`swarm.interaction.pfsp`). The arm's best is chosen
among the main agents alone: exploiters exist to make the mains robust, not to be played.
AlphaStar also resets exploiters to their initial weights once they have been frozen; this league keeps
training them, which at small budgets wastes less of their share.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from swarm.interaction.pfsp import Weighting, prioritized
from swarm.interaction.population import CURRENT, Key, Options, Population, Settings, summed


class League(Options):
    mains: int = Field(1, ge=1, description="Main agents: the first `mains` agents of the arm.")
    main_exploiters: int = Field(
        1, ge=0, description="Main exploiters, after the mains; the rest of the arm are league exploiters."
    )
    self_play_share: float = Field(
        0.35, ge=0, le=1, description="A main agent's share of draws against the mains' current weights."
    )
    exploiter_threshold: float = Field(
        0.1,
        ge=0,
        le=1,
        description="A main exploiter whose recent score against the mains is below this plays their "
        "snapshots instead, weighed by p (1 - p).",
    )
    weighting: Weighting = Field("hard", description="PFSP weighting of mains and league exploiters.")
    power: float = Field(2.0, gt=0, le=16, description="hard: the exponent k of (1 - p)^k.")

    def min_agents(self) -> int:
        return max(2, self.mains + self.main_exploiters)

    def bests(self, agents: int) -> range:
        return range(self.mains)

    def role(self, agent: int) -> str:
        if agent < self.mains:
            return "main"
        return "main_exploiter" if agent < self.mains + self.main_exploiters else "league_exploiter"


def draw_league(
    population: Population, settings: Settings, options: League, rng: np.random.Generator
) -> list[list[Key]]:
    mains = list(range(options.mains))
    current = [Key(m, CURRENT) for m in mains]
    frozen = population.snapshots()
    drawn = []
    for agent in range(population.size):
        role, draws = options.role(agent), settings.per_round
        if role == "main":
            sp = rng.random(draws) < options.self_play_share
            picks = rng.integers(len(current), size=draws)
            past = prioritized(
                agent, frozen, population.results, draws, options.weighting, options.power, rng
            )
            drawn.append([current[picks[d]] if sp[d] else past[d] for d in range(draws)])
        elif role == "main_exploiter":
            if summed(population.results, agent, current).rate < options.exploiter_threshold:
                past = population.snapshots(mains)
                drawn.append(prioritized(agent, past, population.results, draws, "variance", 1.0, rng))
            else:
                drawn.append([current[p] for p in rng.integers(len(current), size=draws)])
        else:
            drawn.append(
                prioritized(agent, frozen, population.results, draws, options.weighting, options.power, rng)
            )
    return drawn
