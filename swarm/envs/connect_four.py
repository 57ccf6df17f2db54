"""Connect Four as arrays: thousands of games stepped at once, move for move PettingZoo's connect_four_v3.

Training spends most of its time stepping games; PettingZoo steps one game at a time in Python, this module
steps a whole batch with a few dozen NumPy operations. Each game keeps one bitboard per seat (column c holds
bits 7c..7c+5 from the bottom up and bit 7c+6 stays empty, so no line wraps round a column: J. Tromp's
layout), the height of every column, and the mover's observation. A line of four is two shift-and-ANDs per
direction. After a move the observation's two planes swap (the mover's view becomes the opponent's) and the
new piece joins plane 1, so no board is ever re-read.

What is matched, and checked game by game against PettingZoo in tests/test_connect_four.py: player_0
(seat 0) moves first; the observation is (6, 7, 2) with row 0 at the top and plane 0 the mover's pieces,
flattened row-major; the mask marks the columns not full; a line of four gives the mover +1 and the other
-1 and ends the game, even on the last cell; a full board with no line is a draw (0, 0). As in `Games`, a
finished game keeps its last observation and mask.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from swarm.envs.spec import EnvError, EnvSpec, IllegalMove

ROWS, COLS = 6, 7
SHIFTS = np.array([1, 7, 6, 8], dtype=np.uint64)  # vertical, horizontal, the two diagonals
BITS = np.left_shift(np.uint64(1), np.arange(64, dtype=np.uint64))  # BITS[7 * column + height]


class ConnectFourGames:
    """`n` Connect Four games, stepped together: the interface of `swarm.envs.Games` without PettingZoo."""

    def __init__(self, spec: EnvSpec, n: int):
        if (spec.obs_dim, spec.actions) != (ROWS * COLS * 2, COLS):
            raise EnvError(
                f"{spec.env_id!r} is not Connect Four: obs_dim {spec.obs_dim}, {spec.actions} actions"
            )
        if spec.env_kwargs:
            raise EnvError(
                f"{spec.env_id!r}: the native backend cannot play env_kwargs {dict(spec.env_kwargs)}"
            )
        self.spec = spec
        self.envs = None  # no PettingZoo envs: games with a searching player need the PettingZoo backend
        self.to_move = np.full(n, -1, dtype=np.int64)
        self.obs = np.zeros((n, spec.obs_dim), dtype=np.float32)
        self.mask = np.zeros((n, spec.actions), dtype=bool)
        self.length = np.zeros(n, dtype=np.int64)
        self.truncated = np.zeros(n, dtype=bool)  # Connect Four has no time limit: every end is an outcome
        self.final_obs = np.zeros((n, 2, spec.obs_dim), dtype=np.float32)
        self.boards = np.zeros((n, 2), dtype=np.uint64)  # one bitboard per seat
        self.heights = np.zeros((n, COLS), dtype=np.int64)
        self.planes = self.obs.reshape(n, ROWS * COLS, 2)  # a view: writing it writes obs

    def __len__(self) -> int:
        return len(self.to_move)

    def reset(self, i: int, seed: int) -> None:
        self.reset_many(np.array([i]), [seed])

    def reset_many(self, indices: np.ndarray, seeds: Sequence[int]) -> None:
        """Start games `indices` afresh. Connect Four has no randomness: the seeds are only accepted."""
        self.boards[indices] = 0
        self.heights[indices] = 0
        self.to_move[indices] = 0
        self.obs[indices] = 0
        self.mask[indices] = True
        self.length[indices] = 0

    def step(self, games: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Play `actions[k]` in game `games[k]` (distinct games). Returns rewards [k, 2] and done [k]."""
        games, actions = np.asarray(games, np.int64), np.asarray(actions, np.int64)
        seat = self.to_move[games]
        legal = (seat >= 0) & (actions >= 0) & (actions < COLS)
        legal &= self.mask[games, np.clip(actions, 0, COLS - 1)]
        if not legal.all():
            k = int(np.flatnonzero(~legal)[0])
            i = games[k]
            allowed = np.flatnonzero(self.mask[i]).tolist()
            raise IllegalMove(f"game {i}: action {actions[k]} is not legal here (legal: {allowed})")

        height = self.heights[games, actions]
        self.heights[games, actions] = height + 1
        board = self.boards[games, seat] | BITS[actions * 7 + height]
        self.boards[games, seat] = board
        pairs = board[:, None] & (board[:, None] >> SHIFTS)  # [k, direction]: two in a row
        won = (pairs & (pairs >> (SHIFTS + SHIFTS))).any(axis=1)  # two pairs in a row
        length = self.length[games] + 1
        self.length[games] = length
        done = won | (length == ROWS * COLS)

        rewards = np.zeros((len(games), 2), dtype=np.float32)
        rows = np.arange(len(games))
        rewards[rows, seat] = won
        rewards[rows, 1 - seat] -= won

        self.to_move[games] = np.where(done, -1, 1 - seat)
        go_on = ~done
        moved, column, height = games[go_on], actions[go_on], height[go_on]
        self.planes[moved] = self.planes[moved][:, :, ::-1]
        self.planes[moved, (ROWS - 1 - height) * COLS + column, 1] = 1
        self.mask[moved, column] = height < ROWS - 1
        return rewards, done
