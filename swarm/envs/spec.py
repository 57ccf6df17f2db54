"""What every environment backend shares: a game's shape, the errors, and the `GameBatch` protocol that
players and rollouts see, whatever steps the games."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


class EnvError(ValueError):
    """An environment swarm cannot train on; the message says why and what to do."""


class IllegalMove(RuntimeError):
    """A player chose an action its action mask forbids, or one outside the Box: a bug, never a move."""


@dataclass(frozen=True)
class Box:
    """Continuous actions: a point with low[i] <= a[i] <= high[i] in each dimension, every bound finite."""

    low: tuple[float, ...]
    high: tuple[float, ...]


@dataclass(frozen=True)
class EnvSpec:
    """A game's shape, and how to build it again on any worker: its id and constructor keywords.

    `actions` is what a policy outputs per move: the number of Discrete actions, or the Box's dimension
    where `box` is set. Discrete actions may be masked; a Box's may not (its masks are [n, 0]). Where seats
    play different roles (`roles`), `obs_dim` and `actions` are those of the one network every role shares:
    the largest role's observation with a one-hot of the role appended, and the largest count of actions
    (`swarm.envs.aec.Padding`)."""

    env_id: str
    obs_dim: int
    actions: int
    env_kwargs: tuple[tuple[str, Any], ...] = ()  # (keyword, value), sorted: a budget file's env_kwargs
    seats: int = 2  # players in one game: indices into the env's `possible_agents`
    box: Box | None = None  # the bounds of continuous actions; None: Discrete
    roles: tuple[str, ...] = ()  # each seat's role where seats differ (predators, prey); (): one role

    @property
    def role_names(self) -> tuple[str, ...]:
        """The distinct roles in seat order (a seat's one-hot is its role's index here); none for one role."""
        return tuple(dict.fromkeys(self.roles))

    @property
    def mask_width(self) -> int:
        """The width of an action mask: every Discrete action, none of a Box."""
        return 0 if self.box else self.actions

    def zero_actions(self, *lead: int) -> np.ndarray:
        """Zero actions shaped `lead`: int64 indices, or float32 points of the Box (one more axis)."""
        if self.box:
            return np.zeros((*lead, self.actions), np.float32)
        return np.zeros(lead, np.int64)


class GameBatch(Protocol):
    """What players and rollouts see of `n` games stepped together, whatever the backend."""

    spec: EnvSpec
    to_move: np.ndarray  # [n] seat to move (0 .. spec.seats - 1), -1 once the game is over
    obs: np.ndarray  # [n, obs_dim] float32, the mover's observation
    # [n, spec.mask_width] bool, the mover's legal actions (all in a game without masks; no columns for a Box)
    mask: np.ndarray
    length: np.ndarray  # [n] moves played
    # whether each game's last end was a truncation (a time limit, not an outcome), and then every seat's
    # last view of it [n, seats, obs_dim]: a learner's value there bootstraps its last transition
    truncated: np.ndarray
    final_obs: np.ndarray
    # each game's PettingZoo env, for players that search copies of the game itself; None where the backend
    # steps no PettingZoo envs (a native backend)
    envs: Sequence[Any] | None

    def __len__(self) -> int: ...
    def reset(self, i: int, seed: int) -> None: ...
    def reset_many(self, indices: np.ndarray, seeds: Sequence[int]) -> None: ...
    # actions shaped as `spec.zero_actions(len(games))`; rewards [len(games), spec.seats] of every seat for
    # the moves, and whether each game ended
    def step(self, games: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...
