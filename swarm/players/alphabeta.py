"""Depth-limited alpha-beta search for Connect Four on bitboards: a ladder member that reaches above MCTS.

MCTS with random playouts (`swarm.players.search`) plays any game but is weak per simulation; the trained
agents outgrow `mcts-64`. This player knows Connect Four: it reads the PettingZoo `connect_four_v3` board
into two integers and searches negamax with alpha-beta pruning to a fixed depth, with a transposition
table, so a depth-6 move costs milliseconds to tens of milliseconds in plain Python.

Bitboards as in Pascal Pons' solver (http://blog.gamesolver.org): bit `7 * column + row` (row 0 at the
bottom), one spare bit atop each column so that shifts never carry a four across columns. A position is
`mine` (the stones of the player to move) and `mask` (all stones).

Every node first takes a win in one, then answers a lone threat the opponent can play (two such threats
lose), and never plays under a cell that would complete the opponent's four. A leaf scores the cells that
would complete a four for each side (open threats), those on rows of the right parity higher, and the
stones in the centre column (`leaf`); a win scores more the sooner it comes, so that the search takes the
quickest win and fights off the slowest loss.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from swarm.players import GAME
from swarm.players.search import seeded

WIDTH, HEIGHT = 7, 6
CELLS = WIDTH * HEIGHT
ENVS = ("classic/connect_four-v3", "pettingzoo.classic.connect_four_v3")  # the env ids it can play
BOTTOM = sum(1 << (7 * c) for c in range(WIDTH))
BOARD = BOTTOM * ((1 << HEIGHT) - 1)
CENTRE = ((1 << HEIGHT) - 1) << (7 * (WIDTH // 2))
ODD = BOTTOM * 0b10101  # rows 1, 3, 5 counted from 1 at the bottom: the first player's good threats
EVEN = BOARD ^ ODD  # the second player's
ORDER = (3, 2, 4, 1, 5, 0, 6)  # centre first: central columns take part in the most fours
COLUMN = [((1 << HEIGHT) - 1) << (7 * c) for c in range(WIDTH)]
WIN = 1000  # above any leaf score; a win in one scores WIN + the cells still empty
INF = WIN + CELLS + 1  # beyond every value
# leaf weights: an open threat, again if on its owner's good rows, a stone in the centre column (with the
# parity term, 0.68 of 40 games at depth 4 and 0.58 at depth 6 against the same search without it, from
# two random opening moves)
THREAT, PARITY, CENTRAL = 4, 4, 1
EXACT, LOWER, UPPER = 0, 1, 2  # what a transposition table entry's value is


def from_env(env: Any) -> tuple[int, int, int]:
    """(mine, mask, stones played) of a `connect_four_v3` env, `mine` being the player to move's stones.

    The env keeps `board`, 42 cells row by row from the top, 1 for player_0's stones and 2 for player_1's.
    """
    piece = env.possible_agents.index(env.agent_selection) + 1
    mine = mask = 0
    for i, cell in enumerate(env.board):
        if cell:
            bit = 1 << (7 * (i % WIDTH) + HEIGHT - 1 - i // WIDTH)
            mask |= bit
            if cell == piece:
                mine |= bit
    return mine, mask, mask.bit_count()


def wins(stones: int) -> bool:
    """Whether `stones` hold four in a row: vertical, horizontal and both diagonals."""
    for shift in (1, 7, 6, 8):
        pairs = stones & (stones >> shift)
        if pairs & (pairs >> (2 * shift)):
            return True
    return False


def threats(stones: int, mask: int) -> int:
    """The empty cells that would complete a four of `stones` (Pons' `compute_winning_position`)."""
    r = (stones << 1) & (stones << 2) & (stones << 3)  # vertical: three below
    for s in (7, 6, 8):  # horizontal and the two diagonals
        p = (stones << s) & (stones << 2 * s)
        r |= p & (stones << 3 * s)
        r |= p & (stones >> s)
        p = (stones >> s) & (stones >> 2 * s)
        r |= p & (stones << s)
        r |= p & (stones >> 3 * s)
    return r & (BOARD ^ mask)


def playable(mask: int) -> int:
    """The lowest empty cell of every column that is not full."""
    return (mask + BOTTOM) & BOARD


def leaf(mine: int, theirs: int, own: int, against: int, played: int) -> int:
    """A static score to the player to move, whose open threats are `own` and the opponent's `against`.

    Threats count, and count again on their owner's good rows: when the board fills up, the first player
    can force a threat on an odd row and the second one on an even row (the zugzwang of Allis 1988, "A
    knowledge-based approach of Connect-Four"). Centre stones break the ties of the opening.
    """
    good, bad = (ODD, EVEN) if played % 2 == 0 else (EVEN, ODD)
    return (
        THREAT * (own.bit_count() - against.bit_count())
        + PARITY * ((own & good).bit_count() - (against & bad).bit_count())
        + CENTRAL * ((mine & CENTRE).bit_count() - (theirs & CENTRE).bit_count())
    )


class Search:
    """One move's search, whose transposition table lives as long as the move: a position is always reached
    at the same depth (the root's depth less the stones played since), so an entry holds no depth."""

    def __init__(self) -> None:
        self.table: dict[int, tuple[int, int]] = {}  # mine + mask (unique to a position) -> (value, kind)

    def negamax(self, mine: int, mask: int, played: int, depth: int, alpha: int, beta: int) -> int:
        """The value of the position to the player to move, searched `depth` plies deep, within (alpha,
        beta): a value at or below alpha is an upper bound, one at or above beta a lower bound."""
        moves = playable(mask)
        if moves & threats(mine, mask):
            return WIN + CELLS - played
        if played >= CELLS - 1:  # the one move left cannot win (checked above): a draw
            return 0
        theirs = mine ^ mask
        against = threats(theirs, mask)
        forced = moves & against
        if forced & (forced - 1):  # two threats to answer at once
            return -(WIN + CELLS - played - 1)
        if depth == 0:
            return leaf(mine, theirs, threats(mine, mask), against, played)
        if forced:
            moves = forced
        moves &= ~(against >> 1)  # never under the opponent's winning cell
        if not moves:
            return -(WIN + CELLS - played - 1)
        key = mine + mask
        entry = self.table.get(key)
        if entry is not None:
            value, kind = entry
            if kind == EXACT or (kind == LOWER and value >= beta) or (kind == UPPER and value <= alpha):
                return value
        start = alpha
        best = -INF
        for column in ORDER:
            move = moves & COLUMN[column]
            if not move:
                continue
            value = -self.negamax(theirs, mask | move, played + 1, depth - 1, -beta, -alpha)
            if value > best:
                best = value
                if value > alpha:
                    alpha = value
                    if alpha >= beta:
                        break
        kind = UPPER if best <= start else LOWER if best >= beta else EXACT
        self.table[key] = (best, kind)
        return best


def choose(mine: int, mask: int, played: int, depth: int, rnd: random.Random) -> int:
    """The column to play: a win in one, else the lone block, else the best by search, ties at random."""
    moves = playable(mask)
    columns = [c for c in ORDER if moves & COLUMN[c]]
    winning = [c for c in columns if moves & COLUMN[c] & threats(mine, mask)]
    if winning:
        return rnd.choice(winning)
    against = threats(mine ^ mask, mask)
    blocks = [c for c in columns if moves & COLUMN[c] & against]
    if blocks:  # two or more lose whichever is blocked
        return rnd.choice(blocks)
    safe = [c for c in columns if not moves & COLUMN[c] & (against >> 1)] or columns
    search, values = Search(), {}
    best = -INF
    for column in safe:
        child = mask | (moves & COLUMN[column])
        # a window just below the best so far: a move that ties it is valued exactly, one below is cut off
        values[column] = -search.negamax(mine ^ mask, child, played + 1, depth - 1, -INF, 1 - best)
        best = max(best, values[column])
    return rnd.choice([c for c in safe if values[c] == best])


@dataclass(frozen=True)
class AlphaBeta:
    """Negamax with alpha-beta pruning to `depth` plies on Connect Four bitboards; ties go at random."""

    depth: int
    sees: ClassVar[str] = GAME

    def search(self, envs: Sequence[Any], generator: torch.Generator) -> np.ndarray:
        rnd = seeded(generator)
        return np.array([self.move(env, rnd) for env in envs], np.int64)

    def move(self, env: Any, rnd: random.Random) -> int:
        if env.metadata.get("name") != "connect_four_v3":
            raise ValueError(
                f"alphabeta plays Connect Four (connect_four_v3) only, not {env.metadata['name']}"
            )
        return choose(*from_env(env), self.depth, rnd)
