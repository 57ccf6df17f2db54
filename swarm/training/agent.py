"""An agent: its actor-critic, its Adam optimizer and its own games; one round = collect, then learn.

Its games may be split into shards (`swarm.training.shards`) that rollout workers play beside it; a round
learns from every shard's transitions, and is charged for every shard's FLOPs and CPU seconds. An agent of
K > 1 shards splits each minibatch's gradient into K parts (`swarm.training.parallel`), which the same
processes may compute beside it: its weights depend on K, never on the processes.

Plain torch, no Ray: the engine hosts agents on Ray actors, tests run them in a plain process.
A round reports exactly what it spent -- transitions learned from, FLOPs of every forward and backward
pass (the opponents' forwards included), and process CPU seconds -- for the ledger to charge. Its wall
seconds go with its metrics: set against the driver's round time, they show what Ray's round trip costs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import torch

from swarm import seeds
from swarm.config import PPO, Experiment
from swarm.envs import EnvSpec
from swarm.interaction import Tally
from swarm.players import Player
from swarm.players.network import ActorCritic
from swarm.training import device
from swarm.training.learners import LEARNERS
from swarm.training.parallel import Split
from swarm.training.ppo import Descend, descend
from swarm.training.rollout import Batch
from swarm.training.shards import GameState, Part, Shards, merge

Weights = dict[str, np.ndarray]
# the update with the agent's other processes: batch, settings, generator -> the learner's diagnostics, and
# the CPU seconds the others spent on it
Together = Callable[[Batch, PPO, torch.Generator], tuple[dict[str, float], float]]


@dataclass(frozen=True)
class RoundReport:
    agent_steps: int
    flops: int
    core_seconds: float
    metrics: dict[str, float]
    tallies: list[Tally]  # how it did against each of the round's opponents, in their order


@dataclass(frozen=True)
class AgentState:
    """All an agent needs to go on exactly where it stopped."""

    weights: Weights
    optimizer: dict  # optimizer.state_dict()
    games: list[GameState]  # its games in progress, by shard


def network(spec: EnvSpec, config: Experiment) -> ActorCritic:
    return ActorCritic(spec.obs_dim, spec.actions, config.network.hidden, spec.box, config.network.log_std)


def opponent(weights: Weights) -> ActorCritic:
    """A frozen player of these weights, whatever the network of the arm that trained them."""
    return ActorCritic.from_weights(weights)


class Agent:
    """`processes`: how many processes play the agent's shards; this one plays those of process 0.
    `learns_on`: the device of its updates (`swarm.training.device`); it plays on the CPU."""

    def __init__(
        self,
        spec: EnvSpec,
        config: Experiment,
        arm_index: int,
        index: int,
        processes: int = 1,
        learns_on: torch.device = device.CPU,
    ):
        config = config.for_arm(arm_index)
        self.config, self.arm_index, self.index, self.learns_on = config, arm_index, index, learns_on
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seeds.init_seed(config.seed, arm_index, index))
            self.net = network(spec, config)
        self.learner = LEARNERS[config.learner]
        self.optimizer = self.learner.optimizer(self.net, config.ppo)
        self.shards = Shards(spec, config, arm_index, index, 0, processes)

    def train_round(
        self,
        round_: int,
        opponents: list[Player],
        slot_opponent: np.ndarray,
        target: int,
        progress: float = 0.0,
        elsewhere: Callable[[], tuple[dict[int, Part], float]] | None = None,
        hypers: Mapping[str, float] | None = None,
        together: Together | None = None,
    ) -> RoundReport:
        """Collect `target` transitions and learn from them; `progress`: share spent so far, in [0, 1);
        `hypers`: ppo fields its interaction mode sets for it this round (PBT), over the file's.

        `elsewhere` waits for the parts of the shards other processes play this round (started before this
        call) and returns them with the CPU seconds they took; `together` learns with the processes that
        played them, where this one does not learn alone.
        """
        start, wall = time.process_time(), time.perf_counter()
        ppo = self.config.ppo.model_copy(update=dict(hypers or {}))
        lr = ppo.lr * (1 - progress if ppo.anneal_lr else 1)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        parts, generator = self.shards.collect(round_, self.net, opponents, slot_opponent, target)
        remote_seconds = 0.0
        if elsewhere is not None:
            remote, remote_seconds = elsewhere()
            parts |= remote
        batch, played = merge(parts)
        learned, remote_learning = (together or self.learn)(batch, ppo, generator)
        remote_seconds += remote_learning
        flops = played.flops + learned.pop("update_flops")
        metrics = {
            **learned,
            "lr": lr,
            "entropy_coef": ppo.entropy_coef,
            "clip": ppo.clip,
            "score": played.score,
            "games": played.games,
            "game_length": played.game_length,
            "seconds": time.perf_counter() - wall,
        }
        tallies = [
            Tally(int(g), float(s)) for g, s in zip(played.opponent_games, played.opponent_score, strict=True)
        ]
        return RoundReport(target, int(flops), time.process_time() - start + remote_seconds, metrics, tallies)

    def learn(
        self, batch: Batch, ppo: PPO, generator: torch.Generator, step: Descend | None = None
    ) -> tuple[dict[str, float], float]:
        """The update in this process alone, or with `step` (the agent's process's share of its K parts);
        with one shard, the plain minibatch step. It runs on the agent's device, its state back on the CPU
        after it."""
        step = step or (Split(self.shards.count) if self.shards.count > 1 else descend)
        with device.on(self.learns_on, self.net, self.optimizer):
            learned = self.learner.update(self.net, self.optimizer, batch, ppo, generator, step)
        return learned, 0.0
