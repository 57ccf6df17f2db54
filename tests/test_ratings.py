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


LADDER = {"random": 0.0, "heuristic": 300.0, "mcts-64": 600.0}


def ladder_games(
    agents: dict[str, float], games_per_pair: int, rng: np.random.Generator, ladder: bool = True
) -> pd.DataFrame:
    """The ladder's round-robin (unless not `ladder`), then every agent against every ladder member."""
    rows = simulate(LADDER, games_per_pair, rng) if ladder else simulate({}, 0, rng)
    for agent, elo in agents.items():
        for member, strength in LADDER.items():
            rows = pd.concat([rows, simulate({agent: elo, member: strength}, games_per_pair, rng)])
    return rows.reset_index(drop=True)


def test_ladder_ratings_are_pool_invariant():
    # A's rating and interval rest on its ladder games and the ladder's alone: sixteen copies of a strong
    # agent, and cross-play between everyone off the ladder, cannot move them.
    rng = np.random.default_rng(6)
    alone = ladder_games({"A": 250.0}, 40, rng)
    crowd = ladder_games({f"C{k}": 700.0 for k in range(16)}, 40, rng, ladder=False)
    crossplay = simulate({"A": 250.0, **{f"C{k}": 700.0 for k in range(16)}}, 40, rng)
    crowded = pd.concat([alone, crowd, crossplay], ignore_index=True)
    ladder = list(LADDER)
    few = ratings.against_ladder(alone, ladder, samples=200, rng=np.random.default_rng(7))
    many = ratings.against_ladder(crowded, ladder, samples=200, rng=np.random.default_rng(7))
    for player in [*ladder, "A"]:
        assert rating(many, player) == pytest.approx(rating(few, player), abs=1e-9)
        assert width(many, player) == pytest.approx(width(few, player), abs=1e-9)
    # A joint fit on the same two frames moves A.
    joint = [ratings.fit_matches(m, samples=20, rng=np.random.default_rng(0)) for m in (alone, crowded)]
    assert abs(rating(joint[1], "A") - rating(joint[0], "A")) > 1


def test_ladder_members_are_their_own_round_robin_fit():
    matches = ladder_games({"A": 250.0, "B": 450.0}, 40, np.random.default_rng(8))
    members = matches[matches.player_0.isin(LADDER) & matches.player_1.isin(LADDER)]
    result = ratings.against_ladder(matches, list(LADDER), samples=50, rng=np.random.default_rng(0))
    alone = ratings.fit_matches(members, samples=50, rng=np.random.default_rng(0))
    for member in LADDER:
        assert rating(result, member) == pytest.approx(rating(alone, member), abs=1e-9)
    assert result.players == ["A", "B", "heuristic", "mcts-64", "random"]
    assert rating(result, "random") == 0.0
    table = result.table.set_index("player")
    assert table.games["A"] == 120 and table.games["random"] == 80


def test_one_agent_agrees_with_a_joint_fit():
    # One member, one agent: the fits differ only in the prior, which the joint fit spreads over both sides
    # of the comparison and the ladder fit puts on the agent alone (twice the shrinkage: 1.1 Elo below the
    # unpenalised MLE at 14-6 instead of 0.5), and in the RNG streams their bootstraps draw from. At 140-60
    # the percentiles move in steps of about 5 Elo, one win more or less.
    matches = frame(record("A", "random", 14, 0, 6))
    ladder = ratings.against_ladder(matches, ["random"], samples=20, rng=np.random.default_rng(0))
    joint = ratings.fit_matches(matches, samples=20, rng=np.random.default_rng(0))
    assert 0 < 400 * math.log10(14 / 6) - rating(ladder, "A") < 1.5
    assert rating(ladder, "A") == pytest.approx(rating(joint, "A"), abs=1)
    matches = frame(record("A", "random", 140, 0, 60))
    ladder = ratings.against_ladder(matches, ["random"], rng=np.random.default_rng(0))
    joint = ratings.fit_matches(matches, rng=np.random.default_rng(0))
    assert ladder.table.ci_low.tolist() == pytest.approx(joint.table.ci_low.tolist(), abs=10)
    assert ladder.table.ci_high.tolist() == pytest.approx(joint.table.ci_high.tolist(), abs=10)

    # On a longer ladder the joint fit also reads the agent's games as evidence on the ladder's gaps; with
    # ten times the games inside the ladder, the two stay well inside each other's intervals.
    rng = np.random.default_rng(9)
    matches = pd.concat([simulate(LADDER, 400, rng), ladder_games({"A": 350.0}, 40, rng, ladder=False)])
    ladder = ratings.against_ladder(matches, list(LADDER), samples=200, rng=np.random.default_rng(10))
    joint = ratings.fit_matches(matches, samples=200, rng=np.random.default_rng(10))
    for player in [*LADDER, "A"]:
        assert abs(rating(ladder, player) - rating(joint, player)) <= width(joint, player) / 4


def test_ladder_ratings_recover_known_strengths():
    # 30 tournaments, 60 games per pair: the true Elo lies inside the 90% interval in most of them.
    truth = {"A": 150.0, "B": 450.0, "D": 800.0}
    rng = np.random.default_rng(11)
    inside = {agent: 0 for agent in truth}
    for _ in range(30):
        result = ratings.against_ladder(
            ladder_games(truth, 60, rng), list(LADDER), confidence=0.9, samples=200, rng=rng
        )
        table = result.table.set_index("player")
        for agent, elo in truth.items():
            inside[agent] += table.ci_low[agent] <= elo <= table.ci_high[agent]
    assert all(count >= 22 for count in inside.values()), inside


def test_saturation_flags_an_agent_above_the_ladder():
    matches = ladder_games({"A": 250.0, "D": 1000.0}, 60, np.random.default_rng(12))
    result = ratings.against_ladder(matches, list(LADDER), samples=200, rng=np.random.default_rng(13))
    inside, above = (ratings.saturation(result, list(LADDER), p) for p in ("A", "D"))
    assert inside.top == above.top == "mcts-64"
    assert not inside.saturated and inside.margin.ci_high < 0
    assert above.saturated and above.margin.estimate > 0


def test_an_idle_ladder_member_is_an_error():
    matches = frame(record("random", "heuristic", 5, 0, 5), record("A", "mcts-64", 5, 0, 5))
    with pytest.raises(ValueError, match="mcts-64"):
        ratings.against_ladder(matches, list(LADDER), samples=10, rng=np.random.default_rng(0))
