"""Figures: the verdict (each contrast's head-to-head gap, per seed and with its interval), learning curves
(each arm's mean score and the band of its middle half, against training opponents and against `random` at
checkpoints), every agent's held-out rating by arm, the cross-play matrix of held-out pairs, the winner's
curse (selection score vs held-out score against the same agents), and for a sweep the best-of-N rating gap
against N and over (N, budget), and the compute frontier (ladder rating against budget, fitted lines). Each
function draws on the Axes it is given, or on a new pyplot figure (shown inline in a notebook); the report
passes Axes of figures it saves itself, so no backend is forced here."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import EngFormatter

from swarm.analysis import frontier
from swarm.analysis.load import LADDER, Run, arm_of
from swarm.analysis.tables import arm_curves, contrasts, sweep_cells, winners_curse
from swarm.results.text import UNIT_NAMES

LINESTYLES = ["-", "--", ":", "-."]
NO_SELECTION = "no arm chose a best: every arm has one agent, so no selection games were played"


def plot_learning_curves(
    training: pd.DataFrame, curve: pd.DataFrame | None = None, axes: Sequence[Axes] | None = None
) -> Figure:
    """Two panels against the arm's agent-steps spent, so arms on one budget share the x range: each arm's
    score against its training opponents (relative: they improve too), and against random at checkpoints
    (absolute). An arm is one line, its mean over every agent of every seed, in a band holding the middle
    half of them (`tables.arm_curves`); per-round scores are smoothed first, the checkpoints are not."""
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True, layout="constrained")
    own, fixed = axes
    palette = _palette(training)
    _arm_lines(arm_curves(training, smooth=True), own, palette, _arm_labels(training))
    own.axhline(0.5, color="grey", ls=":", lw=0.8)
    own.set(title="score against its training opponents (smoothed)", ylabel="score")
    if curve is None or curve.empty:
        fixed.text(
            0.5, 0.5, "no curve.parquet in this run", ha="center", va="center", transform=fixed.transAxes
        )
    else:
        _arm_lines(arm_curves(curve[curve.opponent == "random"]), fixed, palette, {}, marker="o")
    fixed.set(title="score against random at checkpoints")
    for ax in axes:
        ax.set(xlabel="arm's agent-steps spent", ylim=(0, 1.02))
        ax.xaxis.set_major_formatter(EngFormatter(sep=""))
        ax.grid(alpha=0.3)
    own.legend(loc="lower right", fontsize=8, title="line: mean; band: middle half", title_fontsize=8)
    return own.figure


def _arm_lines(
    curves: pd.DataFrame, ax: Axes, palette: dict[str, tuple], labels: dict[str, str], marker: str = ""
) -> None:
    for arm in (a for a in palette if a in set(curves.arm)):
        rows = curves[curves.arm == arm]
        colour = palette[arm]
        ax.plot(
            rows.arm_agent_steps, rows.score, color=colour, lw=2, marker=marker, ms=4, label=labels.get(arm)
        )
        ax.fill_between(rows.arm_agent_steps, rows.low, rows.high, color=colour, alpha=0.2, lw=0)


def _arm_labels(frame: pd.DataFrame) -> dict[str, str]:
    """`swarm: 16 x population, 32 curves`: what an arm is and how many curves its line averages."""
    keys = [c for c in ("run", "seed") if c in frame.columns] + ["arm", "agent"]
    labels = {}
    for arm, rows in frame.drop_duplicates(keys).groupby("arm", sort=False):
        kind = f"{rows.agents.iloc[0]} x {rows.interaction.iloc[0]}, " if "agents" in rows.columns else ""
        labels[arm] = f"{arm}: {kind}{len(rows)} curve{'s' * (len(rows) > 1)}"
    return labels


def plot_verdict(run: Run, ax: Axes | None = None) -> Axes:
    """The primary endpoint at a glance: for every arm compared with the baseline (the primary contrast on
    top), the head-to-head Elo gap of its best over the baseline's best. Over seeds: each seed's gap (a dot,
    with its games' interval) under the mean with its Student-t interval over seeds, which the verdict
    tests. On one seed: that seed's gap with its interval over games, a statement about those two agents."""
    rows = contrasts(run)
    if ax is None:
        ax = plt.subplots(figsize=(9, 1.4 + 1.3 * len(rows)), layout="constrained")[1]
    palette = _palette(run.training)
    level = f"{run.summary.confidence:.0%}"
    top = len(rows) - 1
    for y, c in zip(range(top, -1, -1), rows.itertuples(), strict=True):
        if run.multi_seed:
            _seed_gaps(run.per_seed[run.per_seed.arm == c.arm], y, palette[c.arm], ax, label=y == top)
            what, at = f"mean over {c.seeds} seeds, {level} interval over seeds (Student t)", y + 0.1
        else:
            what, at = f"one seed: these two agents, {level} interval over their games (Wilson)", y
        ax.errorbar(
            [c.gap],
            [at],
            xerr=[[c.gap - c.gap_low], [c.gap_high - c.gap]],
            fmt="D",
            ms=9,
            color="black",
            mfc=palette[c.arm],
            elinewidth=2.5,
            capsize=5,
            label=what if y == top else None,
        )
        judged = "significant" if c.significant else "not significant"
        ax.annotate(
            f"{c.gap:+.0f} [{c.gap_low:+.0f}, {c.gap_high:+.0f}] Elo, {judged}",
            (c.gap, at),
            xytext=(0, 9),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
        )
    ax.axvline(0, color="grey", ls="--", lw=1)
    labels = [f"{c.players}\n({'primary' if c.primary else 'Holm-adjusted'})" for c in rows.itertuples()]
    ax.set_yticks(range(top, -1, -1), labels)
    ax.set_ylim(-0.55 if run.multi_seed else -0.5, top + 0.5)
    baseline = rows.baseline.iloc[0]
    scope = f"over {rows.seeds.iloc[0]} seeds" if run.multi_seed else "on one seed, about these agents"
    ax.set(
        xlabel=f"head-to-head Elo gap over {baseline}'s best (right of 0: the arm's best is stronger)",
        title=f"verdict: each arm's best against {baseline}'s, {scope}",
    )
    ax.margins(x=0.1)
    ax.grid(axis="x", alpha=0.3)
    ax.figure.legend(loc="outside lower center", ncols=2, fontsize=8)
    return ax


def _seed_gaps(seeds: pd.DataFrame, y: float, colour: tuple, ax: Axes, label: bool) -> None:
    """Each seed's gap with its games' interval, stacked below row `y`, named when there are few."""
    offsets = -0.1 - 0.35 * np.arange(len(seeds)) / max(len(seeds) - 1, 1)
    ax.errorbar(
        seeds.rating_gap,
        y + offsets,
        xerr=[seeds.rating_gap - seeds.gap_low, seeds.gap_high - seeds.rating_gap],
        fmt="o",
        ms=5,
        color=colour,
        elinewidth=0.8,
        alpha=0.8,
        label="each seed's gap, its games' interval" if label else None,
    )
    if len(seeds) <= 10:
        for gap, dy, seed in zip(seeds.rating_gap, offsets, seeds.seed, strict=True):
            ax.annotate(f"seed {seed}", (gap, y + dy), xytext=(5, 1), textcoords="offset points", fontsize=7)


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


def plot_crossplay(pairs: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Score of each row player against each column player in held-out games, ladder included; seeds and runs
    are pooled by player name, so agents are matched by index across seeds."""
    if ax is None:
        ax = plt.subplots(figsize=(9, 8), layout="constrained")[1]
    pooled = pairs.groupby(["player", "opponent"])[["wins", "draws", "games"]].sum()
    order = list(dict.fromkeys(pairs.player))
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
    arm = [arm_of(p) for p in order]
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
    if frame.empty:
        ax.text(0.5, 0.5, NO_SELECTION, ha="center", va="center", wrap=True, transform=ax.transAxes)
        ax.set(title="winner's curse", xticks=[], yticks=[])
        return ax
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
    """Head-to-head gap of each arm's best over the baseline against the population size N, one line per
    budget (and per compared arm), with the intervals of `sweep_cells`."""
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
        ylabel="head-to-head gap over baseline (Elo)",
        title="best of N vs one agent",
    )
    ax.legend(fontsize=8)
    return ax


def plot_frontier(frame: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Each best's ladder rating against its budget (points: seeds), the fitted frontier of each curve over
    the budgets measured, and dashed, its line carried on to where it would meet the single agent's."""
    if ax is None:
        ax = plt.subplots(figsize=(7, 4.5), layout="constrained")[1]
    pts = frontier.points(frame)
    lines, crossings = frontier.fit(pts)
    colours = dict(zip(pd.unique(pts.curve), sns.color_palette("tab10"), strict=False))
    reach = max([c.compute for c in crossings if c.in_sight], default=0.0)
    for curve, rows in pts.groupby("curve", sort=False):
        ax.scatter(rows.budget, rows.rating, color=colours[curve], s=14, alpha=0.6)
    for line in lines:
        measured = np.geomspace(line.budgets[0], line.budgets[-1], 50)
        ax.plot(measured, line.at(measured), color=colours[line.curve], label=line.curve)
        if reach > line.budgets[-1]:
            ahead = np.geomspace(line.budgets[-1], reach, 50)
            ax.plot(ahead, line.at(ahead), color=colours[line.curve], ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(EngFormatter())
    ax.set(
        xlabel="budget B (per arm)", ylabel="best's ladder rating (Elo, random = 0)", title="compute frontier"
    )
    ax.legend(fontsize=8)
    return ax


def plot_verdict_map(
    frame: pd.DataFrame, axes: Sequence[Axes] | None = None, unit: str = "agent_steps"
) -> Figure:
    """Mean rating gap over (N, budget, in the sweep's budget `unit`), one panel per compared arm, each cell
    annotated with its gap and interval; cells whose interval excludes 0 are outlined."""
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
        per_arm = f"budget ({UNIT_NAMES[unit]} per arm)"
        ax.set(xlabel="agents N", ylabel=per_arm, title=f"{arm} best vs baseline")
    return axes[0].figure


def _palette(frame: pd.DataFrame) -> dict[str, tuple]:
    """One colour per arm, the same in every figure: the baseline first, then the arms in order of
    appearance (the config's order in every table), so a figure without the baseline's agents (the
    winner's curse) keeps the others' colours."""
    names = list(pd.unique(frame.arm))
    if "baseline" in frame.columns:
        names = list(dict.fromkeys([*pd.unique(frame.baseline), *names]))
    return dict(zip(names, sns.color_palette("colorblind", len(names)), strict=True))
