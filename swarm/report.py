"""The report of one run directory, from the directory alone: report.md, report.html and figures/*.png.

The verdict comes first, with its figure (each contrast's head-to-head gap: per seed, and its interval), then
what each arm spent (the ledger side by side), the held-out ratings (and the free-for-all ones, in a game of
more than two seats; ad-hoc teamwork, in a cooperative one) and four more figures: learning curves (each arm's
mean and band), ratings by arm, cross-play, winner's curse. Both files are rendered from one list of blocks,
so they say the same thing; the HTML embeds its figures as base64 PNG, so it stands alone. For a multi-seed
run the figures pool every seed. Like `analysis`, this needs no torch and no Ray, and it draws on
`matplotlib.figure.Figure` objects of its own, so it works headless and leaves pyplot's backend alone.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml
from matplotlib.figure import Figure

from swarm import analysis
from swarm.analysis import frontier, tuning
from swarm.analysis.tables import SMOOTHING
from swarm.results import rundir, text
from swarm.results.rundir import Directory

DPI = 110


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    strong: bool = False


@dataclass(frozen=True)
class Table:
    frame: pd.DataFrame


@dataclass(frozen=True)
class Picture:
    name: str  # file name in figures/, without .png
    caption: str
    png: bytes


Block = Heading | Text | Table | Picture


def write(run_dir: str | Path) -> Path:
    """Write report.md, report.html and figures/*.png into `run_dir`; returns the path of report.html."""
    run_dir = Path(run_dir)
    run = analysis.load_run(run_dir)
    return publish(blocks(run, run_dir.name, tuning.load(run_dir)), run_dir)


def publish(report: list[Block], path: Path) -> Path:
    """figures/*.png, report.md and report.html into the run or sweep directory `path`; returns the path of
    report.html."""
    directory = Directory(path)
    for block in report:
        if isinstance(block, Picture):
            rundir.write_bytes(block.png, directory.figure(block.name))
    rundir.write_bytes(markdown(report).encode(), directory.report_md)
    rundir.write_bytes(page(report, path.name).encode(), directory.report_html)
    return directory.report_html


def _settings(run: analysis.Run) -> list[Block]:
    """Each arm's settings side by side where arms differ (their own ppo, network or opponents fields, their
    mode's options); a line saying they do not, otherwise."""
    table = analysis.settings_table(run)
    if table.empty:
        return [Text("Every arm trains with the file's ppo, network and opponents blocks (config.yaml).")]
    return [
        Heading(2, "Settings"),
        Text(
            "Where the arms' settings differ: each arm's own ppo, network and opponents fields, resolved "
            "over the file's, and its interaction mode's options. Every other setting is the file's, "
            "shared by all arms (config.yaml)."
        ),
        Table(table),
    ]


def _tuning(run: analysis.Run, tuned: tuning.Tuned | None) -> list[Block]:
    """The equal tuning that chose the arms' settings, where the run had a tuning block."""
    if tuned is None:
        return []
    config = run.config["tuning"]
    several = len(config["seeds"]) > 1
    return [
        Heading(2, "Tuning"),
        Text(
            f"Before any seed, each arm's {', '.join(config['space'])} were searched with the same number of "
            f"trials ({config['trials']} an arm, Optuna's {config['sampler']} sampler). A trial trains the "
            f"whole arm on its whole budget with the settings proposed, on tuning seed"
            f"{'s' if several else ''} {', '.join(map(str, config['seeds']))}, picks its best as a run does, "
            f"and scores it by its mean score in {config['games']} games against each ladder member"
            f"{' (the mean over the seeds)' if several else ''}: the objective. So each arm's tuning spent "
            "its trials times its training budget on each tuning seed, the same for every arm, and every "
            "seed then trained each arm with its best trial's settings (tuning/tuned.yaml; the Settings "
            "above)."
        ),
        Text(tuning.seeds_line(tuned, run.config)),
        Table(tuning.spend_table(tuned, run)),
        Text("Every trial's settings and objective; * marks each arm's chosen trial."),
        Table(tuning.trials_table(tuned)),
    ]


def blocks(run: analysis.Run, name: str, tuned: tuning.Tuned | None = None) -> list[Block]:
    """The report's content, in order: verdict, spend, settings (and their tuning), ratings, figures."""
    summary = run.summary
    seeds = sorted(seed for _, seed in run.seed_summaries)
    scope = f"{len(seeds)} seeds ({', '.join(map(str, seeds))})" if run.multi_seed else f"seed {seeds[0]}"
    report: list[Block] = [
        Heading(1, f"{summary.name} on {summary.env}"),
        Text(
            f"Run directory {name}, {scope}. Budget per arm: {run.config['budget']['total']:,} "
            f"{text.UNIT_NAMES[run.config['budget']['unit']]}."
        ),
        Heading(2, "Verdict"),
        *(Text(line, strong=True) for line in analysis.verdict_lines(run)),
        *_payoffs(run),
        *_roles(run),
        Text(run.summary.correction),
        verdict_figure(run),
    ]
    if run.multi_seed:
        report += [
            Text(
                "Per seed: each arm's best against the baseline's in the held-out verdict games, as a score "
                "and as the Elo gap that score implies (the primary endpoint, tested over seeds), beside the "
                "two bests' ladder ratings (against the fixed ladder alone), which P(improvement) compares."
            ),
            Table(_per_seed(run.per_seed)),
            *(Text(line) for line in analysis.gain_lines(run)),
            *(Text(line, strong=True) for line in text.null_check(run.summary)),
        ]
    else:
        report += [Text(run.summary.scope, strong=True), *(Text(line) for line in analysis.gain_lines(run))]
    report += [
        Heading(2, "Spend"),
        Text(
            "What each arm spent on training, in every unit the ledger records; the selection games' cost "
            "is marked (charged) where it was paid from the arm's budget (evaluation.charge_selection: auto "
            "charges it where its worst case reaches 1% of an agent's share). What the best's weights "
            "embody follows its lineage: an agent that copied weights (pbt) holds the spend they held then, "
            "not only its own."
        ),
        Table(analysis.spend_table(run)),
        *_settings(run),
        *_tuning(run, tuned),
        Heading(2, "Held-out ratings"),
        Text(
            "Bradley-Terry on the Elo scale, random = 0: the joint fit of every held-out game (verdict, "
            "cross-play, ladder), which depends on who else is in the pool, and the ladder rating, each "
            "player against the fixed ladder alone, which does not"
            + ("; the chosen agents and the ladder of every seed." if run.multi_seed else ".")
        ),
        Table(analysis.ratings_table(run)),
        *_free_for_all(run),
        *_teamwork(run),
        Heading(2, "Exploitability and the scales' checks"),
        *(Text(line) for line in analysis.yardstick_lines(run)),
        Heading(2, "Figures"),
    ]
    return report + figures(run)


def verdict_figure(run: analysis.Run) -> Picture:
    level = f"{run.summary.confidence:.0%}"
    if run.multi_seed:
        caption = (
            "The verdict: each arm's best against the baseline's, as the head-to-head Elo gap of their "
            "verdict games (the primary endpoint). Dots are the seeds, each with its games' Wilson interval; "
            f"the diamond is their mean with its {level} Student-t interval over seeds, the interval the "
            "verdict tests (the primary contrast at the file's level, the others after Holm's correction)."
        )
    else:
        caption = (
            "The verdict: each arm's best against the baseline's, as the head-to-head Elo gap of their "
            f"verdict games (the primary endpoint), with its {level} Wilson interval over those games. One "
            "seed: each gap is about these two trained agents, not the ways of training them."
        )
    rows = len(run.summary.verdicts)
    return picture(
        "verdict", caption, (9, 1.4 + 1.3 * rows), lambda fig: analysis.plot_verdict(run, fig.subplots())
    )


def figures(run: analysis.Run) -> list[Picture]:
    pooled = f" Every seed is drawn, {len(run.seed_summaries)} in all." if run.multi_seed else ""
    specs: list[tuple[str, str, tuple[float, float], Callable[[Figure], object]]] = [
        (
            "learning_curves",
            "Learning curves, against the agent-steps each arm had spent: its score against its training "
            "opponents (each agent's per-round score averaged over a centred window of "
            f"1/{SMOOTHING} of its arm's rounds), and against random at its checkpoints (not smoothed). "
            "Each arm's line is the mean over its agents (of every seed); the band holds the middle half "
            "of them (their quartiles). An arm of one agent on one seed has no band.",
            (12, 4.5),
            lambda fig: analysis.plot_learning_curves(
                run.training, run.curve, fig.subplots(1, 2, sharey=True)
            ),
        ),
        (
            "ratings",
            "Held-out rating of every agent and ladder member with its interval; stars mark each arm's "
            "chosen best, the dashed line the baseline's best.",
            (8, 5),
            lambda fig: analysis.plot_ratings(run.ratings, fig.subplots()),
        ),
        (
            "crossplay",
            "Held-out cross-play: the score of each row player against each column player, ladder included.",
            (9, 8),
            lambda fig: analysis.plot_crossplay(run.pairs, fig.subplots()),
        ),
        (
            "winners_curse",
            "Winner's curse: each agent's selection score against its held-out score against the same "
            "agents; a chosen best (star) below the diagonal was chosen on an inflated selection score.",
            (6, 6),
            lambda fig: analysis.plot_winners_curse(run.matches, fig.subplots()),
        ),
    ]
    return [picture(name, caption + pooled, size, draw) for name, caption, size, draw in specs]


def picture(name: str, caption: str, size: tuple[float, float], draw: Callable[[Figure], object]) -> Picture:
    fig = Figure(figsize=size, layout="constrained")
    draw(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return Picture(name, caption, buffer.getvalue())


def write_sweep(sweep_dir: str | Path) -> Path:
    """Write the sweep's report.md, report.html and figures/*.png (best-of-N gap vs N, verdict map) from
    its sweep.parquet; returns the path of report.html."""
    sweep_dir = Path(sweep_dir)
    frame = analysis.load_sweep(sweep_dir)
    unit = _unit(rundir.SweepDir(sweep_dir))
    cells = analysis.sweep_cells(frame)
    arms = list(pd.unique(cells.arm))
    seeds = sorted(frame.seed.unique())
    report: list[Block] = [
        Heading(1, f"Sweep {sweep_dir.name}"),
        Text(
            f"{frame.cell.nunique()} cells (N x budget), {len(seeds)} seed(s) each: every cell is an "
            "experiment of the best of N agents, each trained on B / N, against one agent trained on B."
        ),
        Heading(2, "Cells"),
        Text(
            "Mean head-to-head gap (Elo) of the best of N over the single agent, with its interval (over "
            "seeds when a cell has several, else over games) and the cell's own verdict. The map's cells are "
            "one family of tests: the last column is the cell's p-value after Holm's correction over all of "
            "them, and only a cell under 1 - confidence there may be called significant."
        ),
        Table(_cells(cells, frame)),
        Heading(2, "Figures"),
        picture(
            "gap_vs_n",
            "The best of N against one agent on the same budget: rating gap against N, one line per budget.",
            (7, 4.5),
            lambda fig: analysis.plot_gap_vs_n(frame, fig.subplots()),
        ),
        picture(
            "verdict_map",
            "Head-to-head gap over (N, budget); outlined cells are significant at 95% after Holm's "
            "correction over the map's cells.",
            (6 * len(arms), 4.5),
            lambda fig: analysis.plot_verdict_map(frame, fig.subplots(1, len(arms), squeeze=False)[0], unit),
        ),
        *_frontier(frame),
    ]
    return publish(report, sweep_dir)


def _payoffs(run: analysis.Run) -> list[Block]:
    lines = analysis.payoff_lines(run)
    if not lines:
        return []
    evaluation, said = run.config["evaluation"], []
    if evaluation.get("kind") == "cooperative":
        said.append(
            "The game is cooperative: in a game (seed, a, b) a's team fills every seat of the seed's "
            "scenario, b's team every seat of the same scenario, and the higher team return (the mean over "
            "seats) wins. Every rating, interval and test reads those paired results."
        )
    if evaluation["score"] == "payoff":
        said.append(
            "Games are scored by payoff: a game's score is 1/2 + margin / (2 x "
            f"{evaluation['payoff_bound']:g}), rounded to a win, draw or loss without bias by a coin fixed "
            "by its seed, so the verdict's statistics hold as they are."
        )
    said.append("The margins themselves, each arm's best over the baseline's:")
    return [Text(" ".join(said)), *(Text(line) for line in lines)]


def _roles(run: analysis.Run) -> list[Block]:
    """The verdict by role, where games are judged by role."""
    table = analysis.roles_table(run)
    if table.empty:
        return []
    return [
        Text(
            "Games are judged by role: a game plays one role of its seed's scenario twice, each best in "
            "every seat of that role with random in every other seat, and the higher return of the role "
            "wins; the roles take turns game by game. The verdict games by role, every seed's pooled:"
        ),
        Table(table),
    ]


def _free_for_all(run: analysis.Run) -> list[Block]:
    """The free-for-all ratings, where a game of more than two seats played free-for-all games."""
    table = analysis.free_for_all_table(run)
    if table.empty:
        return []
    return [
        Heading(2, "Free-for-all ratings"),
        Text(
            "The arms' bests and the ladder members, k at a time (one per seat), in free-for-all games, "
            "each player in each seat of its lineup equally often (evaluation.ffa_games per lineup and "
            "seat). A game's finishing order ranks its players by return, tied returns sharing their "
            "positions, and Plackett-Luce (Luce 1959; Plackett 1975), which reads an order as the first "
            "chosen from all, the second from the rest and so on, rates them on the Elo scale, random = 0, "
            "with bootstrap intervals that redraw each lineup's games. These ratings are pool-dependent: "
            "fitted among these players alone, so another pool could move them."
        ),
        Table(table),
        *_free_for_all_over_seeds(run),
    ]


def _teamwork(run: analysis.Run) -> list[Block]:
    """Ad-hoc teamwork, where a cooperative game played ad-hoc team games."""
    table = analysis.teamwork_table(run)
    if table.empty:
        return []
    return [
        Heading(2, "Ad-hoc teamwork"),
        Text(
            "A second view beside the verdict, which stays the head-to-head of homogeneous teams: each arm's "
            "best in one seat and a held-out partner in every other, every seat in turn "
            "(evaluation.teamwork_games games per partner and seat), its team return the mean over seats. "
            "The partners are the other arms' bests and the ladder members, so these numbers are "
            "pool-dependent: other partners could move them. Every best meets the same scenarios with the "
            "same partner in the same seat, so each best's difference from the baseline's best is paired "
            "game by game, over the partners both played with, with a Student-t interval over those games; "
            "first over all partners, then per partner. "
            + (
                "Each seed is its own, about its agents."
                if run.multi_seed
                else "One seed: this speaks of these trained agents, not the ways of training them."
            )
        ),
        Table(table),
    ]


def _free_for_all_over_seeds(run: analysis.Run) -> list[Block]:
    table = analysis.free_for_all_over_seeds(run)
    if table.empty:
        return []
    return [
        Text(
            "Over the seeds: each arm's best's free-for-all rating, its mean and Student-t interval, and its "
            "gap to the baseline's best taken seed by seed (every seed fits the same kind of pool: the arms' "
            "bests and the ladder). The verdict above stays the head-to-head one; this is a second view."
        ),
        Table(table),
    ]


def _frontier(frame: pd.DataFrame) -> list[Block]:
    """The compute frontier, where a sweep measured two budgets or more (`analysis.frontier`)."""
    if frame.budget.nunique() < 2:
        return []
    lines, crossings = frontier.fit(frontier.points(frame))
    bends = [line.curve for line in lines if line.bends]
    return [
        Heading(2, "Compute frontier"),
        Text(
            "Each best's rating against the fixed ladder (pool-invariant, random = 0) as a function of its "
            "arm's budget, fitted as rating = a + b log10(budget) per curve; slopes with Student-t intervals "
            "over seeds. The curvature column is the quadratic term of a parabola through the mean ratings: "
            "an interval that excludes 0 means the frontier bends (the ladder saturating, or agents near "
            "random) and the line is not to be trusted there. Crossings carry Fieller's interval."
        ),
        Table(frontier.lines_table(lines)),
        *[Text(c.line + ".") for c in crossings],
        *(
            [Text(f"The frontier of {', '.join(bends)} bends: read its crossing as a rough guide only.")]
            if bends
            else []
        ),
        picture(
            "frontier",
            "Ladder rating of each best against its budget (points: seeds); lines fitted over the budgets "
            "measured, dashed where carried on towards a crossing.",
            (7, 4.5),
            lambda fig: analysis.plot_frontier(frame, fig.subplots()),
        ),
    ]


def _unit(sweep_dir: rundir.SweepDir) -> str:
    """The unit of the sweep's budgets, from its sweep.yaml; a sweep table alone is read in agent-steps, the
    default unit."""
    path = sweep_dir.config
    return yaml.safe_load(path.read_text())["budget"]["unit"] if path.is_file() else "agent_steps"


def _cells(cells: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    verdicts = frame.groupby(["arm", "budget", "n"]).verdict.first()
    return pd.DataFrame(
        {
            "arm": cells.arm,
            "budget": cells.budget.map("{:,}".format),
            "N": cells.n,
            "seeds": cells.seeds,
            "rating gap (Elo)": [
                f"{g:+.0f} [{lo:+.0f}, {hi:+.0f}]"
                for g, lo, hi in zip(cells.gap, cells.gap_low, cells.gap_high, strict=True)
            ],
            "verdict": [verdicts[a, b, n] for a, b, n in zip(cells.arm, cells.budget, cells.n, strict=True)],
            "Holm-adjusted p": cells.adjusted_p.map("{:.3f}".format),
        }
    )


def _per_seed(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seed": frame.seed,
            "arm": frame.arm,
            "best": frame.best,
            "vs": frame.baseline,
            "score": [
                f"{s:.3f} [{lo:.3f}, {hi:.3f}]"
                for s, lo, hi in zip(frame.score, frame.score_low, frame.score_high, strict=True)
            ],
            "head-to-head gap (Elo)": [
                f"{g:+.0f} [{lo:+.0f}, {hi:+.0f}]"
                for g, lo, hi in zip(frame.rating_gap, frame.gap_low, frame.gap_high, strict=True)
            ],
            "best's ladder rating": frame.arm_rating.map("{:+.0f}".format),
            "baseline's ladder rating": frame.baseline_rating.map("{:+.0f}".format),
        }
    )


# ---- rendering -----------------------------------------------------------------------------------------


def markdown(report: list[Block]) -> str:
    parts = []
    for block in report:
        match block:
            case Heading(level, text):
                parts.append(f"{'#' * level} {text}")
            case Text(text, strong):
                parts.append(f"**{text}**" if strong else text)
            case Table(frame):
                parts.append(_markdown_table(frame))
            case Picture(name, caption, _):
                parts.append(f"![{name}](figures/{name}.png)\n\n{caption}")
    return "\n\n".join(parts) + "\n"


def _markdown_table(frame: pd.DataFrame) -> str:
    def row(cells) -> str:
        return "| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |"

    lines = [row(frame.columns), "|" + "|".join("---" for _ in frame.columns) + "|"]
    return "\n".join(lines + [row(r) for r in frame.itertuples(index=False)])


def page(report: list[Block], title: str) -> str:
    """A self-contained HTML page: figures inline as data URIs, a few lines of CSS, nothing fetched."""
    parts = []
    for block in report:
        match block:
            case Heading(level, text):
                parts.append(f"<h{level}>{html.escape(text)}</h{level}>")
            case Text(text, strong):
                parts.append(
                    f"<p><strong>{html.escape(text)}</strong></p>"
                    if strong
                    else f"<p>{html.escape(text)}</p>"
                )
            case Table(frame):
                parts.append(frame.to_html(index=False, border=0, classes="table"))
            case Picture(name, caption, png):
                data = base64.b64encode(png).decode()
                parts.append(
                    f'<figure id="{name}"><img alt="{name}" src="data:image/png;base64,{data}">'
                    f"<figcaption>{html.escape(caption)}</figcaption></figure>"
                )
    body = "\n".join(parts)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; }}
table {{ border-collapse: collapse; font-size: 0.9em; }}
th, td {{ padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; }}
img {{ max-width: 100%; }}
figcaption {{ color: #555; font-size: 0.9em; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
