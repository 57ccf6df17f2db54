"""An agent's games in a fixed number of shards, so its rollouts can run on several processes and come out
the same on any number of them.

An agent with K shards (`arms[].shards`) splits its `ppo.envs` game slots into K runs of
consecutive slots, its buffer (`ppo.rollout_steps`) and each round's target into K parts (the first shards
take one more where K does not divide them), and plays shard k with RNGs of its own
(`seeds.agent_rngs(..., shard=k)`). What a shard plays therefore depends on the shard alone, never on the
process that plays it or on what else that process plays: a run's results depend on K, never on the CPUs.

Of P processes, process p plays shards p, p + P, ...: the agent's host is process 0, so it always plays
shard 0, whose torch generator goes on to draw the update's minibatches; rollout workers play the rest.
The round's batch is the shards' parts end to end, in shard order. With one shard an agent plays exactly
as an unsharded agent would.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from swarm import budget, envs, seeds
from swarm.config import Experiment
from swarm.envs import EnvSpec
from swarm.players import Player
from swarm.players.network import ActorCritic
from swarm.training.rollout import Batch, RolloutStats, Slots

Part = tuple[Batch, RolloutStats]  # one shard's transitions of a round, and how its games went
GameState = dict[str, np.ndarray]  # Slots.state()


def owned(shards: int, processes: int, process: int) -> list[int]:
    """The shards that process `process` of `processes` plays."""
    return list(range(process, shards, processes))


class Shards:
    """The shards of one agent's games that one process plays, their games kept from round to round."""

    def __init__(
        self, spec: EnvSpec, config: Experiment, arm_index: int, index: int, process: int, processes: int
    ):
        config = config.for_arm(arm_index)
        self.config, self.arm_index, self.index = config, arm_index, index
        self.count = config.arms[arm_index].shards
        bounds = np.cumsum([0, *budget.split(config.ppo.envs, self.count)])
        capacity = budget.split(config.ppo.rollout_steps, self.count)
        self.slots = {k: slice(bounds[k], bounds[k + 1]) for k in owned(self.count, processes, process)}
        self.games = {
            k: Slots(envs.games(spec, s.stop - s.start, config.env_backend), capacity[k], s.start)
            for k, s in self.slots.items()
        }

    def collect(
        self,
        round_: int,
        learner: ActorCritic,
        opponents: Sequence[Player],
        slot_opponent: np.ndarray,
        target: int,
    ) -> tuple[dict[int, Part], torch.Generator | None]:
        """This process's parts of a round of `target` transitions, the learner playing
        `opponents[slot_opponent[place]]` in each of the places of the agent's slots (slot by slot, seats - 1
        each); and shard 0's generator, if it is here, to draw the update's minibatches. A shard whose part
        of the target is 0 sits the round out."""
        targets = budget.split(target, self.count)
        slot_opponent = np.asarray(slot_opponent).reshape(self.config.ppo.envs, -1)  # [slot, place]
        parts, generator_0 = {}, None
        for k, games in self.games.items():
            np_rng, generator = seeds.agent_rngs(self.config.seed, self.arm_index, self.index, round_, k)

            def game_seeds(n: int, rng: np.random.Generator = np_rng) -> np.ndarray:
                return seeds.game_seeds(self.config.seed, "training", rng.integers(2**32, size=n))

            if targets[k]:
                mine = slot_opponent[self.slots[k]]
                parts[k] = games.collect(learner, opponents, mine, targets[k], generator, game_seeds)
            if k == 0:
                generator_0 = generator
        return parts, generator_0

    def state(self) -> dict[int, GameState]:
        return {k: games.state() for k, games in self.games.items()}

    def restore(self, states: dict[int, GameState]) -> None:
        for k, state in states.items():
            self.games[k].restore(state)


def merge(parts: dict[int, Part]) -> Part:
    """A round's parts as one batch, in shard order; a single part as it is."""
    order = sorted(parts)
    return Batch.concat([parts[k][0] for k in order]), RolloutStats.combine([parts[k][1] for k in order])
