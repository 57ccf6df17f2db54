"""The verdict over seeds, on a real seed's summary with its swarm verdict's figures varied."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from swarm.evaluation import aggregate
from swarm.results import rundir
from swarm.results.records import Estimate, SeedSummary
from swarm.results.rundir import RunDir


def varied(
    summary: SeedSummary, seed: int, gap: float, arm_rating: float, baseline_rating: float, score: float
) -> SeedSummary:
    """`summary` as seed `seed`, its one verdict (swarm vs single) and both bests' ladder ratings given."""
    v = next(v for v in summary.verdicts if v.arm == "swarm")
    record = replace(v.record, score=score, ci_low=score - 0.05, ci_high=score + 0.05)
    arms = {
        arm: replace(summary.arms[arm], ladder_rating=replace(summary.arms[arm].ladder_rating, rating=rating))
        for arm, rating in (("swarm", arm_rating), ("single", baseline_rating))
    }
    verdict = replace(v, primary=True, record=record, rating_gap=Estimate(gap, gap - 30, gap + 30))
    return replace(summary, seed=seed, arms=arms, verdicts=(verdict,))


def test_per_seed_is_the_table_a_run_writes(multi_seed_run):
    run = RunDir(multi_seed_run)
    frame = aggregate.per_seed([rundir.read_seed_summary(run.seed(s)) for s in (0, 1)])
    pd.testing.assert_frame_equal(frame, pd.read_parquet(run.per_seed))
    assert list(frame.arm) == ["independent", "swarm"] * 2


def test_a_consistent_loss_over_seeds_is_significant(seed_summary):
    summaries = [varied(seed_summary, s, -100 - 10 * s, 300, 400 + 10 * s, 0.36) for s in range(5)]
    frame = aggregate.per_seed(summaries)
    assert list(frame.columns) == aggregate.PER_SEED_COLUMNS and len(frame) == 5
    (v,) = aggregate.over_seeds(frame, 0.95, 2000, np.random.default_rng(0))
    assert v.rating_gap.estimate == pytest.approx(-120) and v.score.estimate == pytest.approx(0.36)
    assert v.rating_gap.ci_high < 0 and v.significant
    assert v.probability_of_improvement.estimate == 0  # the swarm's best is never rated higher
    assert "over 5 seeds" in v.verdict and "single is stronger (significant at 95%)" in v.verdict


def test_mixed_results_are_not_significant(seed_summary):
    gaps = [-80, 60, -20, 40, 0]
    summaries = [varied(seed_summary, s, g, 400 + g, 400, 0.5) for s, g in enumerate(gaps)]
    (v,) = aggregate.over_seeds(aggregate.per_seed(summaries), 0.95, 2000, np.random.default_rng(0))
    assert not v.significant and "not significant" in v.verdict
    poi = v.probability_of_improvement
    assert poi.ci_low <= poi.estimate <= poi.ci_high


def test_one_seed_says_it_has_no_interval(seed_summary):
    (v,) = aggregate.over_seeds(
        aggregate.per_seed([varied(seed_summary, 0, 50, 450, 400, 0.57)]), 0.95, 500, np.random.default_rng(0)
    )
    assert not v.significant and "run more seeds" in v.verdict


def test_a_real_run_reads_the_ladder_scale_and_exploits_every_best(multi_seed_run):
    """P(improvement) compares ladder ratings (no seed's pool moves them); the gain from interaction over
    seeds is the mean of the per-seed paired differences; every best met an exploiter on its budget."""
    run = RunDir(multi_seed_run)
    summaries = [rundir.read_seed_summary(run.seed(s)) for s in (0, 1)]
    frame = pd.read_parquet(run.per_seed)
    for s, rows in zip(summaries, (frame[frame.seed == 0], frame[frame.seed == 1]), strict=True):
        for row in rows.itertuples():
            assert row.arm_rating == s.arms[row.arm].ladder_rating.rating
            assert row.baseline_rating == s.arms["single"].ladder_rating.rating
        for arm in s.arms.values():
            assert arm.exploitability.agent_steps == 512 and arm.exploitability.games == 10
            assert 0 <= arm.exploitability.ci_low <= arm.exploitability.score <= arm.exploitability.ci_high
    (gain,) = rundir.read_over_seeds(run).gains
    assert (gain.arm, gain.control, gain.seeds) == ("swarm", "independent", 2)
    direct = [s.gains[0].interaction_gain.estimate for s in summaries]
    ladder = [s.gains[0].ladder_gain.estimate for s in summaries]
    assert gain.interaction_gain.estimate == pytest.approx(np.mean(direct))
    assert gain.ladder_gain.estimate == pytest.approx(np.mean(ladder))
