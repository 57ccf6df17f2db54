import numpy as np
import pandas as pd
import pytest

from swarm.analysis import frontier

BUDGETS = [10_000, 30_000, 100_000, 300_000, 1_000_000]


def sweep(single, best, seeds=4, noise=10.0, n=16, rng=None):
    """A sweep table whose bests' ladder ratings follow `single(x)` and `best(x)`, x = log10(budget), with
    a shared luck per seed and noise per point."""
    rng = rng or np.random.default_rng(0)
    rows = []
    for seed in range(seeds):
        luck = rng.normal(0, noise)
        for b in BUDGETS:
            x = np.log10(b)
            rows.append(
                {
                    "n": n,
                    "budget": b,
                    "seed": seed,
                    "arm": "swarm",
                    "arm_rating": best(x) + luck + rng.normal(0, noise),
                    "baseline_rating": single(x) + luck + rng.normal(0, noise),
                }
            )
    return pd.DataFrame(rows)


def test_the_fit_recovers_a_known_slope_and_a_crossing_ahead():
    """Single: 500 Elo per tenfold; the best of 16: 600 per tenfold, 800 below at budget 1. The lines meet at
    log10 B = 8, two decades past the largest budget measured."""
    lines, (cross,) = frontier.fit(frontier.points(sweep(lambda x: 500 * x, lambda x: 600 * x - 800)))
    single, best = lines
    assert single.slope_low < 500 < single.slope_high and best.slope_low < 600 < best.slope_high
    assert not single.bends and not best.bends
    assert cross.in_sight and not cross.ahead
    assert cross.low < 1e8 < cross.high and 10**7.5 < cross.compute < 10**8.5
    assert "would catch up with the single agent at a budget of about" in cross.line


def test_parallel_frontiers_never_cross():
    _, (cross,) = frontier.fit(frontier.points(sweep(lambda x: 500 * x, lambda x: 500 * x - 300)))
    assert not cross.in_sight and not cross.ahead
    assert "no crossing in sight for swarm N=16" in cross.line


def test_a_best_of_n_already_above_is_said_to_be_ahead():
    _, (cross,) = frontier.fit(frontier.points(sweep(lambda x: 400 * x, lambda x: 500 * x - 400)))
    assert cross.ahead and cross.low < 1e4 < cross.high  # the lines meet at log10 B = 4
    assert "already rated at or above" in cross.line


def test_a_saturating_frontier_is_flagged_as_bending():
    """Ratings that stop rising (a ladder with nothing above) fit no line: the parabola's term says so."""
    lines, _ = frontier.fit(
        frontier.points(sweep(lambda x: 500 * min(x, 5), lambda x: 500 * x - 300, noise=2.0))
    )
    single = next(line for line in lines if line.curve == frontier.SINGLE)
    assert single.bends and single.curvature < 0
    assert "(bends)" in frontier.lines_table(lines).set_index("curve").loc["single", "curvature"]


def test_points_average_the_single_agent_over_cells_and_leave_out_the_null():
    frame = pd.concat(
        [
            sweep(lambda x: 100 * x, lambda x: 50 * x, seeds=1, n=4),
            sweep(lambda x: 100 * x, lambda x: 50 * x, seeds=1, n=1, rng=np.random.default_rng(1)),
        ]
    )
    pts = frontier.points(frame)
    assert set(pts.curve) == {"single", "swarm N=4"}
    single = pts[pts.curve == "single"].set_index("budget").rating
    assert single.loc[10_000] == pytest.approx(frame[frame.budget == 10_000].baseline_rating.mean())


@pytest.mark.parametrize("seeds", [1, 3])
def test_the_crossings_interval_covers_the_truth_as_often_as_it_claims(seeds):
    """Fieller's interval, paired over seeds or from the lines' errors with one: over 300 simulated sweeps
    whose lines meet at log10 B = 7, it holds 10^7 in about 95% of them."""
    rng = np.random.default_rng(7)
    covered = 0
    for _ in range(300):
        frame = sweep(lambda x: 500 * x, lambda x: 600 * x - 700, seeds=seeds, noise=40.0, rng=rng)
        _, (cross,) = frontier.fit(frontier.points(frame))
        covered += cross.low <= 1e7 <= cross.high
    assert 0.92 <= covered / 300 <= 0.98
