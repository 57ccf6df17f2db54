"""What choosing the best cost and what it promised: the split-half oracle and the winner's curse.

Both are read from an arm's own held-out cross-play games (every member against every other member of the
arm, on fresh seeds), so every member is measured against the same opponents, in the same number of games.

The oracle best is what a perfect selector would have chosen. Choosing it as the top scorer of the same
games that then rate it is the winner's curse all over again: with 16 identical agents that argmax sits
about 50 Elo above the rest by luck alone. So the games are split in two halves, each with both seats of
every pair: the oracle is the top scorer of the first half, and the selection loss is the oracle's score
less the chosen best's score in the second half, on the Elo scale. For identical agents it is centred on 0.

The winner's curse is the chosen best's selection score less its held-out score against the same
opponents (its own arm, or the ladder where the arm selected on the ladder): how much of the score that won
it the title was luck.

Intervals are normal, from each score's game-to-game variance: the two scores come from different games.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
import pandas as pd

from swarm.evaluation.ratings import ELO
from swarm.evaluation.scoring import SEAT_0
from swarm.evaluation.significance import elo
from swarm.results.records import Estimate


def own_games(matches: pd.DataFrame, arm: str) -> pd.DataFrame:
    """The arm's held-out cross-play games among its own members."""
    return matches[(matches.stage == "crossplay") & (matches.arm == arm)]


def selected_on_ladder(selection: pd.DataFrame, arm: str) -> bool:
    """Whether the arm's selection games met the ladder (evaluation.selection: ladder), read off the games:
    an agent's id is `<arm>/<index>`, a ladder member's has no slash."""
    players = pd.concat([selection.player_0[selection.arm == arm], selection.player_1[selection.arm == arm]])
    return bool((~players.str.startswith(f"{arm}/")).any())


def same_opponents(matches: pd.DataFrame, arm: str) -> pd.DataFrame:
    """The arm's held-out games against the opponents its selection games met, on fresh seeds: its own
    members' cross-play, or its agents' ladder games where it selected on the ladder."""
    if selected_on_ladder(matches[matches.stage == "selection"], arm):
        return matches[(matches.stage == "ladder") & (matches.arm == arm)]
    return own_games(matches, arm)


def halves(games: pd.DataFrame, per_pair: int) -> np.ndarray:
    """0 or 1 for every game. The k-th game of the p-th pair (game index p * per_pair + k, in the seed's low
    bits; seats alternate with k) goes to half (k // 2 + p) % 2 with 3 or more games a pair, so each half
    holds both seats of every pair; to half (k + p) % 2 with 2, so each half still meets every pair, its
    first seat alternating from pair to pair; with 1, every other pair."""
    index = games.seed.to_numpy(np.int64) & 0xFFFFFFFF
    k, p = index % per_pair, index // per_pair
    return ((k // 2 if per_pair > 2 else k) + p) % 2


def scores(games: pd.DataFrame, player: str) -> np.ndarray:
    """`player`'s score (1, 1/2, 0) in each of its games."""
    seat0 = games.player_0 == player
    mine = games[seat0 | (games.player_1 == player)]
    first = mine.outcome.map(SEAT_0).to_numpy(float)
    return np.where(mine.player_0 == player, first, 1 - first)


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if len(x) else -math.inf  # no games in that half: never the oracle


def _elo(s: float) -> float:
    return elo(min(max(s, 1e-3), 1 - 1e-3))  # an Elo gap needs a score strictly inside (0, 1)


def _elo_difference(a: np.ndarray, b: np.ndarray, confidence: float) -> Estimate:
    """elo(mean a) - elo(mean b) with a delta-method interval (the two means from different games)."""
    if len(a) == 0 or len(b) == 0:
        return Estimate(0.0, math.nan, math.nan)
    sa, sb = float(a.mean()), float(b.mean())
    variance = 0.0
    for s, x in ((sa, a), (sb, b)):
        slope = ELO / max(s * (1 - s), 1e-3)  # d elo / d score
        variance += slope**2 * float(x.var()) / len(x)
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * math.sqrt(variance)
    gap = _elo(sa) - _elo(sb)
    return Estimate(gap, gap - half, gap + half)


def split_half(
    matches: pd.DataFrame, arm: str, members: Sequence[str], best: str, per_pair: int, confidence: float
) -> tuple[str, Estimate]:
    """The oracle best (top score on the first half of the arm's own games) and the selection loss: its
    Elo less the chosen best's on the second half. A population of one is its own oracle, at no loss."""
    games = own_games(matches, arm)
    if len(members) == 1 or games.empty:
        return best, Estimate(0.0, 0.0, 0.0)
    half = halves(games, per_pair)
    first, second = games[half == 0], games[half == 1]
    oracle = max(members, key=lambda p: (_mean(scores(first, p)), -list(members).index(p)))
    if oracle == best:
        return oracle, Estimate(0.0, 0.0, 0.0)
    return oracle, _elo_difference(scores(second, oracle), scores(second, best), confidence)


def winners_curse(
    selection: pd.DataFrame, matches: pd.DataFrame, arm: str, best: str, confidence: float
) -> Estimate | None:
    """The best's selection score less its held-out score against the same opponents, with a normal
    interval; None when the arm had no selection (one member) or no such held-out games."""
    chosen, held = scores(selection, best), scores(same_opponents(matches, arm), best)
    if len(chosen) == 0 or len(held) == 0:
        return None
    gap = float(chosen.mean() - held.mean())
    se = math.sqrt(float(chosen.var()) / len(chosen) + float(held.var()) / len(held))
    half = NormalDist().inv_cdf(0.5 + confidence / 2) * se
    return Estimate(gap, gap - half, gap + half)
