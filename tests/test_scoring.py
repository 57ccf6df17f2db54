import numpy as np
import pytest

from swarm import seeds
from swarm.evaluation import scoring


def test_outcome_scoring_is_the_sign_of_the_margin():
    r0, r1 = np.array([1.0, 0.0, -1.0, 3.0]), np.array([-1.0, 0.0, 1.0, 3.5])
    np.testing.assert_array_equal(scoring.expected(r0, r1), [1, 0.5, 0, 0])
    np.testing.assert_array_equal(
        scoring.results(r0, r1, np.arange(4)), ["player_0", "draw", "player_1", "player_1"]
    )


@pytest.mark.parametrize("margin", [-14.0, -5.0, -1.0, 0.0, 2.0, 7.0, 14.0])
def test_a_payoff_is_rounded_to_results_whose_expected_score_is_its_score(margin):
    """Win with probability 2s - 1 above 1/2, loss with 1 - 2s below, else a draw: over 20,000 seeds the
    mean points are s = 1/2 + margin / 28 within 4 standard errors, and only one side of a draw ever wins."""
    game_seeds = seeds.game_seeds(0, "verdict", np.arange(20_000))
    reward = np.full(len(game_seeds), margin / 2)
    got = scoring.results(reward, -reward, game_seeds, 14.0)
    points = np.vectorize(scoring.SEAT_0.get)(got)
    s = 0.5 + margin / 28
    assert abs(points.mean() - s) <= 4 * points.std() / np.sqrt(len(points)) + 1e-12
    never = {"player_1"} if margin > 0 else {"player_0"} if margin < 0 else {"player_0", "player_1"}
    assert not set(got) & never
    np.testing.assert_array_equal(got, scoring.results(reward, -reward, game_seeds, 14.0))  # seeded


def test_a_margin_beyond_the_bound_names_the_field():
    with pytest.raises(ValueError, match=r"exceeds evaluation\.payoff_bound 14"):
        scoring.expected(np.array([8.0]), np.array([-8.0]), 14.0)
