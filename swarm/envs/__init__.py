"""Environments: the registry of games and of the backends that step them.

An environment is a PettingZoo game (`swarm.envs.aec`: any registry id or module path with an `env()`).
Some games also have a native backend (`BACKENDS`): the same arrays, every game stepped at once with NumPy,
move for move what its PettingZoo env does. `games` picks one. Players that search copies of the game
(`swarm.players.search`) need the PettingZoo envs, which a native backend does not keep.
"""

from __future__ import annotations

import importlib
from typing import Literal, get_args

from swarm.envs.aec import Games, describe, make
from swarm.envs.spec import EnvError, EnvSpec, GameBatch, IllegalMove

__all__ = [
    "BACKENDS",
    "EnvError",
    "EnvSpec",
    "GameBatch",
    "Games",
    "IllegalMove",
    "describe",
    "games",
    "make",
]

Backend = Literal["auto", "native", "pettingzoo"]
# The registry: env id -> "module:class" of its native backend, imported only when used.
BACKENDS = {
    "classic/connect_four-v3": "swarm.envs.connect_four:ConnectFourGames",
    "pettingzoo.classic.connect_four_v3": "swarm.envs.connect_four:ConnectFourGames",
}


def games(spec: EnvSpec, n: int, backend: Backend = "auto") -> GameBatch:
    """`n` games of `spec`: native where `BACKENDS` has one (auto, native), else PettingZoo `Games`."""
    if backend not in get_args(Backend):
        raise EnvError(f"unknown backend {backend!r}; pick one of {', '.join(get_args(Backend))}")
    native = BACKENDS.get(spec.env_id)
    if backend == "native" and native is None:
        raise EnvError(
            f"{spec.env_id!r} has no native backend (envs with one: {', '.join(BACKENDS)}); "
            "use backend auto or pettingzoo (env_backend in a budget file)"
        )
    if backend == "pettingzoo" or native is None:
        return Games(spec, n)
    module, name = native.split(":")
    return getattr(importlib.import_module(module), name)(spec, n)
