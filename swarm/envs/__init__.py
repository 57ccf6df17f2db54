"""Environments: the registry of games and of the backends that step them.

An environment is a PettingZoo game (`swarm.envs.aec`: any registry id or module path with an `env()`).
Some games also have a native backend (`BACKENDS`): the same arrays, every game stepped at once with NumPy,
move for move what its PettingZoo env does, for the game its constructor builds with no keywords. `games`
picks one. Players that search copies of the game (`swarm.players.search`) need the PettingZoo envs, which a
native backend does not keep, and a game whose copies show nothing a player could not see
(`PERFECT_INFORMATION`). Games whose seats share one goal are `COOPERATIVE`. A game whose seats play
different roles (`EnvSpec.roles`) is stepped by PettingZoo `Games`, which pad each seat's view by role.
"""

from __future__ import annotations

import importlib
from typing import Literal, get_args

from swarm.envs.aec import Games, api_check, describe, make
from swarm.envs.spec import Box, EnvError, EnvSpec, GameBatch, IllegalMove

__all__ = [
    "BACKENDS",
    "COOPERATIVE",
    "PAYOFF_BOUNDS",
    "PERFECT_INFORMATION",
    "Box",
    "EnvError",
    "EnvSpec",
    "GameBatch",
    "Games",
    "IllegalMove",
    "api_check",
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
# The registry of games known to be deterministic, turn-based and of perfect information, both id forms: a
# copy of their env holds nothing a player could not see (no hidden cards, no deck, no chance to come), so
# players that search copies may play them (`swarm.evaluation.ladder.check`). A budget file declares any
# other such game with `env_perfect_information: true`.
PERFECT_INFORMATION = frozenset(
    {
        "classic/connect_four-v3",
        "pettingzoo.classic.connect_four_v3",
        "classic/tictactoe-v3",
        "pettingzoo.classic.tictactoe_v3",
        "classic/go-v5",
        "pettingzoo.classic.go_v5",
    }
)


# The registry of games scored by payoff (`evaluation.score: auto`), both id forms: the largest difference
# between the two sides' rewards one game allows. Leduc hold'em (rlcard): blinds of 1 and 2 chips, two raises
# of 2 in the first round and of 4 in the second, so a side puts in at most 2 + 2 x 2 + 2 x 4 = 14 chips;
# rewards count big blinds (14 / 2 = 7), and one side's +7 is the other's -7: a margin of 14.
PAYOFF_BOUNDS = {"classic/leduc_holdem-v4": 14.0, "pettingzoo.classic.leduc_holdem_v4": 14.0}

# The registry of fully cooperative games (`evaluation.kind: auto`): every seat pursues the team's one goal,
# so an agent is judged by the return of a team it fills, not by beating another. MPE2's simple_spread: its
# agents cover the landmarks together (a shared reward, less each agent's own collisions).
COOPERATIVE = frozenset({"mpe2.simple_spread_v3"})


def games(spec: EnvSpec, n: int, backend: Backend = "auto") -> GameBatch:
    """`n` games of `spec`: native where `BACKENDS` has one and neither env_kwargs nor env_roles change the
    game (auto, native), else PettingZoo `Games`."""
    if backend not in get_args(Backend):
        raise EnvError(f"unknown backend {backend!r}; pick one of {', '.join(get_args(Backend))}")
    native = BACKENDS.get(spec.env_id)
    if native is not None and spec.env_kwargs:
        if backend == "native":
            raise EnvError(native_kwargs(spec.env_id, dict(spec.env_kwargs)))
        native = None
    if native is not None and spec.roles:  # a native backend does not pad views by role (`aec.Padding`)
        if backend == "native":
            raise EnvError(NATIVE_ROLES)
        native = None
    if backend == "native" and native is None:
        raise EnvError(
            f"{spec.env_id!r} has no native backend (envs with one: {', '.join(BACKENDS)}); "
            "use backend auto or pettingzoo (env_backend in a budget file)"
        )
    if backend == "pettingzoo" or native is None:
        return Games(spec, n)
    module, name = native.split(":")
    return getattr(importlib.import_module(module), name)(spec, n)


NATIVE_ROLES = (
    "env_backend: native plays a game as one role, not with env_roles; set env_backend: auto or pettingzoo "
    "(PettingZoo envs, each seat's view padded and marked with its role), or remove env_roles"
)


def native_kwargs(env_id: str, env_kwargs: dict) -> str:
    """Why a native backend refuses env_kwargs: it plays only the game its env builds with none."""
    return (
        f"env_backend: native plays {env_id!r} only as its constructor builds it with no keywords, not with "
        f"env_kwargs {env_kwargs}; set env_backend: auto or pettingzoo (PettingZoo envs built with "
        "env_kwargs), or remove env_kwargs"
    )
