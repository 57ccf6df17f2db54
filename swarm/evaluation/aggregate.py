"""The verdict over seeds, in the manner of rliable (Agarwal et al., NeurIPS 2021).

Each seed is one whole experiment, so each gives one measurement per arm: its best's held-out rating (Elo,
anchored at random = 0, so seeds share one scale), the rating gap to the baseline, and the head-to-head
score. Over seeds: the mean gap and mean score with Student-t intervals over seeds (a bootstrap of a mean
over 5 seeds covers only about 84% at a nominal 95%), and the probability of
improvement P(arm best > baseline), the share of all (seed, seed) pairs in which the arm's best is rated
higher, with a stratified bootstrap interval (each arm's seeds resampled on their own). The verdict is
significant when the gap's interval excludes 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.console import Console

from swarm import seeds
from swarm.config import Experiment
from swarm.evaluation import stats
from swarm.results import rundir
from swarm.results.records import Estimate, OverSeeds, OverSeedsVerdict, SeedSummary

PER_SEED_COLUMNS = [
    "seed",
    "arm",
    "baseline",
    "best",
    "score",
    "score_low",
    "score_high",
    "rating_gap",
    "gap_low",
    "gap_high",
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
                    "best": v.record.player,
                    "score": v.record.score,
                    "score_low": v.record.ci_low,
                    "score_high": v.record.ci_high,
                    "rating_gap": v.rating_gap.estimate,
                    "gap_low": v.rating_gap.ci_low,
                    "gap_high": v.rating_gap.ci_high,
                    "arm_rating": s.arms[v.arm].best_rating.rating,
                    "baseline_rating": s.arms[v.baseline].best_rating.rating,
                }
            )
    return pd.DataFrame(rows, columns=PER_SEED_COLUMNS)


def over_seeds(
    frame: pd.DataFrame, confidence: float, samples: int, rng: np.random.Generator
) -> tuple[OverSeedsVerdict, ...]:
    results = []
    for arm, rows in frame.groupby("arm", sort=False):
        gap = stats.mean_interval(rows.rating_gap.to_numpy(), confidence)
        score = stats.mean_interval(rows.score.to_numpy(), confidence)
        x, y = rows.arm_rating.to_numpy(), rows.baseline_rating.to_numpy()
        poi = stats.probability_of_improvement(x, y)
        poi_low, poi_high = stats.poi_interval(x, y, confidence, samples, rng)
        results.append(
            OverSeedsVerdict(
                arm=arm,
                baseline=rows.baseline.iloc[0],
                seeds=len(rows),
                rating_gap=Estimate(*gap),
                score=Estimate(*score),
                probability_of_improvement=Estimate(poi, poi_low, poi_high),
                significant=bool(gap[1] > 0 or gap[2] < 0),
                verdict=line(arm, rows.baseline.iloc[0], len(rows), gap, poi, confidence),
            )
        )
    return tuple(results)


def write(config: Experiment, run: rundir.RunDir) -> OverSeeds:
    """The verdict over seeds, from every finished seed-<s>/summary.json (a sweep calls it once a cell's
    seeds, run as separate Ray tasks, are all done); writes per_seed.parquet and summary.json."""
    frame = per_seed([rundir.read_seed_summary(run.seed(s)) for s in config.seeds])
    ev = config.evaluation
    result = OverSeeds(
        name=config.name,
        env=config.env,
        seeds=tuple(config.seeds),
        confidence=ev.confidence,
        verdicts=over_seeds(frame, ev.confidence, ev.bootstrap, seeds.over_seeds_rng(config.seeds)),
    )
    rundir.write_parquet(frame, run.per_seed)
    rundir.write_summary(result, run)
    return result


def line(
    arm: str, baseline: str, seeds: int, gap: tuple[float, float, float], poi: float, confidence: float
) -> str:
    """The effect, its interval, the number of seeds, and whether it is significant."""
    mean, low, high = gap
    effect = f"{arm} best vs {baseline}: {mean:+.0f} Elo over {seeds} seed{'s' * (seeds != 1)}"
    if np.isnan(low):
        return f"{effect}; one seed gives no interval over seeds: run more seeds"
    interval = f"{effect}, {confidence:.0%} interval [{low:+.0f}, {high:+.0f}], P(improvement) {poi:.2f}"
    if low > 0:
        return f"{interval}: {arm} best is stronger (significant at {confidence:.0%})"
    if high < 0:
        return f"{interval}: {baseline} is stronger (significant at {confidence:.0%})"
    return f"{interval}: not significant at {confidence:.0%}"


def render(aggregate: OverSeeds, frame: pd.DataFrame, console: Console) -> None:
    console.print(f"[bold]{aggregate.name}: {len(aggregate.seeds)} seeds[/bold]")
    for _, r in frame.iterrows():
        console.print(
            f"  seed {r.seed}: {r.best} vs {r.baseline} score {r.score:.3f}, "
            f"rating gap {r.rating_gap:+.0f} Elo [{r.gap_low:+.0f}, {r.gap_high:+.0f}]"
        )
    for v in aggregate.verdicts:
        console.print(f"[bold]verdict over seeds: {v.verdict}[/bold]")
