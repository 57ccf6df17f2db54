"""One experiment, end to end: split -> train arms -> evaluate -> verdict -> write.

The config is already validated (`config.load`) before this runs, so no compute is spent on a bad file.
Tables are written as soon as they are final, so a later failure loses nothing already finished.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from swarm import evaluate, population, rundir, summary
from swarm.config import Experiment


def run(
    config: Experiment,
    out: Path,
    address: str | None = None,
    on_round: Callable[[str, float], None] | None = None,
) -> tuple[Path, dict]:
    started = time.time()
    run_dir = rundir.create(out, config.name)
    rundir.write_yaml(rundir.resolved_config(config), run_dir / "config.yaml")
    with population.session(address, config.resources.cpus) as cpus:
        trained = population.train(config, cpus, on_round)
        rundir.write_parquet(trained.ledger.frame(), run_dir / "ledger.parquet")
        rundir.write_parquet(pd.DataFrame(trained.rows), run_dir / "training.parquet")
        for agent, weights in trained.weights.items():
            rundir.save_weights(weights, run_dir / "checkpoints" / "final" / f"{agent.replace('/', '-')}.pt")
        evaluation = evaluate.run(
            config, lambda games: population.play_games(config, games, trained.weights, cpus)
        )
        rundir.write_parquet(evaluation.matches, run_dir / "matches.parquet")
    result = summary.build(config, trained.ledger, evaluation, time.time() - started)
    rundir.write_json(result, run_dir / "summary.json")
    return run_dir, result
