"""Statistics over seeds, and the power of a head-to-head comparison.

Seeds are the unit of replication: a mean over seeds gets a Student-t interval (with the 3-10 seeds a study
affords, a percentile bootstrap of the mean covers far less than it claims: about 84% at a nominal 95% for
5 normal seeds), and two arms are compared by the probability of improvement P(X > Y) with a stratified
bootstrap that
resamples each arm's runs independently, as in rliable (Agarwal et al., "Deep Reinforcement Learning at
the Edge of the Statistical Precipice", NeurIPS 2021). Resampling is done on counts: a bootstrap replicate
is a multinomial draw of how often each run appears, so a statistic that is linear in those counts costs
one matrix product for all replicates.

Power: a rating difference measured from G games has a standard error from the delta method; the
smallest true difference a two-sided test detects with probability `power` is (q_{1-alpha/2} + q_power)
standard errors, q the normal quantile for a test over games and Student's t with S - 1 degrees of freedom
for a test over S seeds.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
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


def min_detectable_gap(
    standard_error: float, confidence: float = 0.95, power: float = 0.8, dof: int | None = None
) -> float:
    """Smallest true effect a two-sided test at `confidence` detects with probability `power`; `dof`: the
    t test's degrees of freedom (seeds - 1), None for a normal test."""
    q = NormalDist().inv_cdf if dof is None else (lambda p: float(t_dist.ppf(p, dof)))
    return (q(0.5 + confidence / 2) + q(power)) * standard_error
