from __future__ import annotations

import numpy as np
import pytest

from swarm.evaluation import aggregate


def seed_summary(seed: int, gap: float, arm_rating: float, baseline_rating: float, score: float) -> dict:
    """The parts of one seed's summary.json that the over-seed verdict reads."""
    return {
        "seed": seed,
        "arms": {
            "swarm": {"best_rating": {"rating": arm_rating}},
            "single": {"best_rating": {"rating": baseline_rating}},
        },
        "verdicts": [
            {
                "arm": "swarm",
                "baseline": "single",
                "player": "swarm/0",
                "score": score,
                "ci_low": score - 0.05,
                "ci_high": score + 0.05,
                "rating_gap": {"estimate": gap, "ci_low": gap - 30, "ci_high": gap + 30},
            }
        ],
    }


def test_a_consistent_loss_over_seeds_is_significant():
    summaries = [seed_summary(s, -100 - 10 * s, 300, 400 + 10 * s, 0.36) for s in range(5)]
    frame = aggregate.per_seed(summaries)
    assert list(frame.columns) == aggregate.PER_SEED_COLUMNS and len(frame) == 5
    (v,) = aggregate.over_seeds(frame, 0.95, 2000, np.random.default_rng(0))
    assert v["rating_gap"]["estimate"] == pytest.approx(-120)
    assert v["rating_gap"]["ci_high"] < 0 and v["significant"]
    assert v["probability_of_improvement"]["estimate"] == 0  # the swarm's best is never rated higher
    assert "over 5 seeds" in v["verdict"] and "single is stronger (significant at 95%)" in v["verdict"]


def test_mixed_results_are_not_significant():
    gaps = [-80, 60, -20, 40, 0]
    summaries = [seed_summary(s, g, 400 + g, 400, 0.5) for s, g in enumerate(gaps)]
    (v,) = aggregate.over_seeds(aggregate.per_seed(summaries), 0.95, 2000, np.random.default_rng(0))
    assert not v["significant"] and "not significant" in v["verdict"]
    low, high = v["probability_of_improvement"]["ci_low"], v["probability_of_improvement"]["ci_high"]
    assert low <= v["probability_of_improvement"]["estimate"] <= high


def test_one_seed_says_it_has_no_interval():
    (v,) = aggregate.over_seeds(
        aggregate.per_seed([seed_summary(0, 50, 450, 400, 0.57)]), 0.95, 500, np.random.default_rng(0)
    )
    assert not v["significant"] and "run more seeds" in v["verdict"]
