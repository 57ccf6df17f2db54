import numpy as np
import pandas as pd
import pytest

from swarm.evaluation import goodness


def bradley_terry(elo: np.ndarray, games: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Win, draw and loss counts of a round-robin drawn from the Bradley-Terry model, no draws."""
    p = 1 / (1 + 10 ** ((elo[None, :] - elo[:, None]) / 400))
    wins = np.triu(rng.binomial(games, p), 1)
    losses = np.triu(games - wins, 1)
    return wins + losses.T, np.zeros_like(wins), losses + wins.T


def test_bradley_terry_data_pass_at_the_nominal_rate():
    # 200 tournaments of 6 players, 40 games a pair, from the model itself: the p-value is roughly uniform,
    # so the test rejects about 5% of them at 5% (Monte Carlo standard error 1.5 points).
    rng = np.random.default_rng(0)
    elo = np.array([0.0, 80, 160, 240, 320, 400])
    players = [f"p{k}" for k in range(len(elo))]
    results = [goodness.check_counts(players, *bradley_terry(elo, 40, rng)) for _ in range(200)]
    p_values = np.array([r.p_value for r in results])
    assert all(r.df == 15 - 5 for r in results)
    assert 0.02 <= (p_values < 0.05).mean() <= 0.09
    assert 0.4 <= (p_values < 0.5).mean() <= 0.6
    assert sum(goodness.warning(r) is not None for r in results) <= 8


def rows(a: str, b: str, wins: int, games: int) -> list[tuple[str, str, str]]:
    out = []
    for k in range(games):
        seats = (a, b) if k % 2 == 0 else (b, a)
        out.append((*seats, f"player_{seats.index(a if k < wins else b)}"))
    return out


def test_a_rock_paper_scissors_tournament_fails_and_names_its_cycle():
    # R beats S, S beats P, P beats R, 16-4 each; D loses 8-12 to all: the fit puts R, P and S level.
    records = {("R", "S"): 16, ("S", "P"): 16, ("P", "R"): 16, ("R", "D"): 12, ("P", "D"): 12, ("S", "D"): 12}
    matches = pd.DataFrame(
        [row for (a, b), wins in records.items() for row in rows(a, b, wins, 20)],
        columns=["player_0", "player_1", "outcome"],
    )
    result = goodness.check(matches)
    assert result.df == 6 - 3 and result.pairs == 6
    assert result.chi_square == pytest.approx(21.6, abs=1e-3) and result.p_value < 1e-4  # 3 x 2.68^2
    assert result.triads == 1 and result.cyclic == 1
    assert result.cycles == (("P", "R", "S"),)  # P beats R beats S beats P
    worst = result.residuals[0]
    assert {worst.player, worst.opponent} <= {"R", "P", "S"}
    assert worst.expected == pytest.approx(0.5, abs=1e-6) and abs(worst.residual) > 2.5
    line = goodness.warning(result)
    assert line is not None and "P > R > S > P" in line
    assert "ladder-only ratings" in line and "Nash averaging" in line


def test_a_transitive_tournament_has_no_cycle_and_no_warning():
    records = {("A", "B"): 14, ("A", "C"): 17, ("B", "C"): 14}
    matches = pd.DataFrame(
        [row for (a, b), wins in records.items() for row in rows(a, b, wins, 20)],
        columns=["player_0", "player_1", "outcome"],
    )
    result = goodness.check(matches)
    assert result.cyclic == 0 and result.cycles == ()
    assert result.p_value > 0.05
    assert goodness.warning(result) is None


def test_two_players_leave_nothing_to_test():
    matches = pd.DataFrame(rows("A", "B", 7, 10), columns=["player_0", "player_1", "outcome"])
    result = goodness.check(matches)
    assert result.df == 0 and np.isnan(result.p_value) and result.triads == 0
    assert goodness.warning(result) is None
