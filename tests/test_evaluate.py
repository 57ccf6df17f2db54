"""Evaluation schedules and the winner's curse, played for real in one process (no Ray)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import torch

from swarm import analysis, config, engine, envs, seeds
from swarm.evaluation import evaluate, ratings, summary
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
    evaluation = evaluate.run(cfg, lambda games: engine.play_local(cfg, games, weights))
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
    evaluation = evaluate.run(cfg, lambda games: engine.play_local(cfg, games, weights))
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

    def by_hand(seed: int) -> float:
        env = envs.make(cfg.env, kwargs)
        env.reset(seed=seed)
        total = 0.0
        for _ in range(3 * 4):
            env.step(0)
            total += sum(env.rewards.values()) / 3
        return total

    assert rewards[0, 0] == pytest.approx(by_hand(11)) and rewards[1, 1] == pytest.approx(by_hand(11))
    assert rewards[0, 1] != rewards[0, 0] and rewards[2, 0] == rewards[2, 1] == pytest.approx(by_hand(12))
    assert (lengths == 3 * 4).all()
