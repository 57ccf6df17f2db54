import math
from statistics import NormalDist

import numpy as np
import pytest

from swarm.evaluation import stats
from swarm.evaluation.ratings import ELO


def test_poi_of_identical_samples_is_one_half():
    x = np.array([0.1, 0.4, 0.4, 0.9])
    assert stats.probability_of_improvement(x, x) == 0.5


def test_poi_is_one_when_every_x_beats_every_y():
    assert stats.probability_of_improvement(np.array([3.0, 4.0]), np.array([1.0, 2.0, 2.5])) == 1.0


def test_poi_counts_ties_as_half():
    # Pairs (x, y): (1,1) tie, (1,2) loss, (2,1) win, (2,2) tie, (3,1) win, (3,2) win -> (3 + 2/2) / 6.
    assert stats.probability_of_improvement(np.array([1, 2, 3]), np.array([1, 2])) == pytest.approx(4 / 6)


def test_poi_interval_contains_the_estimate_and_stays_in_the_unit_interval():
    rng = np.random.default_rng(0)
    x, y = rng.normal(0.5, 1, 8), rng.normal(0, 1, 6)
    low, high = stats.poi_interval(x, y, 0.95, 2000, rng)
    assert 0 <= low <= stats.probability_of_improvement(x, y) <= high <= 1
    assert low < high


def test_mean_interval_contains_the_mean():
    values = np.random.default_rng(1).normal(3, 1, 10)
    mean, low, high = stats.mean_interval(values, 0.95)
    assert mean == pytest.approx(values.mean())
    assert low < mean < high


def test_mean_interval_of_one_seed_has_no_interval():
    mean, low, high = stats.mean_interval(np.array([0.7]), 0.95)
    assert mean == 0.7 and math.isnan(low) and math.isnan(high)


def test_mean_interval_covers_at_its_level_with_few_seeds():
    # 4,000 experiments of 5 seeds each: a 95% interval must contain the true mean about 95% of the time
    # (a percentile bootstrap of the same means covers about 84%).
    rng = np.random.default_rng(2)
    runs = rng.normal(10, 3, size=(4000, 5))
    covered = [low <= 10 <= high for _, low, high in (stats.mean_interval(r, 0.95) for r in runs)]
    assert 0.94 < np.mean(covered) < 0.96


def test_mean_interval_shrinks_with_more_seeds():
    # Width goes as 1/sqrt(seeds): 400 seeds against 25 should be about 4 times narrower.
    rng = np.random.default_rng(2)
    _, low_few, high_few = stats.mean_interval(rng.normal(0, 1, 25), 0.95)
    _, low_many, high_many = stats.mean_interval(rng.normal(0, 1, 400), 0.95)
    assert 2.5 < (high_few - low_few) / (high_many - low_many) < 6


def test_elo_standard_error_by_hand():
    # s = 1/2: a game's score has SD 1/2, the mean of 400 has SD 1/40, times d elo / d s = ELO / (1/4).
    assert stats.elo_standard_error(400) == pytest.approx(ELO / 0.25 * 0.5 / math.sqrt(400))
    assert stats.elo_standard_error(400) == pytest.approx(17.37, abs=0.01)
    # Draws at rate d take d / 4 off the variance.
    assert stats.elo_standard_error(400, draw_rate=0.2) == pytest.approx(ELO / 0.25 * math.sqrt(0.2 / 400))


def test_min_detectable_gap_by_hand():
    assert stats.min_detectable_gap(10.0) == pytest.approx((1.959964 + 0.841621) * 10.0)
    assert stats.min_detectable_gap(10.0, 0.95, 0.5) == pytest.approx(19.59964)


def score_to_elo(score: float) -> float:
    return 400 * math.log10(score / (1 - score))


def rejection_rate(true_gap: float, games: int, draw_rate: float, designs: int, rng) -> float:
    """Share of simulated head-to-heads in which a two-sided 95% test rejects "no difference"."""
    score = 1 / (1 + 10 ** (-true_gap / 400))
    counts = rng.multinomial(games, [score - draw_rate / 2, draw_rate, 1 - score - draw_rate / 2], designs)
    measured = np.array([score_to_elo(s) for s in (counts[:, 0] + counts[:, 1] / 2) / games])
    critical = NormalDist().inv_cdf(0.975) * stats.elo_standard_error(games, 0.5, draw_rate)
    return float(np.mean(np.abs(measured) > critical))


def test_min_detectable_gap_has_the_stated_power():
    # 4000 simulated 400-game head-to-heads with 20% draws. At a true gap of 0 the test rejects about 5% of
    # them; at the MDE about 80% (400k designs give 0.053 and 0.807: integer game counts and the delta
    # method). Monte-Carlo SDs are 0.0035 and 0.006, so the tolerances are 0.015 and 0.03.
    games, draw_rate, rng = 400, 0.2, np.random.default_rng(3)
    mde = stats.min_detectable_gap(stats.elo_standard_error(games, 0.5, draw_rate))
    assert rejection_rate(0.0, games, draw_rate, 4000, rng) == pytest.approx(0.05, abs=0.015)
    assert rejection_rate(mde, games, draw_rate, 4000, rng) == pytest.approx(0.8, abs=0.03)


def test_over_seed_test_has_the_stated_size_and_power():
    # 4000 simulated studies of 5 seeds (per-seed gaps normal, SD 1): the t interval over seeds rejects about
    # 5% at a true gap of 0 and about 80% at the MDE with 4 degrees of freedom (200k studies: 0.050, 0.791).
    rng = np.random.default_rng(4)
    mde = stats.min_detectable_gap(1 / math.sqrt(5), 0.95, 0.8, dof=4)

    def rejects(gap: float) -> float:
        runs = rng.normal(gap, 1, size=(4000, 5))
        return float(
            np.mean(
                [low > 0 or high < 0 for _, low, high in map(lambda r: stats.mean_interval(r, 0.95), runs)]
            )
        )

    assert rejects(0.0) == pytest.approx(0.05, abs=0.015)
    assert rejects(mde) == pytest.approx(0.79, abs=0.03)
