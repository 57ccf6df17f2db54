"""Is a difference real? The primary endpoint's tests, and the correction for testing several.

The primary endpoint is the head-to-head score of an arm's best against the baseline's best in held-out
games, read on the Elo scale: `elo(s) = 400 log10(s / (1 - s))`.

- One seed: the games are the sample, so the claim is about these two trained agents. The test is the score
  test of s = 1/2 (the one Wilson's interval inverts: the interval excludes 1/2 exactly when p < alpha), with
  the null variance 1/4 per game (draws make the true variance smaller, so it is conservative).
- Several seeds: each seed is one replicate of the whole procedure, so the claim is about the methods. Each
  seed gives one Elo gap from its games; the test is Student's one-sample t-test of those gaps against 0, with
  S - 1 degrees of freedom. Under the null of identical procedures each seed's gap is symmetric about 0
  (the arms are exchangeable and seats are balanced). The t-test is exact for normal gaps; a gap read off
  a bounded score is a little lighter-tailed, and in simulation (tests/test_significance.py's null model)
  the test names a winner 5.2% of the time with 5 seeds and 5.6% with 2 or 3.

One contrast is primary (the file's `primary`, default the first arm after the baseline) and is tested at the
file's level. The other arms' contrasts, and the cells of a sweep map, are a family: Holm's step-down
procedure (Holm 1979) keeps the chance of any false claim among them at or under alpha, whatever their
dependence, and rejects everything Bonferroni does and more.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np
from scipy.special import stdtr  # Student's t CDF, what scipy.stats.t.sf calls, without scipy.stats' import

ELO_SCALE = 400.0


def elo(score: float) -> float:
    """The Elo gap at which the stronger side expects `score`; infinite at 0 and 1."""
    if score <= 0:
        return -math.inf
    if score >= 1:
        return math.inf
    return ELO_SCALE * math.log10(score / (1 - score))


def game_gap(wins: int, draws: int, losses: int) -> float:
    """One seed's Elo gap from its head-to-head record, with half a game added to each side so that a clean
    sweep gives a finite gap (the empirical logit; Haldane 1956): it is symmetric, so a null gap stays
    centred on 0."""
    games = wins + draws + losses
    return elo((wins + draws / 2 + 0.5) / (games + 1))


def score_p_value(score: float, games: int) -> float:
    """Two-sided p of the score test of s = 1/2 over `games` games; 1 when there are none."""
    if games == 0:
        return 1.0
    z = abs(score - 0.5) / math.sqrt(0.25 / games)
    return 2 * (1 - NormalDist().cdf(z))


def t_p_value(gaps: Sequence[float]) -> float:
    """Two-sided p of the one-sample t-test of mean gap 0 over seeds; nan with one seed (no spread to test
    against), 1 when every seed gave the same gap 0, 0 when they agree exactly on another."""
    gaps = np.asarray(gaps, float)
    if gaps.size < 2:
        return math.nan
    mean, sd = float(gaps.mean()), float(gaps.std(ddof=1))
    if sd == 0:
        return 1.0 if mean == 0 else 0.0
    t = mean / (sd / math.sqrt(gaps.size))
    return float(2 * stdtr(gaps.size - 1, -abs(t)))


def significant(p_value: float, confidence: float) -> bool:
    """p under alpha = 1 - confidence (rounded, so that 1 - 0.95 is 0.05, not 0.05000000000000004)."""
    return bool(p_value < round(1 - confidence, 12))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the given order: reject a hypothesis when its adjusted p < alpha.

    Sorted ascending, the k-th smallest (k from 0) is multiplied by m - k, and each adjusted value is made at
    least the one before it (the step-down: a hypothesis is rejected only if every smaller one is)."""
    p = np.asarray(p_values, float)
    order = np.argsort(p, kind="stable")
    adjusted = np.minimum(1.0, np.maximum.accumulate(p[order] * (len(p) - np.arange(len(p)))))
    result = np.empty_like(p)
    result[order] = adjusted
    return result.tolist()


def adjust(p_values: dict[str, float], primary: str | None) -> dict[str, float]:
    """Each contrast's p as judged: the primary's as it is, the rest Holm-adjusted among themselves."""
    others = [name for name in p_values if name != primary]
    adjusted = dict(zip(others, holm([p_values[name] for name in others]), strict=True))
    return {name: p if name == primary else adjusted[name] for name, p in p_values.items()}


def held(confidence: float, primary: bool) -> str:
    """How a verdict line says its contrast was judged: at the file's level, or after Holm's correction."""
    return f"at {confidence:.0%}" + ("" if primary else " after Holm's correction")


def correction(primary: str | None, others: int) -> str:
    """One line that says how the contrasts were judged, for the console and the report."""
    first = f"primary contrast: {primary}, at the file's level" if primary else "no primary contrast"
    if others == 0:
        return first
    return f"{first}; the other {others} Holm-adjusted among themselves (family-wise error at most alpha)"
