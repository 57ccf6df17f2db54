"""Head-to-head statistics and the verdict line.

A game scores 1 for a win, 1/2 for a draw, 0 for a loss; the score over G games is (W + D/2) / G. Its
interval is Wilson's score interval (Wilson 1927), which stays inside [0, 1] and does not collapse to a
point when every game is won. The verdict is significant when the interval excludes 1/2.
"""

from __future__ import annotations

from statistics import NormalDist
from typing import TYPE_CHECKING

from swarm.evaluation import significance
from swarm.results.records import HeadToHead

if TYPE_CHECKING:  # pandas is the driver's: an exploiter's Ray worker needs `wilson` without it
    import pandas as pd


def wilson(score_sum: float, games: int, confidence: float) -> tuple[float, float]:
    if games == 0:
        return 0.0, 1.0
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = score_sum / games
    centre = (p + z * z / (2 * games)) / (1 + z * z / games)
    half = z * ((p * (1 - p) / games + z * z / (4 * games * games)) ** 0.5) / (1 + z * z / games)
    # at p = 0 (or 1) the bound is exactly 0 (or 1); rounding would leave it a hair inside
    return (0.0 if p == 0 else max(0.0, centre - half)), (1.0 if p == 1 else min(1.0, centre + half))


def head_to_head(matches: pd.DataFrame, player: str, opponent: str, confidence: float) -> HeadToHead:
    """`player`'s record against `opponent` over the given games, from both seats."""
    as0 = matches[(matches.player_0 == player) & (matches.player_1 == opponent)]
    as1 = matches[(matches.player_1 == player) & (matches.player_0 == opponent)]
    wins = int((as0.outcome == "player_0").sum() + (as1.outcome == "player_1").sum())
    losses = int((as0.outcome == "player_1").sum() + (as1.outcome == "player_0").sum())
    games = len(as0) + len(as1)
    draws = games - wins - losses
    low, high = wilson(wins + draws / 2, games, confidence)
    return HeadToHead(
        player,
        opponent,
        wins,
        draws,
        losses,
        games,
        (wins + draws / 2) / games if games else float("nan"),
        low,
        high,
    )


def line(result: HeadToHead, player: str, opponent: str, p_value: float, confidence: float, held: str) -> str:
    """`<player> beats <opponent>`, `<opponent> beats <player>`, or `no significant difference`, each side
    named as `label` names it; significant when `p_value` (as judged: Holm-adjusted for a secondary
    contrast) is under 1 - confidence, and `held` says at what level it was judged."""
    if significance.significant(p_value, confidence):
        winner, loser = (player, opponent) if result.score > 0.5 else (opponent, player)
        return f"{winner} beats {loser} {held}"
    return f"no significant difference between {player} and {opponent} {held}"


def label(arm: str, agents: int) -> str:
    """How a verdict names an arm's chosen agent: `<arm> best`, or the arm's name where it has one agent."""
    return arm if agents == 1 else f"{arm} best"
