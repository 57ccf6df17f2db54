"""The head-to-head verdict: records from either seat, Wilson's interval, and the line that states it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from swarm.evaluation import significance, verdict


def games(record: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Matches as (player_0, player_1, outcome) rows."""
    return pd.DataFrame(record, columns=["player_0", "player_1", "outcome"])


def test_a_record_counts_both_seats_and_ignores_other_pairings():
    record = games(
        [
            ("a", "b", "player_0"),  # a wins from seat 0
            ("b", "a", "player_1"),  # a wins from seat 1
            ("b", "a", "player_0"),  # a loses from seat 1
            ("a", "b", "draw"),
            ("a", "c", "player_0"),  # another opponent: not counted
            ("c", "b", "player_1"),
        ]
    )
    result = verdict.head_to_head(record, "a", "b", 0.95)
    assert (result.wins, result.draws, result.losses, result.games) == (2, 1, 1, 4)
    assert result.score == pytest.approx(2.5 / 4)
    mirrored = verdict.head_to_head(record, "b", "a", 0.95)
    assert (mirrored.wins, mirrored.draws, mirrored.losses) == (1, 1, 2)
    assert mirrored.score == pytest.approx(1 - result.score)
    assert (mirrored.ci_low, mirrored.ci_high) == pytest.approx((1 - result.ci_high, 1 - result.ci_low))


@pytest.mark.parametrize(("wins", "n"), [(0, 10), (3, 10), (5, 10), (10, 10), (37, 400), (211, 400)])
def test_wilson_matches_scipy_and_stays_inside_0_1(wins, n):
    low, high = verdict.wilson(wins, n, 0.95)
    expected = binomtest(wins, n).proportion_ci(0.95, method="wilson")
    assert (low, high) == pytest.approx((expected.low, expected.high), abs=1e-9)
    assert 0 <= low <= wins / n <= high <= 1


def test_wilson_of_no_games_says_nothing():
    assert verdict.wilson(0, 0, 0.95) == (0.0, 1.0)


def judged(result: verdict.HeadToHead, player: str = "swarm best", opponent: str = "single") -> str:
    """The line of a primary contrast at 95%, from the record's score test."""
    p = significance.score_p_value(result.score, result.games)
    return verdict.line(result, player, opponent, p, 0.95, "at 95%")


def test_an_all_draw_record_is_even_and_not_significant():
    result = verdict.head_to_head(games([("a", "b", "draw")] * 40), "a", "b", 0.95)
    assert result.score == 0.5 and result.ci_low < 0.5 < result.ci_high
    assert judged(result).startswith("no significant difference")


@pytest.mark.parametrize("wins", range(0, 101))
def test_the_score_test_rejects_exactly_when_wilson_excludes_one_half(wins):
    """Wilson's interval is the inversion of the score test, so the line (read off the p-value) and the
    interval shown beside it never disagree."""
    low, high = verdict.wilson(wins, 100, 0.95)
    p = significance.score_p_value(wins / 100, 100)
    assert (p < 0.05) == (low > 0.5 or high < 0.5)


@pytest.mark.parametrize(
    ("score", "p", "expected"),
    [
        (0.6, 0.01, "swarm best beats single at 95%"),
        (0.4, 0.01, "single beats swarm best at 95%"),
        (0.6, 0.05, "no significant difference between swarm best and single at 95%"),  # not under alpha
        (0.6, 0.20, "no significant difference between swarm best and single at 95%"),
    ],
)
def test_the_line_names_the_winner_only_when_p_is_under_alpha(score, p, expected):
    result = verdict.HeadToHead("swarm/0", "single/0", 0, 0, 0, 100, score, 0.0, 1.0)
    assert verdict.line(result, "swarm best", "single", p, 0.95, "at 95%") == expected


def test_an_arm_of_one_agent_is_named_as_itself_and_any_other_by_its_best():
    assert verdict.label("single", 1) == "single" and verdict.label("b", 1) == "b"
    assert verdict.label("swarm", 16) == "swarm best"


def test_the_verdict_flips_sign_with_the_record():
    """Sixty games won 40-20 name a winner; the same games with the seats' outcomes swapped name the other."""
    won = games([("a", "b", "player_0")] * 20 + [("b", "a", "player_1")] * 20 + [("a", "b", "player_1")] * 20)
    lost = won.assign(outcome=won.outcome.map({"player_0": "player_1", "player_1": "player_0"}))
    assert judged(verdict.head_to_head(won, "a", "b", 0.95), "a", "b") == "a beats b at 95%"
    assert judged(verdict.head_to_head(lost, "a", "b", 0.95), "a", "b") == "b beats a at 95%"


def test_under_equal_strength_the_verdict_errs_about_five_percent_of_the_time():
    """Calibration of the one-seed game test: two equally strong players (a third of games drawn, the rest
    split evenly) over 400 games, 4,000 times; the share of verdicts naming a winner is within Monte-Carlo
    error of 5% (Wilson's interval is close to exact at this size)."""
    rng = np.random.default_rng(0)
    trials, n = 4000, 400
    outcomes = rng.choice(3, size=(trials, n), p=[1 / 3, 1 / 3, 1 / 3])  # win, draw, loss
    wins, draws = (outcomes == 0).sum(1), (outcomes == 1).sum(1)
    significant = 0
    for w, d in zip(wins, draws, strict=True):
        low, high = verdict.wilson(w + d / 2, n, 0.95)
        significant += low > 0.5 or high < 0.5
    rate = significant / trials
    monte_carlo = 3 * math.sqrt(0.05 * 0.95 / trials)
    # draws make a game's score less variable than a coin flip, so a binomial interval is conservative here
    assert rate <= 0.05 + monte_carlo
