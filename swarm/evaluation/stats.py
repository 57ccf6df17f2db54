"""Statistics over seeds, and the power of a head-to-head comparison.

Seeds are the unit of replication: a mean over seeds gets a Student-t interval (with the 3-10 seeds a study
affords, a percentile bootstrap of the mean covers far less than it claims: about 84% at a nominal 95% for
5 normal seeds), and two arms are compared by the probability of improvement P(X > Y) with a stratified
bootstrap that
resamples each arm's runs independently, as in rliable (Agarwal et al., "Deep Reinforcement Learning at
the Edge of the Statistical Precipice", NeurIPS 2021). Resampling is done on counts: a bootstrap replicate
is a multinomial draw of how often each run appears, so a statistic that is linear in those counts costs
one matrix product for all replicates.

Power: a rating difference measured from G games has a standard error from the delta method. A test
over games is normal; a test over S seeds is a one-sample t test of the per-seed gaps, whose statistic
under a true gap d is noncentral t with S - 1 degrees of freedom and noncentrality d / (sigma / sqrt(S)).
The power is computed from that distribution, and the smallest detectable gap solved from it, rather than
from the textbook (q_{1-alpha/2} + q_power) standard errors: that shortcut treats the noncentral t as a
shifted central one, and its "80%" is 73% with 2 seeds and 79% with 5. A spread between seeds, measured
from a few of them, gets the chi-square interval of a normal standard deviation.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
from scipy.optimize import brentq
from scipy.stats import chi2, nct
from scipy.stats import t as t_dist

from swarm.evaluation.ratings import ELO


def _percentiles(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _resample_counts(n: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """[samples, n]: how many times each of n runs is drawn in each bootstrap replicate."""
    return rng.multinomial(n, np.full(n, 1 / n), size=samples)


def mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean over seeds and its Student-t interval; one seed has no spread, so (v, nan, nan)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size == 1:
        return mean, math.nan, math.nan
    half = t_dist.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1) / math.sqrt(values.size)
    return mean, mean - float(half), mean + float(half)


def _beats(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """[n, m]: 1 where x_i > y_j, 1/2 on ties, 0 otherwise."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    return (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])


def probability_of_improvement(x: np.ndarray, y: np.ndarray) -> float:
    """P(X > Y): share of all pairs (i, j) with x_i > y_j, ties 1/2 (rliable; Mann-Whitney U / (n m))."""
    return float(_beats(x, y).mean())


def poi_interval(
    x: np.ndarray, y: np.ndarray, confidence: float, samples: int, rng: np.random.Generator
) -> tuple[float, float]:
    """Stratified bootstrap interval of P(X > Y): x's runs and y's runs are resampled independently."""
    beats = _beats(x, y)
    n, m = beats.shape
    cx, cy = _resample_counts(n, samples, rng), _resample_counts(m, samples, rng)
    replicates = np.einsum("si,ij,sj->s", cx, beats, cy) / (n * m)
    return _percentiles(replicates, confidence)


def elo_standard_error(games: int, score: float = 0.5, draw_rate: float = 0.0) -> float:
    """SE in Elo of a head-to-head rating difference measured from `games` games.

    Delta method: a game's score (1, 1/2, 0) has variance s (1 - s) - draw_rate / 4, draws being less
    variable than a win or a loss, and d elo / d s = ELO / (s (1 - s)).
    """
    variance = score * (1 - score) - draw_rate / 4
    return ELO / (score * (1 - score)) * math.sqrt(variance / games)


def two_sided_power(effect: float, confidence: float = 0.95, dof: int | None = None) -> float:
    """Probability that a two-sided test at `confidence` rejects "no difference" when the true effect is
    `effect` standard errors: a normal test when `dof` is None, else a t test with `dof` degrees of freedom,
    whose statistic is then noncentral t with noncentrality `effect`. Both tails count."""
    if dof is None:
        normal = NormalDist()
        critical = normal.inv_cdf(0.5 + confidence / 2)
        return normal.cdf(effect - critical) + normal.cdf(-effect - critical)
    critical = float(t_dist.ppf(0.5 + confidence / 2, dof))
    # the lower tail as the upper one at -effect: scipy's nct.cdf far below a large noncentrality is nan
    return float(nct.sf(critical, dof, effect) + nct.sf(critical, dof, -effect))


def min_detectable_gap(
    standard_error: float, confidence: float = 0.95, power: float = 0.8, dof: int | None = None
) -> float:
    """Smallest true effect that a two-sided test at `confidence` detects with probability `power`, solved
    from `two_sided_power`; `standard_error` is the test's (sigma / sqrt(S) over S seeds), `dof` the t
    test's degrees of freedom (seeds - 1), None for a normal test."""
    if not 1 - confidence < power < 1:
        raise ValueError(f"power {power} must lie between the test's size {1 - confidence:.3g} and 1")

    def shortfall(effect: float) -> float:
        return two_sided_power(effect, confidence, dof) - power

    high = 1.0
    while shortfall(high) < 0:
        high *= 2
    return brentq(shortfall, 0.0, high, xtol=1e-12) * standard_error


def seeds_for_power(
    gap: float, per_seed_sd: float, confidence: float = 0.95, power: float = 0.8, max_seeds: int = 1000
) -> int | None:
    """Fewest seeds (at least 2) whose t test detects a true `gap` with probability `power` when per-seed
    gaps have SD `per_seed_sd` (> 0); None if more than `max_seeds`. Power grows with the seeds (more
    noncentrality, more degrees of freedom, a lower critical value), so a bisection finds the fewest."""

    def enough(seeds: int) -> bool:
        return two_sided_power(gap * math.sqrt(seeds) / per_seed_sd, confidence, seeds - 1) >= power

    if not enough(max_seeds):
        return None
    low, high = 1, max_seeds  # one seed has no t test: never enough
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def sd_interval(sd: float, dof: int, confidence: float = 0.95) -> tuple[float, float]:
    """Interval for a normal standard deviation from a sample SD with `dof` degrees of freedom: dof s^2 /
    sigma^2 is chi-square(dof). With 4 (five seeds) the 95% interval runs from 0.60 s to 2.87 s: a spread
    measured on a few seeds is known only roughly, and a plan built on it should show how roughly."""
    upper_quantile, lower_quantile = chi2.ppf([0.5 + confidence / 2, 0.5 - confidence / 2], dof)
    return sd * math.sqrt(dof / upper_quantile), sd * math.sqrt(dof / lower_quantile)
