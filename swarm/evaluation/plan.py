"""`swarm plan FILE`: the smallest rating gap a design can detect, before any compute is spent.

One seed is judged on its verdict games alone: a score test over games (normal), whose noise is game noise
(delta method, `stats.elo_standard_error`). Its verdict is about the two trained agents it played, so what
it can detect is a gap between those agents; it says nothing about the ways of training them.

Several seeds are judged by a one-sample t test of the per-seed gaps (S - 1 degrees of freedom). A
per-seed gap varies by game noise and by the spread between seeds (how much the best-of-N and the single
agent vary with the seed), which only runs can tell: sigma^2 = game^2 + spread^2. The power at a true gap
d is exact by the noncentral t (`stats.two_sided_power`) for normal per-seed gaps, and depends on d / sigma
alone, so a plan at an assumed spread is exact for that spread.

A past run sharpens both parts: its verdict games give the draw rate, and a multi-seed run gives the spread
between seeds, with an interval (few seeds pin a spread down only roughly), and the plan is shown at the
interval's ends too.
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
TABLE_GAPS = (50.0, 100.0, 200.0)  # Elo: the true gaps the seeds-needed table is for
MAX_SEEDS = 1000
# A design that detects only gaps above 400 Elo (a score of 0.91) misses every difference between training
# methods worth a study, and its "not significant" says nothing.
METHOD_CLAIM_LIMIT = 400.0


@dataclass(frozen=True)
class Past:
    """What a finished run tells a plan. Over several seeds: the SD of one arm's per-seed gaps (the arm
    whose gaps spread most, which errs towards a wider spread) and that arm's game noise per seed."""

    draw_rate: float
    seeds: int
    gap_sd: float | None = None  # Elo, sample SD over seeds; None for a one-seed run
    game_sd: float | None = None  # Elo, from the per-seed gaps' intervals


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
        return Past(draw_rate, 1)
    frame = pd.read_parquet(directory.per_seed)
    z = NormalDist().inv_cdf(0.5 + summary.confidence / 2)  # per-seed gap intervals back to standard errors
    arms = [
        (float(rows.rating_gap.var(ddof=1)), float(np.mean(((rows.gap_high - rows.gap_low) / (2 * z)) ** 2)))
        for _, rows in frame.groupby("arm")
        if len(rows) >= 2
    ]
    seeds = int(frame.seed.nunique())
    if not arms:
        return Past(draw_rate, seeds)
    gap_var, game_var = max(arms, key=lambda arm: arm[0] - arm[1])
    return Past(draw_rate, seeds, math.sqrt(gap_var), math.sqrt(game_var))


def measured_spread(past: Past, confidence: float) -> tuple[float, float, float]:
    """(estimate, low, high) of the spread between seeds, Elo.

    The past run's per-seed gaps have SD sqrt(game^2 + spread^2): their sample SD gets the chi-square
    interval (`stats.sd_interval`, seeds - 1 dof), then the game noise is taken off the estimate and each
    end, clipped at 0. The game noise comes from hundreds of games a seed and is taken as known; taking it
    off is monotone, so the interval holds the spread at least as often as the chi-square one holds the SD.
    """

    def less_game_noise(sd: float) -> float:
        return math.sqrt(max(0.0, sd**2 - past.game_sd**2))

    low, high = stats.sd_interval(past.gap_sd, past.seeds - 1, confidence)
    return less_game_noise(past.gap_sd), less_game_noise(low), less_game_noise(high)


def detectable(game_se: float, seed_spread: float, seeds: int, confidence: float) -> float:
    """Smallest true gap the t test over `seeds` (>= 2) per-seed gaps detects with probability POWER."""
    sigma = math.hypot(game_se, seed_spread)
    return stats.min_detectable_gap(sigma / math.sqrt(seeds), confidence, POWER, dof=seeds - 1)


@dataclass(frozen=True)
class Spread:
    """One spread between seeds, and what a design makes of it."""

    label: str  # where it came from: assumed, or measured and its interval's ends
    elo: float
    detectable: float | None  # over the design's seeds; None for one seed, whose test never sees the spread
    seeds_needed: tuple[int | None, ...]  # for each of TABLE_GAPS at POWER; None: more than MAX_SEEDS


@dataclass(frozen=True)
class Design:
    """What a design can detect: its game noise, and per spread between seeds its smallest detectable gap
    and the seeds a few gaps would need."""

    seeds: int
    verdict_games: int
    confidence: float
    power: float
    draw_rate: float
    game_se: float  # Elo, one seed's verdict games
    agents_gap: float | None  # one seed: smallest detectable gap between its two trained agents, else None
    past_seeds: int | None  # the spreads were measured on this many seeds of a past run; None: assumed
    spreads: tuple[Spread, ...]


def plan(config: Experiment, past: Past | None = None) -> Design:
    ev = config.evaluation
    seeds = len(config.run_seeds)
    draw_rate = past.draw_rate if past else 0.0
    game_se = stats.elo_standard_error(ev.verdict_games, 0.5, draw_rate)
    measured = past is not None and past.gap_sd is not None
    if measured:
        estimate, low, high = measured_spread(past, ev.confidence)
        level = f"{ev.confidence:.0%}"
        labelled = [("measured", estimate), (f"{level} low", low), (f"{level} high", high)]
    else:
        labelled = [("assumed", spread) for spread in ASSUMED_SEED_SPREADS]

    def spread(label: str, elo: float) -> Spread:
        sigma = math.hypot(game_se, elo)
        return Spread(
            label,
            elo,
            detectable(game_se, elo, seeds, ev.confidence) if seeds > 1 else None,
            tuple(stats.seeds_for_power(gap, sigma, ev.confidence, POWER, MAX_SEEDS) for gap in TABLE_GAPS),
        )

    return Design(
        seeds=seeds,
        verdict_games=ev.verdict_games,
        confidence=ev.confidence,
        power=POWER,
        draw_rate=draw_rate,
        game_se=game_se,
        agents_gap=stats.min_detectable_gap(game_se, ev.confidence, POWER) if seeds == 1 else None,
        past_seeds=past.seeds if measured else None,
        spreads=tuple(spread(label, elo) for label, elo in labelled),
    )


def render(result: Design) -> list[str]:
    one = result.seeds == 1
    lines = [
        f"design: {result.seeds} seed(s) x {result.verdict_games} verdict games per seed (each arm's best vs "
        f"the baseline), two-sided test at {result.confidence:.0%}, power {result.power:.0%}",
        f"game noise per seed: {result.game_se:.1f} Elo (1 SE, draw rate {result.draw_rate:.2f})",
    ]
    if one:
        lines += [
            "one seed cannot support a claim about the method: its verdict is about these agents; for a "
            "method claim use several seeds (how many: the table below), e.g. budgets/multi-seed.yaml",
            "smallest detectable gap between these two trained agents (score test over the verdict games, "
            f"game noise alone): {result.agents_gap:.0f} Elo (score {_score(result.agents_gap):.3f})",
        ]
    else:
        lines.append(
            f"test over seeds: one-sample t test of the {result.seeds} per-seed gaps ({result.seeds - 1} "
            "dof), its power exact by the noncentral t for normal per-seed gaps"
        )
    if result.past_seeds is not None:
        estimate, low, high = result.spreads
        lines.append(
            f"spread between seeds, measured on {result.past_seeds} seeds of a past run: {estimate.elo:.1f} "
            f"Elo, {result.confidence:.0%} interval [{low.elo:.1f}, {high.elo:.1f}] (chi-square interval of "
            "the per-seed gaps' SD, less the past run's game noise, clipped at 0)"
        )
    else:
        lines.append("spread between seeds: not measured (pass --past RUN with a multi-seed run), so assumed")
    detected = "(none: one seed)" if one else f"gap with {result.seeds} seeds"
    lines += [
        f"{'spread between':<19}{'smallest detectable':<24}seeds for {result.power:.0%} power at a gap of",
        f"{'seeds (Elo)':<19}{detected:<24}" + "".join(f"{gap:>5.0f} Elo" for gap in TABLE_GAPS),
    ]
    for spread in result.spreads:
        gap = "-" if one else f"{spread.detectable:4.0f} Elo (score {_score(spread.detectable):.3f})"
        needed = "".join(f"{_seeds(n):>9}" for n in spread.seeds_needed)
        lines.append(f"{spread.elo:5.0f} {spread.label:<13}{gap:<24}{needed}")
    if not one:
        lines += [
            f"at {spread.elo:.0f} Elo between seeds ({spread.label}) this design cannot support a method "
            f"claim: its smallest detectable gap exceeds {METHOD_CLAIM_LIMIT:.0f} Elo (score "
            f"{_score(METHOD_CLAIM_LIMIT):.2f}); it needs more seeds (the table)"
            for spread in result.spreads
            if spread.detectable > METHOD_CLAIM_LIMIT
        ]
    return lines


def _seeds(n: int | None) -> str:
    return f"> {MAX_SEEDS}" if n is None else str(n)


def _score(elo: float) -> float:
    return 1 / (1 + 10 ** (-elo / 400))
