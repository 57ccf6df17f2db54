"""The PettingZoo adapter: many turn-based AEC games of two or more players stepped in lockstep, as arrays.

An environment is named by its PettingZoo registry id (`classic/connect_four-v3`, built with
`pettingzoo.make`) or by a module path with an `env()` function (`pettingzoo.classic.connect_four_v3`, or a
third-party game), and built with the budget file's `env_kwargs` as keywords. At the door it must be a game of
two or more players (its seats) with action masks and Discrete actions (`describe`) and pass PettingZoo's own
API test (`api_check`). Games are stepped on the unwrapped env: PettingZoo's wrappers cost a third of the time
and would turn an illegal move into a silent loss (TerminateIllegalWrapper), so the adapter instead checks
every action against the action mask itself and raises. Seats are indices into `possible_agents`: seat 0 moves
first. A game ends when any seat's episode does (terminated or truncated): the classic games end for every
player at once. The adapter knows nothing of learning.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import os
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from swarm.envs.spec import EnvError, EnvSpec, IllegalMove

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # several classic games import pygame to render
API_CYCLES = 10  # api_test's cycles at the door


def make(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> Any:
    """A fresh instance of `env_id`, its constructor given `env_kwargs` (a budget file's: a board size...)."""
    build, module = constructor(env_id)
    kwargs = dict(env_kwargs or {})
    try:
        return build(**kwargs)
    except ImportError as exc:
        raise EnvError(f"cannot build {env_id!r}: {exc}") from None
    except Exception as exc:
        given = f"env_kwargs {kwargs}" if kwargs else "no env_kwargs"
        raise EnvError(
            f"{env_id!r} would not build with {given} ({type(exc).__name__}: {exc}); its constructor takes "
            f"{parameters(module)}: fix env_kwargs"
        ) from None


def constructor(env_id: str) -> tuple[Callable[..., Any], str]:
    """What builds `env_id` (its registry entry, or its module's env()) and the module that holds it.

    A registry id is looked up first, so that a bad id and a constructor that refuses its keywords give
    different errors.
    """
    if "/" in env_id:
        import pettingzoo

        try:
            entry = pettingzoo.spec("aec", env_id)
        except Exception as exc:
            known = ", ".join(sorted(pettingzoo.aec_registry))
            raise EnvError(
                f"{env_id!r} is not in PettingZoo's registry ({exc}); known ids: {known}"
            ) from None
        point = entry.entry_point
        module = point.split(":")[0] if isinstance(point, str) else point.__module__
        return functools.partial(registered, entry), module
    try:
        mod = importlib.import_module(env_id)
    except ImportError as exc:
        raise EnvError(
            f"cannot import {env_id!r} ({exc}); give a PettingZoo registry id such as "
            "classic/connect_four-v3 or an importable module path, and install its extras"
        ) from None
    if not callable(getattr(mod, "env", None)):
        raise EnvError(f"{env_id!r} has no env() function; give a PettingZoo AEC environment module")
    return mod.env, env_id


def registered(entry: Any, **kwargs: Any) -> Any:
    """`pettingzoo.make` of a registry entry, its missing extras an ImportError like a module path's."""
    import pettingzoo
    from pettingzoo.env_registry.exceptions import FailedToImport

    try:
        return pettingzoo.make("aec", entry, **kwargs)
    except FailedToImport as exc:
        raise ImportError(exc) from None


def parameters(module: str) -> str:
    """The keywords an env's constructor takes, for an error message: those of `env`, or of `raw_env` where
    `env(**kwargs)` only passes them on (as every PettingZoo classic game does)."""
    mod = importlib.import_module(module)
    for name in ("env", "raw_env"):
        try:
            signature = inspect.signature(getattr(mod, name))
        except (AttributeError, TypeError, ValueError):
            continue
        named = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        if named or len(named) == len(signature.parameters):
            return ", ".join(
                p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in named
            ) or ("no keywords")
    return "keywords it does not declare (see its documentation)"


def describe(env_id: str, env_kwargs: Mapping[str, Any] | None = None) -> EnvSpec:
    """Build one instance and check it is a turn-based game of two or more players with action masks."""
    env = make(env_id, env_kwargs)
    try:
        env.reset(seed=0)
        env.observe(env.agent_selection)
    except Exception as exc:
        raise EnvError(f"{env_id!r} is not a turn-based (AEC) PettingZoo environment ({exc})") from None
    agents = list(env.possible_agents)
    if len(agents) < 2:
        raise EnvError(
            f"{env_id!r} has {len(agents)} player; swarm compares agents that play each other, so it needs "
            "a game of two or more players"
        )
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
    return EnvSpec(
        env_id=env_id,
        obs_dim=int(np.prod(spaces["observation"].shape)),
        actions=int(actions),
        env_kwargs=tuple(sorted((env_kwargs or {}).items())),
        seats=len(agents),
    )


def api_check(spec: EnvSpec) -> None:
    """PettingZoo's own API test (`pettingzoo.test.api_test`), silenced, on a fresh instance: a broken env
    (an observation outside its space, rewards for unknown agents) fails here, not hours into a run.

    A few short episodes (`API_CYCLES`) cost about 5 ms on connect_four and tictactoe.
    """
    from pettingzoo.test import api_test

    env = make(spec.env_id, dict(spec.env_kwargs))
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            api_test(env, num_cycles=API_CYCLES)
    except Exception as exc:
        raise EnvError(
            f"{spec.env_id!r} fails PettingZoo's API test (pettingzoo.test.api_test): {failed(exc)}"
        ) from None


def failed(exc: Exception) -> str:
    """The check that failed: its source line (api_test's assertions often carry no message) and message."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    message = f": {exc}" if str(exc) else ""
    return f"{type(exc).__name__} at `{frame.line}` ({frame.name}){message}"


class Games:
    """`n` independent games of one environment, stepped together.

    `to_move[i]` is the seat to move in game i; `obs[i]` and `mask[i]` are that player's view. `step` moves
    the chosen games and returns each seat's reward for the move and whether the game ended; a finished game
    stays finished until `reset` starts it again.
    """

    def __init__(self, spec: EnvSpec, n: int):
        self.spec = spec
        self.envs = [make(spec.env_id, dict(spec.env_kwargs)).unwrapped for _ in range(n)]
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
        """Play `actions[k]` in game `games[k]`. Returns rewards [len(games), seats] and done [len(games)]."""
        rewards = np.zeros((len(games), self.spec.seats), dtype=np.float32)
        done = np.zeros(len(games), dtype=bool)
        for k, (i, action) in enumerate(zip(games, actions, strict=True)):
            if self.to_move[i] < 0 or not self.mask[i, action]:
                legal = np.flatnonzero(self.mask[i]).tolist()
                raise IllegalMove(f"game {i}: action {action} is not legal here (legal: {legal})")
            env = self.envs[i]
            env.step(int(action))
            self.length[i] += 1
            rewards[k] = [env.rewards.get(seat, 0.0) for seat in self.seats[i]]
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
