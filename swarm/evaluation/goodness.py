"""Does the Bradley-Terry model behind Elo fit the games? Three checks, from the pair counts alone.

Elo is a one-number summary that is only as good as the model it assumes: i beats j with probability
sigmoid(theta_i - theta_j), so strengths are transitive. When the games are not (rock-paper-scissors
among agents), the fit averages the cycle away and a rating can say nothing about who beats whom.

- Pearson's chi-square over pairs: sum over pairs of (S_ij - n_ij p_ij)^2 / (n_ij p_ij (1 - p_ij)), S_ij
  i's points against j (a draw half a point), n_ij their games, p_ij the fitted probability (`ratings.fit`,
  its weak prior included), on pairs - (players - components) degrees of freedom: one per pair, less one
  per strength fitted, each connected component's level being free (Agresti, "Categorical Data Analysis",
  2013, on goodness of fit for Bradley-Terry). A draw has less variance than p (1 - p), so with draws the
  test is conservative.
- Pearson residuals: each pair's (S_ij - n_ij p_ij) / sqrt(n_ij p_ij (1 - p_ij)), the largest listed: the
  pairs the model misses.
- Circular triads (Kendall & Babington Smith, "On the method of paired comparisons", Biometrika 1940):
  among triples whose three pairs each have a clear majority (a sign test, draws dropped, at `MAJORITY`),
  how many go round, a > b > c > a. Any ordering of strengths, Bradley-Terry's included, contradicts one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from scipy.stats import binom, chi2

from swarm.evaluation.ratings import ELO, crossplay, fit

MAJORITY = 0.05  # a pair's record is a clear majority when a two-sided sign test rejects 50:50 at this level
ALPHA = 0.01  # `warning` speaks when the fit is rejected at this level


@dataclass(frozen=True)
class Residual:
    player: str
    opponent: str
    games: int
    score: float  # player's observed mean score against opponent
    expected: float  # the Bradley-Terry fit's
    residual: float  # Pearson: observed minus expected points over their binomial standard deviation


@dataclass(frozen=True)
class Goodness:
    chi_square: float
    df: int
    p_value: float  # nan when df == 0: as many strengths as pairs fit any data
    pairs: int  # pairs that met
    residuals: tuple[Residual, ...]  # the largest |residual| first, each pair once
    triads: int  # triples whose three pairs all have clear majorities
    cyclic: int  # of those, how many go round
    cycles: tuple[tuple[str, str, str], ...]  # some of them, (a, b, c): a beats b beats c beats a


def check_counts(
    players: list[str], wins: np.ndarray, draws: np.ndarray, losses: np.ndarray, shown: int = 5
) -> Goodness:
    """The three checks from [P, P] counts of i's wins, draws and losses against j (wins = losses.T)."""
    games = wins + draws + losses
    points = wins + draws / 2
    rating = fit(points, games, anchor=None)
    expected = 1 / (1 + np.exp(-(rating[:, None] - rating[None, :]) / ELO))
    i, j = np.nonzero(np.triu(games > 0, 1))
    n, p = games[i, j], expected[i, j]
    residual = (points[i, j] - n * p) / np.sqrt(n * p * (1 - p))
    components = connected_components(games > 0, directed=False)[0]
    df = len(i) - (len(players) - components)
    statistic = float((residual**2).sum())

    order = np.argsort(-np.abs(residual))[:shown]
    residuals = tuple(
        Residual(
            players[i[k]],
            players[j[k]],
            int(n[k]),
            float(points[i[k], j[k]] / n[k]),
            float(p[k]),
            float(residual[k]),
        )
        for k in order
    )

    decided = wins + losses
    tail = binom.cdf(np.minimum(wins, losses), decided, 0.5)
    clear = (decided > 0) & (2 * tail < MAJORITY)
    beats = clear & (wins > losses)
    either = (beats | beats.T).astype(int)
    triads = int(np.trace(either @ either @ either)) // 6
    # around[a, b, c]: a beats b, b beats c, c beats a. Each cycle is kept once, from its first player.
    around = beats[:, :, None] & beats[None, :, :] & beats.T[:, None, :]
    cycles = [(players[a], players[b], players[c]) for a, b, c in np.argwhere(around) if a < min(b, c)]
    return Goodness(
        statistic,
        df,
        float(chi2.sf(statistic, df)) if df > 0 else math.nan,
        len(i),
        residuals,
        triads,
        len(cycles),
        tuple(cycles[:shown]),
    )


def check(matches: pd.DataFrame, shown: int = 5) -> Goodness:
    """The three checks on every pair in `matches`."""
    pairs = crossplay(matches)
    players = sorted(set(pairs.player))
    counts = [
        pairs.pivot(index="player", columns="opponent", values=column)
        .reindex(index=players, columns=players)
        .fillna(0)
        .to_numpy()
        for column in ("wins", "draws", "losses")
    ]
    return check_counts(players, *counts, shown=shown)


def warning(result: Goodness) -> str | None:
    """One line when Elo misleads: the fit is rejected at ALPHA, or a cycle stands among clear majorities
    beside a pair the model misses beyond chance (Bonferroni over pairs, at ALPHA)."""
    worst = result.residuals[0] if result.residuals else None
    threshold = NormalDist().inv_cdf(1 - ALPHA / (2 * max(result.pairs, 1)))
    rejected = result.p_value < ALPHA
    contradicted = result.cyclic > 0 and worst is not None and abs(worst.residual) > threshold
    if not (rejected or contradicted):
        return None
    said = [f"chi-square {result.chi_square:.1f} on {result.df} df, p = {result.p_value:.2g}"]
    if result.cyclic:
        a, b, c = result.cycles[0]
        said.append(f"{result.cyclic} of {result.triads} decided triads cyclic, e.g. {a} > {b} > {c} > {a}")
    if worst is not None:
        said.append(
            f"worst pair {worst.player} vs {worst.opponent}: scored {worst.score:.2f}, "
            f"the fit says {worst.expected:.2f}"
        )
    return (
        f"Elo misleads here: the Bradley-Terry model does not fit these games ({'; '.join(said)}); "
        "read the ladder-only ratings and the Nash averaging instead"
    )
