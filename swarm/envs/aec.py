"""The PettingZoo adapter: many AEC games of two or more players stepped in lockstep, as arrays.

An environment is named by its PettingZoo registry id (`classic/connect_four-v3`, built with
`pettingzoo.make`) or by a module path with an `env()` function (`pettingzoo.classic.connect_four_v3`,
`mpe2.simple_spread_v3`, or a third-party game), and built with the budget file's `env_kwargs` as keywords. A
module with only a `parallel_env()` (PettingZoo's Parallel API: every agent acts at once) is played through
PettingZoo's own `parallel_to_aec`, which takes the agents' actions one by one and steps the parallel env
once all have acted: the same game, its rewards arriving after the last agent's action.

At the door it must be a game of two or more players (its seats) whose seats of one role share one
observation and one action space (`describe`), Discrete or a flat Box with finite bounds (MPE2's
`continuous_actions`), and pass PettingZoo's own API test (`api_check`; a parallel env also
`parallel_api_test`). Seats that all share their spaces play one role (Connect Four's; Go's `black_0` and
`white_0`) unless a budget file's `env_roles` names roles; otherwise a seat's role is `env_roles[agent]`, or
its agent's name without a trailing `_<digits>` (MPE2's `adversary_0` is an adversary). Where roles differ,
one network still plays every seat (`Padding`). Observations are a dict with `observation` and
`action_mask` (the classic games), or an array (Box) with every action legal (MPE2), flattened either way;
Box actions have no masks. Games are stepped on the unwrapped env: PettingZoo's
wrappers cost a third of the time and would turn an illegal move into a silent loss
(TerminateIllegalWrapper), so the adapter instead checks every action against the action mask, or the Box,
itself and raises. Seats are indices into `possible_agents`: seat 0 moves first. A game ends when any seat's
episode does: the classic games and MPE2 end for every player at once. An end by truncation alone (MPE2's
`max_cycles`) is a time limit, not an outcome, so the adapter keeps every seat's last view for a learner to
bootstrap its value from. The adapter knows nothing of learning.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import io
import os
import re
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from swarm.envs.spec import Box, EnvError, EnvSpec, IllegalMove

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")  # several classic games import pygame to render
API_CYCLES = 10  # api_test's cycles at the door
NUMBERED = re.compile(r"_\d+$")  # the seat number of an agent's name (`adversary_0`), not its role


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
    except (ImportError, ValueError, TypeError) as exc:  # no such module; an empty or relative name
        raise EnvError(
            f"cannot import {env_id!r} ({exc}); give a PettingZoo registry id such as "
            "classic/connect_four-v3 or an importable module path, and install its extras"
        ) from None
    if callable(getattr(mod, "env", None)):
        return mod.env, env_id
    if callable(getattr(mod, "parallel_env", None)):
        return functools.partial(from_parallel, mod.parallel_env), env_id
    raise EnvError(
        f"{env_id!r} has neither an env() nor a parallel_env() function; give a PettingZoo environment module"
    )


def from_parallel(parallel_env: Callable[..., Any], **kwargs: Any) -> Any:
    """A Parallel API env as an AEC one, by PettingZoo's own conversion."""
    from pettingzoo.utils.conversions import parallel_to_aec

    return parallel_to_aec(parallel_env(**kwargs))


def is_parallel(env_id: str) -> bool:
    """Whether `env_id` is a module path played through `parallel_to_aec` (it has no AEC `env()`)."""
    build, _ = constructor(env_id)
    return isinstance(build, functools.partial) and build.func is from_parallel


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


def describe(
    env_id: str, env_kwargs: Mapping[str, Any] | None = None, env_roles: Mapping[str, str] | None = None
) -> EnvSpec:
    """Build one instance and check it is a game of two or more players whose seats of one role share one
    observation space (a dict with an action mask, or an array) and one action space (Discrete, or a Box).

    Seats that all share their spaces play one role, whatever their names, unless `env_roles` names roles:
    such a game is the same game as before roles existed. Otherwise a seat's role is `env_roles[agent]`, or
    its agent's name without a trailing `_<digits>`."""
    env = make(env_id, env_kwargs)
    try:
        env.reset(seed=0)
        env.observe(env.agent_selection)
    except Exception as exc:
        raise EnvError(f"{env_id!r} is not an AEC or Parallel PettingZoo environment ({exc})") from None
    agents = list(env.possible_agents)
    if len(agents) < 2:
        raise EnvError(
            f"{env_id!r} has {len(agents)} player; swarm compares agents that play each other, so it needs "
            "a game of two or more players"
        )
    shapes = {
        agent: (observed(env_id, env.observation_space(agent)), actions_of(env_id, env, agent))
        for agent in agents
    }
    alike = env_roles is None and len(set(shapes.values())) == 1  # Go's black_0 and white_0: one role
    roles = [agents[0]] * len(agents) if alike else roles_of(env_id, agents, env_roles)
    for role in dict.fromkeys(roles):
        seats = [agent for agent, mine in zip(agents, roles, strict=True) if mine == role]
        if len({shapes[agent] for agent in seats}) > 1:
            seen = "; ".join(
                f"{agent}: obs {shapes[agent][0]}, {shapes[agent][1][0]} actions" for agent in seats
            )
            raise EnvError(
                f"{env_id!r}: the seats of role {role!r} see or act differently ({seen}); seats of one role "
                "share one observation and one action space, so give these different roles in env_roles "
                "(agent: role, every agent named)"
            )
    kwargs = tuple(sorted((env_kwargs or {}).items()))
    if len(set(roles)) == 1:
        (obs_dim, (actions, box)) = shapes[agents[0]]
        return EnvSpec(
            env_id=env_id, obs_dim=obs_dim, actions=actions, env_kwargs=kwargs, seats=len(agents), box=box
        )
    boxes = {box for _, (_, box) in shapes.values()}
    if len(boxes) > 1:
        acts = "; ".join(
            f"{role}: {'a Box of ' if box else ''}{n} actions"
            for role, (_, (n, box)) in dict(zip(roles, shapes.values(), strict=True)).items()
        )
        raise EnvError(
            f"{env_id!r}: its roles act in different spaces ({acts}); one network plays every role, which "
            "pads Discrete actions to the largest count but needs one Box for all: use Discrete actions"
        )
    sizes, counts = [o for o, _ in shapes.values()], [n for _, (n, _) in shapes.values()]
    return EnvSpec(
        env_id=env_id,
        obs_dim=max(sizes) + len(set(roles)),
        actions=max(counts),
        env_kwargs=kwargs,
        seats=len(agents),
        box=boxes.pop(),
        roles=tuple(roles),
    )


def roles_of(env_id: str, agents: list[str], env_roles: Mapping[str, str] | None) -> list[str]:
    """Each agent's role: as `env_roles` names it (every agent, none other), else its name without a trailing
    `_<digits>`."""
    if env_roles is None:
        return [NUMBERED.sub("", agent) for agent in agents]
    unknown = [agent for agent in env_roles if agent not in agents]
    missing = [agent for agent in agents if agent not in env_roles]
    if unknown or missing:
        wrong = [f"names {', '.join(unknown)}, which {env_id!r} does not have"] if unknown else []
        wrong += [f"leaves out {', '.join(missing)}"] if missing else []
        raise EnvError(
            f"env_roles {' and '.join(wrong)}: its agents are {', '.join(agents)}; give every one of them a "
            "role (agent: role), or remove env_roles to take each role from its agent's name (adversary_0: "
            "adversary)"
        )
    return [env_roles[agent] for agent in agents]


def observed(env_id: str, space: Any) -> int:
    """The flat size of an observation space: a dict's `observation` (with an `action_mask`), or a Box."""
    spaces = getattr(space, "spaces", None)
    if isinstance(spaces, dict):
        if "observation" not in spaces or "action_mask" not in spaces:
            raise EnvError(
                f"{env_id!r}: dict observations need 'observation' and 'action_mask', got {sorted(spaces)}"
            )
        space = spaces["observation"]
    shape = getattr(space, "shape", None)
    if not shape:
        raise EnvError(f"{env_id!r}: observation space {space} is not an array swarm can flatten")
    return int(np.prod(shape))


def actions_of(env_id: str, env: Any, agent: str) -> tuple[int, Box | None]:
    """The size of a Discrete action space (checked against the action mask where there is one), or the
    dimension and bounds of a flat Box."""
    space = env.action_space(agent)
    n = getattr(space, "n", None)
    if n is not None:
        mask = getattr(env.observation_space(agent), "spaces", {}).get("action_mask")
        if mask is not None and mask.shape != (n,):
            raise EnvError(f"{env_id!r}: action_mask shape {mask.shape} != ({n},)")
        return int(n), None
    low, high = getattr(space, "low", None), getattr(space, "high", None)
    if low is None or high is None or len(space.shape) != 1:
        raise EnvError(
            f"{env_id!r} has an action space swarm cannot act in ({space}); swarm needs Discrete actions or "
            "a one-dimensional Box"
        )
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise EnvError(
            f"{env_id!r}: its Box of actions ({space}) has infinite bounds; swarm clips a Gaussian policy's "
            "actions to the Box, so it needs finite low and high"
        )
    return int(space.shape[0]), Box(tuple(map(float, low)), tuple(map(float, high)))


def api_check(spec: EnvSpec) -> None:
    """PettingZoo's own API test (`pettingzoo.test.api_test`), silenced, on a fresh instance: a broken env
    (an observation outside its space, rewards for unknown agents) fails here, not hours into a run.

    A few short episodes (`API_CYCLES`) cost about 5 ms on connect_four and tictactoe.
    """
    from pettingzoo.test import api_test, parallel_api_test

    kwargs = dict(spec.env_kwargs)
    tests = [("api_test", lambda: api_test(make(spec.env_id, kwargs), num_cycles=API_CYCLES))]
    if is_parallel(spec.env_id):
        parallel_env = importlib.import_module(spec.env_id).parallel_env
        tests.append(("parallel_api_test", lambda: parallel_api_test(parallel_env(**kwargs), API_CYCLES)))
    for name, test in tests:
        try:
            with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                test()
        except Exception as exc:
            raise EnvError(
                f"{spec.env_id!r} fails PettingZoo's API test (pettingzoo.test.{name}): {failed(exc)}"
            ) from None


def failed(exc: Exception) -> str:
    """The check that failed: its source line (api_test's assertions often carry no message) and message."""
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    message = f": {exc}" if str(exc) else ""
    return f"{type(exc).__name__} at `{frame.line}` ({frame.name}){message}"


@dataclass(frozen=True)
class Padding:
    """Each seat's view as the one network every role shares reads it, where seats play different roles:
    parameter sharing with an agent id, as BenchMARL and EPyMARL feed heterogeneous agents. A seat's
    observation is zero-padded to the largest role's size and followed by a one-hot of its role; its
    Discrete actions are the largest role's count, those its role lacks masked out."""

    spec: EnvSpec
    role: tuple[int, ...]  # each seat's role, its index in `spec.role_names`
    actions: tuple[int, ...]  # each seat's own count of actions

    @classmethod
    def of(cls, spec: EnvSpec, env: Any) -> Padding | None:
        """The padding of `spec`'s game, one instance of it `env`; None in a game of one role."""
        if not spec.roles:
            return None
        agents = list(env.possible_agents)
        return cls(
            spec,
            tuple(spec.role_names.index(role) for role in spec.roles),
            tuple(actions_of(spec.env_id, env, agent)[0] for agent in agents),
        )

    def view(self, seat: int, obs: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        padded = np.zeros(self.spec.obs_dim, np.float32)
        padded[: len(obs)] = obs
        padded[self.spec.obs_dim - len(self.spec.role_names) + self.role[seat]] = 1.0
        legal = np.zeros(self.spec.mask_width, bool)
        legal[: self.actions[seat]] = True if mask is None else mask
        return padded, legal


class Games:
    """`n` independent games of one environment, stepped together.

    `to_move[i]` is the seat to move in game i; `obs[i]` and `mask[i]` are that player's view. `step` moves
    the chosen games and returns each seat's reward for the move and whether the game ended; a finished game
    stays finished until `reset` starts it again. `truncated[i]` says whether game i's last end was a time
    limit alone, and `final_obs[i]` then holds every seat's last view.
    """

    def __init__(self, spec: EnvSpec, n: int):
        self.spec = spec
        self.envs = [make(spec.env_id, dict(spec.env_kwargs)).unwrapped for _ in range(n)]
        self.seats = [list(env.possible_agents) for env in self.envs]
        self.padding = Padding.of(spec, self.envs[0]) if n else None
        self.to_move = np.full(n, -1, dtype=np.int64)
        self.obs = np.zeros((n, spec.obs_dim), dtype=np.float32)
        self.mask = np.zeros((n, spec.mask_width), dtype=bool)
        self.length = np.zeros(n, dtype=np.int64)
        self.truncated = np.zeros(n, dtype=bool)
        self.final_obs = np.zeros((n, spec.seats, spec.obs_dim), dtype=np.float32)

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
            self._check(i, action)
            env = self.envs[i]
            env.step(int(action) if self.spec.box is None else action.copy())  # the env may keep it
            self.length[i] += 1
            rewards[k] = [env.rewards.get(seat, 0.0) for seat in self.seats[i]]
            terminated, truncated = any(env.terminations.values()), any(env.truncations.values())
            if terminated or truncated:
                done[k] = True
                self.to_move[i] = -1
                self.truncated[i] = not terminated
                if self.truncated[i]:
                    for seat, agent in enumerate(self.seats[i]):
                        self.final_obs[i, seat] = self._view(seat, env.observe(agent))[0]
            else:
                self._observe(i)
        return rewards, done

    def _check(self, i: int, action: np.ndarray) -> None:
        """Raise IllegalMove unless game i awaits a move and `action` is legal: in its mask, or in the Box."""
        box = self.spec.box
        if self.to_move[i] < 0:
            raise IllegalMove(f"game {i} is over: it takes no action {action}")
        if box is None and not self.mask[i, action]:
            legal = np.flatnonzero(self.mask[i]).tolist()
            raise IllegalMove(f"game {i}: action {action} is not legal here (legal: {legal})")
        if box is not None and not ((box.low <= action) & (action <= box.high)).all():
            raise IllegalMove(f"game {i}: action {action} is outside the Box [{box.low}, {box.high}]")

    def _observe(self, i: int) -> None:
        mover = self.envs[i].agent_selection
        self.to_move[i] = self.seats[i].index(mover)
        obs, mask = self._view(self.to_move[i], self.envs[i].observe(mover))
        self.obs[i] = obs
        self.mask[i] = True if mask is None else mask

    def _view(self, seat: int, seen: Any) -> tuple[np.ndarray, np.ndarray | None]:
        """A seat's observation and mask as the env gives them, flat; padded where roles differ."""
        obs, mask = flat(seen)
        return (obs, mask) if self.padding is None else self.padding.view(seat, obs, mask)


def flat(seen: Any) -> tuple[np.ndarray, np.ndarray | None]:
    """An observation as a flat float32 array, and its action mask where it has one."""
    if isinstance(seen, dict):
        return np.asarray(seen["observation"], np.float32).reshape(-1), np.asarray(seen["action_mask"], bool)
    return np.asarray(seen, np.float32).reshape(-1), None
