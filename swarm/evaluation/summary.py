"""summary.json and the console tables of one seed's run.

Per arm: spend in every unit (with what selection games cost beside it), the chosen best and its held-out
rating, its selection score next to its held-out score against the same agents (the winner's curse), and the
split-half oracle best with the selection loss (`swarm.evaluation.oracle`). Then every agent's and ladder
member's rating, the gains from selection and from interaction, and the verdicts: the primary contrast at
the file's level, the others Holm-corrected (`swarm.evaluation.significance`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.table import Table

from swarm.budget import UNITS
from swarm.config import Experiment
from swarm.evaluation import evaluate, goodness, nash, oracle, ratings, significance, verdict
from swarm.evaluation.evaluate import Evaluation
from swarm.evaluation.ladder import reaching_higher
from swarm.results import text
from swarm.results.records import (
    ArmSummary,
    Budget,
    Estimate,
    Exploitability,
    FitCheck,
    FreeForAllRating,
    Gains,
    HeadToHead,
    Interval,
    Lineage,
    NashRating,
    PlayerRating,
    SeedSummary,
    Training,
    Verdict,
)


def _interval(rated: ratings.Ratings, player: str) -> Interval:
    row = rated.table.set_index("player").loc[player]
    return Interval(float(row.rating), float(row.ci_low), float(row.ci_high))


def _gap(rated: ratings.Ratings, a: str, b: str, confidence: float) -> Estimate:
    return Estimate(*ratings.gap(rated, a, b, confidence))


def held_out_score(matches, arm: str, player: str) -> float | None:
    """`player`'s score in held-out games against the opponents it was selected against, on fresh seeds."""
    own = oracle.scores(oracle.same_opponents(matches, arm), player)
    return float(own.mean()) if len(own) else None


@dataclass(frozen=True)
class Rated:
    """A seed's rating fits: the joint fit of every held-out game, each player against the ladder, and the
    Plackett-Luce fit of the free-for-all games (None without them)."""

    held_out: ratings.Ratings
    ladder: ratings.Ratings
    free_for_all: ratings.Ratings | None = None


def build(
    config: Experiment,
    spent: dict[str, dict[str, float]],
    evaluation: Evaluation,
    fits: Rated,
    selection_cost: dict[str, dict[str, int]],
    wall_seconds: float,
    training: dict[str, Training] | None = None,
    exploited: dict[str, Exploitability] | None = None,
    lineage: dict[str, Lineage] | None = None,
) -> SeedSummary:
    """`training`: per arm, its training wall seconds and the Ray nodes its hosts ran on; `exploited`: per
    arm, its best's exploiter (none when not measured); `lineage`: per arm, what its best embodies."""
    confidence = config.evaluation.confidence
    matches, rated = evaluation.matches, fits.held_out
    exploited = exploited or {}
    arms = {}
    selection = matches[matches.stage == "selection"]
    for arm in config.arms:
        best = evaluation.best[arm.name]
        oracle_best, loss = oracle.split_half(
            matches, arm.name, arm.candidates, best, config.evaluation.crossplay_games, confidence
        )
        selection_score = evaluation.selection_scores[arm.name].get(best)
        held_out = held_out_score(matches, arm.name, best)
        curse = oracle.winners_curse(
            selection[selection.arm == arm.name], matches, arm.name, best, confidence
        )
        arms[arm.name] = ArmSummary(
            agents=arm.agents,
            interaction=arm.interaction,
            budget=Budget(config.budget.unit, config.budget.total),
            spent={unit: spent[arm.name][unit] for unit in UNITS},
            training=(training or {}).get(arm.name),
            selection_cost=selection_cost[arm.name],
            selection_charged=config.selection_reserve(arm) > 0,
            best=best,
            best_rating=_interval(rated, best),
            ladder_rating=_interval(fits.ladder, best),
            exploitability=exploited.get(arm.name),
            selection_score=selection_score,
            held_out_score=held_out,
            winners_curse=curse,
            oracle_best=oracle_best,
            oracle_rating=_interval(rated, oracle_best),
            selection_loss=loss,
            lineage=(lineage or {}).get(arm.name),
        )
    # Nash averaging over the trained agents' complete held-out round-robin (a dominant ladder member would
    # take all the mass of a meta-game that included the ladder); the fit check over every held-out game
    averaged = nash.average(matches[matches.stage == "crossplay"])
    fit = goodness.check(matches[matches.stage != "selection"])
    return SeedSummary(
        name=config.name,
        env=config.env,
        seed=config.seed,
        baseline=config.baseline_arm.name,
        confidence=confidence,
        arms=arms,
        ladder={member: _interval(rated, member) for member in config.evaluation.ladder},
        ratings=_ratings(rated),
        ladder_ratings=_ratings(fits.ladder),
        free_for_all=_free_for_all(fits.free_for_all),
        nash=tuple(
            sorted(
                (
                    NashRating(p, float(m), float(r))
                    for p, m, r in zip(averaged.players, averaged.mixture, averaged.rating, strict=True)
                ),
                key=lambda n: -n.rating,
            )
        ),
        fit_check=FitCheck(fit.chi_square, fit.df, fit.p_value, fit.triads, fit.cyclic),
        warnings=warnings(config, fits.ladder, fit),
        gains=gains(config, evaluation, fits.ladder),
        verdicts=verdicts(config, evaluation),
        correction=significance.correction(config.primary_arm.name, len(config.arms) - 2),
        scope=text.ONE_SEED,
        wall_seconds=wall_seconds,
    )


def _ratings(rated: ratings.Ratings) -> tuple[PlayerRating, ...]:
    return tuple(
        PlayerRating(**r) for r in rated.table.sort_values("rating", ascending=False).to_dict("records")
    )


def _free_for_all(rated: ratings.Ratings | None) -> tuple[FreeForAllRating, ...]:
    if rated is None:
        return ()
    return tuple(
        FreeForAllRating(**r) for r in rated.table.sort_values("rating", ascending=False).to_dict("records")
    )


def warnings(config: Experiment, ladder: ratings.Ratings, fit: goodness.Goodness) -> tuple[str, ...]:
    """What a reader must know before trusting the scales: the ladder does not reach above the strongest
    agent (its rating is then a floor, not a measurement), and Bradley-Terry does not fit (Elo misleads)."""
    found = []
    agents = [a for arm in config.arms for a in arm.agent_ids]
    top = max(agents, key=lambda a: ladder.rating[ladder.players.index(a)])
    saturated = ratings.saturation(ladder, config.evaluation.ladder, top, config.evaluation.confidence)
    if saturated.saturated:
        fewest = min(arm.agents for arm in config.arms)  # the largest share, in agent-steps where counted so
        most = config.budget.total // fewest if config.budget.unit == "agent_steps" else 0
        fix = reaching_higher(config.env, config.env_perfect_information, config.evaluation.ladder, most)
        found.append(
            f"the ladder does not reach above {top}: its ladder rating is "
            f"{saturated.margin.estimate:+.0f} Elo [{saturated.margin.ci_low:+.0f}, "
            f"{saturated.margin.ci_high:+.0f}] from the top member, "
            f"{saturated.top}; {fix}"
        )
    if (line := goodness.warning(fit)) is not None:
        found.append(line)
    return tuple(found)


def gains(config: Experiment, evaluation: Evaluation, ladder: ratings.Ratings) -> tuple[Gains, ...]:
    """Split each interacting arm's gain over the baseline in two, all from held-out head-to-head games:
    selection (its control's best, the best of N isolated agents, vs the baseline's best) and interaction
    (the arm's best vs the control's best, in games of their own), beside the total (the arm's verdict)."""
    confidence, baseline = config.evaluation.confidence, config.baseline_arm.name
    verdict_games = evaluation.matches[evaluation.matches.stage == "verdict"]
    best = evaluation.best

    def record(arm: str, a: str, b: str) -> HeadToHead:
        return verdict.head_to_head(verdict_games[verdict_games.arm == arm], best[a], best[b], confidence)

    rows = []
    for arm, control in evaluate.controls(config).items():
        interaction = record(arm, arm, control)
        rows.append(
            Gains(
                arm=arm,
                control=control,
                baseline=baseline,
                selection_gain=_elo(record(control, control, baseline)),
                interaction_gain=_elo(interaction),
                total_gain=_elo(record(arm, arm, baseline)),
                interaction_record=interaction,
                ladder_gain=_gap(ladder, best[arm], best[control], confidence),
            )
        )
    return tuple(rows)


def _elo(r: HeadToHead) -> Estimate:
    """A head-to-head record's Elo gap (`significance.game_gap`) with Wilson's interval on the Elo scale."""
    return Estimate(
        significance.game_gap(r.wins, r.draws, r.losses),
        significance.elo(r.ci_low),
        significance.elo(r.ci_high),
    )


def verdicts(config: Experiment, evaluation: Evaluation) -> tuple[Verdict, ...]:
    """Each arm's best against the baseline's in the verdict games: the primary contrast judged at the file's
    level, the others Holm-adjusted among themselves (`swarm.evaluation.significance`)."""
    confidence, baseline, primary = config.evaluation.confidence, config.baseline_arm, config.primary_arm.name
    against = verdict.label(baseline.name, baseline.agents)
    matches = evaluation.matches
    records = {}
    for arm in config.arms:
        if arm.name != baseline.name:
            held_out = matches[(matches.stage == "verdict") & (matches.arm == arm.name)]
            other = evaluation.best[baseline.name]
            records[arm.name] = verdict.head_to_head(held_out, evaluation.best[arm.name], other, confidence)
    p_values = {name: significance.score_p_value(r.score, r.games) for name, r in records.items()}
    judged = significance.adjust(p_values, primary)
    rows = []
    for arm in config.arms:
        if arm.name == baseline.name:
            continue
        r = records[arm.name]
        held = significance.held(confidence, arm.name == primary)
        rows.append(
            Verdict(
                arm=arm.name,
                baseline=baseline.name,
                primary=arm.name == primary,
                record=r,
                rating_gap=_elo(r),
                p_value=p_values[arm.name],
                adjusted_p=judged[arm.name],
                verdict=verdict.line(
                    r, verdict.label(arm.name, arm.agents), against, judged[arm.name], confidence, held
                ),
            )
        )
    return tuple(rows)


def render(summary: SeedSummary, console: Console) -> None:
    arms = summary.arms
    table = Table(title=f"{summary.name} on {summary.env} (seed {summary.seed})")
    table.add_column("")
    for name in arms:
        table.add_column(name, justify="right")

    def row(label: str, cell: Callable[[ArmSummary], str]) -> None:
        table.add_row(label, *(cell(a) for a in arms.values()))

    unit = next(iter(arms.values())).budget.unit
    row("agents x interaction", lambda a: f"{a.agents} x {a.interaction}")
    row(f"budget ({unit})", lambda a: f"{a.budget.total:,}")
    row("spent agent_steps", lambda a: f"{a.spent['agent_steps']:,.0f}")
    row("spent GFLOPs", lambda a: f"{a.spent['flops'] / 1e9:,.1f}")
    row("spent core-seconds", lambda a: f"{a.spent['core_seconds']:,.1f}")
    row("training wall seconds", lambda a: f"{a.training.wall_seconds:,.1f}" if a.training else "-")
    row(f"selection games' {unit}", text.selection_cost)
    row("best agent", lambda a: a.best)
    row(f"best's weights embody ({unit})", text.embodied)
    row("best's held-out rating", lambda a: text.elo(a.best_rating))
    row("best's ladder rating", lambda a: text.elo(a.ladder_rating))
    row("best's exploitability", text.exploitability)
    row("best's selection score", lambda a: text.maybe(a.selection_score))
    row("best's held-out score, same opponents", lambda a: text.maybe(a.held_out_score))
    row("winner's curse", lambda a: text.maybe_estimate(a.winners_curse))
    row("oracle best (split-half)", lambda a: a.oracle_best)
    row("selection loss (oracle - best)", lambda a: text.gap(a.selection_loss))
    console.print(table)

    ratings_table = Table(title="held-out ratings (Elo, random = 0): joint fit, ladder alone, Nash averaging")
    level = f"{summary.confidence:.0%}"
    for column in ("player", "rating", f"{level} interval", "ladder rating", f"{level} interval", "Nash"):
        ratings_table.add_column(column, justify="left" if column == "player" else "right")
    chosen = {a.best for a in arms.values()}
    ladder = {r.player: r for r in summary.ladder_ratings}
    nash_rating = {n.player: n.rating for n in summary.nash}
    for r in summary.ratings:
        mark = " (best)" if r.player in chosen else ""
        own = ladder[r.player]
        ratings_table.add_row(
            r.player + mark,
            f"{r.rating:+.0f}",
            f"[{r.ci_low:+.0f}, {r.ci_high:+.0f}]",
            f"{own.rating:+.0f}",
            f"[{own.ci_low:+.0f}, {own.ci_high:+.0f}]",
            f"{nash_rating[r.player]:+.3f}" if r.player in nash_rating else "-",
        )
    console.print(ratings_table)
    if summary.free_for_all:
        free_for_all = Table(
            title="free-for-all ratings (Plackett-Luce on finishing orders, Elo, random = 0)"
        )
        for column in ("player", "rating", f"{level} interval", "games", "mean position"):
            free_for_all.add_column(column, justify="left" if column == "player" else "right")
        for r in summary.free_for_all:
            free_for_all.add_row(
                r.player + (" (best)" if r.player in chosen else ""),
                f"{r.rating:+.0f}",
                f"[{r.ci_low:+.0f}, {r.ci_high:+.0f}]",
                f"{r.games}",
                f"{r.position:.2f}",
            )
        console.print(free_for_all)
    for line in (text.fit_check(summary), text.nash(summary), *summary.warnings):
        console.print(line)
    for line in text.gains(summary):
        console.print(line)
    for v in summary.verdicts:
        console.print(f"{v.record.player} vs {v.record.opponent}: {text.record(v)}")
        console.print(f"[bold]verdict: {v.verdict}[/bold]")
    if summary.verdicts:
        console.print(summary.correction)
        console.print(summary.scope)
