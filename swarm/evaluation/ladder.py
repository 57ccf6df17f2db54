"""The reference ladder: fixed opponents that never learn, so every trained agent is rated on one scale.

Members are chosen by name from this registry: `random` (uniform over legal moves), `heuristic` (one move
of lookahead each way) and `mcts-<k>` (UCT with k simulations per move); what each one is lives in
`swarm.players`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

from swarm.players import Player, RandomPlayer
from swarm.players.search import MCTS, Heuristic

MAX_SIMULATIONS = 100_000

# The registry: fixed members by name, and searches named `<family>-<simulations>`.
FIXED: dict[str, Callable[[], Player]] = {"random": RandomPlayer, "heuristic": Heuristic}
SEARCHES: dict[str, Callable[[int], Player]] = {"mcts": MCTS}


def member(name: str) -> Callable[[], Player]:
    if name in FIXED:
        return FIXED[name]
    parsed = re.fullmatch(r"([a-z]+)-([0-9]+)", name)
    if parsed and parsed[1] in SEARCHES and 1 <= int(parsed[2]) <= MAX_SIMULATIONS:
        return functools.partial(SEARCHES[parsed[1]], int(parsed[2]))
    raise ValueError(
        f"unknown ladder member {name!r}; use random, heuristic or mcts-<simulations> such as mcts-64, "
        f"with 1 <= simulations <= {MAX_SIMULATIONS}"
    )


def check(name: str) -> None:
    """Raise ValueError, naming the fix, unless `name` is a ladder member."""
    member(name)


def build(name: str) -> Player:
    return member(name)()
