"""`swarm plan FILE`: the smallest rating gap a design can detect, before any compute is spent.

Each seed measures the gap between an arm's best and the baseline once. Its variance has two parts: game
noise, from the verdict games (delta method on the head-to-head score, `stats.elo_standard_error`), and the
spread between seeds (how much the best-of-N and the single agent vary with the seed), which only runs can
tell. The mean over S seeds has standard error sqrt((game^2 + seed^2) / S); a two-sided test at the file's
confidence detects a true gap of (z_{1-alpha/2} + z_power) * SE with probability `power`.

A past run sharpens both parts: its verdict games give the draw rate, and a multi-seed run gives the spread
between seeds (the variance of its per-seed gaps less their game noise).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pandas as pd

from swarm.config import Experiment
from swarm.evaluation import stats
from swarm.results import rundir
from swarm.results.records import OverSeeds

POWER = 0.8
ASSUMED_SEED_SPREADS = (0.0, 25.0, 50.0, 100.0)  # Elo, shown when no past run measured it


@dataclass(frozen=True)
class Past:
    draw_rate: float
    seed_spread: float | None  # Elo, None if the run had one seed
    seeds: int


def read_past(run: Path) -> Past:
    """Draw rate of the verdict games and the spread of the per-seed gaps of a finished run."""
    directory = rundir.open_run(run)
    summary = rundir.read_summary(directory)
    several = isinstance(summary, OverSeeds)
    dirs = [directory.seed(s) for s in summary.seeds] if several else [directory]
    matches = pd.concat([pd.read_parquet(d.matches) for d in dirs])
    verdict = matches[matches.stage == "verdict"]
    draw_rate = float((verdict.outcome == "draw").mean()) if len(verdict) else 0.0
    if not several:
        return Past(draw_rate, None, 1)
    frame = pd.read_parquet(directory.per_seed)
    z = NormalDist().inv_cdf(0.5 + summary.confidence / 2)  # per-seed gap intervals back to standard errors
    spreads = []
    for _, rows in frame.groupby("arm"):
        if len(rows) < 2:
            continue
        game_var = np.mean(((rows.gap_high - rows.gap_low) / (2 * z)) ** 2)
        spreads.append(max(0.0, float(rows.rating_gap.var(ddof=1)) - float(game_var)))
    seeds = int(frame.seed.nunique())
    return Past(draw_rate, math.sqrt(max(spreads)) if spreads else None, seeds)


def detectable(game_se: float, seed_spread: float, seeds: int, confidence: float) -> float:
    """One seed is judged on its games (normal test); several on their spread (t test, seeds - 1 dof)."""
    se = math.sqrt((game_se**2 + seed_spread**2) / seeds)
    return stats.min_detectable_gap(se, confidence, POWER, dof=seeds - 1 if seeds > 1 else None)


@dataclass(frozen=True)
class Design:
    """What a design can detect: its noise per seed and the smallest detectable gap per seed spread."""

    seeds: int
    verdict_games: int
    confidence: float
    power: float
    draw_rate: float
    game_se: float  # Elo, one seed's verdict games
    measured_spread: bool  # the spread between seeds came from a past run
    past_seeds: int | None
    detectable: dict[float, float]  # spread between seeds (Elo) -> smallest detectable gap (Elo)


def plan(config: Experiment, past: Past | None = None) -> Design:
    ev = config.evaluation
    seeds = len(config.run_seeds)
    draw_rate = past.draw_rate if past else 0.0
    game_se = stats.elo_standard_error(ev.verdict_games, 0.5, draw_rate)
    spreads = (
        [past.seed_spread]
        if past is not None and past.seed_spread is not None
        else list(ASSUMED_SEED_SPREADS)
    )
    return Design(
        seeds=seeds,
        verdict_games=ev.verdict_games,
        confidence=ev.confidence,
        power=POWER,
        draw_rate=draw_rate,
        game_se=game_se,
        measured_spread=past is not None and past.seed_spread is not None,
        past_seeds=past.seeds if past else None,
        detectable={spread: detectable(game_se, spread, seeds, ev.confidence) for spread in spreads},
    )


def render(result: Design) -> list[str]:
    lines = [
        f"design: {result.seeds} seed(s) x {result.verdict_games} verdict games per seed "
        f"(each arm's best vs the baseline), two-sided test at {result.confidence:.0%}, "
        f"power {result.power:.0%}",
        f"game noise per seed: {result.game_se:.1f} Elo (1 SE, draw rate {result.draw_rate:.2f})",
    ]
    if result.measured_spread:
        ((spread, gap),) = result.detectable.items()
        lines.append(
            f"spread between seeds, measured on {result.past_seeds} seeds of a past run: {spread:.1f} Elo"
        )
        lines.append(f"smallest detectable rating gap: {gap:.0f} Elo (score {_score(gap):.3f} vs 0.500)")
    else:
        lines.append("spread between seeds: not measured (pass --past RUN with a multi-seed run); assuming")
        for spread, gap in result.detectable.items():
            lines.append(
                f"  {spread:5.0f} Elo between seeds -> smallest detectable gap {gap:5.0f} Elo "
                f"(score {_score(gap):.3f} vs 0.500)"
            )
    return lines


def _score(elo: float) -> float:
    return 1 / (1 + 10 ** (-elo / 400))
