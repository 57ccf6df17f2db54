import math

import numpy as np
import pandas as pd
import pytest

from swarm.evaluation import ratings


def record(a: str, b: str, wins: int, draws: int, losses: int) -> list[tuple[str, str, str]]:
    """a's games against b, seats alternating, as (player_0, player_1, outcome) rows."""
    results = ["a"] * wins + ["draw"] * draws + ["b"] * losses
    rows = []
    for k, result in enumerate(results):
        seats = (a, b) if k % 2 == 0 else (b, a)
        winner = {"a": a, "b": b}.get(result)
        rows.append((*seats, "draw" if winner is None else f"player_{seats.index(winner)}"))
    return rows


def frame(*records: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame([row for r in records for row in r], columns=["player_0", "player_1", "outcome"])


def simulate(elo: dict[str, float], games_per_pair: int, rng: np.random.Generator) -> pd.DataFrame:
    """Bradley-Terry games between every pair, no draws, seats alternating."""
    rows = []
    names = list(elo)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            p = 1 / (1 + 10 ** ((elo[b] - elo[a]) / 400))
            wins = int(rng.binomial(games_per_pair, p))
            rows += record(a, b, wins, 0, games_per_pair - wins)
    return frame(rows)


def rating(result: ratings.Ratings, player: str) -> float:
    return float(result.rating[result.players.index(player)])


def width(result: ratings.Ratings, player: str) -> float:
    row = result.table.set_index("player").loc[player]
    return float(row.ci_high - row.ci_low)


def test_symmetric_players_get_equal_ratings():
    matches = frame(record("A", "B", 6, 0, 6), record("A", "C", 7, 0, 3), record("B", "C", 7, 0, 3))
    result = ratings.fit_matches(matches, anchor="C", samples=50, rng=np.random.default_rng(0))
    assert rating(result, "A") == pytest.approx(rating(result, "B"), abs=1e-6)
    assert rating(result, "A") > 0


def test_anchor_is_exactly_zero_and_missing_anchor_centres():
    matches = frame(record("A", "B", 6, 2, 2), record("B", "C", 3, 1, 6))
    result = ratings.fit_matches(matches, anchor="B", samples=50, rng=np.random.default_rng(0))
    assert rating(result, "B") == 0.0
    assert np.all(result.samples[:, result.players.index("B")] == 0.0)
    centred = ratings.fit_matches(matches, anchor="random", samples=50, rng=np.random.default_rng(0))
    assert centred.rating.mean() == pytest.approx(0, abs=1e-9)
    assert np.diff(centred.rating) == pytest.approx(np.diff(result.rating))


def test_all_draws_give_equal_ratings():
    matches = frame(record("A", "B", 0, 8, 0), record("B", "C", 0, 5, 0), record("A", "C", 0, 3, 0))
    result = ratings.fit_matches(matches, anchor="A", samples=50, rng=np.random.default_rng(0))
    assert result.rating == pytest.approx(0, abs=1e-9)


def test_perfect_record_is_finite_and_on_top():
    matches = frame(record("A", "B", 10, 0, 0), record("A", "C", 10, 0, 0), record("B", "C", 5, 0, 5))
    result = ratings.fit_matches(matches, anchor="B", samples=50, rng=np.random.default_rng(0))
    assert np.isfinite(result.rating).all() and np.isfinite(result.samples).all()
    assert rating(result, "A") > max(rating(result, "B"), rating(result, "C")) + 400


def test_prior_barely_moves_a_20_game_rating():
    # Two players, 14-6: the unpenalised MLE is the logit of the score, 400 log10(14/6) = 147.2 Elo.
    wins, games = np.array([[0.0, 14.0], [6.0, 0.0]]), np.array([[0.0, 20.0], [20.0, 0.0]])
    fitted = ratings.fit(wins, games, anchor=1)[0]
    assert 0 < 400 * math.log10(14 / 6) - fitted < 1


def test_disconnected_components_stay_finite_and_each_centres_on_zero():
    # Nothing links {A, B} to {C, D}; the prior, not the data, places each component at mean 0.
    wins = np.zeros((4, 4))
    wins[0, 1], wins[1, 0], wins[2, 3], wins[3, 2] = 9, 1, 4, 6
    games = wins + wins.T
    elo = ratings.fit(wins, games, anchor=None)
    assert np.isfinite(elo).all()
    assert elo[:2].sum() == pytest.approx(0, abs=1e-9) and elo[2:].sum() == pytest.approx(0, abs=1e-9)


def test_recovers_known_strengths_inside_intervals():
    # 2000 games per pair: the direct a-b and a-c comparisons alone give a standard error of
    # ELO / sqrt(G p (1 - p)) <= 9.1 Elo, so 40 Elo is over 4 standard errors.
    truth = {"a": 0.0, "b": 200.0, "c": 400.0}
    matches = simulate(truth, 2000, np.random.default_rng(1))
    result = ratings.fit_matches(matches, anchor="a", rng=np.random.default_rng(2))
    table = result.table.set_index("player")
    for player, elo in truth.items():
        assert table.rating[player] == pytest.approx(elo, abs=40)
        assert table.ci_low[player] <= elo <= table.ci_high[player]


def test_intervals_shrink_as_one_over_root_games():
    # 16 times the games: widths should shrink by sqrt(16) = 4. Over 200 seeded trials the ratio ran from
    # 3.4 to 5.4 (mean 4.07): the bootstrap's own noise and the logit's skew at 50 games.
    truth = {"a": 0.0, "b": 100.0, "c": 200.0}
    rng = np.random.default_rng(3)
    few = ratings.fit_matches(simulate(truth, 50, rng), anchor="a", rng=rng)
    many = ratings.fit_matches(simulate(truth, 800, rng), anchor="a", rng=rng)
    for player in ("b", "c"):
        assert 3 < width(few, player) / width(many, player) < 6


def test_gap_is_the_rating_difference_with_a_paired_interval():
    matches = simulate({"a": 0.0, "b": 50.0, "c": 300.0}, 200, np.random.default_rng(4))
    result = ratings.fit_matches(matches, anchor="a", rng=np.random.default_rng(5))
    diff, low, high = ratings.gap(result, "c", "b", 0.95)
    assert diff == pytest.approx(rating(result, "c") - rating(result, "b"))
    assert low < diff < high


def test_crossplay_counts_a_hand_made_frame():
    matches = pd.DataFrame(
        [
            ("a", "b", "player_0"),  # a wins
            ("b", "a", "player_0"),  # b wins
            ("a", "b", "draw"),
            ("b", "a", "player_1"),  # a wins from seat 1
            ("a", "c", "player_1"),  # c wins from seat 1
        ],
        columns=["player_0", "player_1", "outcome"],
    )
    table = ratings.crossplay(matches).set_index(["player", "opponent"])
    assert set(table.index) == {("a", "b"), ("b", "a"), ("a", "c"), ("c", "a")}
    assert table.loc[("a", "b")].tolist() == [4, 2, 1, 1, 0.625]
    assert table.loc[("b", "a")].tolist() == [4, 1, 1, 2, 0.375]
    assert table.loc[("c", "a")].tolist() == [1, 1, 0, 0, 1.0]
    for (player, opponent), row in table.iterrows():
        assert row.score + table.loc[(opponent, player)].score == 1

    summary = ratings.fit_matches(matches, samples=20, rng=np.random.default_rng(0)).table.set_index("player")
    assert summary.games.tolist() == [5, 4, 1]
    assert summary.score.tolist() == [0.5, 0.375, 1.0]
