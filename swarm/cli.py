"""`swarm run`, `swarm report`, `swarm sweep`, `swarm plan`, `swarm validate`: the command line (also
`python -m swarm`)."""

from __future__ import annotations

import argparse
import contextlib
import datetime
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from swarm import budget, config
from swarm.results import rundir
from swarm.results.rundir import RunDir, SweepDir

if TYPE_CHECKING:
    from swarm.experiment import OnRound, Say  # imports torch and Ray: only once a file is good


class UsageError(Exception):
    """A command line argparse refuses; main prints it as one `swarm: error:` line, exit 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix("swarm").strip()
        raise UsageError(f"{command + ': ' if command else ''}{message}; see {self.prog} --help")


def main(argv: list[str] | None = None) -> int:
    parser = Parser(prog="swarm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="train every arm on one budget, evaluate, print the verdict")
    run.add_argument("file", help="budget file, e.g. budgets/default.yaml")
    run.add_argument("--out", default="runs", help="parent folder of the run directory (default: runs)")
    run.add_argument(
        "--address",
        default=None,
        help="Ray cluster to join (auto, ray://host:10001); default: start Ray locally",
    )

    resume = commands.add_parser(
        "resume", help="finish an interrupted run in its own directory: finished seeds are kept"
    )
    resume.add_argument("run_dir", help="run directory, e.g. runs/multi-seed-20261123-120000")
    resume.add_argument("--address", default=None, help="Ray cluster to join; default: start Ray locally")

    report = commands.add_parser(
        "report", help="write report.md, report.html and figures/ of a finished run, from its directory alone"
    )
    report.add_argument("run_dir", help="run directory, e.g. runs/default-20261123-120000")

    sweep = commands.add_parser(
        "sweep", help="run an experiment for every (N, budget) cell of a sweep file; resumes where it stopped"
    )
    sweep.add_argument("file", help="sweep file, e.g. budgets/sweep-small.yaml")
    sweep.add_argument("--out", default="sweeps", help="parent of the sweep directory <out>/<name>")
    sweep.add_argument("--address", default=None, help="Ray cluster to join; default: start Ray locally")

    plan = commands.add_parser(
        "plan", help="the smallest rating gap the file's seeds and games can detect, before any compute"
    )
    plan.add_argument("file", help="budget file")
    plan.add_argument("--past", default=None, help="a finished run whose draw rate and seed spread to use")

    validate = commands.add_parser("validate", help="check a budget file and print the resolved config")
    validate.add_argument("file", nargs="?", help="budget file")
    validate.add_argument("--fields", action="store_true", help="list every field with its description")

    console = Console()
    try:
        args = parser.parse_args(argv)
        if args.command == "validate":
            return _validate(args, console)
        if args.command == "plan":
            return _plan(args, console)
        if args.command == "report":
            return _report(args, console)
        if args.command == "resume":
            return _run(args, console)
        if args.command == "sweep":
            return _sweep(args, console)
        return _run(args, console)
    except (config.ConfigError, rundir.FormatError, rundir.Busy, UsageError) as exc:
        print(f"swarm: error: {exc}", file=sys.stderr)
        return 2


def _validate(args: argparse.Namespace, console: Console) -> int:
    if args.fields:
        for name, description in config.describe_fields():
            console.print(f"[bold]{name}[/bold]: {description}")
        return 0
    if args.file is None:
        raise config.ConfigError("validate: give a budget file, or --fields for the list of fields")
    cfg = config.load(args.file)
    resolved = cfg.resolved().model_dump(mode="json")  # each arm's own settings and those scaling derives
    console.print(yaml.safe_dump(resolved, sort_keys=False), highlight=False, end="")
    from swarm.training import cost  # torch: once the file is good

    unit, about = cfg.budget.unit, "" if cfg.budget.unit == "agent_steps" else "about "
    for a, arm in enumerate(cfg.arms):
        shares = budget.split(cfg.budget.total, arm.agents)
        reserve = cfg.selection_reserve(arm)
        own = cfg.for_arm(arm)
        rounds = budget.rounds(cost.of(cfg, a).steps(max(shares) - reserve), own.ppo.rollout_steps)
        held = f" ({reserve:,} each held back for charged selection games)" if reserve else ""
        changed = "".join(f"; {block} {fields}" for block, fields in cfg.own_settings(arm).items() if fields)
        console.print(
            f"# {arm.name}: {arm.agents} agent(s) x {min(shares):,}-{max(shares):,} {unit}{held}, "
            f"{about}{rounds} rounds of up to {own.ppo.rollout_steps}{changed}",
            highlight=False,
            soft_wrap=True,  # never a line break inside a long number
        )
    if cfg.tuning is not None:
        runs = cfg.tuning.trials * len(cfg.tuning.seeds)
        console.print(
            f"# tuning: {cfg.tuning.trials} trial(s) an arm on tuning seed(s) {cfg.tuning.seeds}: each arm "
            f"trains {runs} time(s) on its budget first ({runs * cfg.budget.total:,} {unit} an arm), then "
            f"every seed trains each arm with its best trial's settings",
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"# {cfg.judged}", highlight=False, soft_wrap=True)
    _say_estimate(cfg, console)
    console.print(f"# {args.file}: valid", highlight=False)
    return 0


def _saved_config(run_dir: Path) -> dict:
    """The budget file a run saved in its directory, without the provenance swarm added to it."""
    data = config.read_mapping(RunDir(run_dir).config, "the directory of a swarm run (it holds config.yaml)")
    data.pop("provenance", None)
    if data.get("seeds") is not None:  # the resolved file spells out the default seed beside the list
        data.pop("seed", None)
    return data


def _report(args: argparse.Namespace, console: Console) -> int:
    from swarm import report, storage

    run_dir = Path(args.run_dir)
    if storage.is_uri(args.run_dir):
        run_dir = storage.staging(args.run_dir)
        storage.download(args.run_dir, run_dir)
    if not RunDir(run_dir).finished:
        raise config.ConfigError(
            f"report: {args.run_dir} has no summary.json; give the directory of a finished run"
        )
    storage.writable(run_dir, "report: run directory")
    with rundir.owned(RunDir(run_dir), say=lambda line: console.print(line, highlight=False)):
        written = report.write(run_dir)
    console.print(f"report: {written}", highlight=False)
    if storage.is_uri(args.run_dir):
        storage.upload(run_dir, args.run_dir)
    return 0


def _sweep(args: argparse.Namespace, console: Console) -> int:
    from swarm import report, storage, sweep
    from swarm.engine import sweeps

    grid = sweep.load(args.file)  # every cell validated here, before Ray starts
    storage.writable(Path(args.out), "--out")
    say = lambda line: console.print(line, highlight=False)  # noqa: E731
    directory = SweepDir((Path(args.out) / grid.name).resolve())
    with contextlib.ExitStack() as locks:  # the sweep's directory, and every cell's: a resume of one waits
        locks.enter_context(rundir.owned(directory, say))
        sweep.open_dir(grid, Path(args.out))  # made before its cells' locks, which would make it look used
        for name in grid.cells:
            locks.enter_context(rundir.owned(directory.cell(name), say))
        sweep_dir = sweeps.run(grid, Path(args.out), args.address, say=say)
    console.print(f"sweep directory: {sweep_dir}", highlight=False)
    console.print(f"report: {report.write_sweep(sweep_dir)}", highlight=False)
    return 0


def _plan(args: argparse.Namespace, console: Console) -> int:
    from swarm.evaluation import plan

    cfg = config.load(args.file)
    past = None
    if args.past is not None:
        try:
            past = plan.read_past(Path(args.past))
        except FileNotFoundError as exc:
            raise config.ConfigError(f"--past: {exc}") from None
    for line in plan.render(plan.plan(cfg, past)):
        console.print(line, highlight=False)
    _say_estimate(cfg, console, prefix="")
    return 0


def _say_estimate(cfg: config.Experiment, console: Console, prefix: str = "# ") -> None:
    """The file's expected wall time on this machine; a warning, on stderr, where it is absurd."""
    from swarm import estimate

    for line in estimate.lines(cfg):
        if line.startswith("warning:"):
            print(f"swarm: {line}", file=sys.stderr)
        else:
            console.print(prefix + line, highlight=False, soft_wrap=True)


def _run(args: argparse.Namespace, console: Console) -> int:
    """`swarm run FILE`, or `swarm resume RUN`: the same run, in RUN, from the config saved there.

    RUN and --out may be URIs (s3://..., gs://..., file://...): the run works in a local staging directory
    mirrored there after every seed, at the end, and when interrupted."""
    from swarm import storage

    say = lambda line: console.print(line, highlight=False)  # noqa: E731
    with contextlib.ExitStack() as held:  # the run directory's lock, until the report is written
        if args.command == "resume":
            remote = args.run_dir if storage.is_uri(args.run_dir) else None
            run_dir = storage.staging(remote) if remote else Path(args.run_dir)
            if remote is None:
                _saved_config(run_dir)  # not a run: said before anything is made there
                storage.writable(run_dir, "resume:")
            held.enter_context(rundir.owned(RunDir(run_dir), say))
            if remote is not None:
                storage.download(remote, run_dir)
            cfg = config.parse(_saved_config(run_dir), source=str(RunDir(run_dir).config))
            if rundir.check(RunDir(run_dir)).finished:
                console.print(f"{args.run_dir} is finished: nothing to resume", highlight=False)
                return 0
        else:
            cfg = config.load(args.file)  # everything is validated here, before Ray starts
            if storage.is_uri(args.out):
                storage.check(args.out)
                parent = storage.staging(args.out)
            else:
                parent = Path(args.out)
                storage.writable(parent, "--out")
            run_dir = rundir.create(parent, cfg.name).path
            held.enter_context(rundir.owned(RunDir(run_dir), say))
            remote = storage.join(args.out, run_dir.name) if storage.is_uri(args.out) else None
        return _train(args, console, cfg, run_dir, remote)


def _train(
    args: argparse.Namespace, console: Console, cfg: config.Experiment, run_dir: Path, remote: str | None
) -> int:
    """Train, evaluate and report into `run_dir` (mirrored to `remote`, a URI, if given)."""
    import pandas as pd

    from swarm import experiment, report, storage  # ray and torch: once the file is good
    from swarm.engine.placement import Unplaceable
    from swarm.evaluation import aggregate, summary

    def publish() -> None:
        if remote is not None:
            storage.upload(run_dir, remote)

    several = cfg.seeds is not None
    console.print(cfg.judged, highlight=False, soft_wrap=True)
    with _sigint():
        try:
            with _progress(console, cfg.budget.total, cfg.budget.unit, several) as (on_round, say):
                run_dir, result = experiment.run(
                    cfg, run_dir.parent, args.address, on_round, run_dir=run_dir, say=say, after_seed=publish
                )
        except Unplaceable as exc:
            publish()
            raise Unplaceable(f"{exc}; once the cluster has room: swarm resume {remote or run_dir}") from None
        except KeyboardInterrupt:
            publish()
            console.print(
                f"interrupted: finished seeds and training checkpoints are saved in {remote or run_dir}; "
                f"resume with: swarm resume {remote or run_dir}",
                highlight=False,
            )
            return 130
    if several:
        aggregate.render(result, pd.read_parquet(RunDir(run_dir).per_seed), console)
    else:
        summary.render(result, console)
    console.print(f"run directory: {remote or run_dir}", highlight=False)
    written = report.write(run_dir)
    publish()
    console.print(f"report: {storage.join(remote, written.name) if remote else written}", highlight=False)
    return 0


@contextmanager
def _progress(console: Console, total: int, unit: str, several: bool) -> Iterator[tuple[OnRound, Say]]:
    """Budget spent per arm, in its binding `unit`: bars in a terminal; plain lines where the output is a file
    or a pipe (a log, a cluster job), in which bars would be control codes."""
    if not console.is_terminal:
        say = lambda text: console.print(text, highlight=False, soft_wrap=True)  # noqa: E731
        yield Lines(total, several, say, unit=unit), say
        return
    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console) as progress:
        tasks: dict[tuple[int, str], int] = {}

        def on_round(seed: int, arm: str, spent: float) -> None:
            if (seed, arm) not in tasks:
                tasks[seed, arm] = progress.add_task(f"seed {seed} {arm}" if several else arm, total=total)
            progress.update(tasks[seed, arm], completed=spent)

        yield on_round, lambda text: progress.console.print(text)


class Lines:
    """Progress as plain lines: an arm's spent/total, its rate and ETA, at each tenth of its budget and at
    least every `every` seconds. The rate counts from the arm's first report, so it leaves out Ray's start
    and, on a resume, what earlier processes spent."""

    def __init__(
        self,
        total: int,
        several: bool,
        say: Say,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        unit: str = "agent_steps",
    ):
        self.total, self.several, self.say, self.every, self.clock = total, several, say, every, clock
        self.unit = unit
        self.first: dict[tuple[int, str], tuple[float, float]] = {}  # (time, spent) of the first report
        self.said: dict[tuple[int, str], tuple[float, int]] = {}  # (time, tenth) of the last line

    def __call__(self, seed: int, arm: str, spent: float) -> None:
        now, key, tenth = self.clock(), (seed, arm), int(10 * spent // self.total)
        since, spent_then = self.first.setdefault(key, (now, spent))
        said = self.said.get(key)
        if said is not None and said[1] == tenth and now - said[0] < self.every:
            return
        self.said[key] = (now, tenth)
        rate = (spent - spent_then) / (now - since) if now > since else None
        eta = "-" if not rate else str(datetime.timedelta(seconds=round((self.total - spent) / rate)))
        self.say(
            f"{f'seed {seed} {arm}' if self.several else arm}: {spent:,.0f}/{self.total:,} {self.unit} "
            f"({spent / self.total:.0%}), {'-' if rate is None else f'{rate:,.0f}'} {self.unit}/s, ETA {eta}"
        )


@contextmanager
def _sigint() -> Iterator[None]:
    """The first Ctrl-C raises KeyboardInterrupt: training checkpoints its arms and the run says how to
    resume. A second one exits at once."""

    def again(signum: int, frame: object) -> None:
        os.write(2, b"\nswarm: interrupted twice: exiting now\n")
        os._exit(130)

    def first(signum: int, frame: object) -> None:
        signal.signal(signal.SIGINT, again)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, first)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
