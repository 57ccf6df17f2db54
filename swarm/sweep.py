"""A sweep: the equal-budget experiment over a grid of population sizes N and budgets B.

Every (N, B) cell is one experiment on budget B of two arms: `single` (one agent in self-play, the
baseline) and `swarm` (N agents, each on B / N). The N = 1 cell pits single against an independently seeded
single, the null point of the gap-vs-N curve. Each cell is a normal run directory under
`<out>/<name>/cells/N<n>-B<b>/`, and `sweep.parquet` beside them holds every finished cell's verdict rows.

Every seed of every cell runs as a Ray task in one Ray session, as many at once as `sweep.cpus_per_cell`
allows, the largest budgets first (the longest tasks first shortens a parallel sweep). A seed or cell whose
summary.json exists is not run again, so re-running the same file resumes.
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

import pandas as pd
import ray
import yaml
from pydantic import Field, ValidationError, create_model
from ray.exceptions import RayError
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from swarm import budget, config, engine, experiment, rundir
from swarm.config import ConfigError, Experiment, Strict
from swarm.evaluation import aggregate
from swarm.experiment import Say

COLUMNS = ["n", "budget", "cell", *aggregate.PER_SEED_COLUMNS, "verdict"]
EXECUTION = ("resources", "cpus_per_cell")  # how a sweep runs, not what it computes: may change on resume


class Grid(Strict):
    populations: list[Annotated[int, Field(ge=1, le=4096)]] = Field(
        ...,
        min_length=1,
        description="Population sizes N: each cell's swarm arm trains N agents on B / N each.",
    )
    budgets: list[Annotated[int, Field(gt=0)]] = Field(
        ...,
        min_length=1,
        description="Budgets B per arm, in budget.unit: the single agent gets all of B in every cell.",
    )
    interaction: Literal["self_play", "population"] = Field(
        "population",
        description="How a cell's N agents train: population (against each other) or self_play (N isolated "
        "seeds, the best-of-N lottery). N = 1 cells use self_play: population play needs two agents.",
    )
    cpus_per_cell: int | None = Field(
        None,
        ge=1,
        description="CPUs each cell's run uses; Ray CPUs // cpus_per_cell seed runs go at once. null: all of "
        "them, one run at a time. 2 suits a cluster: one CPU per arm, each arm's agents trained in turn.",
    )


class Unit(Strict):
    unit: Literal["agent_steps"] = config.Budget.model_fields["unit"]


class SweepFields(Strict):
    """What a sweep file has that an experiment file has not, and the cells it defines."""

    name: str = Field(
        ...,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$",
        description="Sweep name: its directory is <out>/<name>, the same on every run, so a re-run resumes.",
    )
    budget: Unit = Unit()
    sweep: Grid

    @property
    def run_seeds(self) -> list[int]:
        return self.seeds if self.seeds is not None else [self.seed]

    @property
    def grid(self) -> list[tuple[int, int]]:
        """(N, B) of every cell, by budget, then population."""
        return [(n, b) for b in sorted(self.sweep.budgets) for n in sorted(self.sweep.populations)]

    def cell(self, n: int, b: int) -> Experiment:
        interaction = self.sweep.interaction if n > 1 else "self_play"
        shared = self.model_dump(exclude={"name", "budget", "sweep"}, exclude_unset=True)
        return Experiment.model_validate(
            {
                **shared,
                "name": f"{self.name}-{cell_name(n, b)}",
                "budget": {"unit": self.budget.unit, "total": b},
                "arms": [
                    {"name": "single", "agents": 1, "interaction": "self_play"},
                    {"name": "swarm", "agents": n, "interaction": interaction},
                ],
                "baseline": "single",
            }
        )

    @property
    def cells(self) -> dict[str, Experiment]:
        return {cell_name(n, b): self.cell(n, b) for n, b in self.grid}


# A sweep file: every experiment field but the arms (so a field added to Experiment is a sweep field too),
# with `budget` less its total and the `sweep:` grid.
Sweep = create_model(
    "Sweep",
    __base__=SweepFields,
    **{
        key: (field.annotation, field)
        for key, field in Experiment.model_fields.items()
        if key not in {*SweepFields.model_fields, "arms", "baseline"}
    },
)


def cell_name(n: int, b: int) -> str:
    return f"N{n}-B{b}"


def agent_steps(sweep: Sweep) -> int:
    """Training agent-steps of the whole sweep: 2 arms x B for every cell and seed."""
    grid = sweep.sweep
    return 2 * sum(grid.budgets) * len(grid.populations) * len(sweep.run_seeds)


# Loading: every cell validated before any compute


def load(path: str | Path) -> Sweep:
    """Read, parse and fully validate a sweep file: every cell's experiment, the environment included."""
    return parse(config.read_mapping(path, "a sweep file such as budgets/sweep-small.yaml"), source=str(path))


def parse(data: dict, source: str = "sweep") -> Sweep:
    for key in ("arms", "baseline"):
        if key in data:
            raise ConfigError(
                f"{source}: {key}: a sweep sets every cell's arms itself (single, the baseline, and swarm "
                "with N agents from sweep.populations); remove it"
            )
    if isinstance(data.get("budget"), dict) and "total" in data["budget"]:
        raise ConfigError(
            f"{source}: budget.total: a sweep takes its budgets from sweep.budgets; move it there"
        )
    try:
        sweep = Sweep.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid sweep file\n" + config.explain(exc)) from None
    check_grid(sweep, source)
    for n, b in sweep.grid:
        where = f"{source}: cell {cell_name(n, b)}"
        try:
            cell = sweep.cell(n, b)
        except ValidationError as exc:
            raise ConfigError(f"{where}: invalid\n" + config.explain(exc)) from None
        config.check_budget(cell, where)
    config.check_env(cell, source)
    return sweep


def check_grid(sweep: Sweep, source: str) -> None:
    """Every cell must give each agent one rollout batch (plus its charged selection games, if charged)."""
    grid, ppo, ev = sweep.sweep, sweep.ppo, sweep.evaluation
    for name, values in (("populations", grid.populations), ("budgets", grid.budgets)):
        if len(set(values)) != len(values):
            raise ConfigError(f"{source}: sweep.{name}: values must be distinct, got {values}")
    cpus = sweep.resources.cpus
    if grid.cpus_per_cell is not None and cpus is not None and grid.cpus_per_cell > cpus:
        raise ConfigError(
            f"{source}: sweep.cpus_per_cell: {grid.cpus_per_cell} exceeds resources.cpus ({cpus}); lower it, "
            "or set it to null to run one cell at a time on all CPUs"
        )
    for n, b in sweep.grid:
        reserve = (
            budget.selection_reserve(n, ev.selection_games, ev.max_game_length) if ev.charge_selection else 0
        )
        need = ppo.rollout_steps + reserve
        if b // n < need:
            held = f" plus {reserve} held back for its charged selection games" if reserve else ""
            raise ConfigError(
                f"{source}: sweep.budgets, sweep.populations: cell {cell_name(n, b)} gives each of its {n} "
                f"agents {b // n} agent_steps, less than one rollout batch (ppo.rollout_steps = "
                f"{ppo.rollout_steps}){held}; with N = {n} every budget must be at least {n * need}: raise "
                f"sweep.budgets, drop {n} from sweep.populations, or lower ppo.rollout_steps"
            )


# Running: one Ray session, every seed of every cell a Ray task


def run(sweep: Sweep, out: Path, address: str | None = None, say: Say = lambda _: None) -> Path:
    """Run every cell not yet finished, write sweep.parquet, and return the sweep directory."""
    sweep_dir = (out / sweep.name).resolve()
    claim(sweep, sweep_dir)
    cells = sweep.cells
    todo = pending(sweep, sweep_dir)
    finished = [name for name in cells if (sweep_dir / "cells" / name / "summary.json").exists()]
    say(
        f"sweep {sweep.name}: {len(cells)} cells x {len(sweep.run_seeds)} seed(s), "
        f"{agent_steps(sweep):,} training agent_steps in all; {len(finished)} cells finished, "
        f"{len(todo)} seed runs to go, in {sweep_dir}"
    )
    if len(finished) < len(cells):
        with engine.session(address, sweep.resources.cpus) as cpus:
            _run_all(sweep, sweep_dir, todo, cpus, say)
    write_table(sweep, sweep_dir)
    return sweep_dir


def claim(sweep: Sweep, sweep_dir: Path) -> None:
    """Write sweep.yaml, or check that the one already there is this sweep: a directory holds one sweep."""
    path = sweep_dir / "sweep.yaml"
    resolved = sweep.model_dump(mode="json")
    if path.exists():
        differ = _differences(yaml.safe_load(path.read_text()), resolved)
        if differ:
            raise ConfigError(
                f"{path} holds a different sweep ({', '.join(differ)} differ): its finished cells would "
                "mix with this file's; give this sweep another name or --out, or delete that directory"
            )
    rundir.write_yaml(resolved, path)


def _differences(old: dict, new: dict) -> list[str]:
    """Fields, one level deep, that change what a sweep computes (not how it runs)."""
    fields = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if key == "sweep" and isinstance(a, dict):
            fields += [
                f"sweep.{k}"
                for k in sorted(a.keys() | b.keys())
                if k not in EXECUTION and a.get(k) != b.get(k)
            ]
        elif key not in EXECUTION and a != b:
            fields.append(key)
    return fields


def pending(sweep: Sweep, sweep_dir: Path) -> list[tuple[str, Experiment, Path]]:
    """(cell, one seed's experiment, its run directory) for every seed run not yet finished, the largest
    budgets first."""
    runs = []
    for name, cell in sorted(sweep.cells.items(), key=lambda item: -item[1].budget.total):
        cell_dir = sweep_dir / "cells" / name
        if (cell_dir / "summary.json").exists():
            continue
        if cell.seeds is None:
            runs.append((name, cell, cell_dir))
            continue
        for seed in cell.seeds:
            if not (cell_dir / f"seed-{seed}" / "summary.json").exists():
                runs.append((name, cell.for_seed(seed), cell_dir / f"seed-{seed}"))
    return runs


@ray.remote(num_cpus=0)
def _run_seed(cell: Experiment, run_dir: Path, cpus: int) -> None:
    """One seed of one cell. It drives its own actors and evaluation tasks, so it holds no CPU itself:
    a task holding CPUs while its actors wait for them would deadlock a small machine."""
    experiment.run_seed(cell, run_dir, cpus)


def _run_all(
    sweep: Sweep, sweep_dir: Path, todo: list[tuple[str, Experiment, Path]], cpus: int, say: Say
) -> None:
    """Keep Ray CPUs // cpus_per_cell seed runs going; finish each cell once its last seed is done.

    Seed runs are pinned to this node so every run directory is written where the sweep directory is; their
    actors and evaluation tasks still spread over the cluster. After a failure no new run starts, the
    running ones finish (their compute is kept), and the first error is raised."""
    per_run = sweep.sweep.cpus_per_cell or cpus
    if per_run > cpus:
        raise ConfigError(
            f"sweep.cpus_per_cell: {per_run} exceeds the {cpus} CPUs Ray offers; lower it or set it to null"
        )
    cells = sweep.cells
    left = Counter(name for name, _, _ in todo)
    for name, cell in cells.items():
        if cell.seeds is not None and left[name]:
            rundir.write_yaml(rundir.resolved_config(cell), sweep_dir / "cells" / name / "config.yaml")
        elif not left[name] and not (sweep_dir / "cells" / name / "summary.json").exists():
            finish(sweep, sweep_dir, name, cell, say)  # every seed done before an interruption
    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    waiting, running, failed = list(todo), {}, []
    while waiting or running:
        while waiting and not failed and len(running) < cpus // per_run:
            name, cell, run_dir = waiting.pop(0)
            ref = _run_seed.options(scheduling_strategy=here).remote(cell, run_dir, per_run)
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
            finish(sweep, sweep_dir, name, cells[name], say)
    if failed:
        raise RuntimeError(
            f"sweep {sweep.name}: {len(failed)} seed run(s) failed; fix and re-run to resume"
        ) from failed[0]


def finish(sweep: Sweep, sweep_dir: Path, name: str, cell: Experiment, say: Say) -> None:
    """A cell whose every seed is done: its verdict over seeds (with several), then the sweep table."""
    cell_dir = sweep_dir / "cells" / name
    if cell.seeds is not None:
        experiment.aggregate_seeds(cell, cell_dir)
    write_table(sweep, sweep_dir)
    for v in rundir.read_json(cell_dir / "summary.json")["verdicts"]:
        say(f"cell {name}: {v['verdict']}")


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"


# The table


def table(sweep: Sweep, sweep_dir: Path) -> pd.DataFrame:
    """One row per finished cell, seed and compared arm: the per-seed verdict columns of
    `aggregate.per_seed`, with the cell's verdict (over its seeds, with several) beside them."""
    frames = []
    for name, cell in sweep.cells.items():
        cell_dir = sweep_dir / "cells" / name
        if not (cell_dir / "summary.json").exists():
            continue
        runs = [cell_dir] if cell.seeds is None else [cell_dir / f"seed-{s}" for s in cell.seeds]
        frame = aggregate.per_seed([rundir.read_json(run / "summary.json") for run in runs])
        verdicts = {v["arm"]: v["verdict"] for v in rundir.read_json(cell_dir / "summary.json")["verdicts"]}
        frame.insert(0, "n", cell.arms[1].agents)
        frame.insert(1, "budget", cell.budget.total)
        frame.insert(2, "cell", name)
        frame["verdict"] = frame.arm.map(verdicts)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def write_table(sweep: Sweep, sweep_dir: Path) -> None:
    rundir.write_parquet(table(sweep, sweep_dir), sweep_dir / "sweep.parquet")
