"""Loading run directories into tidy frames, and the figures drawn from them, on a real tiny two-seed run."""

from __future__ import annotations

import dataclasses
import shutil

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from swarm import analysis, report
from swarm.evaluation import significance, stats
from swarm.results import rundir
from swarm.results.rundir import SweepDir

CONFIG_COLUMNS = ["run", "name", "env", "seed", "budget", "baseline"]


@pytest.fixture(scope="module")
def top(multi_seed_run):
    return multi_seed_run


@pytest.fixture(scope="module")
def one(top):
    return analysis.load_run(top / "seed-0")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_every_frame_carries_the_config_columns(one, top):
    cfg = analysis.load_run(top).config
    arms = {a["name"]: a for a in cfg["arms"]}
    for name in analysis.TABLES:
        frame = getattr(one, name)
        assert list(frame.columns[: len(CONFIG_COLUMNS)]) == CONFIG_COLUMNS, name
        assert set(frame.run) <= {"seed-0"} and set(frame.seed) <= {0}
        assert (
            set(frame.name) <= {"tiny"} and set(frame.budget) <= {2048} and set(frame.baseline) <= {"single"}
        )
        agents = frame[frame.arm.isin(arms)]
        assert (agents.agents == agents.arm.map(lambda a: arms[a]["agents"])).all(), name
        assert (agents.interaction == agents.arm.map(lambda a: arms[a]["interaction"])).all(), name
    ladder = one.ratings[one.ratings.arm == "ladder"]
    assert set(ladder.player) == set(cfg["evaluation"]["ladder"]) and ladder.agents.isna().all()
    assert "game_seed" in one.matches.columns and one.matches.game_seed.is_unique


def test_arm_agent_steps_end_at_the_arms_spend(one):
    spent = {arm: a.spent["agent_steps"] for arm, a in one.summary.arms.items()}
    for arm, rows in one.training.groupby("arm"):
        steps = rows.sort_values("round").drop_duplicates("round").arm_agent_steps
        assert steps.is_monotonic_increasing and steps.iloc[-1] == spent[arm]


def test_a_missing_table_is_named(top, tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(top / "seed-0", seed, ignore=shutil.ignore_patterns("checkpoints", "curve.parquet"))
    with pytest.raises(FileNotFoundError, match=r"curve\.parquet: missing"):
        analysis.load_run(seed)


def test_a_run_older_than_the_teamwork_table_loads_without_it(top, tmp_path):
    seed = tmp_path / "seed"
    shutil.copytree(top / "seed-0", seed, ignore=shutil.ignore_patterns("checkpoints", "teamwork.parquet"))
    run = analysis.load_run(seed)
    assert run.teamwork.empty and {"game_seed", "partner", "team_return"} <= set(run.teamwork.columns)
    assert analysis.teamwork_table(run).empty


def test_multi_seed_run_stacks_every_seed(top, one):
    run = analysis.load_run(top)
    assert run.multi_seed and sorted(run.seed_summaries) == [("tiny-multi-seed", 0), ("tiny-multi-seed", 1)]
    for name in analysis.TABLES:
        frame = getattr(run, name)
        stacked = {0, 1} if len(frame) else set()  # free_for_all: none in a game of two seats
        assert set(frame.seed) == stacked and set(frame.run) <= {"tiny-multi-seed"}, name
        assert len(frame[frame.seed == 0]) == len(getattr(one, name)), name
    assert list(run.per_seed.seed) == [0, 0, 1, 1]  # the seeds' own, not the top config's seed
    assert run.summary == rundir.read_over_seeds(rundir.RunDir(top))


def test_load_runs_tells_runs_apart(top):
    runs = analysis.load_runs([top / "seed-0", top / "seed-1"])
    assert set(runs.ratings.run) == {"seed-0", "seed-1"} and set(runs.ratings.seed) == {0, 1}
    with pytest.raises(ValueError, match="2 runs"):
        _ = runs.summary


def test_winners_curse_agrees_with_the_summary(one):
    frame = analysis.winners_curse(one.matches)
    for arm, summary in one.summary.arms.items():
        rows = frame[frame.arm == arm]
        if summary.agents == 1:
            assert rows.empty
            continue
        assert len(rows) == summary.agents and rows.chosen.sum() == 1
        chosen = rows[rows.chosen].iloc[0]
        assert chosen.player == summary.best
        assert chosen.selection_score == pytest.approx(summary.selection_score)
        assert chosen.held_out_score == pytest.approx(summary.held_out_score)


def test_players_come_in_config_order(one):
    order = list(dict.fromkeys(one.pairs.player))
    arms = [analysis.arm_of(p) for p in order]
    assert arms == sorted(arms, key=["single", "independent", "swarm", "ladder"].index)
    assert order[-3:] == ["random", "heuristic", "trained-512"]
    assert order[1:4] == [f"independent/{i}" for i in range(3)]


def test_tables_for_the_report(one, top):
    spend = analysis.spend_table(one).set_index("")
    for arm, summary in one.summary.arms.items():
        assert spend.loc["spent agent_steps", arm] == f"{summary.spent['agent_steps']:,.0f}"
    assert len(analysis.ratings_table(one)) == len(one.ratings[one.ratings.fit == "held_out"])
    assert [line.split(":")[0] for line in analysis.verdict_lines(one)] == [
        v.verdict for v in one.summary.verdicts
    ]
    multi = analysis.load_run(top)
    assert analysis.verdict_lines(multi) == [v.verdict for v in multi.summary.verdicts]
    assert set(analysis.spend_table(multi).seed) == {0, 1}


def test_the_verdict_by_role_splits_each_bests_verdict_games_by_the_role_they_played(one):
    """Where games are judged by role (here the real run relabelled, games taking two roles in turn), the
    report's table splits each best's verdict games by role: the roles' records add up to the verdict's."""
    assert analysis.roles_table(one).empty and report._roles(one) == []  # Connect Four: one role
    judged = {**one.config, "evaluation": {**one.config["evaluation"], "kind": "roles"}}
    relabelled = dataclasses.replace(
        one,
        matches=one.matches.assign(role=np.where(one.matches.game_seed % 2 == 0, "hunter", "prey")),
        configs=dict.fromkeys(one.configs, judged),
    )
    table = analysis.roles_table(relabelled)
    for v in one.summary.verdicts:
        rows = table[table["arm's best"] == v.arm]
        records = rows["record (W / D / L)"].str.split(" / ", expand=True).astype(int).sum()
        assert records.tolist() == [v.record.wins, v.record.draws, v.record.losses]
        assert rows.role.tolist() == ["hunter", "prey"] or rows.role.tolist() == ["prey", "hunter"]
    assert isinstance(report._roles(relabelled)[-1], report.Table)


def test_an_arms_curve_is_the_mean_of_its_agents_with_the_middle_half_around_it(top):
    training = analysis.load_run(top).training
    curves = analysis.arm_curves(training).set_index(["arm", "arm_agent_steps"])
    for (arm, steps), rows in training.groupby(["arm", "arm_agent_steps"]):
        curve = curves.loc[(arm, steps)]
        assert curve.score == pytest.approx(rows.score.mean())
        assert (curve.low, curve.high) == pytest.approx(tuple(rows.score.quantile([0.25, 0.75])))
        assert curve.curves == len(rows) == 2 * rows.agents.iloc[0]  # every agent of both seeds
    assert len(curves) == training.groupby("arm").arm_agent_steps.nunique().sum()


def test_smoothing_is_a_centred_window_of_a_25th_of_the_rounds():
    rounds = np.arange(100)
    frame = pd.DataFrame(
        {"arm": "a", "agent": "a/0", "arm_agent_steps": 10 * rounds, "score": (rounds % 2).astype(float)}
    )
    smooth = analysis.arm_curves(frame, smooth=True).score
    # 100 rounds: a window of 5, centred, so round 10 averages rounds 8 to 12 (0, 1, 0, 1, 0)
    assert smooth.iloc[10] == pytest.approx(0.4) and smooth.iloc[11] == pytest.approx(0.6)
    assert smooth.iloc[0] == pytest.approx(1 / 3)  # rounds 0 to 2: the window is cut at the ends, not padded
    short = analysis.arm_curves(frame.head(49), smooth=True).score  # under 50 rounds: a window of 1
    assert list(short) == list(frame.score.head(49))


def test_contrasts_are_the_summarys_verdicts_primary_first(one, top):
    contrasts = analysis.contrasts(one)
    verdicts = sorted(one.summary.verdicts, key=lambda v: not v.primary)
    assert list(contrasts.arm) == [v.arm for v in verdicts] and contrasts.primary.iloc[0]
    for row, v in zip(contrasts.itertuples(), verdicts, strict=True):
        assert (row.gap, row.gap_low, row.gap_high) == tuple(vars(v.rating_gap).values())
        assert row.players == f"{v.record.player} vs {v.record.opponent}" and row.seeds == 1
        assert row.significant == (v.adjusted_p < 0.05)
    multi = analysis.load_run(top)
    for row in analysis.contrasts(multi).itertuples():
        gaps = multi.per_seed[multi.per_seed.arm == row.arm].rating_gap
        assert row.gap == pytest.approx(gaps.mean()) and row.seeds == 2
        assert row.gap_low <= row.gap <= row.gap_high  # equal where every seed gave the same gap


def test_run_figures(one, top):
    fig = analysis.plot_learning_curves(one.training, one.curve)
    own, fixed = fig.axes
    arms = len(pd.unique(one.training.arm))
    assert len(own.get_lines()) == arms + 1  # one line per arm, and the line at 1/2
    assert len(fixed.get_lines()) == arms and len(own.collections) == arms  # and its band
    assert own.get_legend().get_texts()[0].get_text() == "single: 1 x self_play, 1 curve"
    for run, containers in ((one, 1), (analysis.load_run(top), 2)):  # over seeds: the seeds, and their mean
        ax = analysis.plot_verdict(run)
        contrasts = analysis.contrasts(run)
        assert len(ax.containers) == containers * len(contrasts)
        rows = dict(zip(ax.get_yticks(), (t.get_text() for t in ax.get_yticklabels()), strict=True))
        assert rows[max(rows)] == f"{contrasts.players.iloc[0]}\n(primary)"  # the primary on top
    ax = analysis.plot_ratings(one.ratings)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["single", "independent", "swarm", "ladder"]
    ax = analysis.plot_crossplay(one.pairs)
    assert len(ax.get_yticklabels()) == one.pairs.player.nunique()
    ax = analysis.plot_winners_curse(one.matches)
    assert ax.get_xlim() == ax.get_ylim()


def test_sweep_cells_use_seeds_when_there_are_several(sweep_frame):
    frame = sweep_frame
    cells = analysis.sweep_cells(frame)
    assert len(cells) == 2 * 2 * 3
    several = cells[cells.n == 2]
    assert (several.seeds == 3).all()
    for row in several.itertuples():
        gaps = frame[(frame.arm == row.arm) & (frame.budget == row.budget) & (frame.n == 2)].rating_gap
        assert (row.gap, row.gap_low, row.gap_high) == pytest.approx(
            stats.mean_interval(gaps.to_numpy(), 0.95)
        )
        assert row.gap_low <= row.gap <= row.gap_high  # equal where every seed gave the same gap
    single = cells[cells.n == 8].iloc[0]
    own = frame[(frame.arm == single.arm) & (frame.budget == single.budget) & (frame.n == 8)].iloc[0]
    assert (single.gap_low, single.gap_high) == (own.gap_low, own.gap_high)
    assert (single.p_value, cells.seeds.sum()) == (own.p_value, 2 * 2 * 3 + 2 * 2 * 2)
    # the map is one family: Holm's adjusted p is never below the cell's own, and decides significance
    assert (cells.adjusted_p >= cells.p_value).all()
    assert (cells.significant == (cells.adjusted_p < 0.05)).all()
    for _, rows in cells.groupby("arm"):
        assert list(rows.adjusted_p) == pytest.approx(significance.holm(list(rows.p_value)))


def test_sweep_figures(sweep_frame):
    frame = sweep_frame
    cells = analysis.sweep_cells(frame)
    ax = analysis.plot_gap_vs_n(frame)
    assert len(ax.containers) == 4  # one line per arm and budget
    assert ax.get_xscale() == "log"
    fig = analysis.plot_verdict_map(frame)
    assert len(fig.axes) == 4  # two panels and their colour bars
    for ax, arm in zip(fig.axes[:2], ["independent", "swarm"], strict=True):
        outlined = [p for p in ax.patches if isinstance(p, Rectangle)]
        assert len(outlined) == cells[cells.arm == arm].significant.sum()
        assert len(ax.texts) == 6  # one annotation per (N, budget)


def test_frontier_figure_and_sweep_report_section(sweep_frame, tmp_path):
    """Two budgets: a line for the single agent and for each compared arm and N > 1, and the sweep report's
    section with the lines' table, a crossing line per curve and the figure."""
    ax = analysis.plot_frontier(sweep_frame)
    assert len(ax.lines) == 1 + 2 * 3 and ax.get_xscale() == "log"
    rundir.write_parquet(sweep_frame, rundir.start(SweepDir(tmp_path)).table)
    report.write_sweep(tmp_path)
    written = (tmp_path / "report.md").read_text()
    assert "## Compute frontier" in written and "figures/frontier.png" in written
    assert (
        written.count("no crossing in sight for")
        + written.count("would catch up")
        + written.count("already rated at or above")
        == 6
    )


def test_free_for_all_over_seeds_averages_each_best_and_its_gap_seed_by_seed():
    from types import SimpleNamespace as NS

    from swarm.results.records import FreeForAllRating

    def seed(single: float, swarm: float) -> NS:
        rated = [
            FreeForAllRating(p, r, r - 50, r + 50, 40, 2.0)
            for p, r in [("single/0", single), ("swarm/3", swarm), ("random", 0.0)]
        ]
        return NS(free_for_all=rated, arms={"single": NS(best="single/0"), "swarm": NS(best="swarm/3")})

    config = {"seeds": [0, 1, 2], "arms": [{"name": "single"}, {"name": "swarm"}]}
    run = NS(multi_seed=True, config=config, summary=NS(confidence=0.95), seed_summaries={})
    run.seed_summaries = {("r", s): seed(a, b) for s, (a, b) in enumerate([(100, 40), (120, 70), (110, 40)])}
    table = analysis.free_for_all_over_seeds(run).set_index("arm")
    single = stats.mean_interval(np.array([100.0, 120, 110]), 0.95)
    gap = stats.mean_interval(np.array([-60.0, -50, -70]), 0.95)
    assert table.loc["single", "best's rating"] == "{:+.0f} [{:+.0f}, {:+.0f}]".format(*single)
    assert table.loc["swarm", "over single's best (95%)"] == "{:+.0f} [{:+.0f}, {:+.0f}]".format(*gap)
    assert table.loc["single", "over single's best (95%)"] == "-"
    run.seed_summaries[("r", 2)].free_for_all = []  # a seed without free-for-all games: no table
    assert analysis.free_for_all_over_seeds(run).empty
    assert analysis.free_for_all_over_seeds(NS(multi_seed=False)).empty
