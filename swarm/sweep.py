"""A sweep: the equal-budget experiment over a grid of population sizes N, budgets B and interaction modes.

Every (N, B) cell is one experiment on budget B of two arms: `single` (one agent in self-play, the
baseline) and `swarm` (N agents, each on B / N, in the sweep's interaction mode). The N = 1 cell pits single
against an independently seeded single, the null point of the gap-vs-N curve. With several modes
(`sweep.interaction: [population, pfsp, ...]`), every N > 1 cell is run once per mode, and the N = 1 cells
once for all. Each cell is a normal run directory under `<out>/<name>/cells/N<n>-B<b>/` (with several
modes, `<mode>-N<n>-B<b>/` for N > 1), and `sweep.parquet` beside them holds every finished cell's verdict
rows.

Every seed of every cell runs as a Ray task in one Ray session (`swarm.engine.sweeps.run`), as many at once
as `sweep.cpus_per_cell` allows, the largest budgets first (the longest tasks first shortens a parallel
sweep). A seed or cell whose summary.json exists is not run again, so re-running the same file resumes. This
module is the sweep without Ray: its file, its cells, what is left to run, and its table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import pandas as pd
import yaml
from pydantic import Field, ValidationError, create_model, field_validator

from swarm import config
from swarm.config import ConfigError, Experiment, Strict
from swarm.evaluation import aggregate
from swarm.results import rundir
from swarm.results.rundir import SweepDir

Say = Callable[[str], None]  # one line of progress for the user

COLUMNS = ["n", "budget", "interaction", "cell", *aggregate.PER_SEED_COLUMNS, "verdict"]
# how a sweep runs or is watched, not what it computes: may change on resume
EXECUTION = ("resources", "cpus_per_cell", "metrics")


class Grid(Strict):
    populations: list[Annotated[int, Field(ge=1, le=4096)]] = Field(
        ...,
        min_length=1,
        description="Population sizes N: each cell's swarm arm trains N agents on B / N each.",
    )
    budgets: list[Annotated[int, Field(gt=0, le=config.MAX_TOTAL)]] = Field(
        ...,
        min_length=1,
        description="Budgets B per arm, in budget.unit: the single agent gets all of B in every cell.",
    )
    interaction: str | list[str] = Field(
        "population",
        description="How a cell's N agents train, a mode of swarm.interaction.MODES (population, pfsp, pbt, "
        "league; self_play: N isolated seeds, the best-of-N lottery), or a list of modes: a sweep axis, each "
        "N > 1 cell run once per mode. N = 1 cells use self_play, as the baseline does.",
    )
    options: dict[str, dict[str, Any]] = Field(
        {},
        description="Each mode's options (an arm's `options`), by mode, e.g. {pbt: {every: 5}}; modes not "
        "named here run with their defaults.",
    )

    @field_validator("interaction")
    @classmethod
    def _known_modes(cls, given: str | list[str]) -> str | list[str]:
        modes = [given] if isinstance(given, str) else given
        if not modes or len(set(modes)) != len(modes):
            raise ValueError(f"give one mode or a list of distinct modes, got {given}")
        for mode in modes:
            config.known_mode(mode)
        return given

    @property
    def modes(self) -> list[str]:
        return [self.interaction] if isinstance(self.interaction, str) else list(self.interaction)

    cpus_per_cell: int | None = Field(
        None,
        ge=1,
        description="CPUs each cell's run uses; Ray CPUs // cpus_per_cell seed runs go at once. null: all of "
        "them, one run at a time. 2 suits a cluster: one CPU per arm, each arm's agents trained in turn.",
    )


class Unit(Strict):
    unit: config.Unit = config.UNIT

    _binding = field_validator("unit")(lambda unit: config.binding(unit))


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
    def grid(self) -> list[tuple[str, int, int]]:
        """(mode, N, B) of every cell, by budget, then population, then mode; N = 1 once, in self_play."""
        modes = self.sweep.modes
        return [
            (mode, n, b)
            for b in sorted(self.sweep.budgets)
            for n in sorted(self.sweep.populations)
            for mode in (["self_play"] if n == 1 else modes)
        ]

    def cell_name(self, mode: str, n: int, b: int) -> str:
        return cell_name(n, b, mode if n > 1 and len(self.sweep.modes) > 1 else None)

    def cell(self, mode: str, n: int, b: int) -> Experiment:
        shared = self.model_dump(exclude={"name", "budget", "sweep"}, exclude_unset=True)
        swarm = {"name": "swarm", "agents": n, "interaction": mode}
        if mode in self.sweep.options:
            swarm["options"] = self.sweep.options[mode]
        return Experiment.model_validate(
            {
                **shared,
                "name": f"{self.name}-{self.cell_name(mode, n, b)}",
                "budget": {"unit": self.budget.unit, "total": b},
                "arms": [{"name": "single", "agents": 1, "interaction": "self_play"}, swarm],
                "baseline": "single",
            }
        )

    @property
    def cells(self) -> dict[str, Experiment]:
        return {self.cell_name(*cell): self.cell(*cell) for cell in self.grid}


# A sweep file: every experiment field but the arms (so a field added to Experiment is a sweep field too),
# with `budget` less its total and the `sweep:` grid.
Sweep = create_model(
    "Sweep",
    __base__=SweepFields,
    **{
        key: (field.annotation, field)
        for key, field in Experiment.model_fields.items()
        if key not in {*SweepFields.model_fields, "arms", "baseline", "primary"}
    },
)


def cell_name(n: int, b: int, mode: str | None = None) -> str:
    return f"{mode}-N{n}-B{b}" if mode else f"N{n}-B{b}"


def spend(sweep: Sweep) -> int:
    """Training spend of the whole sweep, in budget.unit: 2 arms x B for every cell and seed."""
    return 2 * sum(b for _, _, b in sweep.grid) * len(sweep.run_seeds)


# Loading: every cell validated before any compute


def load(path: str | Path) -> Sweep:
    """Read, parse and fully validate a sweep file: every cell's experiment, the environment included."""
    return parse(config.read_mapping(path, "a sweep file such as budgets/sweep-small.yaml"), source=str(path))


def parse(data: dict, source: str = "sweep") -> Sweep:
    for key in ("arms", "baseline", "primary"):
        if key in data:
            raise ConfigError(
                f"{source}: {key}: a sweep sets every cell's arms itself (single, the baseline, and swarm "
                "with N agents from sweep.populations); remove it"
            )
    if data.get("tuning") is not None:
        raise ConfigError(
            f"{source}: tuning: a sweep does not tune its cells; tune one cell's file with swarm run, then "
            "give the sweep its tuned settings (the run's tuning/tuned.yaml) in ppo, network or opponents"
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
    unknown = set(sweep.sweep.options) - set(sweep.sweep.modes)
    if unknown:
        raise ConfigError(
            f"{source}: sweep.options: options of {sorted(unknown)}, which sweep.interaction does not run; "
            f"remove them or add the mode to sweep.interaction"
        )
    for mode, n, b in sweep.grid:
        where = f"{source}: cell {sweep.cell_name(mode, n, b)}"
        try:
            cell = sweep.cell(mode, n, b)
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
    if sweep.budget.unit != "agent_steps":
        return  # each cell's shares are checked in flops (`config.check_flops`)
    for b, n in sorted({(b, n) for _, n, b in sweep.grid}):
        reserve = config.selection_reserve(ev, n, b // n)
        need = ppo.rollout_steps + reserve
        if b // n < need:
            held, fix = "", "or lower ppo.rollout_steps"
            if reserve:
                held = f" plus {reserve} held back for its charged selection games"
                fix = (
                    "lower ppo.rollout_steps or evaluation.selection_games, or set "
                    "evaluation.charge_selection: false to report the selection games beside the ledger"
                )
            raise ConfigError(
                f"{source}: sweep.budgets, sweep.populations: cell {cell_name(n, b)} gives each of its {n} "
                f"agents {b // n} agent_steps, less than one rollout batch (ppo.rollout_steps = "
                f"{ppo.rollout_steps}){held}; with N = {n} every budget must be at least {n * need}: raise "
                f"sweep.budgets, drop {n} from sweep.populations, {fix}"
            )


# Running: what a run of the sweep does around its Ray tasks (those are `swarm.engine.sweeps`)


def open_dir(sweep: Sweep, out: Path) -> SweepDir:
    """The sweep's directory, made or checked: its format, and sweep.yaml saying it is this sweep."""
    directory = rundir.start(SweepDir((out / sweep.name).resolve()))
    claim(sweep, directory)
    return directory


def claim(sweep: Sweep, directory: SweepDir) -> None:
    """Write sweep.yaml, or check that the one already there is this sweep: a directory holds one sweep."""
    path = directory.config
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


def finished(sweep: Sweep, directory: SweepDir) -> list[str]:
    return [name for name in sweep.cells if directory.cell(name).finished]


def pending(sweep: Sweep, directory: SweepDir) -> list[tuple[str, Experiment, Path]]:
    """(cell, one seed's experiment, its run directory) for every seed run not yet finished, the largest
    budgets first."""
    runs = []
    for name, cell in sorted(sweep.cells.items(), key=lambda item: -item[1].budget.total):
        run = directory.cell(name)
        if run.finished:
            continue
        if cell.seeds is None:
            runs.append((name, cell, run.path))
            continue
        for seed in cell.seeds:
            if not run.seed(seed).finished:
                runs.append((name, cell.for_seed(seed), run.seed(seed).path))
    return runs


def prepare(sweep: Sweep, directory: SweepDir, todo: list[tuple[str, Experiment, Path]], say: Say) -> None:
    """Before the seed runs: the config of every multi-seed cell with seeds to go, and the verdict of every
    cell whose seeds all finished before an interruption."""
    left = Counter(name for name, _, _ in todo)
    for name, cell in sweep.cells.items():
        run = directory.cell(name)
        if cell.seeds is not None and left[name]:
            rundir.write_yaml(rundir.resolved_config(cell), rundir.start(run).config)
        elif not left[name] and not run.finished:
            finish(sweep, directory, name, cell, say)


def finish(sweep: Sweep, directory: SweepDir, name: str, cell: Experiment, say: Say) -> None:
    """A cell whose every seed is done: its verdict over seeds (with several), then the sweep table."""
    run = directory.cell(name)
    if cell.seeds is not None:
        aggregate.write(cell, run)
    write_table(sweep, directory)
    for v in rundir.read_summary(run).verdicts:
        say(f"cell {name}: {v.verdict}")


# The table


def table(sweep: Sweep, directory: SweepDir) -> pd.DataFrame:
    """One row per finished cell, seed and compared arm: the per-seed verdict columns of
    `aggregate.per_seed`, with the cell's verdict (over its seeds, with several) beside them."""
    frames = []
    for name, cell in sweep.cells.items():
        run = directory.cell(name)
        if not run.finished:
            continue
        runs = [run] if cell.seeds is None else [run.seed(s) for s in cell.seeds]
        frame = aggregate.per_seed([rundir.read_seed_summary(r) for r in runs])
        verdicts = {v.arm: v.verdict for v in rundir.read_summary(run).verdicts}
        frame.insert(0, "n", cell.arms[1].agents)
        frame.insert(1, "budget", cell.budget.total)
        frame.insert(2, "interaction", cell.arms[1].interaction)
        frame.insert(3, "cell", name)
        frame["verdict"] = frame.arm.map(verdicts)
        frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=COLUMNS)
    return pd.concat(frames, ignore_index=True)[COLUMNS]


def write_table(sweep: Sweep, directory: SweepDir) -> None:
    rundir.write_parquet(table(sweep, directory), directory.table)
