"""The compute frontier: strength as a function of compute, one line per way of spending it, and where the
best of N's line would meet the single agent's.

Strength is a best's ladder rating (Elo against the ladder held fixed, random = 0; a sweep table's
`arm_rating` and `baseline_rating`), which does not depend on who else was rated, so points from different
cells and seeds share one scale. Compute is the cell's budget B in the sweep's unit. In the linear regime of
board games strength rises about linearly in log compute (Jones 2021, Hex: some 500 Elo per tenfold), so
each frontier is the least-squares line rating = a + b log10(B), b in Elo per tenfold.

Intervals follow the verdict over seeds: a line is fitted to each seed's points, and the slope's interval
is Student's t over the seeds' slopes; with one seed, the least-squares interval from the line's residuals.
Before a line is trusted its shape is checked: the quadratic term of a parabola through the mean rating at
each budget, with its Student-t interval from the parabola's residuals (four budgets or more); one that
excludes 0 means the frontier bends (the ladder saturating above, or agents at random's level below), and a
crossing read off the lines is then not to be trusted.

The best of N meets the single agent where the difference of their lines, d(x) = da + db x (x = log10 B),
is 0: x* = -da / db. The same seed's two bests are paired (their cells share the seed), so d is fitted per
seed, and x*'s interval is Fieller's: every x where d(x) is not significantly different from 0 by the
t-test over the seeds' d_s(x) (with one seed, by the two lines' least-squares errors). It may be unbounded,
which the report says as "never". A crossing is in sight when the best of N is below at the largest
budget measured and its line is significantly steeper (db's interval above 0).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

SINGLE = "single"
SPAN, GRID = 8.0, 0.001  # Fieller's interval is searched over decades of budget: 8 beyond what was measured


@dataclass(frozen=True)
class Line:
    """One frontier: rating = intercept + slope log10(compute), with intervals and a check of its shape."""

    curve: str
    intercept: float
    slope: float  # Elo per tenfold compute
    slope_low: float
    slope_high: float
    curvature: float  # the quadratic term of a parabola through the means, Elo per decade squared; nan if
    curvature_low: float  # fewer than four budgets
    curvature_high: float
    points: int
    budgets: tuple[int, ...]

    def at(self, compute: float) -> float:
        return self.intercept + self.slope * np.log10(compute)

    @property
    def bends(self) -> bool:
        return not np.isnan(self.curvature) and not self.curvature_low <= 0 <= self.curvature_high


@dataclass(frozen=True)
class Crossing:
    """Where the best of N (`curve`) would meet the single agent's frontier, and how sure that is."""

    curve: str
    ahead: bool  # the best of N is already above the single agent at the largest budget measured
    compute: float  # the crossing's budget on the fitted lines; inf where the lines never meet ahead
    low: float
    high: float
    in_sight: bool  # a crossing ahead of the measured range, its line reliably steeper
    line: str


def points(frame: pd.DataFrame) -> pd.DataFrame:
    """A sweep table as frontier points: curve, budget, seed, rating. The single agent's (one per budget and
    seed: every cell of a budget trains the same single agent, so its ratings there are averaged) and, per
    compared arm and N > 1, the best of N's (named `<arm> N=<n>`)."""
    single = (
        frame.groupby(["budget", "seed"], as_index=False)
        .baseline_rating.mean()
        .rename(columns={"baseline_rating": "rating"})
        .assign(curve=SINGLE)
    )
    grown = frame[frame.n > 1]
    best = grown.assign(curve=grown.arm + " N=" + grown.n.astype(str), rating=grown.arm_rating)
    columns = ["curve", "budget", "seed", "rating"]
    return pd.concat([single[columns], best[columns]], ignore_index=True)


def _line(part: pd.DataFrame) -> tuple[float, float]:
    """Intercept and slope of the least-squares line through a curve's points."""
    slope, intercept = np.polyfit(np.log10(part.budget.to_numpy(float)), part.rating.to_numpy(float), 1)
    return float(intercept), float(slope)


def _t(confidence: float, dof: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(1 - (1 - confidence) / 2, dof))


def _ols(x: np.ndarray, y: np.ndarray, degree: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Least-squares coefficients (constant first), their covariance from the residuals, and the degrees of
    freedom left."""
    design = np.vander(x, degree + 1, increasing=True)
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    dof = len(x) - degree - 1
    scale = float(((y - design @ beta) ** 2).sum()) / dof if dof > 0 else np.nan
    return beta, scale * np.linalg.pinv(design.T @ design), dof


def _curvature(part: pd.DataFrame, confidence: float) -> tuple[float, float, float]:
    """The quadratic term of the parabola through the mean rating at each budget, with its Student-t
    interval; nan with fewer than four budgets (no residual left to judge it by)."""
    means = part.groupby("budget").rating.mean()
    if len(means) < 4:
        return (np.nan,) * 3
    beta, cov, dof = _ols(np.log10(means.index.to_numpy(float)), means.to_numpy(float), 2)
    half = _t(confidence, dof) * np.sqrt(cov[2, 2])
    return float(beta[2]), float(beta[2] - half), float(beta[2] + half)


def _per_seed(part: pd.DataFrame) -> pd.DataFrame:
    """Each seed's line (seeds measured at two budgets or more): columns a, b, indexed by seed."""
    fitted = {seed: _line(rows) for seed, rows in part.groupby("seed") if rows.budget.nunique() >= 2}
    return pd.DataFrame.from_dict(fitted, orient="index", columns=["a", "b"])


def _slope_interval(part: pd.DataFrame, confidence: float) -> tuple[float, float]:
    seeds = _per_seed(part)
    if len(seeds) >= 2:
        half = _t(confidence, len(seeds) - 1) * seeds.b.std(ddof=1) / np.sqrt(len(seeds))
        return float(seeds.b.mean() - half), float(seeds.b.mean() + half)
    beta, cov, dof = _ols(np.log10(part.budget.to_numpy(float)), part.rating.to_numpy(float), 1)
    half = _t(confidence, dof) * np.sqrt(cov[1, 1]) if dof > 0 else np.inf
    return float(beta[1] - half), float(beta[1] + half)


def fit(pts: pd.DataFrame, confidence: float = 0.95) -> tuple[list[Line], list[Crossing]]:
    """Every curve's line (those measured at two budgets or more) and each best of N's crossing with the
    single agent's line."""
    lines, parts = {}, dict(tuple(pts.groupby("curve", sort=False)))
    for curve, part in parts.items():
        if part.budget.nunique() < 2:
            continue
        a, b = _line(part)
        budgets = tuple(sorted(int(x) for x in part.budget.unique()))
        slope = _slope_interval(part, confidence)
        lines[curve] = Line(curve, a, b, *slope, *_curvature(part, confidence), len(part), budgets)
    if SINGLE not in lines:
        return list(lines.values()), []
    crossings = [
        crossing(lines[SINGLE], line, parts[SINGLE], parts[curve], confidence)
        for curve, line in lines.items()
        if curve != SINGLE
    ]
    return list(lines.values()), crossings


Difference = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]  # x -> d(x) and its standard error


@dataclass(frozen=True)
class Gap:
    """The best of N's line less the single agent's: d(x) = da + db x."""

    da: float
    db: float
    db_error: float
    dof: int
    at: Difference


def difference(single: pd.DataFrame, best: pd.DataFrame) -> Gap:
    """The best of N's line less the single agent's, paired by seed over the seeds both have (two or more),
    else from the two lines' least-squares errors."""
    paired = _per_seed(best).merge(_per_seed(single), left_index=True, right_index=True, suffixes=("", "_1"))
    if len(paired) >= 2:
        da, db = (paired.a - paired.a_1).to_numpy(), (paired.b - paired.b_1).to_numpy()

        def paired_at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            each = da[:, None] + db[:, None] * x[None]
            return each.mean(0), each.std(0, ddof=1) / np.sqrt(len(da))

        error = float(db.std(ddof=1) / np.sqrt(len(db)))
        return Gap(float(da.mean()), float(db.mean()), error, len(da) - 1, paired_at)
    fits = [_ols(np.log10(p.budget.to_numpy(float)), p.rating.to_numpy(float), 1) for p in (best, single)]
    (beta_n, cov_n, dof_n), (beta_1, cov_1, dof_1) = fits
    delta, cov = beta_n - beta_1, cov_n + cov_1

    def pooled_at(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return delta[0] + delta[1] * x, np.sqrt(cov[0, 0] + 2 * cov[0, 1] * x + cov[1, 1] * x**2)

    return Gap(float(delta[0]), float(delta[1]), float(np.sqrt(cov[1, 1])), dof_n + dof_1, pooled_at)


def crossing(
    single: Line, best: Line, single_points: pd.DataFrame, best_points: pd.DataFrame, confidence: float
) -> Crossing:
    """Where `best`'s line meets `single`'s, with Fieller's interval."""
    largest = max(single.budgets[-1], best.budgets[-1])
    x_max = np.log10(largest)
    gap = difference(single_points, best_points)
    t = _t(confidence, gap.dof) if gap.dof > 0 else np.inf
    ahead = gap.da + gap.db * x_max >= 0
    x = -gap.da / gap.db if gap.db != 0 else np.inf
    grid = np.arange(np.log10(min(single.budgets[0], best.budgets[0])) - SPAN, x_max + SPAN, GRID)
    mean, error = gap.at(grid)
    plausible = grid[np.abs(mean) <= t * error]
    low, high = (plausible.min(), plausible.max()) if len(plausible) else (x, x)
    low, high = (-np.inf if low <= grid[0] else low), (np.inf if high >= grid[-1] else high)
    db_low, db_high = gap.db - t * gap.db_error, gap.db + t * gap.db_error
    in_sight = bool(not ahead and db_low > 0)
    slopes = f"{gap.db:+.0f} [{db_low:+.0f}, {db_high:+.0f}] Elo per tenfold"
    interval = f"[{_bound(low)}, {_bound(high)}]"
    if ahead:
        line = (
            f"{best.curve}'s best is already rated at or above the single agent at the largest budget "
            f"measured ({largest:,}) on the fitted lines"
            + (f", which meet at about {10**x:,.3g} {interval}" if gap.db > 0 else "")
        )
    elif in_sight:
        line = (
            f"{best.curve}'s best would catch up with the single agent at a budget of about {10**x:,.3g} "
            f"{interval}, {x - x_max:.1f} decades beyond the largest measured ({largest:,}): an "
            f"extrapolation of lines {slopes} apart in slope"
        )
    else:
        line = (
            f"no crossing in sight for {best.curve}: its best is below the single agent at the largest "
            f"budget measured ({largest:,}) and its frontier is not significantly steeper ({slopes})"
        )
    return Crossing(best.curve, bool(ahead), float(10**x), float(10**low), float(10**high), in_sight, line)


def _bound(x: float) -> str:
    """A budget 10^x for a line: unbounded ends said in words."""
    if np.isinf(x):
        return "never" if x > 0 else "any smaller"
    return f"{10**x:,.3g}"


def lines_table(lines: list[Line]) -> pd.DataFrame:
    """The lines as the report prints them."""
    return pd.DataFrame(
        [
            {
                "curve": ln.curve,
                "budgets": len(ln.budgets),
                "points": ln.points,
                "Elo at the smallest": round(ln.at(ln.budgets[0])),
                "Elo per tenfold": f"{ln.slope:.0f} [{ln.slope_low:.0f}, {ln.slope_high:.0f}]",
                "curvature": "needs 4 budgets"
                if np.isnan(ln.curvature)
                else f"{ln.curvature:.0f} [{ln.curvature_low:.0f}, {ln.curvature_high:.0f}]"
                + (" (bends)" if ln.bends else ""),
            }
            for ln in lines
        ]
    )
