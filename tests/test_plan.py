from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import t as t_dist
from scipy.stats import ttest_1samp

from swarm import config
from swarm.evaluation import plan, stats


@pytest.fixture
def design(make_config):
    """The tiny config with these run seeds and verdict games."""

    def make(seeds: list[int], verdict_games: int) -> config.Experiment:
        data = make_config()
        del data["seed"]
        data["seeds"] = seeds
        data["evaluation"]["verdict_games"] = verdict_games
        return config.parse(data)

    return make


def test_one_seed_is_judged_on_its_games_and_several_on_their_spread(design):
    game_se = stats.elo_standard_error(400)
    one = plan.plan(design([0], 400))
    # one seed: a score test over its verdict games, about these two agents; no spread between seeds enters
    assert one.agents_gap == pytest.approx(stats.min_detectable_gap(game_se))
    assert all(spread.detectable is None for spread in one.spreads)
    assert plan.plan(design([0], 1600)).agents_gap == pytest.approx(one.agents_gap / 2)  # sqrt(4) games
    four = plan.plan(design([0, 1, 2, 3], 400))
    assert four.agents_gap is None
    for spread in four.spreads:
        # four: a t test over seeds (3 dof) on sqrt(4) times less noise than one seed's
        se = math.hypot(game_se, spread.elo) / 2
        assert spread.detectable == pytest.approx(stats.min_detectable_gap(se, dof=3))
    assert [spread.elo for spread in four.spreads] == list(plan.ASSUMED_SEED_SPREADS)
    gaps = [spread.detectable for spread in four.spreads]
    assert gaps == sorted(gaps) and gaps[0] > one.agents_gap / 2


def test_game_noise_matches_the_delta_method(design):
    result = plan.plan(design([0, 1], 400))
    se = 400 / math.log(10) / 0.25 * 0.5 / math.sqrt(400)
    assert result.game_se == pytest.approx(se)
    assert result.spreads[0].detectable == pytest.approx(stats.min_detectable_gap(se / math.sqrt(2), dof=1))


def test_the_planned_gap_has_its_power_in_simulated_studies(design):
    # 20,000 simulated 5-seed studies: per-seed gaps normal(d, sigma), sigma^2 = game^2 + spread^2, judged
    # by scipy's one-sample t test. At the planned gap d it rejects 80% of them (Monte-Carlo SD 0.0028); the
    # textbook (t_{0.975} + t_{0.8}) SE, the plan's figure before, is rejected 79%: too few to show apart
    # here, but with 2 seeds (below) it is 73%.
    result = plan.plan(design([0, 1, 2, 3, 4], 400))
    rng = np.random.default_rng(0)
    for spread in result.spreads:
        sigma = math.hypot(result.game_se, spread.elo)
        gaps = rng.normal(spread.detectable, sigma, size=(20_000, 5))
        rejected = np.mean(ttest_1samp(gaps, 0.0, axis=1).pvalue < 1 - result.confidence)
        assert rejected == pytest.approx(0.8, abs=0.012)
    two = plan.plan(design([0, 1], 400)).spreads[2]  # 50 Elo between seeds
    sigma = math.hypot(result.game_se, two.elo)
    shortcut = (t_dist.ppf(0.975, 1) + t_dist.ppf(0.8, 1)) * sigma / math.sqrt(2)
    assert shortcut < 0.9 * two.detectable
    for gap, power in ((two.detectable, 0.8), (shortcut, 0.731)):
        gaps = rng.normal(gap, sigma, size=(20_000, 2))
        assert np.mean(ttest_1samp(gaps, 0.0, axis=1).pvalue < 0.05) == pytest.approx(power, abs=0.012)


def test_seeds_needed_reach_the_power_and_no_fewer_do(design):
    result = plan.plan(design([0, 1, 2, 3, 4], 400))
    for spread in result.spreads:
        sigma = math.hypot(result.game_se, spread.elo)
        for gap, seeds in zip(plan.TABLE_GAPS, spread.seeds_needed, strict=True):
            assert stats.two_sided_power(gap * math.sqrt(seeds) / sigma, 0.95, seeds - 1) >= 0.8
            assert (
                seeds == 2 or stats.two_sided_power(gap * math.sqrt(seeds - 1) / sigma, 0.95, seeds - 2) < 0.8
            )
    assert result.spreads[-1].seeds_needed == (35, 11, 5)  # 100 Elo between seeds


def test_one_seed_says_its_verdict_is_about_the_agents_not_the_method(design):
    text = " ".join(plan.render(plan.plan(design([0], 400))))
    assert "one seed cannot support a claim about the method: its verdict is about these agents" in text
    assert "budgets/multi-seed.yaml" in text
    assert "smallest detectable gap between these two trained agents" in text and "49 Elo" in text
    assert "one-sample t test" not in text


def test_a_coarse_design_says_it_cannot_support_a_method_claim(design):
    # 2 seeds: 16.3 standard errors of sigma / sqrt(2); with 100 Elo between seeds that is over 1,000 Elo
    coarse = plan.plan(design([0, 1], 400))
    lines = [line for line in plan.render(coarse) if "cannot support a method claim" in line]
    flagged = [spread.elo for spread in coarse.spreads if spread.detectable > plan.METHOD_CLAIM_LIMIT]
    assert len(lines) == len(flagged) >= 1 and "at 100 Elo between seeds" in lines[-1]
    fine = plan.plan(design([0, 1, 2, 3, 4], 400))
    assert not any("cannot support" in line for line in plan.render(fine))


def test_a_past_run_supplies_the_seed_spread_with_its_interval(design):
    # per-seed gaps with SD 100 over 5 seeds, 20 Elo of it game noise: spread sqrt(100^2 - 20^2) = 98
    past = plan.Past(draw_rate=0.0, seeds=5, gap_sd=100.0, game_sd=20.0)
    result = plan.plan(design([0, 1, 2, 3, 4], 400), past)
    estimate, low, high = result.spreads
    low_sd, high_sd = stats.sd_interval(100.0, 4, 0.95)
    assert estimate.elo == pytest.approx(math.sqrt(100**2 - 20**2))
    assert (low.elo, high.elo) == pytest.approx((math.sqrt(low_sd**2 - 400), math.sqrt(high_sd**2 - 400)))
    assert low.detectable < estimate.detectable < high.detectable
    text = " ".join(plan.render(result))
    assert "measured on 5 seeds" in text and "95% interval [" in text
    # game noise above the lower end of the SD's interval: the spread's lower end is 0, not imaginary
    noisy = plan.measured_spread(plan.Past(0.0, 5, gap_sd=30.0, game_sd=25.0), 0.95)
    assert noisy[1] == 0.0 and noisy[0] > 0


def test_the_spread_interval_covers_the_true_spread_at_its_level():
    # 5,000 simulated past runs of 5 seeds, 60 Elo between seeds and 30 Elo of game noise per seed (known):
    # the 95% interval of the spread holds 60 Elo 95% of the time (Monte-Carlo SD 0.003). With no spread at
    # all, clipping at 0 keeps the interval's lower end at 0 whenever the SD's does not exceed the game
    # noise, so it covers 97.5% (it misses only on the high side of the SD's interval).
    rng = np.random.default_rng(1)
    for spread, covered in ((60.0, 0.95), (0.0, 0.975)):
        sds = rng.normal(0, math.hypot(30.0, spread), size=(5_000, 5)).std(axis=1, ddof=1)
        ends = [plan.measured_spread(plan.Past(0.0, 5, sd, 30.0), 0.95)[1:] for sd in sds]
        low, high = np.transpose(ends)
        assert np.mean((low <= spread) & (high >= spread)) == pytest.approx(covered, abs=0.012)


def test_cli_plan_prints_before_any_compute(tmp_path, make_config):
    path = tmp_path / "five.yaml"
    data = make_config()
    del data["seed"]
    path.write_text(yaml.safe_dump({**data, "seeds": [0, 1, 2, 3, 4]}))
    done = subprocess.run(
        [sys.executable, "-m", "swarm", "plan", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "smallest detectable" in done.stdout and "5 seed(s)" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "swarm", "plan", str(path), "--past", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "--past" in missing.stderr


def test_a_past_run_is_read_from_its_directory(multi_seed_run):
    past = plan.read_past(multi_seed_run)
    matches = pd.concat(pd.read_parquet(multi_seed_run / f"seed-{s}" / "matches.parquet") for s in (0, 1))
    verdict = matches[matches.stage == "verdict"]
    assert past.seeds == 2 and past.draw_rate == pytest.approx((verdict.outcome == "draw").mean())
    frame = pd.read_parquet(multi_seed_run / "per_seed.parquet")
    # one arm's (the one whose gaps spread most beyond their game noise) SD of its per-seed gaps
    assert any(past.gap_sd == pytest.approx(sd) for sd in frame.groupby("arm").rating_gap.std(ddof=1))
    assert past.game_sd > 0
    one = plan.read_past(multi_seed_run / "seed-0")
    assert (one.seeds, one.gap_sd, one.game_sd) == (1, None, None)
