import math
from statistics import NormalDist

import numpy as np
import pytest
from scipy.stats import nct, ttest_1samp
from scipy.stats import t as t_dist

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


def test_min_detectable_gap_is_the_root_of_the_exact_power():
    # A normal test: power Phi(d - z) + Phi(-d - z). The far tail, Phi(-4.76) = 1e-6, is all that parts the
    # root from the textbook (z_{0.975} + z_{0.8}) standard errors.
    mde = stats.min_detectable_gap(10.0)
    normal = NormalDist()
    z = normal.inv_cdf(0.975)
    assert normal.cdf(mde / 10 - z) + normal.cdf(-mde / 10 - z) == pytest.approx(0.8, abs=1e-9)
    assert mde == pytest.approx((1.959964 + 0.841621) * 10.0, rel=1e-5)
    # At power 1/2 the near tail alone gives z; the far one, Phi(-2z) = 2.5e-5, makes it a little less.
    assert stats.two_sided_power(1.959964) == pytest.approx(0.5 + normal.cdf(-2 * 1.959964), abs=1e-6)
    assert stats.min_detectable_gap(10.0, 0.95, 0.5) < 19.59964


@pytest.mark.parametrize("seeds", [2, 3, 5, 10, 30])
def test_detectable_gap_over_seeds_has_power_by_the_noncentral_t(seeds):
    # Solved, then checked by scipy's noncentral t directly: P(|T| > t_crit), T ~ nct(S - 1, d / SE).
    se, dof = 7.0, seeds - 1
    mde = stats.min_detectable_gap(se, 0.95, 0.8, dof=dof)
    critical = t_dist.ppf(0.975, dof)
    # the lower tail as nct.sf(critical, dof, -nc): nct.cdf(-critical, 1, nc) is nan at this nc
    exact = nct.sf(critical, dof, mde / se) + nct.sf(critical, dof, -mde / se)
    assert exact == pytest.approx(0.8, abs=1e-6)


def test_the_textbook_shortcut_overstates_power_with_two_seeds():
    # (t_{0.975} + t_{0.8}) standard errors with 1 dof: 14.08 SE, which has 73% power, not 80%; the exact
    # root is 16.33 SE. With 5 seeds the shortcut's power is 79%, and with 30 the two agree.
    shortcut = t_dist.ppf(0.975, 1) + t_dist.ppf(0.8, 1)
    assert stats.two_sided_power(shortcut, 0.95, 1) == pytest.approx(0.731, abs=0.001)
    assert stats.min_detectable_gap(1.0, dof=1) == pytest.approx(16.334, abs=0.001)
    five = t_dist.ppf(0.975, 4) + t_dist.ppf(0.8, 4)
    assert stats.two_sided_power(five, 0.95, 4) == pytest.approx(0.791, abs=0.001)
    assert stats.min_detectable_gap(1.0, dof=29) == pytest.approx(
        t_dist.ppf(0.975, 29) + t_dist.ppf(0.8, 29), rel=1e-3
    )


def test_seeds_for_power_is_the_fewest_with_the_power():
    for gap, sd in [(50.0, 17.4), (100.0, 60.0), (50.0, 101.5), (200.0, 17.4), (300.0, 17.4)]:
        seeds = stats.seeds_for_power(gap, sd)
        assert stats.two_sided_power(gap * math.sqrt(seeds) / sd, 0.95, seeds - 1) >= 0.8
        if seeds > 2:
            assert stats.two_sided_power(gap * math.sqrt(seeds - 1) / sd, 0.95, seeds - 2) < 0.8
    assert stats.seeds_for_power(300.0, 17.4) == 2  # 24.4 SE > 16.33, the 1-dof root
    assert stats.seeds_for_power(200.0, 17.4) == 3  # 16.25 SE: just short with 2
    assert stats.seeds_for_power(1.0, 500.0, max_seeds=100) is None


def test_sd_interval_covers_at_its_level_with_five_seeds():
    # 20,000 samples of 5 normal values: the 95% chi-square interval holds the true SD 95% of the time
    # (Monte-Carlo SD 0.0015), missing it about equally often on either side.
    rng = np.random.default_rng(5)
    sds = rng.normal(0, 3.0, size=(20_000, 5)).std(axis=1, ddof=1)
    low, high = (sds * bound for bound in stats.sd_interval(1.0, 4))  # the interval scales with s
    assert np.mean((low <= 3.0) & (high >= 3.0)) == pytest.approx(0.95, abs=0.006)
    assert np.mean(low > 3.0) == pytest.approx(0.025, abs=0.005)
    assert stats.sd_interval(1.0, 4) == pytest.approx((0.5991, 2.8736), abs=1e-4)


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


@pytest.mark.parametrize("seeds", [2, 3, 5])
def test_over_seed_test_has_the_stated_size_and_power(seeds):
    # 20,000 simulated studies of S seeds, per-seed gaps normal(d, sigma), each judged by scipy's one-sample
    # t test. At d = 0 it rejects 5% of them; at the solved gap, 80% (Monte-Carlo SD 0.0028, tolerance 4 SDs).
    # The textbook gap (t_{0.975} + t_{0.8}) SE is rejected visibly less often with 2 seeds: 73%.
    rng, sigma = np.random.default_rng(4), 40.0
    se = sigma / math.sqrt(seeds)

    def rejects(gap: float) -> float:
        gaps = rng.normal(gap, sigma, size=(20_000, seeds))
        return float(np.mean(ttest_1samp(gaps, 0.0, axis=1).pvalue < 0.05))

    assert rejects(0.0) == pytest.approx(0.05, abs=0.006)
    assert rejects(stats.min_detectable_gap(se, 0.95, 0.8, dof=seeds - 1)) == pytest.approx(0.8, abs=0.012)
    if seeds == 2:
        shortcut = (t_dist.ppf(0.975, 1) + t_dist.ppf(0.8, 1)) * se
        assert rejects(shortcut) == pytest.approx(0.731, abs=0.012)
