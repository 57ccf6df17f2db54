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
from collections.abc import Callable, Mapping
from typing import Any, Literal, get_args

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
    "payoff_bound",
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


def leduc_bound(env_kwargs: Mapping[str, Any]) -> float | None:
    """Leduc hold'em (rlcard): blinds of 1 and 2 chips, two raises of 2 in the first round and of 4 in the
    second, so a side puts in at most 2 + 2 x 2 + 2 x 4 = 14 chips; rewards count big blinds (14 / 2 = 7),
    and one side's +7 is the other's -7: a margin of 14. Only as built with no env_kwargs."""
    return None if env_kwargs else 14.0


def texas_bound(env_kwargs: Mapping[str, Any]) -> float | None:
    """Limit Texas hold'em (rlcard's limitholdem, PettingZoo's texas_holdem_v4) for k = num_players seats.

    A player puts in at most C = 50 chips: rlcard's `LimitHoldemGame` has blinds of 1 and 2, raises of 2
    (`raise_amount`, the big blind) and at most 4 raises a betting round (`allowed_raise_num`, the big blind
    not counted), and `step` doubles the raise to 4 for the last two rounds; a round's raise lifts the
    highest stake by the raise, and no player puts in more than the highest stake, so before the flop at
    most 2 + 4 x 2 = 10, on the flop 4 x 2 = 8, on the turn and the river 4 x 4 = 16 each. `judge_game`
    hands every chip in (each player's in_chips) back out to the winners, split pots shared among them (an
    odd chip to one at random), none to a folded player: a player's payoff is what it got back less its
    in_chips, so the payoffs sum to 0 and none is below -C. `get_payoffs` divides chips by the big blind
    and PettingZoo passes them on unscaled (`_scale_rewards`): C is 25 big blinds.

    The sides are the E = ceil(k / 2) even seats and the O = floor(k / 2) odd seats, each side's reward its
    seats' mean (`training.rollout.sides`). With S the even seats' summed payoff (the odd seats' is -S),
    the margin is S / E + S / O = S k / (E O), and -E C <= S <= O C (a side loses at most its own chips), so
    |margin| <= C k max(E, O) / (E O) = C k / floor(k / 2) = 25 k / floor(k / 2) big blinds: 50 heads-up, 75
    for three, 50 for four, 62.5 for five. It is reached: every seat raises while it may, else calls, all
    reach the showdown with 50 chips in, and the side with fewer seats (either side, k even) wins the whole
    pot. Only num_players is known: any other env_kwargs, or a table rlcard cannot deal (2 cards each and 5
    on the board from 52: 2 to 23 players), has no bound here."""
    players = env_kwargs.get("num_players", 2)
    if set(env_kwargs) - {"num_players"} or type(players) is not int or not 2 <= players <= 23:
        return None
    return 25.0 * players / (players // 2)


# The registry of games scored by payoff (`evaluation.score: auto`), both id forms: a function of the game's
# env_kwargs giving the largest difference between the two sides' rewards one game allows, or None where
# the game those env_kwargs build is not one whose bound it knows (`payoff_bound`).
PAYOFF_BOUNDS: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "classic/leduc_holdem-v4": leduc_bound,
    "pettingzoo.classic.leduc_holdem_v4": leduc_bound,
    "classic/texas_holdem-v4": texas_bound,
    "pettingzoo.classic.texas_holdem_v4": texas_bound,
}


def payoff_bound(env_id: str | None, env_kwargs: Mapping[str, Any] | None = None) -> float | None:
    """The largest margin one game of `env_id` built with `env_kwargs` allows, by `PAYOFF_BOUNDS`; None for
    a game not in it, or with env_kwargs its entry does not know."""
    bound = PAYOFF_BOUNDS.get(env_id) if isinstance(env_id, str) else None
    if bound is None or not isinstance(env_kwargs or {}, Mapping):
        return None
    return bound(dict(env_kwargs or {}))


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
