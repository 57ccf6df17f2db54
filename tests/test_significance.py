"""The primary endpoint's tests and Holm's correction: exact facts, and calibration proven by simulation.

The simulations draw whole experiments under a global null of identical procedures: each seed's two bests
differ by a seed effect (normal, the README's measured 121 Elo spread) and play 400 games with a third
drawn, so the per-seed record carries both the seed-to-seed spread and the game noise a real run has.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import ttest_1samp

from swarm.evaluation import significance

SPREAD, GAMES, DRAWS = 121.0, 400, 1 / 3


def null_records(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[np.ndarray, ...]:
    """Wins, draws, losses of `shape` experiments' seeds under the null: a seed's gap is drawn from
    N(0, SPREAD), then its games from the win/draw/loss odds that gap gives."""
    gap = rng.normal(0, SPREAD, shape)
    decisive = 1 / (1 + 10 ** (-gap / 400))  # P(win | the game is decided)
    p = np.stack([(1 - DRAWS) * decisive, np.full(shape, DRAWS), (1 - DRAWS) * (1 - decisive)], -1)
    counts = rng.multinomial(GAMES, p.reshape(-1, 3)).reshape(*shape, 3)
    return counts[..., 0], counts[..., 1], counts[..., 2]


def seed_gaps(wins, draws, losses) -> np.ndarray:
    return np.vectorize(significance.game_gap)(wins, draws, losses)


def monte_carlo(trials: int, rate: float = 0.05) -> float:
    return 3 * math.sqrt(rate * (1 - rate) / trials)


def test_elo_and_the_game_gap_are_symmetric_and_finite_on_a_sweep():
    assert significance.elo(0.5) == 0 and significance.elo(1 / 11) == pytest.approx(-400)
    assert significance.game_gap(30, 10, 0) == pytest.approx(-significance.game_gap(0, 10, 30))
    assert math.isfinite(significance.game_gap(400, 0, 0)) and significance.game_gap(400, 0, 0) > 1000
    assert significance.game_gap(0, 400, 0) == 0


def test_the_t_p_value_is_scipys_t_test():
    gaps = np.array([-80.0, 60, -20, 40, 5])
    assert significance.t_p_value(gaps) == pytest.approx(ttest_1samp(gaps, 0).pvalue, abs=1e-12)
    assert math.isnan(significance.t_p_value([30.0]))
    assert significance.t_p_value([0.0, 0.0]) == 1 and significance.t_p_value([5.0, 5.0]) == 0


def test_holm_matches_the_textbook_step_down():
    """Holm (1979) by hand: sorted p = 0.01, 0.02, 0.03, 0.04 times 4, 3, 2, 1 -> 0.04, 0.06, 0.06, 0.06
    (each at least the one before), returned in the given order."""
    assert significance.holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert significance.holm([0.5]) == [0.5] and significance.holm([]) == []
    assert significance.holm([0.9, 0.8]) == pytest.approx([1.0, 1.0])


def test_the_primary_is_judged_alone_and_the_others_as_a_family():
    judged = significance.adjust({"swarm": 0.03, "independent": 0.03, "pbt": 0.02}, "swarm")
    assert judged == pytest.approx({"swarm": 0.03, "independent": 0.04, "pbt": 0.04})
    assert "Holm" in significance.correction("swarm", 2) and "Holm" not in significance.correction("swarm", 0)


def test_over_seeds_the_primary_verdict_errs_about_five_percent_of_the_time_under_the_null():
    """5 seeds per experiment, 4,000 experiments of identical procedures: the share whose primary verdict
    (t-test of the per-seed head-to-head gaps) names a winner is 5% within Monte-Carlo error."""
    trials = 4000
    gaps = seed_gaps(*null_records(np.random.default_rng(0), (trials, 5)))
    rate = np.mean([significance.significant(significance.t_p_value(g), 0.95) for g in gaps])
    assert abs(rate - 0.05) <= monte_carlo(trials)


def test_one_seed_names_a_winner_between_identical_procedures_far_more_than_five_percent():
    """Why a one-seed verdict is about its agents, never the methods: with the measured seed spread, the
    game test between two identical procedures names a winner most of the time (the issue's 78%)."""
    trials = 4000
    wins, draws, _ = null_records(np.random.default_rng(1), (trials,))
    scores = (wins + draws / 2) / GAMES
    rate = np.mean([significance.significant(significance.score_p_value(s, GAMES), 0.95) for s in scores])
    assert rate > 0.6


def test_holm_keeps_the_family_wise_rate_of_a_15_cell_null_map_at_or_under_five_percent():
    """15 cells (sweep-small's map), 3 seeds each, all under the null: the chance that any cell is called
    significant after Holm is 5% within Monte-Carlo error (6.0% here: the 3-seed t-test itself runs at
    about 5.6%, see significance's docstring); uncorrected it is far above (57%)."""
    trials = 2000
    gaps = seed_gaps(*null_records(np.random.default_rng(2), (trials, 15, 3)))
    p = np.array([[significance.t_p_value(cell) for cell in trial] for trial in gaps])
    corrected = np.mean([any(significance.significant(q, 0.95) for q in significance.holm(row)) for row in p])
    uncorrected = np.mean((p < 0.05).any(1))
    assert corrected <= 0.05 + monte_carlo(trials)
    assert uncorrected > 0.3
