"""The reference ladder: fixed opponents that never learn, so every trained agent is rated on one scale.

Members are chosen by name from this registry: `random` (uniform over legal moves, or over a Box of continuous
actions), `heuristic` (one move of lookahead each way), `mcts-<k>` (UCT with k simulations per move) and
`alphabeta-<d>` (alpha-beta search d plies deep, Connect Four only: it reaches above the agents that outgrow
mcts), `scripted` (a game's obvious policy written down, in the games that have one,
`swarm.players.scripted.SCRIPTS`: MPE2's and hold'em's, where nothing searches) and `trained-<agent-steps>`
(a network trained once by a fixed recipe, `swarm.references`: for any game, where nothing else reaches
above the agents); what each one is lives in `swarm.players`. Random, scripted and trained members see what a
player sees; every other member searches copies of the
PettingZoo env, which in a game of hidden information or chance (a card game) hold the opponent's cards and
the deck: those members play only games known to be deterministic and of perfect information
(`swarm.envs.PERFECT_INFORMATION`, or declared so).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from swarm.envs import PERFECT_INFORMATION, EnvSpec
from swarm.players import GAME, OBSERVATION, Player, RandomPlayer, scripted
from swarm.players.alphabeta import ENVS as CONNECT_FOUR
from swarm.players.alphabeta import AlphaBeta
from swarm.players.search import MCTS, Heuristic


@dataclass(frozen=True)
class Family:
    """Searches named `<family>-<strength>`, for 1 <= strength <= `most`; `envs`: the env ids they can
    play (None: any)."""

    build: Callable[[int], Player]
    strength: str  # what the number counts, for messages
    example: int
    most: int
    envs: tuple[str, ...] | None = None


# The registry: fixed members by name, and searches named `<family>-<strength>`.
FIXED: dict[str, Callable[[], Player]] = {"random": RandomPlayer, "heuristic": Heuristic}
SEARCHES: dict[str, Family] = {
    "mcts": Family(MCTS, "simulations", 64, 100_000),
    # a move at depth 6 takes ~15 ms, at 8 ~50 ms, at 10 ~0.3 s: deeper is too slow for a ladder stage
    "alphabeta": Family(AlphaBeta, "depth", 4, 10, CONNECT_FOUR),
}
SCRIPTED = "scripted"  # the game's own script, built from its spec (`scripted.SCRIPTS`)
TRAINED = "trained"  # `trained-<agent-steps>`: a network trained by `swarm.references`' recipe, from weights
USAGE = (
    "use random, heuristic, scripted, "
    + ", ".join(
        f"{name}-<{f.strength}> such as {name}-{f.example} (1 to {f.most})" for name, f in SEARCHES.items()
    )
    + f" or {TRAINED}-<agent-steps> such as {TRAINED}-1000000"
)


def parse(name: str) -> tuple[str, int] | None:
    """(family, strength) of a search's name, or None."""
    parsed = re.fullmatch(r"([a-z]+)-([0-9]+)", name)
    if parsed and parsed[1] in SEARCHES and 1 <= int(parsed[2]) <= SEARCHES[parsed[1]].most:
        return parsed[1], int(parsed[2])
    return None


def trained_steps(name: str) -> int | None:
    """The agent-steps of a trained member's name (`trained-<agent-steps>`), or None."""
    parsed = re.fullmatch(TRAINED + r"-([1-9][0-9]*)", name)
    return int(parsed[1]) if parsed else None


def member(name: str) -> Callable[[], Player]:
    if trained_steps(name) is not None:
        raise ValueError(
            f"{name} plays from the weights `swarm.references` trained for it, not built by name"
        )
    if name == SCRIPTED:
        raise ValueError("scripted plays a game's script: build it with the game's spec, build(name, spec)")
    if name in FIXED:
        return FIXED[name]
    if parsed := parse(name):
        return functools.partial(SEARCHES[parsed[0]].build, parsed[1])
    raise ValueError(f"unknown ladder member {name!r}; {USAGE}")


def hides_nothing(env: str, perfect_information: bool = False) -> bool:
    """Whether searches may play `env`: known, or declared (`perfect_information`), to hide nothing."""
    return perfect_information or env in PERFECT_INFORMATION


def sees(name: str) -> str:
    """What member `name` sees (`swarm.players`: OBSERVATION or GAME), without a game to build it for."""
    if name in ("random", SCRIPTED) or trained_steps(name) is not None:
        return OBSERVATION
    return member(name)().sees


def check(name: str, env: str | None = None, perfect_information: bool = False) -> None:
    """Raise ValueError, naming the fix, unless `name` is a ladder member that can play `env` (if given)
    honestly: a search only where the game hides nothing (`hides_nothing`), scripted only where the game has
    a script."""
    searches = sees(name) == GAME
    if env is not None and name == SCRIPTED and env not in scripted.SCRIPTS:
        raise ValueError(scripted.unscripted(env))
    if env is not None and searches and not hides_nothing(env, perfect_information):
        fair = ["random", *([SCRIPTED] if env in scripted.SCRIPTS else []), f"{TRAINED}-<agent-steps>"]
        raise ValueError(
            f"evaluation.ladder: {name} searches copies of the game, which would see hidden information or "
            f"the chance outcomes of {env!r}; use ladder [{', '.join(fair)}] here (or, if {env!r} is "
            "deterministic, turn-based and of perfect information, set env_perfect_information: true)"
        )
    parsed = parse(name)
    envs = SEARCHES[parsed[0]].envs if parsed else None
    if env is not None and envs is not None and env not in envs:
        raise ValueError(
            f"evaluation.ladder: {name} plays only {' or '.join(envs)}, not {env!r}; "
            "remove it from evaluation.ladder (mcts-<simulations> plays any game)"
        )


def reaching_higher(
    env: str, perfect_information: bool = False, ladder: Sequence[str] = (), most: int = 0
) -> str:
    """The fix when the ladder (`ladder`, its members) does not reach above the strongest agent (agents
    trained on at most `most` agent-steps each): the searches that can play `env` honestly, deeper; where none
    can, the script if the ladder lacks it, and that ratings above the ladder's top are floors; and in any
    game a trained member that trains longer than the agents and the ladder's trained members did."""
    longest = max([most, *(trained_steps(n) or 0 for n in ladder)])
    trained = f"{TRAINED}-{2 * longest}" if longest else f"{TRAINED}-<agent-steps>"
    if not hides_nothing(env, perfect_information):
        script = env in scripted.SCRIPTS
        advice = f"add {'' if SCRIPTED in ladder or not script else 'scripted or '}a member trained longer, "
        return (
            f"no search plays {env!r} honestly (they would see copies of a game that hides information or "
            f"has chance), so ratings above the ladder's top are floors; {advice}e.g. {trained}"
        )
    fits = [
        f"{n}-<{f.strength}> above {f.example}"
        for n, f in SEARCHES.items()
        if f.envs is None or env in f.envs
    ]
    return "add a stronger member to evaluation.ladder, e.g. " + " or ".join([*reversed(fits), trained])


def build(name: str, spec: EnvSpec | None = None) -> Player:
    """Ladder member `name` for the game of `spec`: random draws in its Box of continuous actions where it
    has one, scripted plays its script (and needs the spec); searches play Discrete games only."""
    if name == "random":
        return RandomPlayer(spec.box if spec is not None else None)
    if name == SCRIPTED and spec is not None:
        return scripted.build(spec)
    return member(name)()
