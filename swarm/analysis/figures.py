"""Figures: learning curves (score against training opponents, and against `random` at checkpoints), every
agent's held-out rating by arm, the cross-play matrix of held-out pairs, the winner's curse (selection score
vs held-out score against the same agents), and for a sweep the best-of-N rating gap against N and over
(N, budget). Each function draws on the Axes it is given, or on a new pyplot figure (shown inline in a
notebook); the report passes Axes of figures it saves itself, so no backend is forced here.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from swarm.analysis.load import LADDER, arm_of
from swarm.analysis.tables import sweep_cells, winners_curse

LINESTYLES = ["-", "--", ":", "-."]
NO_SELECTION = "no arm chose a best: every arm has one agent, so no selection games were played"


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
