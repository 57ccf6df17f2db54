"""Learners by name: what turns a round's transitions into new weights. The registry, one home.

A learner brings the optimizer it steps and its update, both reading the budget file's block of its name
(`ppo:` for PPO). Every agent takes the budget file's `learner` from here; a learner is plain torch (no
Ray, no files), so it is tested in a plain process.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import torch

from swarm.config import PPO
from swarm.players.network import ActorCritic
from swarm.training import ppo
from swarm.training.adam import Adam
from swarm.training.rollout import Batch


class Update(Protocol):
    """net, optimizer, batch, settings, generator, minibatch step (whole by default, or a process's parts
    of it) -> diagnostics and the update's FLOPs ("update_flops")."""

    def __call__(
        self,
        net: ActorCritic,
        optimizer: Adam,
        batch: Batch,
        cfg: PPO,
        generator: torch.Generator,
        step: ppo.Descend = ...,
    ) -> dict[str, float]: ...


@dataclass(frozen=True)
class Learner:
    optimizer: Callable[[ActorCritic, PPO], Adam]
    update: Update


LEARNERS: dict[str, Learner] = {"ppo": Learner(optimizer=ppo.optimizer, update=ppo.update)}
