"""The two uniform modes: isolated self-play, and population play with opponents drawn uniformly."""

from __future__ import annotations

import numpy as np

from swarm.interaction.population import CURRENT, Key, Options, Population, Settings


class Interacting(Options):
    """Options of a mode whose agents meet one another: it needs two."""

    def min_agents(self) -> int:
        return 2


def draw_self_play(
    population: Population, settings: Settings, options: Options, rng: np.random.Generator
) -> list[list[Key]]:
    """The agent's current self with probability `latest_share`, else one of its own snapshots, uniformly."""
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


def draw_population(
    population: Population, settings: Settings, options: Options, rng: np.random.Generator
) -> list[list[Key]]:
    """Uniformly over the other members' current weights and all their snapshots."""
    drawn = []
    for agent in range(population.size):
        candidates = population.others(agent)
        drawn.append([candidates[p] for p in rng.integers(len(candidates), size=settings.per_round)])
    return drawn
