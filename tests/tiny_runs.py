"""What the analysis, report and notebook tests read: one tiny two-seed run per test session, and a
synthetic sweep table.

The run's `seed-0/` is a whole single-seed run directory, so one experiment gives both kinds of run directory.
It is the tiny config shrunk further (3 agents an arm, a two-member ladder) to keep two seeds near 20 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from swarm import config, engine, experiment
from tests.conftest import tiny_config


def multi_seed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run directory, made on first use and kept in the session's temp folder for every later one."""
    path = tmp_path_factory.getbasetemp() / "tiny-multi-seed"
    if not (path / "summary.json").is_file():
        data = tiny_config(
            seeds=[0, 1],
            arms=[
                {"name": "single", "agents": 1, "interaction": "self_play"},
                {"name": "independent", "agents": 3, "interaction": "self_play"},
                {"name": "swarm", "agents": 3, "interaction": "population"},
            ],
        )
        del data["seed"]
        data["evaluation"] |= {"verdict_games": 10, "ladder": ["random", "heuristic"], "curve_points": 2}
        experiment.run(config.parse(data), path.parent, run_dir=path)
    return path


def sweep_frame() -> pd.DataFrame:
    """A sweep.parquet in the sweep runner's schema: two arms, N in {2, 4, 8}, two budgets, seeds 0-2 in
    the N = 2 cells and seed 0 elsewhere."""
    rng = np.random.default_rng(0)
    rows = []
    for arm in ("independent", "swarm"):
        for budget in (4096, 8192):
            for n in (2, 4, 8):
                for seed in range(3 if n == 2 else 1):
                    gap = rng.normal(-40.0 * np.log2(n), 20)
                    rows.append(
                        {
                            "n": n,
                            "budget": budget,
                            "seed": seed,
                            "arm": arm,
                            "baseline": "single",
                            "best": f"{arm}/0",
                            "score": 0.5,
                            "score_low": 0.4,
                            "score_high": 0.6,
                            "rating_gap": gap,
                            "gap_low": gap - 60,
                            "gap_high": gap + 60,
                            "arm_rating": 100 + gap,
                            "baseline_rating": 100.0,
                            "verdict": "no significant difference",
                            "cell": f"n{n}-b{budget}",
                        }
                    )
    return pd.DataFrame(rows)


def without_time(ledger: pd.DataFrame) -> pd.DataFrame:
    """A ledger without its core-seconds: CPU time is measured, so no two runs share it."""
    return ledger.drop(columns=["core_seconds", "cum_core_seconds"]).reset_index(drop=True)


def rows_without_time(rows: list[dict]) -> pd.DataFrame:
    """Training rows without a round's wall seconds, which no two runs share."""
    return pd.DataFrame(rows).drop(columns=["seconds"])


_trained: dict[str, engine.Trained] = {}


def uninterrupted(cfg: config.Experiment) -> engine.Trained:
    """`cfg` trained once on a local 2-CPU Ray, start to end: what interrupted runs must match."""
    key = cfg.model_dump_json()
    if key not in _trained:
        with engine.session(None, 2) as cpus:
            _trained[key] = engine.train(cfg, cpus)
    return _trained[key]
