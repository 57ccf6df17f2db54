"""The PettingZoo adapter: many two-player turn-based AEC games stepped in lockstep, seen as arrays.

An environment is named by its PettingZoo registry id (`classic/connect_four-v3`, built with
`pettingzoo.make`) or by a module path with an `env()` function (`pettingzoo.classic.connect_four_v3`, or a
third-party game). Games are stepped on the unwrapped env: PettingZoo's wrappers cost a third of the time
and would turn an illegal move into a silent loss (TerminateIllegalWrapper), so the adapter instead checks
every action against the action mask itself and raises. Seats are indices into `possible_agents`: seat 0
moves first. The adapter knows nothing of learning.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from swarm.envs.spec import EnvError, EnvSpec, IllegalMove

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # several classic games import pygame to render


def make(env_id: str) -> Any:
    if "/" in env_id:
        import pettingzoo

        try:
            return pettingzoo.make("aec", env_id)
        except ImportError as exc:
            raise EnvError(f"cannot build {env_id!r}: {exc}") from None
        except Exception as exc:
            known = ", ".join(sorted(pettingzoo.aec_registry))
            raise EnvError(
                f"{env_id!r} is not in PettingZoo's registry ({exc}); known ids: {known}"
            ) from None
    try:
        mod = importlib.import_module(env_id)
    except ImportError as exc:
        raise EnvError(
            f"cannot import {env_id!r} ({exc}); give a PettingZoo registry id such as "
            "classic/connect_four-v3 or an importable module path, and install its extras"
        ) from None
    if not callable(getattr(mod, "env", None)):
        raise EnvError(f"{env_id!r} has no env() function; give a PettingZoo AEC environment module")
    return mod.env()


def describe(env_id: str) -> EnvSpec:
    """Build one instance and check it is a two-player, turn-based game with action masks."""
    env = make(env_id)
    try:
        env.reset(seed=0)
        env.observe(env.agent_selection)
    except Exception as exc:
        raise EnvError(f"{env_id!r} is not a turn-based (AEC) PettingZoo environment ({exc})") from None
    agents = list(env.possible_agents)
    if len(agents) != 2:
        raise EnvError(f"{env_id!r} has {len(agents)} players; swarm needs a two-player game for now")
    obs_space = env.observation_space(agents[0])
    spaces = getattr(obs_space, "spaces", None)
    if not isinstance(spaces, dict) or "observation" not in spaces or "action_mask" not in spaces:
        raise EnvError(
            f"{env_id!r} observations are not a dict with 'observation' and 'action_mask'; "
            "swarm needs action masks to make illegal moves impossible"
        )
    actions = getattr(env.action_space(agents[0]), "n", None)
    if actions is None:
        raise EnvError(f"{env_id!r} has a non-discrete action space; swarm needs Discrete actions")
    if spaces["action_mask"].shape != (actions,):
        raise EnvError(f"{env_id!r}: action_mask shape {spaces['action_mask'].shape} != ({actions},)")
    return EnvSpec(env_id=env_id, obs_dim=int(np.prod(spaces["observation"].shape)), actions=int(actions))


class Games:
    """`n` independent games of one environment, stepped together.

    `to_move[i]` is the seat to move in game i; `obs[i]` and `mask[i]` are that player's view. `step` moves
    the chosen games and returns each seat's reward for the move and whether the game ended; a finished game
    stays finished until `reset` starts it again.
    """

    def __init__(self, spec: EnvSpec, n: int):
        self.spec = spec
        self.envs = [make(spec.env_id).unwrapped for _ in range(n)]
        self.seats = [list(env.possible_agents) for env in self.envs]
        self.to_move = np.full(n, -1, dtype=np.int64)
        self.obs = np.zeros((n, spec.obs_dim), dtype=np.float32)
        self.mask = np.zeros((n, spec.actions), dtype=bool)
        self.length = np.zeros(n, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.envs)

    def reset(self, i: int, seed: int) -> None:
        self.envs[i].reset(seed=int(seed))
        self.length[i] = 0
        self._observe(i)

    def reset_many(self, indices: np.ndarray, seeds: Sequence[int]) -> None:
        for i, seed in zip(indices, seeds, strict=True):
            self.reset(i, seed)

    def step(self, games: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Play `actions[k]` in game `games[k]`. Returns rewards [len(games), 2] and done [len(games)]."""
        rewards = np.zeros((len(games), 2), dtype=np.float32)
        done = np.zeros(len(games), dtype=bool)
        for k, (i, action) in enumerate(zip(games, actions, strict=True)):
            if self.to_move[i] < 0 or not self.mask[i, action]:
                legal = np.flatnonzero(self.mask[i]).tolist()
                raise IllegalMove(f"game {i}: action {action} is not legal here (legal: {legal})")
            env = self.envs[i]
            env.step(int(action))
            self.length[i] += 1
            seats = self.seats[i]
            rewards[k] = (env.rewards.get(seats[0], 0.0), env.rewards.get(seats[1], 0.0))
            if any(env.terminations.values()) or any(env.truncations.values()):
                done[k] = True
                self.to_move[i] = -1
            else:
                self._observe(i)
        return rewards, done

    def _observe(self, i: int) -> None:
        mover = self.envs[i].agent_selection
        seen = self.envs[i].observe(mover)
        self.to_move[i] = self.seats[i].index(mover)
        self.obs[i] = np.asarray(seen["observation"], dtype=np.float32).reshape(-1)
        self.mask[i] = np.asarray(seen["action_mask"], dtype=bool)
