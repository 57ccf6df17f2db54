"""A tiny run of the real experiment on a local 2-CPU Ray: every table, the verdict, the budget proofs."""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys

import pandas as pd
import pytest
import torch
import yaml

from swarm import analysis, config, experiment, report, seeds
from swarm.budget import UNITS
from swarm.evaluation import oracle, significance, verdict
from swarm.results import records, rundir
from swarm.results.rundir import RunDir
from swarm.weights import load_weights

pytestmark = pytest.mark.usefixtures("ray_module")  # one local Ray for the module's runs


@pytest.fixture(scope="module")
def run(tmp_path_factory, make_config):
    cfg = config.parse(make_config())
    run_dir, summary = experiment.run(cfg, tmp_path_factory.mktemp("runs"))
    return cfg, run_dir, summary


def test_every_table_has_its_columns(run):
    _, run_dir, _ = run
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert list(ledger.columns) == ["arm", "agent", "stage", "round", *UNITS, *(f"cum_{u}" for u in UNITS)]
    assert set(ledger.stage) == {"training"}  # selection games are reported, not charged, by default
    training = pd.read_parquet(run_dir / "training.parquet")
    for column in [
        "arm",
        "agent",
        "round",
        "agent_steps",
        "policy_loss",
        "value_loss",
        "entropy",
        "approx_kl",
        "clip_fraction",
        "score",
        "games",
    ]:
        assert column in training.columns
    assert len(training) == len(ledger)  # one row per agent per round in both
    matches = pd.read_parquet(run_dir / "matches.parquet")
    assert list(matches.columns) == [
        "stage",
        "arm",
        "seed",
        "player_0",
        "player_1",
        "reward_0",
        "reward_1",
        "outcome",
        "length",
        "role",
    ]
    assert set(matches.stage) == {"selection", "verdict", "crossplay", "ladder", "curve"}
    assert (matches.role == "").all()  # Connect Four's seats play one role
    rated = pd.read_parquet(run_dir / "ratings.parquet")
    assert list(rated.columns) == [
        "fit",
        "player",
        "arm",
        "rating",
        "ci_low",
        "ci_high",
        "games",
        "score",
        "chosen",
    ]
    pairs = pd.read_parquet(RunDir(run_dir).pairs)
    assert list(pairs.columns) == ["player", "opponent", "games", "wins", "draws", "losses", "score"]
    curve = pd.read_parquet(run_dir / "curve.parquet")
    assert list(curve.columns) == experiment.CURVE_COLUMNS


def test_learning_curve_spans_each_agents_share(run):
    cfg, run_dir, _ = run
    curve = pd.read_parquet(run_dir / "curve.parquet")
    training = pd.read_parquet(run_dir / "training.parquet")
    ev = cfg.evaluation
    for agent, points in curve.groupby("agent"):
        share = cfg.budget.total // (1 if agent.startswith("single") else 4)
        steps = points.agent_steps.tolist()
        assert steps[0] == 0 and steps[-1] == share  # the initial weights, then the trained agent
        assert steps == sorted(set(steps)) and len(steps) <= ev.curve_points + 1
        assert list(points.checkpoint) == [f"{agent}@{s}" for s in steps]
        assert points.arm_agent_steps.is_monotonic_increasing
    assert (curve.groupby("arm").arm_agent_steps.max() == cfg.budget.total).all()
    assert (training.groupby("arm").arm_agent_steps.max() == cfg.budget.total).all()
    assert (curve.games == ev.curve_games).all() and curve.score.between(0, 1).all()
    # the checkpoints played random and no one else; their games stay out of ratings and cross-play
    matches = pd.read_parquet(run_dir / "matches.parquet")
    played = matches[matches.stage == "curve"]
    assert set(played.player_0) | set(played.player_1) == {*curve.checkpoint, "random"}
    rated = pd.read_parquet(run_dir / "ratings.parquet")
    assert not rated.player.str.contains("@").any()


def test_selection_and_verdict_games_share_no_seed(run):
    _, run_dir, _ = run
    matches = pd.read_parquet(run_dir / "matches.parquet")
    by_stage = {stage: set(group.seed) for stage, group in matches.groupby("stage")}
    for a, b in itertools.combinations(by_stage.values(), 2):
        assert a.isdisjoint(b)
    assert all(seeds.stage_of(s) == stage for stage, values in by_stage.items() for s in values)
    assert matches.seed.is_unique


def test_round_robin_and_seats(run):
    cfg, run_dir, summary = run
    matches = pd.read_parquet(run_dir / "matches.parquet")
    selection = matches[matches.stage == "selection"]
    assert len(selection) == 2 * 6 * cfg.evaluation.selection_games  # two arms of 4 agents: 6 pairs each
    verdict = matches[matches.stage == "verdict"]
    best, baseline, control = (summary.arms[a].best for a in ("swarm", "single", "independent"))
    for opponent in (baseline, control):  # its verdict games, and its games against its control's best
        games = verdict[verdict.player_0.isin([best, opponent]) & verdict.player_1.isin([best, opponent])]
        assert (
            (games.player_0 == best).sum()
            == (games.player_1 == best).sum()
            == cfg.evaluation.verdict_games // 2
        )
        assert (games.arm == "swarm").all()
    scores = [_selection_score(selection, f"swarm/{i}") for i in range(4)]
    assert summary.arms["swarm"].selection_score == pytest.approx(max(scores))
    assert best == f"swarm/{scores.index(max(scores))}"  # ties go to the lowest index


def _selection_score(selection: pd.DataFrame, player: str) -> float:
    own = pd.concat(
        [
            selection[selection.player_0 == player].outcome.map({"player_0": 1, "draw": 0.5, "player_1": 0}),
            selection[selection.player_1 == player].outcome.map({"player_1": 1, "draw": 0.5, "player_0": 0}),
        ]
    )
    return own.mean()


def test_budgets_are_equal_and_never_exceeded(run):
    cfg, run_dir, summary = run
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    per_agent = ledger.groupby("agent").agent_steps.sum()
    for arm in cfg.arms:
        share = cfg.budget.total // arm.agents
        agents = per_agent[per_agent.index.str.startswith(f"{arm.name}/")]
        assert len(agents) == arm.agents
        assert (agents <= share).all()
        spent = summary.arms[arm.name].spent
        assert set(spent) == set(UNITS)
        assert cfg.budget.total - cfg.ppo.rollout_steps <= spent["agent_steps"] <= cfg.budget.total
        assert spent["flops"] > 0 and spent["core_seconds"] > 0
    spent = [summary.arms[a.name].spent["agent_steps"] for a in cfg.arms]
    assert max(spent) - min(spent) <= cfg.ppo.rollout_steps


def test_summary_has_a_verdict(run):
    """summary.json is the summary returned, and each verdict is the one its verdict games imply."""
    cfg, run_dir, summary = run
    assert rundir.read_seed_summary(RunDir(run_dir)) == summary
    matches = pd.read_parquet(run_dir / "matches.parquet")
    assert [v.arm for v in summary.verdicts] == ["independent", "swarm"]
    for v in summary.verdicts:
        best, other = summary.arms[v.arm].best, summary.arms["single"].best
        games = matches[(matches.stage == "verdict") & (matches.arm == v.arm)]
        games = games[games.player_0.isin([best, other]) & games.player_1.isin([best, other])]
        first = games[(games.player_0 == best) & (games.player_1 == other)].outcome
        second = games[(games.player_1 == best) & (games.player_0 == other)].outcome
        wins = int((first == "player_0").sum() + (second == "player_1").sum())
        losses = int((first == "player_1").sum() + (second == "player_0").sum())
        draws = len(first) + len(second) - wins - losses
        r = v.record
        assert (r.player, r.opponent, r.wins, r.draws, r.losses) == (best, other, wins, draws, losses)
        assert r.games == cfg.evaluation.verdict_games == len(games)
        low, high = verdict.wilson(wins + draws / 2, r.games, cfg.evaluation.confidence)
        assert (r.score, r.ci_low, r.ci_high) == pytest.approx(((wins + draws / 2) / r.games, low, high))
        # swarm is judged after Holm's correction (independent, the first arm after single, is primary)
        held = "at 95%" + ("" if v.primary else " after Holm's correction")
        assert v.primary == (v.arm == "independent") and v.adjusted_p == v.p_value  # a family of one
        if low > 0.5:  # significant, the arm's best ahead
            expected = f"{v.arm} best beats single {held}"
        elif high < 0.5:  # significant, the single agent ahead
            expected = f"single beats {v.arm} best {held}"
        else:
            expected = f"no significant difference between {v.arm} best and single {held}"
        assert v.verdict == expected
        assert v.rating_gap.ci_low <= v.rating_gap.estimate <= v.rating_gap.ci_high
        assert v.rating_gap.estimate == pytest.approx(significance.game_gap(wins, draws, losses))


def test_ratings_cover_every_agent_and_ladder_member(run):
    cfg, run_dir, summary = run
    rated = pd.read_parquet(run_dir / "ratings.parquet")
    held_out = rated[rated.fit == "held_out"].set_index("player")
    agents = [f"{arm.name}/{i}" for arm in cfg.arms for i in range(arm.agents)]
    assert set(held_out.index) == {*agents, *cfg.evaluation.ladder}
    assert held_out.loc["random", "rating"] == 0  # the anchor
    assert (held_out.ci_low <= held_out.rating).all() and (held_out.rating <= held_out.ci_high).all()
    assert set(held_out.arm) == {"single", "independent", "swarm", "ladder"}
    assert set(held_out[held_out.chosen].index) == {a.best for a in summary.arms.values()}
    assert set(rated.fit) == {"held_out", "all", "ladder"}
    # the ladder fit: each best's ladder rating is its row, and the joint fit's ladder is rated apart
    ladder = rated[rated.fit == "ladder"].set_index("player")
    assert set(ladder.index) == {*agents, *cfg.evaluation.ladder} and ladder.loc["random", "rating"] == 0
    for a in summary.arms.values():
        assert a.ladder_rating.rating == pytest.approx(ladder.loc[a.best, "rating"])
    assert [r.player for r in summary.ladder_ratings] == list(
        ladder.rating.sort_values(ascending=False).index
    )
    assert {n.player for n in summary.nash} == set(agents)  # the agents' cross-play meta-game
    assert sum(n.mass for n in summary.nash) == pytest.approx(1)
    assert summary.fit_check.df > 0 and 0 <= summary.fit_check.p_value <= 1
    # every agent met every other agent and every ladder member on held-out seeds
    pairs = pd.read_parquet(RunDir(run_dir).pairs)
    met = pairs.groupby("player").opponent.nunique()
    players = len(agents) + len(cfg.evaluation.ladder)
    assert (met[agents] == players - 1).all()


def test_winners_curse_and_oracle_are_reported(run):
    _, run_dir, summary = run
    matches = pd.read_parquet(run_dir / "matches.parquet")
    swarm = summary.arms["swarm"]
    own = matches[(matches.stage == "crossplay") & (matches.arm == "swarm")]
    assert swarm.held_out_score == pytest.approx(_selection_score(own, swarm.best))
    curse = swarm.winners_curse
    assert curse.estimate == pytest.approx(swarm.selection_score - swarm.held_out_score)
    assert curse.ci_low < curse.estimate < curse.ci_high
    # the oracle is the top scorer of the first half of the arm's own held-out games
    first = own[oracle.halves(own, 2) == 0]
    members = [f"swarm/{i}" for i in range(4)]
    assert swarm.oracle_best == max(members, key=lambda p: (_selection_score(first, p), -members.index(p)))
    (gains,) = summary.gains
    assert (gains.arm, gains.control, gains.baseline) == ("swarm", "independent", "single")
    verdicts = {v.arm: v for v in summary.verdicts}
    assert gains.selection_gain == verdicts["independent"].rating_gap  # all three from head-to-head games
    assert gains.total_gain == verdicts["swarm"].rating_gap
    record = gains.interaction_record
    assert (record.player, record.opponent) == (swarm.best, summary.arms["independent"].best)
    assert gains.interaction_gain.estimate == pytest.approx(
        significance.game_gap(record.wins, record.draws, record.losses)
    )
    assert summary.arms["independent"].selection_cost["agent_steps"] == int(
        matches[(matches.stage == "selection") & (matches.arm == "independent")].length.sum()
    )


def test_config_and_weights_are_saved(run):
    cfg, run_dir, _ = run
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["seed"] == cfg.seed and saved["budget"]["total"] == cfg.budget.total
    assert saved["provenance"]["packages"]["ray"]
    weights = sorted((run_dir / "checkpoints" / "final").glob("*.pt"))
    assert [w.name for w in weights] == [
        *(f"independent-{i}.pt" for i in range(4)),
        "single-0.pt",
        "swarm-0.pt",
        "swarm-1.pt",
        "swarm-2.pt",
        "swarm-3.pt",
    ]
    assert weights[0] == RunDir(run_dir).weights("independent/0")
    state = load_weights(weights[0])
    assert all(isinstance(t, torch.Tensor) for t in state.values())
    assert not list(run_dir.rglob("*.tmp"))  # atomic writes leave no temp files


def test_same_seed_same_run(run, tmp_path):
    """Invariant 2: a run is reproducible from its config and seed, whatever Ray's scheduling."""
    cfg, run_dir, _ = run
    again, _ = experiment.run(cfg, tmp_path)
    columns = ["arm", "agent", "round", "policy_loss", "value_loss", "entropy", "score"]
    first = pd.read_parquet(run_dir / "training.parquet")[columns]
    second = pd.read_parquet(again / "training.parquet")[columns]
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "matches.parquet"), pd.read_parquet(again / "matches.parquet")
    )


def test_several_seeds_give_a_verdict_over_seeds_and_resume(tmp_path, multi_seed_run):
    """The session's two-seed run (a copy of it): each seed a run of its own on its own evaluation seeds, the
    verdict over seeds from their gaps; `swarm resume` of a run cut off after seed 0 runs seed 1 again, to
    the same result, and leaves seed 0 as it was."""
    run_dir = tmp_path / multi_seed_run.name
    shutil.copytree(multi_seed_run, run_dir)
    frame = pd.read_parquet(run_dir / "per_seed.parquet")
    assert list(frame.seed.unique()) == [0, 1]
    played = []
    for seed, rows in frame.groupby("seed"):
        own = rundir.read_seed_summary(RunDir(run_dir).seed(seed))
        assert own.seed == seed
        assert rows.rating_gap.tolist() == [v.rating_gap.estimate for v in own.verdicts]
        played.append(set(pd.read_parquet(run_dir / f"seed-{seed}" / "matches.parquet").seed))
    assert played[0].isdisjoint(played[1])  # evaluation seeds differ between run seeds
    result = rundir.read_over_seeds(RunDir(run_dir))
    assert isinstance(result, records.OverSeeds)
    for v in result.verdicts:
        assert v.seeds == 2 and "over 2 seeds" in v.verdict
        assert v.rating_gap.estimate == pytest.approx(frame[frame.arm == v.arm].rating_gap.mean())
        assert 0 <= v.probability_of_improvement.estimate <= 1
    # `swarm resume` finishes a run cut off after seed 0: seed 1 is run again, to the same result
    finished = (run_dir / "seed-0" / "summary.json").stat().st_mtime_ns
    ledger = pd.read_parquet(run_dir / "seed-1" / "ledger.parquet")
    (run_dir / "summary.json").unlink()
    (run_dir / "seed-1" / "summary.json").unlink()
    resume = [sys.executable, "-m", "swarm", "resume", str(run_dir)]
    done = subprocess.run(resume, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert (run_dir / "seed-0" / "summary.json").stat().st_mtime_ns == finished
    again = pd.read_parquet(run_dir / "seed-1" / "ledger.parquet")
    pd.testing.assert_frame_equal(
        again.drop(columns=["core_seconds", "cum_core_seconds"]),
        ledger.drop(columns=["core_seconds", "cum_core_seconds"]),
    )
    assert [v.verdict for v in rundir.read_over_seeds(RunDir(run_dir)).verdicts] == [
        v.verdict for v in result.verdicts
    ]
    noop = subprocess.run(resume, capture_output=True, text=True, timeout=300)
    assert noop.returncode == 0 and "nothing to resume" in noop.stdout


def test_selection_spend_counts_the_moves_each_player_made(make_config):
    """Of a board game of L moves the first seat made ceil(L / 2), the other the rest; in a cooperative game
    each team made every move of its own episode; in a role game each player the moves of its role's seats
    in its own episode."""
    games = pd.DataFrame(
        {"stage": "selection", "player_0": ["swarm/0", "swarm/1"], "player_1": ["swarm/1", "swarm/0"]}
    )
    board = experiment.selection_spend(config.parse(make_config()), games.assign(length=[9, 10]))
    assert board.set_index("agent").agent_steps[["swarm/0", "swarm/1"]].tolist() == [5 + 5, 4 + 5]
    pytest.importorskip("mpe2")
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs={"max_cycles": 5})
    data["evaluation"] |= {"ladder": ["random"]}
    teams = experiment.selection_spend(config.parse(data), games.assign(length=[15, 15]))
    assert teams.set_index("agent").agent_steps[["swarm/0", "swarm/1"]].tolist() == [30, 30]
    tag = {**data, "env": "mpe2.simple_tag_v3"}  # 3 predators (seats 0-2) and a prey: 5 moves each
    roles = experiment.selection_spend(
        config.parse(tag), games.assign(length=20, role=["adversary", "agent"])
    )
    assert roles.set_index("agent").agent_steps[["swarm/0", "swarm/1"]].tolist() == [15 + 5, 15 + 5]


@pytest.mark.parametrize("picked_by,charge", [("peers", True), ("ladder", "auto")])
def test_charged_selection_stays_inside_each_share(tmp_path, make_config, picked_by, charge):
    """Charged selection games come out of the reserve each agent held back; against the ladder (whose 3
    members are as many opponents as an agent's 3 peers) as in a round-robin, and by default (auto) where
    the worst case is 49% of a share."""
    data = make_config(
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "swarm", "agents": 4, "interaction": "population"},
        ]
    )
    data["evaluation"] |= {"selection": picked_by, "charge_selection": charge, "max_game_length": 42}
    data["evaluation"] |= {"verdict_games": 2, "ladder_games": 2, "curve_points": 0, "bootstrap": 100}
    cfg = config.parse(data)
    reserve = 3 * 4 * 21  # 3 opponents x 4 games x at most 21 own moves
    assert cfg.selection_reserve(cfg.arms[1]) == reserve
    run_dir, summary = experiment.run(cfg, tmp_path)
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    swarm = ledger[ledger.arm == "swarm"]
    training = swarm[swarm.stage == "training"].groupby("agent").agent_steps.sum()
    selection = swarm[swarm.stage == "selection"].set_index("agent").agent_steps
    share = cfg.budget.total // 4
    assert (training == share - reserve).all()
    assert (selection > 0).all() and (selection <= reserve).all()
    assert summary.arms["swarm"].spent["agent_steps"] == training.sum() + selection.sum()
    assert summary.arms["swarm"].selection_cost["agent_steps"] == selection.sum()
    assert summary.arms["swarm"].selection_charged and not summary.arms["single"].selection_charged
    assert set(ledger[ledger.arm == "single"].stage) == {"training"}
    picked = pd.read_parquet(run_dir / "matches.parquet").query("stage == 'selection'")
    outsiders = (set(picked.player_0) | set(picked.player_1)) - set(cfg.arms[1].agent_ids)
    assert outsiders == (set(cfg.evaluation.ladder) if picked_by == "ladder" else set())


def test_arms_with_their_own_settings_train_meet_and_a_flop_budget_binds_them(tmp_path, make_config):
    """The single agent with its own ppo and network blocks (twice as wide as the 4-agent arms, its own
    batches and learning rate), all on 2e8 FLOPs with charged selection: it trains in its own batches with
    its own network; every agent ends within one step's bound of its share and never above it, every arm
    within one batch of the total; the wide agent buys fewer agent-steps; its agents meet the others' (of
    another width) in every held-out stage; the report shows the budget in FLOPs and the settings side by
    side."""
    from swarm.training import cost

    data = make_config(budget={"unit": "flops", "total": 2 * 10**8})
    data["arms"][0] |= {"ppo": {"rollout_steps": 512, "lr": 0.001}, "network": {"hidden": [64]}}
    data["evaluation"] |= {"charge_selection": True, "max_game_length": 42, "ladder": ["random", "heuristic"]}
    cfg = config.parse(data)
    assert cfg.for_arm(0).ppo.envs == cfg.ppo.envs and cfg.for_arm(1) is cfg
    run_dir, summary = experiment.run(cfg, tmp_path)
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    for a, arm in enumerate(cfg.arms):
        price, reserve = cost.of(cfg, a), cfg.selection_reserve(arm)
        mine = ledger[ledger.arm == arm.name]
        training = mine[mine.stage == "training"].groupby("agent").flops.sum()
        share = cfg.budget.total // arm.agents - reserve
        assert len(training) == arm.agents and (training <= share).all()
        assert (training > share - price.per_step - price.per_round).all()
        assert (mine[mine.stage == "selection"].flops <= reserve).all()
        spent = summary.arms[arm.name].spent
        batch = price.least_per_step * cfg.for_arm(arm).ppo.rollout_steps
        assert cfg.budget.total - batch <= spent["flops"] <= cfg.budget.total
        assert spent["agent_steps"] > 0 and spent["core_seconds"] > 0
    steps = {name: arm.spent["agent_steps"] for name, arm in summary.arms.items()}
    assert steps["single"] < 0.7 * steps["swarm"]  # its agent-steps cost twice as much
    rows = pd.read_parquet(run_dir / "training.parquet")
    single = rows[rows.arm == "single"].agent_steps
    assert single.max() == 512 and (single <= 512).all()  # its batches, the last ones what is left
    assert (rows[rows.arm == "swarm"].agent_steps <= 256).all()
    assert rows[rows.arm == "single"].lr.max() == pytest.approx(0.001)
    assert load_weights(RunDir(run_dir).weights("single/0"))["actor.0.weight"].shape[0] == 64
    matches = pd.read_parquet(run_dir / "matches.parquet")
    crossplay = matches[matches.stage == "crossplay"]
    assert ((crossplay.player_0 == "single/0") | (crossplay.player_1 == "single/0")).sum() > 0
    report.write(run_dir)
    written = (run_dir / "report.md").read_text()
    assert "| budget (flops) | 200,000,000 |" in written
    assert "| ppo.lr | 0.001 | 0.0003 | 0.0003 |" in written
    assert "| network.hidden | 64 | 32 | 32 |" in written


def card_game(make_config, verdict_games: int, **changes) -> dict:
    """A tiny file of one of PettingZoo's hold'em games (rlcard): single against 3 interacting agents,
    random the only ladder member (the searches would see hidden cards)."""
    pytest.importorskip("rlcard")
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play"},
        {"name": "swarm", "agents": 3, "interaction": "population"},
    ]
    data = make_config(arms=arms, **changes)
    data["evaluation"] |= {"ladder": ["random"], "curve_points": 0, "verdict_games": verdict_games}
    data["evaluation"]["bootstrap"] = 100
    return data


def test_a_game_of_three_players_trains_and_judges_side_against_side(tmp_path, make_config):
    """Texas hold'em for three: agents train against two opponents a game, and every held-out game seats the
    two players' sides in turn (seats 0 and 2 against seat 1); a side's reward is its mean per seat, scored by
    chips over the bound for three (75 big blinds). The two bests and random also play free-for-all games,
    every one in every seat, rated by Plackett-Luce."""
    data = card_game(make_config, 8, env="classic/texas_holdem-v4", env_kwargs={"num_players": 3})
    data["evaluation"]["ffa_games"] = 2
    run_dir, summary = experiment.run(config.parse(data), tmp_path)
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert (ledger.groupby("arm").agent_steps.sum() == 2048).all()
    training = pd.read_parquet(run_dir / "training.parquet")
    assert (training.games > 0).all() and training.score.between(0, 1).all()
    matches = pd.read_parquet(run_dir / "matches.parquet")
    margin = matches.reward_0 - matches.reward_1
    assert not ((matches.outcome == "player_0") & (margin <= 0)).any()
    assert not ((matches.outcome == "player_1") & (margin >= 0)).any()
    assert (margin.abs() <= 75).all() and config.parse(data).payoff_bound == 75
    verdict_games = matches[matches.stage == "verdict"]
    bests = {summary.arms["single"].best, summary.arms["swarm"].best}
    assert len(verdict_games) == 8 and set(verdict_games.player_0) == bests == set(verdict_games.player_1)
    assert summary.verdicts[0].record.games == 8 and summary.verdicts[0].verdict
    free_for_all = pd.read_parquet(RunDir(run_dir).free_for_all)
    assert len(free_for_all) == 3 * 3 * 2  # one lineup of three, each player 2 games in each seat
    assert (free_for_all.groupby(["player", "seat"]).size() == 2).all()
    assert set(free_for_all.player) == {*bests, "random"} and free_for_all.reward.sum() == pytest.approx(0)
    assert {r.player for r in summary.free_for_all} == {*bests, "random"}
    assert rundir.read_seed_summary(RunDir(run_dir)).free_for_all == summary.free_for_all
    report.write(run_dir)
    assert "## Free-for-all ratings" in (run_dir / "report.md").read_text()


def test_a_payoff_game_is_judged_by_its_chips(tmp_path, make_config):
    """Leduc hold'em is scored by payoff: every result agrees in sign with its margin (a win only where
    player_0 won chips), and the report prints each best's mean margin over the baseline's beside the
    verdict."""
    data = card_game(make_config, 40, env="classic/leduc_holdem-v4")
    run_dir, summary = experiment.run(config.parse(data), tmp_path)
    matches = pd.read_parquet(run_dir / "matches.parquet")
    margin = matches.reward_0 - matches.reward_1
    assert not ((matches.outcome == "player_0") & (margin <= 0)).any()
    assert not ((matches.outcome == "player_1") & (margin >= 0)).any()
    assert ((matches.outcome == "draw") | (margin != 0)).all() and (margin.abs() <= 14).all()
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["evaluation"]["score"] == "payoff"
    report.write(run_dir)
    written = (run_dir / "report.md").read_text()
    assert "Games are scored by payoff" in written
    assert f"{summary.verdicts[0].record.player} vs {summary.verdicts[0].record.opponent}: " in written


def test_a_continuous_game_trains_gaussian_agents_and_judges_their_teams(tmp_path, make_config):
    """MPE2's simple_spread with Box actions, end to end: Gaussian agents train on their shares (their
    log-std learned; the single agent learning from every seat its current self fills, so it plays fewer
    games), and the held-out games pair teams on one scenario, random drawing in the Box."""
    pytest.importorskip("mpe2")
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play", "opponents": {"every_seat": True}},
        {"name": "swarm", "agents": 2, "interaction": "population"},
    ]
    kwargs = {"continuous_actions": True, "max_cycles": 5}
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs=kwargs, arms=arms)
    data["budget"]["total"] = 1024
    data["evaluation"] |= {
        "ladder": ["random"],
        "curve_points": 0,
        "verdict_games": 8,
        "bootstrap": 100,
        "teamwork_games": 2,
    }
    cfg = config.parse(data)
    assert cfg.evaluation.kind == "cooperative"
    run_dir, summary = experiment.run(cfg, tmp_path)
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert (ledger.groupby("arm").agent_steps.sum() == 1024).all()
    games = pd.read_parquet(run_dir / "training.parquet").groupby("arm").games.sum()
    assert games["single"] < games["swarm"]  # on the same agent-steps: two or three learning seats a game
    for agent in ("single/0", "swarm/0", "swarm/1"):
        log_std = load_weights(RunDir(run_dir).weights(agent))["head.log_std"]
        assert log_std.shape == (5,) and (log_std != 0).any()
    matches = pd.read_parquet(run_dir / "matches.parquet")
    ladder = matches[matches.stage == "ladder"]
    assert len(ladder) and "random" in set(ladder.player_0) | set(ladder.player_1)
    assert (matches.length == 3 * 5).all()
    assert summary.verdicts[0].record.games == 8
    # ad-hoc teamwork: each best in each seat with the other's best and random, 2 games each
    loaded = analysis.load_run(run_dir)
    teamwork, bests = loaded.teamwork, {a.best for a in summary.arms.values()}
    assert len(teamwork) == 2 * 2 * 3 * 2 and (teamwork.length == 3 * 5).all()
    assert set(teamwork.partner) == {*bests, "random"} and set(teamwork.best) == bests
    assert set(analysis.teamwork_table(loaded).partners) == {"all", *bests, "random"}
