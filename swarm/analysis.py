"""Read run directories into tidy frames and draw them: what the report and the notebooks share.

A run directory is enough: this module imports no torch, no Ray and nothing of swarm that does, so a run
copied to another machine can be analysed there. Every frame comes back with the run's config columns
joined on (`run`, `name`, `env`, `seed`, `budget`, `baseline`, and the arm's `agents` and `interaction`
where the frame has an `arm` column), so frames from several runs or seeds stack with no reshaping. In
`matches`, `seed` is the run seed as everywhere else; the game's own seed is `game_seed`.

Figures: learning curves (score against training opponents, and against `random` at checkpoints), every
agent's held-out rating by arm, the cross-play matrix, the winner's curse (selection score vs held-out
score against the same agents), and for a sweep the best-of-N rating gap against N and over (N, budget).
Each plotting function draws on the Axes it is given, or on a new pyplot figure (shown inline in a
notebook); the report passes Axes of figures it saves itself, so no backend is forced here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import yaml
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from swarm.evaluation import stats

TABLES = ("ledger", "training", "matches", "ratings", "crossplay")
CURVE_COLUMNS = ["arm", "agent", "checkpoint", "agent_steps", "arm_agent_steps", "opponent", "games", "score"]
SEAT_0_SCORE = {"player_0": 1.0, "draw": 0.5, "player_1": 0.0}  # by outcome; seat 1 scores 1 minus it
LADDER = "ladder"  # the arm of reference players in ratings and cross-play
LINESTYLES = ["-", "--", ":", "-."]


# ---- loading -------------------------------------------------------------------------------------------


@dataclass
class Run:
    """One or more run directories, every finished seed included, as tidy frames stacked on run and seed."""

    ledger: pd.DataFrame
    training: pd.DataFrame
    matches: pd.DataFrame
    ratings: pd.DataFrame
    crossplay: pd.DataFrame
    curve: pd.DataFrame  # scores against random at checkpoints; empty for runs written before it existed
    per_seed: pd.DataFrame  # one row per seed and compared arm; empty for single-seed runs
    summaries: dict[str, dict]  # run -> its top summary.json (the verdict over seeds for a multi-seed run)
    configs: dict[str, dict]  # run -> its top config.yaml
    seed_summaries: dict[tuple[str, int], dict]  # (run, seed) -> that seed's summary.json

    @property
    def summary(self) -> dict:
        return self.summaries[self._only()]

    @property
    def config(self) -> dict:
        return self.configs[self._only()]

    @property
    def multi_seed(self) -> bool:
        return self.config.get("seeds") is not None

    def _only(self) -> str:
        if len(self.configs) != 1:
            raise ValueError(f"{len(self.configs)} runs are loaded here; load one with load_run")
        return next(iter(self.configs))


def load_run(path: str | Path) -> Run:
    """One run directory; for a multi-seed run every `seed-<s>/` with a summary.json, stacked on `seed`."""
    path = Path(path)
    config = _read_yaml(path / "config.yaml")
    summary = json.loads(_need(path / "summary.json").read_text())
    if config.get("seeds") is None:
        seed_dirs, per_seed = [path], pd.DataFrame()
    else:
        seed_dirs = [
            path / f"seed-{s}" for s in config["seeds"] if (path / f"seed-{s}" / "summary.json").is_file()
        ]
        per_seed = _with_config(pd.read_parquet(_need(path / "per_seed.parquet")), path.name, config)
    seeds = [_load_seed(d, path.name) for d in seed_dirs]
    frames = {name: _stack([s[0][name] for s in seeds]) for name in (*TABLES, "curve")}
    return Run(
        **frames,
        per_seed=per_seed,
        summaries={path.name: summary},
        configs={path.name: config},
        seed_summaries={(path.name, int(s[1]["seed"])): s[1] for s in seeds},
    )


def load_runs(paths: Sequence[str | Path]) -> Run:
    """Several run directories stacked; the `run` column (the directory's name) tells them apart."""
    runs = [load_run(p) for p in paths]
    frames = {name: _stack([getattr(r, name) for r in runs]) for name in (*TABLES, "curve", "per_seed")}
    return Run(
        **frames,
        summaries={k: v for r in runs for k, v in r.summaries.items()},
        configs={k: v for r in runs for k, v in r.configs.items()},
        seed_summaries={k: v for r in runs for k, v in r.seed_summaries.items()},
    )


def load_sweep(path: str | Path) -> pd.DataFrame:
    """A sweep's table, one row per cell, seed and compared arm; `path` is the sweep directory or the file."""
    path = Path(path)
    return pd.read_parquet(_need(path / "sweep.parquet" if path.is_dir() else path))


def _load_seed(path: Path, run: str) -> tuple[dict[str, pd.DataFrame], dict]:
    """One seed's tables, each with the config columns joined on, and its summary.json."""
    config = _read_yaml(path / "config.yaml")
    frames = {name: pd.read_parquet(_need(path / f"{name}.parquet")) for name in TABLES}
    curve = path / "curve.parquet"
    frames["curve"] = pd.read_parquet(curve) if curve.is_file() else pd.DataFrame(columns=CURVE_COLUMNS)
    frames["training"] = _with_arm_steps(frames["training"], frames["ledger"])
    frames["matches"] = frames["matches"].rename(columns={"seed": "game_seed"})
    frames["crossplay"]["arm"] = frames["crossplay"].player.map(_arm_of)
    rank = {"held_out": 0, "all": 1} | _player_order(config)
    frames["ratings"] = frames["ratings"].sort_values(["fit", "player"], key=lambda c: c.map(rank))
    frames["crossplay"] = frames["crossplay"].sort_values(["player", "opponent"], key=lambda c: c.map(rank))
    frames = {name: _with_config(frame, run, config) for name, frame in frames.items()}
    return frames, json.loads((path / "summary.json").read_text())


def _with_arm_steps(training: pd.DataFrame, ledger: pd.DataFrame) -> pd.DataFrame:
    """Add the arm's total agent-steps after each round, from the ledger, to runs that did not record it."""
    if "arm_agent_steps" in training.columns:
        return training
    rounds = ledger[ledger.stage == "training"].groupby(["arm", "round"]).agent_steps.sum()
    spent = rounds.groupby(level="arm").cumsum().rename("arm_agent_steps").reset_index()
    return training.merge(spent, on=["arm", "round"], how="left")


def _with_config(frame: pd.DataFrame, run: str, config: dict) -> pd.DataFrame:
    """Put the config's columns first and the arm's beside `arm`; a column the frame has is kept (per_seed's
    `seed` is the seed, not the top config's)."""
    arms = pd.DataFrame(
        {
            "arm": [a["name"] for a in config["arms"]],
            "agents": pd.array([a["agents"] for a in config["arms"]], dtype="Int64"),
            "interaction": [a["interaction"] for a in config["arms"]],
        }
    )
    columns = {
        "run": run,
        "name": config["name"],
        "env": config["env"],
        "seed": config["seed"],
        "budget": config["budget"]["total"],
        "baseline": config.get("baseline") or config["arms"][0]["name"],
    }
    columns = {k: v for k, v in columns.items() if k not in frame.columns}
    frame = frame.assign(**columns)[[*columns, *frame.columns]]
    return frame.merge(arms, on="arm", how="left") if "arm" in frame.columns else frame


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, leaving out empty frames (pandas warns when they take part in choosing dtypes)."""
    full = [f for f in frames if not f.empty]
    return pd.concat(full or frames[:1], ignore_index=True)


def _arm_of(player: str) -> str:
    return player.split("/")[0] if "/" in player else LADDER


def _player_order(config: dict) -> dict[str, int]:
    """Agents by arm (config order) then index, then ladder members in the ladder's order."""
    order = [f"{a['name']}/{i}" for a in config["arms"] for i in range(a["agents"])]
    return {p: k for k, p in enumerate([*order, *config["evaluation"]["ladder"]])}


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(_need(path).read_text())


def _need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; is this a finished swarm run directory?")
    return path


# ---- tables --------------------------------------------------------------------------------------------


def scores(matches: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Each player's mean score (1 win, 0.5 draw, 0 loss) and games, from either seat, within `by` groups."""
    seat0 = matches.outcome.map(SEAT_0_SCORE)
    keep = list(by)
    long = pd.concat(
        [
            matches[keep].assign(player=matches.player_0, score=seat0),
            matches[keep].assign(player=matches.player_1, score=1 - seat0),
        ]
    )
    return long.groupby([*keep, "player"], sort=False).score.agg(score="mean", games="count").reset_index()


def winners_curse(matches: pd.DataFrame) -> pd.DataFrame:
    """Every agent of every multi-agent arm: its selection score, its held-out score against its own arm
    (cross-play on fresh seeds), and whether it was chosen (top selection score, ties to the lowest index)."""
    by = [c for c in ("run", "seed") if c in matches.columns] + ["arm"]
    selection = scores(matches[matches.stage == "selection"], by)
    own = matches[(matches.stage == "crossplay") & (matches.arm != "")]
    frame = selection.merge(scores(own, by), on=[*by, "player"], suffixes=("_selection", "_held_out"))
    frame = frame.rename(columns={"score_selection": "selection_score", "score_held_out": "held_out_score"})
    ranked = frame.assign(index=frame.player.str.split("/").str[1].astype(int), top=-frame.selection_score)
    first = ranked.sort_values([*by, "top", "index"]).groupby(by, sort=False).head(1)
    frame["chosen"] = frame.index.isin(first.index)
    return frame


def verdict_lines(run: Run) -> list[str]:
    """The verdicts: over seeds for a multi-seed run, else each arm's best against the baseline's."""
    if run.multi_seed:
        return [v["verdict"] for v in run.summary["verdicts"]]
    lines = []
    for v in run.summary["verdicts"]:
        lines.append(
            f"{v['verdict']}: {v['player']} vs {v['opponent']} {v['wins']} W / {v['draws']} D / "
            f"{v['losses']} L, score {v['score']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}], "
            f"rating gap {_gap(v['rating_gap'])}"
        )
    return lines


def gain_lines(run: Run) -> list[str]:
    """A one-seed run's gain over the baseline split in two: from selection (best of N isolated agents vs the
    baseline) and from interaction (the interacting arm's best vs that control's best)."""
    if run.multi_seed:
        return []
    return [
        f"gain from selection ({g['control']} best vs {g['baseline']}): {_gap(g['selection_gain'])}; "
        f"from interaction ({g['arm']} best vs {g['control']} best): {_gap(g['interaction_gain'])}"
        for g in run.summary["gains"]
    ]


def spend_table(run: Run) -> pd.DataFrame:
    """The ledger side by side per arm, one block per seed: budget, spend in every unit, selection cost."""
    blocks = []
    for (_, seed), summary in run.seed_summaries.items():
        arms = summary["arms"]
        rows = {
            "agents x interaction": [f"{a['agents']} x {a['interaction']}" for a in arms.values()],
            "budget (agent_steps)": [f"{a['budget']['total']:,}" for a in arms.values()],
            "spent agent_steps": [f"{a['spent']['agent_steps']:,.0f}" for a in arms.values()],
            "spent GFLOPs": [f"{a['spent']['flops'] / 1e9:,.1f}" for a in arms.values()],
            "spent core-seconds": [f"{a['spent']['core_seconds']:,.1f}" for a in arms.values()],
            "selection games' agent_steps": [
                f"{a['selection_cost']['agent_steps']:,}" + (" (charged)" if a["selection_charged"] else "")
                for a in arms.values()
            ],
            "best agent": [a["best"] for a in arms.values()],
            "best's selection score": [_maybe(a["selection_score"]) for a in arms.values()],
            "best's held-out score, same opponents": [_maybe(a["held_out_score"]) for a in arms.values()],
        }
        block = pd.DataFrame(rows, index=list(arms)).T.rename_axis("").reset_index()
        blocks.append(block.assign(seed=seed)[["seed", *block.columns]] if run.multi_seed else block)
    return pd.concat(blocks, ignore_index=True)


def ratings_table(run: Run) -> pd.DataFrame:
    """Held-out ratings, strongest first: every player for one seed; the chosen and the ladder per seed."""
    held = run.ratings[run.ratings.fit == "held_out"]
    if run.multi_seed:
        held = held[held.chosen | (held.arm == LADDER)]
    held = held.sort_values(["seed", "rating"], ascending=[True, False])
    confidence = run.summary["confidence"]
    table = pd.DataFrame(
        {
            "seed": held.seed,
            "player": held.player + np.where(held.chosen, " (best)", ""),
            "rating": held.rating.map("{:+.0f}".format),
            f"{confidence:.0%} interval": [
                f"[{lo:+.0f}, {hi:+.0f}]" for lo, hi in zip(held.ci_low, held.ci_high, strict=True)
            ],
            "games": held.games.map("{:,}".format),
            "score": held.score.map("{:.3f}".format),
        }
    )
    return (
        table.reset_index(drop=True) if run.multi_seed else table.drop(columns="seed").reset_index(drop=True)
    )


def sweep_cells(frame: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per compared arm, budget and N: the mean rating gap over the cell's seeds with its Student-t
    interval over seeds, or with one seed the cell's own interval (over games)."""
    rows = []
    for (arm, budget, n), cell in frame.groupby(["arm", "budget", "n"], sort=True):
        gaps = cell.rating_gap.to_numpy(float)
        if len(gaps) > 1:
            _, low, high = stats.mean_interval(gaps, confidence)
        else:
            low, high = cell.gap_low.iloc[0], cell.gap_high.iloc[0]
        rows.append(
            {
                "arm": arm,
                "budget": budget,
                "n": n,
                "seeds": len(gaps),
                "gap": gaps.mean(),
                "gap_low": float(low),
                "gap_high": float(high),
                "significant": bool(low > 0 or high < 0),
            }
        )
    return pd.DataFrame(rows)


def _maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _gap(gap: dict) -> str:
    return f"{gap['estimate']:+.0f} Elo [{gap['ci_low']:+.0f}, {gap['ci_high']:+.0f}]"


# ---- figures -------------------------------------------------------------------------------------------


def plot_learning_curves(
    training: pd.DataFrame, curve: pd.DataFrame | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Two panels against the arm's agent-steps spent, so arms on one budget share the x range: each agent's
    score against its training opponents (relative: they improve too), and against random (absolute)."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, layout="constrained")
    own, fixed = axes
    palette = _palette(training)
    _agent_lines(training, own, palette)
    own.set(title="score against its training opponents", xlabel="arm's agent-steps spent", ylabel="score")
    own.set_ylim(-0.02, 1.02)
    if curve is None or curve.empty:
        fixed.text(
            0.5, 0.5, "no curve.parquet in this run", ha="center", va="center", transform=fixed.transAxes
        )
    else:
        _agent_lines(curve[curve.opponent == "random"], fixed, palette)
    fixed.set(title="score against random at checkpoints", xlabel="arm's agent-steps spent")
    fixed.set_ylim(-0.02, 1.02)
    return own.figure


def _agent_lines(frame: pd.DataFrame, ax: Axes, palette: dict[str, tuple]) -> None:
    if frame.empty:
        return
    keys = [c for c in ("run", "seed") if c in frame.columns]
    units = frame[keys].astype(str).agg("/".join, axis=1) + "/" + frame.agent if keys else frame.agent
    sns.lineplot(
        data=frame.assign(unit=units),
        x="arm_agent_steps",
        y="score",
        hue="arm",
        hue_order=list(pd.unique(frame.arm)),
        palette=palette,
        units="unit",
        estimator=None,
        lw=0.8,
        alpha=0.7,
        ax=ax,
    )


def plot_ratings(ratings: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Every agent's held-out rating with its interval, one column per arm and one for the ladder; the
    chosen best of each arm starred, the baseline's best as a line every other agent can be read against."""
    if ax is None:
        ax = plt.subplots(figsize=(8, 5), layout="constrained")[1]
    held = ratings[ratings.fit == "held_out"]
    arms = list(pd.unique(held.arm))
    if LADDER in arms:
        arms = [*(a for a in arms if a != LADDER), LADDER]
    palette = _palette(held)
    for x, arm in enumerate(arms):
        rows = held[held.arm == arm]
        spread = np.linspace(-0.3, 0.3, len(rows)) if len(rows) > 1 else np.zeros(1)
        ax.errorbar(
            x + spread,
            rows.rating,
            yerr=[rows.rating - rows.ci_low, rows.ci_high - rows.rating],
            fmt="o",
            ms=4,
            elinewidth=0.8,
            color=palette[arm],
            alpha=0.8,
        )
        chosen = rows.chosen.to_numpy(bool)
        ax.scatter(
            x + spread[chosen],
            rows.rating[chosen],
            marker="*",
            s=200,
            color=palette[arm],
            edgecolor="black",
            zorder=3,
            label="chosen best" if x == 0 else None,
        )
        if arm == LADDER:
            for dx, row in zip(spread, rows.itertuples(), strict=True):
                ax.annotate(
                    row.player, (x + dx, row.rating), xytext=(5, 0), textcoords="offset points", fontsize=7
                )
    baseline = held[(held.arm == held.baseline) & held.chosen]
    for k, rating in enumerate(baseline.rating):
        label = f"{baseline.baseline.iloc[0]} best" if k == 0 else None
        ax.axhline(rating, color="black", ls="--", lw=0.8, alpha=0.6, label=label)
    ax.set_xticks(range(len(arms)), arms)
    ax.set(ylabel="held-out rating (Elo, random = 0)", title="held-out ratings by arm")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_crossplay(crossplay: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Score of each row player against each column player in held-out games, ladder included; seeds and runs
    are pooled by player name, so agents are matched by index across seeds."""
    if ax is None:
        ax = plt.subplots(figsize=(9, 8), layout="constrained")[1]
    pooled = crossplay.groupby(["player", "opponent"])[["wins", "draws", "games"]].sum()
    order = list(dict.fromkeys(crossplay.player))
    matrix = ((pooled.wins + pooled.draws / 2) / pooled.games).unstack().reindex(index=order, columns=order)
    sns.heatmap(
        matrix,
        vmin=0,
        vmax=1,
        center=0.5,
        cmap="vlag",
        square=True,
        xticklabels=True,
        yticklabels=True,
        cbar_kws={"label": "score of row vs column"},
        ax=ax,
    )
    arm = [_arm_of(p) for p in order]
    for k in range(1, len(order)):
        if arm[k] != arm[k - 1]:
            ax.axhline(k, color="black", lw=0.8)
            ax.axvline(k, color="black", lw=0.8)
    ax.tick_params(labelsize=max(4, min(9, 300 // max(len(order), 1))))
    ax.set(xlabel="opponent", ylabel="player", title="held-out cross-play")
    return ax


def plot_winners_curse(matches: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Selection score vs held-out score against the same agents for every agent of every multi-agent arm;
    the chosen best sits below the diagonal by the winner's curse, the inflation that choosing the top
    selection score brings."""
    if ax is None:
        ax = plt.subplots(figsize=(6, 6), layout="constrained")[1]
    frame = winners_curse(matches)
    palette = _palette(matches[matches.stage == "selection"])
    sns.scatterplot(
        data=frame, x="selection_score", y="held_out_score", hue="arm", palette=palette, alpha=0.7, ax=ax
    )
    chosen = frame[frame.chosen]
    ax.scatter(
        chosen.selection_score,
        chosen.held_out_score,
        marker="*",
        s=250,
        c=[palette[a] for a in chosen.arm],
        edgecolor="black",
        zorder=3,
        label="chosen best",
    )
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=0.8, label="y = x")
    ax.set(
        xlim=(-0.02, 1.02),
        ylim=(-0.02, 1.02),
        aspect="equal",
        xlabel="selection score",
        ylabel="held-out score against its own arm",
        title="winner's curse",
    )
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_gap_vs_n(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Rating gap of each arm's best over the baseline against the population size N, one line per budget
    (and per compared arm), with the intervals of `sweep_cells`."""
    if ax is None:
        ax = plt.subplots(figsize=(7, 4.5), layout="constrained")[1]
    cells = sweep_cells(frame)
    budgets = sorted(cells.budget.unique())
    colours = dict(zip(budgets, sns.color_palette("viridis", len(budgets)), strict=True))
    styles = {arm: LINESTYLES[k % len(LINESTYLES)] for k, arm in enumerate(pd.unique(cells.arm))}
    for (arm, budget), rows in cells.groupby(["arm", "budget"]):
        ax.errorbar(
            rows.n,
            rows.gap,
            yerr=[rows.gap - rows.gap_low, rows.gap_high - rows.gap],
            color=colours[budget],
            ls=styles[arm],
            marker="o",
            capsize=3,
            label=f"{arm}, B = {budget:,}",
        )
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(cells.n.unique()), [str(n) for n in sorted(cells.n.unique())])
    ax.set(
        xlabel="agents N (each on B / N)",
        ylabel="rating gap over baseline (Elo)",
        title="best of N vs one agent",
    )
    ax.legend(fontsize=8)
    return ax


def plot_verdict_map(frame: pd.DataFrame, axes: Sequence[Axes] | None = None) -> Figure:
    """Mean rating gap over (N, budget), one panel per compared arm, each cell annotated with its gap and
    interval; cells whose interval excludes 0 are outlined."""
    cells = sweep_cells(frame)
    arms = list(pd.unique(cells.arm))
    if axes is None:
        _, axes = plt.subplots(
            1, len(arms), figsize=(6 * len(arms), 4.5), squeeze=False, layout="constrained"
        )
        axes = axes[0]
    limit = max(float(cells.gap.abs().max()), 1.0)
    for ax, arm in zip(axes, arms, strict=True):
        rows = cells[cells.arm == arm]
        gap = rows.pivot(index="budget", columns="n", values="gap").sort_index(ascending=False)
        text = (
            rows.assign(
                text=[
                    f"{g:+.0f}\n[{lo:+.0f}, {hi:+.0f}]"
                    for g, lo, hi in zip(rows.gap, rows.gap_low, rows.gap_high, strict=True)
                ]
            )
            .pivot(index="budget", columns="n", values="text")
            .reindex_like(gap)
            .fillna("")
        )
        sns.heatmap(
            gap,
            annot=text,
            fmt="",
            cmap="vlag",
            vmin=-limit,
            vmax=limit,
            cbar_kws={"label": "rating gap (Elo)"},
            annot_kws={"fontsize": 8},
            ax=ax,
        )
        significant = rows.pivot(index="budget", columns="n", values="significant").reindex_like(gap)
        for i, j in zip(*np.nonzero(significant.eq(True).to_numpy()), strict=True):
            ax.add_patch(Rectangle((j, i), 1, 1, fill=False, edgecolor="black", lw=2))
        ax.set_yticklabels([f"{b:,}" for b in gap.index], rotation=0)
        ax.set(xlabel="agents N", ylabel="budget (agent-steps per arm)", title=f"{arm} best vs baseline")
    return axes[0].figure


def _palette(frame: pd.DataFrame) -> dict[str, tuple]:
    """One colour per arm, the same in every figure: the baseline first, then the arms in order of
    appearance (the config's order in every table), so a figure without the baseline's agents (the
    winner's curse) keeps the others' colours."""
    names = list(pd.unique(frame.arm))
    if "baseline" in frame.columns:
        names = list(dict.fromkeys([*pd.unique(frame.baseline), *names]))
    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))
