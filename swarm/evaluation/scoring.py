"""What a game's rewards make of it: a score for player_0 in [0, 1], and a result (win, draw, loss).

Board games are scored by outcome: 1, 1/2 or 0 as player_0's return is higher, equal or lower. A game with
a payoff (poker's chips) is scored by it: s = 1/2 + m / (2 bound), m = reward_0 - reward_1 the margin and
`bound` the largest margin the game allows (`evaluation.payoff_bound`), so a mean score above 1/2 means
winning chips on average, in proportion to them. Every statistic of the verdict (Wilson intervals, the
score test, Bradley-Terry and its bootstrap, the fit checks) reads results, so a payoff game's score is
rounded to one without bias: above 1/2 a win with probability 2s - 1, else a draw; below 1/2 a loss with
probability 1 - 2s, else a draw; a coin fixed by the game's seed decides (`seeds.uniforms`). Each result's
expected score is then exactly s, so the verdict's statistics stay valid as they are, at the price of the
coin's extra variance; choosing a best (selection) and the oracle read s itself.
"""

from __future__ import annotations

import numpy as np

from swarm import seeds

RESULTS = np.array(["player_1", "draw", "player_0"])
SEAT_0 = {"player_0": 1.0, "draw": 0.5, "player_1": 0.0}  # player_0's score by result


def expected(reward_0: np.ndarray, reward_1: np.ndarray, bound: float | None = None) -> np.ndarray:
    """player_0's score in each game: by outcome (bound None), else by payoff margin over `bound`."""
    margin = np.asarray(reward_0, np.float64) - np.asarray(reward_1, np.float64)
    if bound is None:
        return 0.5 + 0.5 * np.sign(margin)
    if len(over := margin[np.abs(margin) > bound]):
        raise ValueError(
            f"a game's payoff margin {over[0]:g} exceeds evaluation.payoff_bound {bound:g}; set payoff_bound "
            "to the largest difference between the two sides' rewards the game allows"
        )
    return 0.5 + margin / (2 * bound)


def results(
    reward_0: np.ndarray, reward_1: np.ndarray, game_seeds: np.ndarray, bound: float | None = None
) -> np.ndarray:
    """Each game's result as the matches table names it (player_0, draw, player_1): the outcome, or a
    payoff game's score rounded without bias by its seed's coin."""
    score = expected(reward_0, reward_1, bound)
    if bound is None:
        return RESULTS[(2 * score).astype(int)]
    u = seeds.uniforms(game_seeds) if len(score) else np.zeros(0)
    win, loss = (score > 0.5) & (u < 2 * score - 1), (score < 0.5) & (u < 1 - 2 * score)
    return np.where(win, "player_0", np.where(loss, "player_1", "draw"))
