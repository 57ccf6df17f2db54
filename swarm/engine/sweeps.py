"""A sweep on Ray: every seed of every unfinished cell a Ray task, in one Ray session.

Seed runs go as many at once as Ray CPUs // `sweep.cpus_per_cell`, the largest budgets first (`sweep.pending`
orders them: the longest tasks first shortens a parallel sweep). A finished sweep starts no Ray at all.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import ray
from ray.exceptions import RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from swarm import engine, experiment, references, sweep
from swarm.config import ConfigError, Experiment
from swarm.results.rundir import SweepDir
from swarm.sweep import Say, Sweep

Todo = list[tuple[str, Experiment, Path]]  # (cell, one seed's experiment, its run directory)


def run(grid: Sweep, out: Path, address: str | None = None, say: Say = lambda _: None) -> Path:
    """Run every cell not yet finished, write sweep.parquet, and return the sweep directory."""
    directory = sweep.open_dir(grid, out)
    todo = sweep.pending(grid, directory)
    done = sweep.finished(grid, directory)
    say(
        f"sweep {grid.name}: {len(grid.cells)} cells x {len(grid.run_seeds)} seed(s), "
        f"{sweep.spend(grid):,} training {grid.budget.unit} in all; {len(done)} cells finished, "
        f"{len(todo)} seed runs to go, in {directory.path}"
    )
    if len(done) < len(grid.cells):
        with engine.session(address, grid.resources.cpus, grid.resources.gpus) as cpus:
            _run_all(grid, directory, todo, cpus, say)
    sweep.write_table(grid, directory)
    return directory.path


@ray.remote(num_cpus=0)
def _run_seed(cell: Experiment, run_dir: Path, cpus: int, members: dict[str, engine.Weights]) -> None:
    """One seed of one cell, the ladder's trained `members` from their weights. It drives its own actors and
    evaluation tasks, so it holds no CPU itself: a task holding CPUs while its actors wait for them would
    deadlock a small machine."""
    experiment.run_seed(cell, run_dir, cpus, members=members)


def _run_all(grid: Sweep, directory: SweepDir, todo: Todo, cpus: int, say: Say) -> None:
    """Keep Ray CPUs // cpus_per_cell seed runs going; finish each cell once its last seed is done.

    Seed runs are pinned to this node so every run directory is written where the sweep directory is; their
    actors and evaluation tasks still spread over the cluster. After a failure no new run starts, the
    running ones finish (their compute is kept), and the first error is raised."""
    per_run = grid.sweep.cpus_per_cell or cpus
    if per_run > cpus:
        raise ConfigError(
            f"sweep.cpus_per_cell: {per_run} exceeds the {cpus} CPUs Ray offers; lower it or set it to null"
        )
    sweep.prepare(grid, directory, todo, say)
    cells = grid.cells
    # the cells share the file's blocks, so the trained members' recipes: trained once for every cell
    members = ray.put(references.train(next(iter(cells.values())), directory, experiment.train_member, say))
    left = Counter(name for name, _, _ in todo)
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    waiting, running, failed = list(todo), {}, []
    while waiting or running:
        while waiting and not failed and len(running) < cpus // per_run:
            name, cell, run_dir = waiting.pop(0)
            ref = _run_seed.options(scheduling_strategy=here).remote(cell, run_dir, per_run, members)
            running[ref] = (name, cell.seed, time.time())
        if not running:
            break
        [ref], _ = ray.wait(list(running), num_returns=1)
        name, seed, started = running.pop(ref)
        try:
            ray.get(ref)
        except RayError as exc:
            failed.append(exc)
            say(f"cell {name} seed {seed}: failed; no new runs start, the running ones finish")
            continue
        say(f"cell {name} seed {seed}: done in {_minutes(time.time() - started)}")
        left[name] -= 1
        if not left[name]:
            sweep.finish(grid, directory, name, cells[name], say)
    if failed:
        raise RuntimeError(
            f"sweep {grid.name}: {len(failed)} seed run(s) failed; fix and re-run to resume"
        ) from failed[0]


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
