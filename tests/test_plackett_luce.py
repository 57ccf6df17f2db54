import itertools

import numpy as np
import pandas as pd
import pytest

from swarm.evaluation import plackett_luce, ratings


def simulate(
    elo: dict[str, float], seats: int, games: int, rng: np.random.Generator
) -> tuple[list[list[str]], np.ndarray]:
    """Plackett-Luce games of `seats` distinct players drawn at random: each returns its strength plus Gumbel
    noise, and ordering by that return is a Plackett-Luce draw (the Gumbel-max trick)."""
    names = list(elo)
    players = [[names[i] for i in rng.permutation(len(names))[:seats]] for _ in range(games)]
    strength = np.array([[elo[name] / ratings.ELO for name in seated] for seated in players])
    return players, strength + rng.gumbel(size=strength.shape)


def rating(result: ratings.Ratings, player: str) -> float:
    return float(result.rating[result.players.index(player)])


def test_positions_share_ties():
    returns = np.array([[3.0, 1.0, 1.0, 5.0], [0.0, 0.0, 0.0, 0.0]])
    assert plackett_luce.positions(returns).tolist() == [[2, 3.5, 3.5, 1], [2.5, 2.5, 2.5, 2.5]]


def test_every_permutation_once_gives_exactly_equal_ratings():
    players = [list(seated) for seated in itertools.permutations("ABCD")]
    returns = np.tile([3.0, 2.0, 2.0, 0.0], (len(players), 1))  # a tie in every game, too
    result = plackett_luce.fit_games(players, returns, samples=50, rng=np.random.default_rng(0))
    assert result.rating == pytest.approx(0, abs=1e-9)
    assert result.table.position.tolist() == [2.5] * 4
    assert result.table.games.tolist() == [24] * 4


def test_exchangeable_players_get_equal_ratings_within_intervals():
    players, returns = simulate(dict.fromkeys("ABCD", 0.0), 3, 400, np.random.default_rng(1))
    result = plackett_luce.fit_games(players, returns, samples=1000, rng=np.random.default_rng(2))
    pairs = list(itertools.combinations("ABCD", 2))
    for a, b in pairs:  # every gap's interval holds 0, at 95% for the six together (Bonferroni)
        _, low, high = ratings.gap(result, a, b, 1 - 0.05 / len(pairs))
        assert low < 0 < high


def test_strictly_better_player_ranks_first():
    elo = {"strong": 150.0, "A": 0.0, "B": 0.0, "C": 0.0}
    players, returns = simulate(elo, 3, 400, np.random.default_rng(3))
    result = plackett_luce.fit_games(players, returns, samples=200, rng=np.random.default_rng(4))
    assert result.players[int(np.argmax(result.rating))] == "strong"
    assert result.table.set_index("player").position.idxmin() == "strong"
    for other in "ABC":
        assert ratings.gap(result, "strong", other, 0.95)[1] > 0


def test_recovers_known_strengths():
    elo = {"random": 0.0, "B": 100.0, "C": 200.0, "D": 300.0, "E": 400.0}
    players, returns = simulate(elo, 3, 4000, np.random.default_rng(5))
    result = plackett_luce.fit_games(players, returns, samples=100, rng=np.random.default_rng(6))
    assert rating(result, "random") == 0.0
    assert np.all(result.samples[:, result.players.index("random")] == 0.0)
    for name, truth in elo.items():
        row = result.table.set_index("player").loc[name]
        assert rating(result, name) == pytest.approx(truth, abs=30)
        assert row.ci_low <= truth <= row.ci_high


def test_two_player_games_are_bradley_terry():
    # Plackett-Luce of two is Bradley-Terry, and a tie of two is a draw, half a win to each side.
    rng = np.random.default_rng(7)
    pairs = [list(rng.choice(list("ABCD"), 2, replace=False)) for _ in range(300)]
    returns = np.array([[1, 0], [0, 1], [0, 0]])[rng.choice(3, len(pairs), p=[0.5, 0.3, 0.2])]
    outcome = np.array(["draw", "player_0", "player_1"])[np.sign(returns[:, 0] - returns[:, 1])]
    matches = pd.DataFrame(
        {"player_0": [a for a, _ in pairs], "player_1": [b for _, b in pairs], "outcome": outcome}
    )
    bradley_terry = ratings.fit_matches(matches, anchor="A", samples=10, rng=np.random.default_rng(8))
    orders = plackett_luce.fit_games(pairs, returns, anchor="A", samples=10, rng=np.random.default_rng(8))
    assert orders.players == bradley_terry.players
    assert orders.rating == pytest.approx(bradley_terry.rating, abs=1e-9)


def test_a_tie_is_the_mean_of_the_orders_that_break_it():
    tied = plackett_luce.fit_games(
        [["A", "B", "C"], ["B", "C", "A"]] * 2 + [["C", "A", "B"]],
        np.array([[2.0, 1.0, 1.0], [1.0, 1.0, 2.0]] * 2 + [[2.0, 1.0, 0.0]]),
        samples=10,
        rng=np.random.default_rng(0),
    )
    broken = plackett_luce.fit_games(
        [["A", "B", "C"], ["A", "C", "B"]] * 2 + [["C", "A", "B"]],
        np.tile([2.0, 1.0, 0.0], (5, 1)),
        samples=10,
        rng=np.random.default_rng(0),
    )
    assert tied.rating == pytest.approx(broken.rating, abs=1e-9)
    assert rating(tied, "A") > max(rating(tied, "B"), rating(tied, "C"))


def test_a_player_in_two_seats_is_refused():
    with pytest.raises(ValueError, match="distinct players"):
        plackett_luce.fit_games([["A", "A", "B"]], np.array([[1.0, 0.0, 0.0]]), rng=np.random.default_rng(0))
