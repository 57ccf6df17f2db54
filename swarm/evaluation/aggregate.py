"""The verdict over seeds: the claim about the methods that one seed cannot make.

Each seed is one whole experiment, so each gives one measurement per arm: the head-to-head Elo gap of its
best against the baseline's best, from the verdict games (`significance.game_gap`). Over seeds: the mean
gap and mean score with Student-t intervals (a bootstrap of a mean over 5 seeds covers only about 84% at a
nominal 95%), and the t-test of the gaps, the primary contrast at the file's level and the others
Holm-adjusted (`swarm.evaluation.significance`). Beside it, the probability of improvement P(arm best >
baseline best) in the manner of rliable (Agarwal et al., NeurIPS 2021): the share of (seed, seed) pairs in
which the arm's best has the higher ladder rating, with a stratified bootstrap interval. It compares ratings
across seeds, so it reads the ladder ratings (each agent against the same fixed ladder, so no seed's pool
moves them), not the joint fits, whose anchor noise between seeds dwarfs the gaps; with 5 seeds its
percentile interval covers about 91% at a nominal 95%.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from rich.console import Console

from swarm import seeds
from swarm.config import Experiment
from swarm.evaluation import significance, stats, verdict
from swarm.results import rundir, text
from swarm.results.records import (
    Estimate,
    NullCheck,
    OverSeeds,
    OverSeedsGain,
    OverSeedsVerdict,
    SeedSummary,
)

PER_SEED_COLUMNS = [
    "seed",
    "arm",
    "baseline",
    "primary",
    "best",
    "games",
    "score",
    "score_low",
    "score_high",
    "rating_gap",
    "gap_low",
    "gap_high",
    "p_value",
    "arm_rating",
    "baseline_rating",
]


def per_seed(summaries: list[SeedSummary]) -> pd.DataFrame:
    """One row per seed and compared arm, from each seed's summary."""
    rows = []
    for s in summaries:
        for v in s.verdicts:
            rows.append(
                {
                    "seed": s.seed,
                    "arm": v.arm,
                    "baseline": v.baseline,
                    "primary": v.primary,
                    "best": v.record.player,
                    "games": v.record.games,
                    "score": v.record.score,
                    "score_low": v.record.ci_low,
                    "score_high": v.record.ci_high,
                    "rating_gap": v.rating_gap.estimate,
                    "gap_low": v.rating_gap.ci_low,
                    "gap_high": v.rating_gap.ci_high,
                    "p_value": v.p_value,
                    "arm_rating": s.arms[v.arm].ladder_rating.rating,
                    "baseline_rating": s.arms[v.baseline].ladder_rating.rating,
                }
            )
    return pd.DataFrame(rows, columns=PER_SEED_COLUMNS)


def over_seeds(
    frame: pd.DataFrame,
    confidence: float,
    samples: int,
    rng: np.random.Generator,
    labels: dict[str, str] | None = None,
) -> tuple[OverSeedsVerdict, ...]:
    """One verdict per compared arm of `frame` (per_seed's rows); its `primary` column names the primary.
    `labels`: how the lines name each arm's chosen agent (`verdict.label`; default `<arm> best`, and the
    baseline by its name)."""
    labels = labels or {}
    groups = dict(tuple(frame.groupby("arm", sort=False)))
    p_values = {arm: significance.t_p_value(rows.rating_gap.to_numpy()) for arm, rows in groups.items()}
    primary = next((arm for arm, rows in groups.items() if rows.primary.all()), None)
    judged = significance.adjust({a: 1.0 if np.isnan(p) else p for a, p in p_values.items()}, primary)
    results = []
    for arm, rows in groups.items():
        gap = stats.mean_interval(rows.rating_gap.to_numpy(), confidence)
        score = stats.mean_interval(rows.score.to_numpy(), confidence)
        x, y = rows.arm_rating.to_numpy(), rows.baseline_rating.to_numpy()
        poi = stats.probability_of_improvement(x, y)
        poi_low, poi_high = stats.poi_interval(x, y, confidence, samples, rng)
        significant = significance.significant(judged[arm], confidence) and not np.isnan(p_values[arm])
        held = significance.held(confidence, arm == primary)
        results.append(
            OverSeedsVerdict(
                arm=arm,
                baseline=rows.baseline.iloc[0],
                primary=arm == primary,
                seeds=len(rows),
                rating_gap=Estimate(*gap),
                score=Estimate(*score),
                probability_of_improvement=Estimate(poi, poi_low, poi_high),
                p_value=p_values[arm],
                adjusted_p=judged[arm],
                significant=significant,
                verdict=line(
                    labels.get(arm, f"{arm} best"),
                    labels.get(rows.baseline.iloc[0], rows.baseline.iloc[0]),
                    gap,
                    poi,
                    significant,
                    held,
                    len(rows),
                ),
            )
        )
    return tuple(results)


def gains(summaries: list[SeedSummary], confidence: float) -> tuple[OverSeedsGain, ...]:
    """Each interacting arm's gain from interaction over seeds, a paired difference (both bests from the
    same seed): the per-seed head-to-head gaps of its best over its control's best, their mean with a
    Student-t interval and the t-test; and the same for their ladder ratings."""
    per_arm: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for s in summaries:
        for g in s.gains:
            per_arm.setdefault((g.arm, g.control), []).append(
                (g.interaction_gain.estimate, g.ladder_gain.estimate)
            )
    results = []
    for (arm, control), pairs in per_arm.items():
        direct, ladder = np.array(pairs).T
        results.append(
            OverSeedsGain(
                arm,
                control,
                len(pairs),
                Estimate(*stats.mean_interval(direct, confidence)),
                significance.t_p_value(direct),
                Estimate(*stats.mean_interval(ladder, confidence)),
            )
        )
    return tuple(results)


def null_check(summaries: list[SeedSummary], result: OverSeeds, arm: str) -> NullCheck:
    """How often identical procedures (the baseline and `arm`) were told apart: per seed by the one-seed
    verdict, and once by the verdict over seeds."""
    primary = next(v for v in result.verdicts if v.arm == arm)
    named = sum(
        significance.significant(v.p_value, result.confidence)
        for s in summaries
        for v in s.verdicts
        if v.arm == arm
    )
    low, high = verdict.wilson(named, len(summaries), result.confidence)
    return NullCheck(
        (primary.baseline, primary.arm),
        len(summaries),
        named,
        Estimate(named / len(summaries), low, high),
        primary.significant,
    )


def write(config: Experiment, run: rundir.RunDir) -> OverSeeds:
    """The verdict over seeds, from every finished seed-<s>/summary.json (a sweep calls it once a cell's
    seeds, run as separate Ray tasks, are all done); writes per_seed.parquet and summary.json."""
    summaries = [rundir.read_seed_summary(run.seed(s)) for s in config.seeds]
    frame = per_seed(summaries)
    ev = config.evaluation
    result = OverSeeds(
        name=config.name,
        env=config.env,
        seeds=tuple(config.seeds),
        confidence=ev.confidence,
        verdicts=over_seeds(
            frame,
            ev.confidence,
            ev.bootstrap,
            seeds.over_seeds_rng(config.seeds),
            {arm.name: verdict.label(arm.name, arm.agents) for arm in config.arms},
        ),
        correction=significance.correction(config.primary_arm.name, len(config.arms) - 2),
        gains=gains(summaries, ev.confidence),
        null_check=None,
    )
    if config.same_procedure(config.baseline_arm, config.primary_arm):
        result = replace(result, null_check=null_check(summaries, result, config.primary_arm.name))
    rundir.write_parquet(frame, run.per_seed)
    rundir.write_summary(result, run)
    return result


def line(
    player: str,
    baseline: str,
    gap: tuple[float, float, float],
    poi: float,
    significant: bool,
    held: str,
    seeds: int,
) -> str:
    """The effect of `player` (an arm's chosen agent, as labelled) over the baseline's, its interval over
    seeds, and whether it is significant as judged (`held`)."""
    mean, low, high = gap
    effect = f"{player} vs {baseline}: {mean:+.0f} Elo head to head over {seeds} seed{'s' * (seeds != 1)}"
    if np.isnan(low):
        return f"{effect}; one seed gives no interval over seeds: run more seeds"
    interval = f"{effect}, interval [{low:+.0f}, {high:+.0f}], P(improvement) {poi:.2f}"
    if not significant:
        return f"{interval}: not significant {held}"
    stronger = player if mean > 0 else baseline
    return f"{interval}: {stronger} is stronger (significant {held})"


def render(aggregate: OverSeeds, frame: pd.DataFrame, console: Console) -> None:
    console.print(f"[bold]{aggregate.name}: {len(aggregate.seeds)} seeds[/bold]")
    for _, r in frame.iterrows():
        console.print(
            f"  seed {r.seed}: {r.best} vs {r.baseline} score {r.score:.3f}, "
            f"Elo gap {r.rating_gap:+.0f} [{r.gap_low:+.0f}, {r.gap_high:+.0f}]"
        )
    for v in aggregate.verdicts:
        console.print(f"[bold]verdict over seeds: {v.verdict}[/bold]")
    console.print(aggregate.correction)
    for line_ in [*text.gains_over_seeds(aggregate), *text.null_check(aggregate)]:
        console.print(line_)
