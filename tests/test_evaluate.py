"""Evaluation schedules and the winner's curse, played for real in one process (no Ray)."""

from __future__ import annotations

import importlib
import io
import itertools
import json

import numpy as np
import pandas as pd
import pytest
import torch
from rich.console import Console

from swarm import analysis, config, engine, envs, seeds
from swarm.evaluation import evaluate, plackett_luce, ratings, stats, summary
from swarm.evaluation.roles import judged_roles
from swarm.results import records, rundir
from swarm.training.agent import network


def identical(cfg: config.Experiment) -> dict[str, engine.Weights]:
    """Every agent of every arm gets the same weights: equal strength by construction."""
    torch.manual_seed(0)
    weights = network(envs.describe(cfg.env), cfg).weights()
    return {a: weights for agents in evaluate.arm_agents(cfg).values() for a in agents}


def test_held_out_schedule_covers_every_pairing_on_fresh_seeds(tiny):
    best = {"single": "single/0", "independent": "independent/2", "swarm": "swarm/1"}
    schedule = evaluate.selection_schedule(tiny) + evaluate.held_out_schedule(tiny, best)
    ev = tiny.evaluation
    stages = pd.Series([g.stage for g in schedule]).value_counts().to_dict()
    agents, ladder = 9, len(ev.ladder)
    assert stages == {
        "selection": 2 * 6 * ev.selection_games,
        "verdict": 3 * ev.verdict_games,  # independent and swarm vs single, and swarm vs its control
        "crossplay": agents * (agents - 1) // 2 * ev.crossplay_games,
        "ladder": (agents * ladder + ladder * (ladder - 1) // 2) * ev.ladder_games,
    }
    assert len({g.seed for g in schedule}) == len(schedule)
    assert all(seeds.stage_of(g.seed) == g.stage for g in schedule)
    # seats alternate inside every pairing
    for _, group in itertools.groupby(schedule, key=lambda g: (g.stage, frozenset((g.player_0, g.player_1)))):
        firsts = [g.player_0 for g in group]
        assert abs(firsts.count(firsts[0]) - (len(firsts) - firsts.count(firsts[0]))) <= 1


def test_winners_curse_is_detected_not_reported_as_skill(make_config):
    """The best of 16 equally strong agents wins its selection games by luck alone: its selection score is
    above 1/2, its held-out score against the same agents is not, and no rating says it is stronger."""
    data = make_config(
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "swarm", "agents": 16, "interaction": "population"},
        ],
        budget={"unit": "agent_steps", "total": 16 * 256},
    )
    data["evaluation"] = {
        "selection_games": 4,
        "verdict_games": 100,
        "crossplay_games": 40,
        "ladder": ["random"],
        "ladder_games": 2,
        "bootstrap": 200,
    }
    cfg = config.parse(data)
    weights = identical(cfg)
    evaluation = evaluate.run(
        cfg,
        lambda games: engine.play_local(cfg, games, weights),
        lambda games: engine.play_free_for_all_local(cfg, games, weights),
    )
    held_out = evaluation.matches[evaluation.matches.stage != "selection"]
    rated = ratings.fit_matches(held_out, "random", 0.95, 200, rng=np.random.default_rng(0))
    ladder = ratings.against_ladder(held_out, ["random"], "random", 0.95, 200, rng=np.random.default_rng(0))
    nothing = {arm: {"agent_steps": 0, "flops": 0, "core_seconds": 0.0} for arm in ("single", "swarm")}
    result = summary.build(cfg, nothing, evaluation, summary.Rated(rated, ladder), nothing, 0.0)
    swarm = result.arms["swarm"]
    # Selection: the max of 16 means of 60 fair games, about 0.5 + 1.8 SE = 0.61 (0.58-0.65 over six seeds).
    assert swarm.selection_score > 0.55
    assert abs(swarm.held_out_score - 0.5) < 0.06  # 600 fresh games against the same 15: 3 SE
    curse = swarm.winners_curse
    assert curse.estimate > 0.03 and curse.ci_low < curse.estimate < curse.ci_high
    loss = swarm.selection_loss  # the split-half oracle: no real difference to find among clones
    assert loss.ci_low <= 0 <= loss.ci_high
    gap = result.verdicts[0].rating_gap
    assert gap.ci_low < 0 < gap.ci_high  # chosen vs an identical single agent: no difference
    # 17 clones: Nash averaging spreads its mass over them evenly and rates them all alike
    assert sum(n.mass for n in result.nash) == pytest.approx(1)
    assert max(abs(n.rating) for n in result.nash) < 0.1


@pytest.mark.parametrize("stage", ["verdict", "crossplay", "ladder"])
def test_held_out_stages_never_reuse_selection_seeds(tiny, stage):
    best = {"single": "single/0", "independent": "independent/0", "swarm": "swarm/0"}
    chosen = {g.seed for g in evaluate.selection_schedule(tiny)}
    judged = {g.seed for g in evaluate.held_out_schedule(tiny, best) if g.stage == stage}
    assert judged and chosen.isdisjoint(judged)


def test_an_odd_game_count_gives_the_extra_first_seat_by_a_fair_coin():
    """Seats alternate; the odd game out goes to either side, fixed by its seed: over 400 run seeds each side
    got it 200 +- 3 SE times, and the first games of every pairing still alternate."""
    extra = []
    for run_seed in range(400):
        games = evaluate.pairing(run_seed, "verdict", "swarm", "a", "b", 5, 0)
        assert [g.player_0 for g in games[:4]] == ["a", "b", "a", "b"]
        extra.append(games[-1].player_0)
    assert abs(extra.count("a") - 200) <= 3 * 10
    assert [g.player_0 for g in evaluate.pairing(0, "verdict", "swarm", "a", "b", 4, 0)] == ["a", "b"] * 2


def test_ladder_selection_meets_only_the_ladder_and_judges_the_curse_on_ladder_games(make_config):
    """selection: ladder: every agent of a multi-agent arm plays every ladder member, never a peer; among 8
    clones the top scorer is still lucky, and its curse is read against the same opponents, the ladder, on
    the held-out ladder games."""
    data = make_config(
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "swarm", "agents": 8, "interaction": "population"},
        ],
        budget={"unit": "agent_steps", "total": 8 * 256},
    )
    data["evaluation"] = {
        "selection": "ladder",
        "selection_games": 6,
        "verdict_games": 20,
        "crossplay_games": 2,
        "ladder": ["random", "mcts-2"],
        "ladder_games": 60,
        "bootstrap": 200,
    }
    cfg = config.parse(data)
    schedule = evaluate.selection_schedule(cfg)
    pairs = pd.Series([frozenset((g.player_0, g.player_1)) for g in schedule]).value_counts()
    agents = evaluate.arm_agents(cfg)["swarm"]
    assert set(pairs.index) == {frozenset((a, m)) for a in agents for m in cfg.evaluation.ladder}
    assert (pairs == 6).all() and all(seeds.stage_of(g.seed) == "selection" for g in schedule)

    weights = identical(cfg)
    evaluation = evaluate.run(
        cfg,
        lambda games: engine.play_local(cfg, games, weights),
        lambda games: engine.play_free_for_all_local(cfg, games, weights),
    )
    matches = evaluation.matches
    held_out = matches[matches.stage != "selection"]
    rated = ratings.fit_matches(held_out, "random", 0.95, 200, rng=np.random.default_rng(0))
    ladder = ratings.against_ladder(
        held_out, cfg.evaluation.ladder, "random", 0.95, 200, rng=np.random.default_rng(0)
    )
    nothing = {arm: {"agent_steps": 0, "flops": 0, "core_seconds": 0.0} for arm in ("single", "swarm")}
    swarm = summary.build(cfg, nothing, evaluation, summary.Rated(rated, ladder), nothing, 0.0).arms["swarm"]
    best = swarm.best
    assert swarm.selection_score == max(evaluation.selection_scores["swarm"].values())
    theirs = matches[(matches.stage == "ladder") & ((matches.player_0 == best) | (matches.player_1 == best))]
    assert len(theirs) == 2 * 60
    won = np.where(theirs.player_0 == best, theirs.outcome == "player_0", theirs.outcome == "player_1")
    mine = won + 0.5 * (theirs.outcome == "draw").to_numpy()
    assert swarm.held_out_score == pytest.approx(mine.mean())
    assert swarm.winners_curse.estimate == pytest.approx(swarm.selection_score - swarm.held_out_score)
    table = analysis.winners_curse(matches.rename(columns={"seed": "game_seed"}))  # as a run's tables read
    assert set(table.player) == set(agents) and table.chosen.sum() == 1
    assert table.set_index("player").held_out_score[best] == pytest.approx(mine.mean())


def still_return(env_id: str, kwargs: dict, seed: int) -> float:
    """The team return of simple_spread's episode of `seed` (three seats, 4 cycles) with every agent still,
    replayed by hand on the PettingZoo env."""
    env = envs.make(env_id, kwargs)
    env.reset(seed=seed)
    total = 0.0
    for _ in range(3 * 4):
        env.step(0)
        total += sum(env.rewards.values()) / 3
    return total


def test_a_cooperative_game_pairs_two_teams_on_one_scenario(make_config):
    """In a cooperative game (seed, a, b) a's team fills every seat of the seed's scenario and b's team every
    seat of the same one: a team that never moves (MPE2's action 0) earns exactly the return of that episode
    replayed by hand, whoever the other team is."""
    pytest.importorskip("mpe2")
    kwargs = {"max_cycles": 4}
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs=kwargs)
    data["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(data)
    still = network(envs.describe(cfg.env, kwargs), cfg).weights()
    still = {k: np.zeros_like(v) for k, v in still.items()}
    still["actor.2.bias"][0] = 100.0  # always action 0: no move
    games = [(11, "still", "random"), (11, "random", "still"), (12, "still", "still")]
    rewards, lengths = engine.play_local(cfg, games, {"still": still})

    assert rewards[0, 0] == pytest.approx(still_return(cfg.env, kwargs, 11)) and rewards[
        1, 1
    ] == pytest.approx(still_return(cfg.env, kwargs, 11))
    assert rewards[0, 1] != rewards[0, 0] and rewards[2, 0] == rewards[2, 1] == pytest.approx(
        still_return(cfg.env, kwargs, 12)
    )
    assert (lengths == 3 * 4).all()


# Free-for-all games of k > 2 seats


def always(cfg: config.Experiment, action: int) -> engine.Weights:
    """Weights of a network that always plays `action`."""
    weights = network(cfg.env_spec(), cfg).weights()
    weights = {k: np.zeros_like(v) for k, v in weights.items()}
    weights["actor.2.bias"][action] = 100.0
    return weights


def test_a_role_game_plays_one_role_twice_against_random_roles_in_turn(make_config, seat_game, monkeypatch):
    """Judged by roles, a game (seed, a, b) plays the role of its index (roles in turn along a pairing):
    a in every seat of that role with random in every other, then b in the same seats of the same seed.
    In the seat game a seat's return is its own choices, so a player that always picks 2 earns exactly
    2 x rounds in its role, replayed by hand, whoever sits elsewhere; the matches record each game's role."""
    roles = {"player_0": "lead", "player_1": "rest", "player_2": "rest"}
    data = make_config(env=seat_game, env_kwargs={"players": 3, "rounds": 2}, env_roles=roles)
    data["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(data)
    weights = {"two": always(cfg, 2), "one": always(cfg, 1)}
    module, seated = importlib.import_module("swarm.engine.play"), []
    played = module._play
    monkeypatch.setattr(
        module,
        "_play",
        lambda config, spec, names, seating, *rest: (
            seated.append(np.array(names)[seating].tolist()) or played(config, spec, names, seating, *rest)
        ),
    )
    schedule = evaluate.pairing(cfg.seed, "verdict", "swarm", "two", "one", 4, 0)
    matches = evaluate.play_schedule(
        schedule, lambda games: engine.play_local(cfg, games, weights), None, judged_roles(cfg)
    )
    assert matches.role.tolist() == ["lead", "rest", "lead", "rest"]
    (episodes,) = seated
    seats = {"lead": [True, False, False], "rest": [False, True, True]}
    for g, game in enumerate(schedule):
        for player, episode in zip((game.player_0, game.player_1), episodes[2 * g : 2 * g + 2], strict=True):
            assert episode == [player if mine else "random" for mine in seats[matches.role[g]]]

    def by_hand(action: int) -> float:
        env = envs.make(seat_game, {"players": 3, "rounds": 2})
        env.reset(seed=0)
        for _ in range(3 * 2):
            env.step(action)
        return env.rewards["player_0"]

    two = np.where(matches.player_0 == "two", matches.reward_0, matches.reward_1)
    one = np.where(matches.player_0 == "two", matches.reward_1, matches.reward_0)
    assert by_hand(2) == 4 and by_hand(1) == 2
    assert (two == 4).all() and (one == 2).all() and (matches.length == 6).all()


def test_free_for_all_lineups_seat_every_player_in_every_seat_on_fresh_seeds(make_config, seat_game):
    """Three arms' bests and random, three at a time: every lineup of three, each player in each of its
    lineup's seats ffa_games times, on seeds of their own stage."""
    data = make_config(env=seat_game, env_kwargs={"players": 3})
    data["evaluation"] |= {"ladder": ["random"], "ffa_games": 2}
    cfg = config.parse(data)
    best = {"single": "single/0", "independent": "independent/2", "swarm": "swarm/1"}
    schedule = evaluate.free_for_all_schedule(cfg, best, 3)
    players = [*best.values(), "random"]
    assert len(schedule) == 4 * 3 * 2  # C(4, 3) lineups, 3 seats, 2 games per seat
    assert all(len(set(g.players)) == 3 for g in schedule)
    seated = pd.DataFrame(
        [(frozenset(g.players), p, s) for g in schedule for s, p in enumerate(g.players)],
        columns=["lineup", "player", "seat"],
    )
    assert set(seated.lineup) == {frozenset(c) for c in itertools.combinations(players, 3)}
    assert (seated.value_counts() == 2).all() and len(seated.value_counts()) == 4 * 3 * 3
    fresh = {g.seed for g in schedule}
    assert len(fresh) == len(schedule) and {seeds.stage_of(s) for s in fresh} == {"free_for_all"}
    used = {g.seed for g in evaluate.selection_schedule(cfg) + evaluate.held_out_schedule(cfg, best)}
    assert fresh.isdisjoint(used)
    assert evaluate.free_for_all_schedule(cfg, best, 2) == []  # two seats: the held-out games already are
    no_games = cfg.model_copy(update={"evaluation": cfg.evaluation.model_copy(update={"ffa_games": 0})})
    assert evaluate.free_for_all_schedule(no_games, best, 3) == []


def test_too_many_lineups_become_the_cyclic_ones():
    """C(12, 4) = 495 lineups are too many: the 12 cyclic ones, distinct, every player in 4 of them."""
    players = [f"p{i}" for i in range(12)]
    found = evaluate.lineups(players, 4)
    assert len(found) == 12 and len({frozenset(lineup) for lineup in found}) == 12
    assert pd.Series([p for lineup in found for p in lineup]).value_counts().eq(4).all()
    assert len(evaluate.lineups(players[:6], 3)) == 20  # C(6, 3) = 20: every one


def test_free_for_all_games_return_every_seats_reward_and_rank_them(make_config, seat_game):
    """Players that always choose 0, 1 or 2 in a game of two rounds earn twice their choice in whatever seat
    they sit: rewards per seat, no sides; positions rank them, the highest return first."""
    data = make_config(env=seat_game, env_kwargs={"players": 3, "rounds": 2})
    data["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(data)
    weights = {name: always(cfg, c) for c, name in enumerate(["zero", "one", "two"])}
    games = [(5, ("zero", "one", "two")), (6, ("two", "zero", "one")), (7, ("one", "two", "zero"))]
    rewards, lengths = engine.play_free_for_all_local(cfg, games, weights)
    np.testing.assert_array_equal(rewards, [[0, 2, 4], [4, 0, 2], [2, 4, 0]])
    np.testing.assert_array_equal(lengths, [6, 6, 6])
    schedule = [evaluate.FreeForAllGame(seed, players) for seed, players in games]
    table = evaluate.play_free_for_all_schedule(
        schedule, lambda g: engine.play_free_for_all_local(cfg, g, weights), {"two": "single"}
    )
    assert list(table.columns) == evaluate.FREE_FOR_ALL_COLUMNS and len(table) == 9
    assert table.groupby("player").position.agg(set).to_dict() == {"two": {1.0}, "one": {2.0}, "zero": {3.0}}
    assert table.groupby("player").arm.agg(set).to_dict() == {
        "two": {"single"},
        "one": {"ladder"},
        "zero": {"ladder"},
    }


def test_a_free_for_all_rates_the_bests_by_finishing_order(make_config, seat_game):
    """In a game of three the arms' bests and random play free-for-all games: the best that always chooses
    2 is never beaten, the one that always chooses 0 never beats anyone, and random (0, 1 or 2) rates
    between them; the summary carries the ratings strongest first, and they read back from JSON as written."""
    data = make_config(
        env=seat_game,
        env_kwargs={"players": 3},
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "swarm", "agents": 2, "interaction": "population"},
        ],
    )
    data["evaluation"] |= {"ladder": ["random"], "ffa_games": 10, "verdict_games": 4}
    cfg = config.parse(data)
    weights = {"single/0": always(cfg, 2), "swarm/0": always(cfg, 0), "swarm/1": always(cfg, 0)}
    evaluation = evaluate.run(
        cfg,
        lambda games: engine.play_local(cfg, games, weights),
        lambda games: engine.play_free_for_all_local(cfg, games, weights),
    )
    games = evaluation.free_for_all
    assert len(games) == 3 * 3 * 10  # one lineup of three, each in each seat 10 times
    held_out = evaluation.matches[evaluation.matches.stage != "selection"]
    rated = ratings.fit_matches(held_out, "random", 0.95, 200, rng=np.random.default_rng(0))
    ladder = ratings.against_ladder(held_out, ["random"], "random", 0.95, 200, rng=np.random.default_rng(0))
    free_for_all = plackett_luce.fit_table(games, "random", 0.95, 200, rng=np.random.default_rng(0))
    nothing = {arm: {"agent_steps": 0, "flops": 0, "core_seconds": 0.0} for arm in ("single", "swarm")}
    result = summary.build(cfg, nothing, evaluation, summary.Rated(rated, ladder, free_for_all), nothing, 0.0)
    order = [r.player for r in result.free_for_all]
    assert order == ["single/0", "random", evaluation.best["swarm"]]
    first, second, third = result.free_for_all
    assert first.games == second.games == third.games == 30
    assert 1 < first.position < second.position < third.position < 3  # random ties them when it picks alike
    assert first.ci_low > 0 > third.ci_high
    assert second.rating == 0  # random anchors the scale
    read = records.SeedSummary.from_json(json.loads(json.dumps(result.to_json())))
    assert read.free_for_all == result.free_for_all
    printed = Console(file=io.StringIO(), width=200)
    summary.render(result, printed)
    assert "free-for-all ratings (Plackett-Luce" in printed.file.getvalue()


# Ad-hoc teamwork in cooperative games


def test_teamwork_seats_every_best_with_every_partner_on_the_same_seeds(make_config):
    """Each arm's best sits in every seat with each other arm's best and each ladder member in the others,
    teamwork_games games each, on the free_for_all stage's seeds (unused in a cooperative game): the same
    seeds for the same partner and seat whoever the best is. None in a competitive game or with 0 games."""
    pytest.importorskip("mpe2")
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs={"max_cycles": 4})
    data["evaluation"] |= {"ladder": ["random"], "teamwork_games": 2}
    cfg = config.parse(data)
    best = {"single": "single/0", "independent": "independent/2", "swarm": "swarm/1"}
    schedule = evaluate.teamwork_schedule(cfg, best, 3)
    assert len(schedule) == 3 * 3 * 3 * 2  # 3 bests, 3 partners each, 3 seats, 2 games
    blocks = pd.DataFrame(
        [(g.best, g.partner, g.seat, g.seed) for g in schedule], columns=["b", "p", "s", "x"]
    )
    assert (blocks.groupby(["b", "p", "s"]).size() == 2).all() and len(blocks.groupby(["b", "p", "s"])) == 27
    assert set(zip(blocks.b, blocks.p, strict=True)) == {
        (b, p) for b in best.values() for p in [*best.values(), "random"] if p != b
    }
    for g in schedule:
        assert g.players[g.seat] == g.best and set(g.players[: g.seat] + g.players[g.seat + 1 :]) == {
            g.partner
        }
    assert {seeds.stage_of(g.seed) for g in schedule} == {"free_for_all"}
    same = blocks.groupby(["p", "s", "b"]).x.agg(tuple).groupby(["p", "s"]).nunique()
    assert (same == 1).all()  # a partner and seat: the same scenarios whoever the best is
    assert blocks.groupby("b").x.agg(lambda x: x.is_unique).all()
    competitive = cfg.model_copy(
        update={"evaluation": cfg.evaluation.model_copy(update={"kind": "competitive"})}
    )
    none = cfg.model_copy(update={"evaluation": cfg.evaluation.model_copy(update={"teamwork_games": 0})})
    assert evaluate.teamwork_schedule(competitive, best, 3) == evaluate.teamwork_schedule(none, best, 3) == []


def test_a_best_that_never_moves_earns_the_episode_replayed_by_hand_with_any_partner(make_config):
    """A best that never moves (MPE2's action 0) with partners that never move either earns exactly the
    return of that episode replayed by hand, in whatever seat; with random partners, another."""
    pytest.importorskip("mpe2")
    kwargs = {"max_cycles": 4}
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs=kwargs)
    data["evaluation"] |= {"ladder": ["random"], "teamwork_games": 1}
    cfg = config.parse(data)
    still = always(cfg, 0)
    best = {"single": "single/0", "swarm": "swarm/0"}
    weights = {"single/0": still, "swarm/0": still}
    schedule = evaluate.teamwork_schedule(cfg, best, 3)
    table = evaluate.play_teamwork_schedule(
        schedule, lambda g: engine.play_free_for_all_local(cfg, g, weights)
    )
    assert list(table.columns) == rundir.TEAMWORK_COLUMNS and len(table) == 2 * 2 * 3

    still_partners = table[table.partner != "random"]
    assert len(still_partners) == 2 * 3
    for row in still_partners.itertuples():
        assert row.team_return == pytest.approx(still_return(cfg.env, kwargs, row.seed))
    with_random = table[table.partner == "random"]
    assert not np.isclose(
        with_random.team_return, [still_return(cfg.env, kwargs, s) for s in with_random.seed]
    ).all()
    assert (table.length == 3 * 4).all()


def test_teamwork_gaps_pair_each_best_with_the_baselines_game_by_game():
    """On hand-made rows: each best's mean team return over all its partners and per partner, and its paired
    difference from the baseline's best over the partners both met, with `stats.mean_interval`'s interval."""
    rng = np.random.default_rng(0)
    rows = []
    for arm, best, partners in [
        ("single", "single/0", ["swarm/1", "random"]),
        ("swarm", "swarm/1", ["single/0", "random"]),
    ]:
        for partner in partners:
            for seat in range(3):
                for k in range(4):
                    seed = {"random": 100, "single/0": 200, "swarm/1": 300}[partner] + 10 * seat + k
                    rows.append((0, "r", seed, best, arm, partner, seat, float(rng.normal()), 12))
    games = pd.DataFrame(
        rows, columns=["seed", "run", "game_seed", "best", "arm", "partner", "seat", "team_return", "length"]
    )
    found = analysis.teamwork_gaps(games.sample(frac=1, random_state=1), "single", 0.9).set_index(
        ["arm", "partner"]
    )
    single, swarm = games[games.arm == "single"], games[games.arm == "swarm"]
    assert found.loc[("single", "all"), "team_return"] == pytest.approx(single.team_return.mean())
    assert found.loc[("swarm", "random"), "games"] == 12 and found.loc[("swarm", "all"), "games"] == 24
    paired = swarm[swarm.partner == "random"].merge(single, on=["game_seed", "partner", "seat"])
    expected = stats.mean_interval((paired.team_return_x - paired.team_return_y).to_numpy(), 0.9)
    for partner in ("all", "random"):  # the only partner both met
        row = found.loc[("swarm", partner)]
        assert row.paired == 12 and (row.gap, row.gap_low, row.gap_high) == pytest.approx(expected)
    assert found.loc[("swarm", "single/0"), "paired"] == 0 and np.isnan(
        found.loc[("swarm", "single/0"), "gap"]
    )
    assert (found.loc["single"].paired == 0).all() and found.loc["single"].gap.isna().all()
