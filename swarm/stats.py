"""Statistics over seeds, and the power of a head-to-head comparison.

Seeds are the unit of replication: a mean over seeds gets a percentile bootstrap interval (Efron 1979),
and two arms are compared by the probability of improvement P(X > Y) with a stratified bootstrap that
resamples each arm's runs independently, as in rliable (Agarwal et al., "Deep Reinforcement Learning at
the Edge of the Statistical Precipice", NeurIPS 2021). Resampling is done on counts: a bootstrap replicate
is a multinomial draw of how often each run appears, so a statistic that is linear in those counts costs
one matrix product for all replicates.

Power: a rating difference measured from G games has a standard error from the delta method; the
smallest true difference a two-sided test detects with probability `power` is (z_{1-alpha/2} + z_power)
standard errors.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

from swarm.ratings import ELO

SCORE_CLIP = 1e-4  # a perfect score maps to +-1600 Elo instead of infinity


def _percentiles(replicates: np.ndarray, confidence: float) -> tuple[float, float]:
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(low), float(high)


def _resample_counts(n: int, samples: int, rng: np.random.Generator) -> np.ndarray:
    """[samples, n]: how many times each of n runs is drawn in each bootstrap replicate."""
    return rng.multinomial(n, np.full(n, 1 / n), size=samples)


def bootstrap_mean(
    values: np.ndarray, confidence: float, samples: int, rng: np.random.Generator
) -> tuple[float, float, float]:
    """Mean over seeds and its percentile interval; one seed has no spread to resample, so (v, nan, nan)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if values.size == 1:
        return mean, math.nan, math.nan
    replicates = _resample_counts(values.size, samples, rng) @ values / values.size
    return (mean, *_percentiles(replicates, confidence))


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


def score_to_elo(score: float) -> float:
    """400 log10(s / (1 - s)), with s clipped to [SCORE_CLIP, 1 - SCORE_CLIP]."""
    s = min(max(score, SCORE_CLIP), 1 - SCORE_CLIP)
    return 400 * math.log10(s / (1 - s))


def elo_standard_error(games: int, score: float = 0.5, draw_rate: float = 0.0) -> float:
    """SE in Elo of a head-to-head rating difference measured from `games` games.

    Delta method: a game's score (1, 1/2, 0) has variance s (1 - s) - draw_rate / 4, draws being less
    variable than a win or a loss, and d elo / d s = ELO / (s (1 - s)).
    """
    variance = score * (1 - score) - draw_rate / 4
    return ELO / (score * (1 - score)) * math.sqrt(variance / games)


def min_detectable_gap(standard_error: float, confidence: float = 0.95, power: float = 0.8) -> float:
    """Smallest true effect a two-sided test at `confidence` detects with probability `power`."""
    z = NormalDist().inv_cdf
    return (z(0.5 + confidence / 2) + z(power)) * standard_error
