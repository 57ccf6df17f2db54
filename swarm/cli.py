"""`swarm run FILE`, `swarm validate FILE`: the command line (also `python -m swarm`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from swarm import budget, config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swarm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="train every arm on one budget, evaluate, print the verdict")
    run.add_argument("file", help="budget file, e.g. budgets/default.yaml")
    run.add_argument("--out", default="runs", help="parent folder of the run directory (default: runs)")
    run.add_argument(
        "--address",
        default=None,
        help="Ray cluster to join (auto, ray://host:10001); default: start Ray locally",
    )

    validate = commands.add_parser("validate", help="check a budget file and print the resolved config")
    validate.add_argument("file", nargs="?", help="budget file")
    validate.add_argument("--fields", action="store_true", help="list every field with its description")

    args = parser.parse_args(argv)
    console = Console()
    try:
        if args.command == "validate":
            return _validate(args, console)
        return _run(args, console)
    except config.ConfigError as exc:
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
    console.print(yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False), highlight=False, end="")
    for arm in cfg.arms:
        shares = budget.split(cfg.budget.total, arm.agents)
        rounds = budget.rounds(max(shares), cfg.ppo.rollout_steps)
        console.print(
            f"# {arm.name}: {arm.agents} agent(s) x {min(shares):,}-{max(shares):,} agent_steps, "
            f"{rounds} rounds of up to {cfg.ppo.rollout_steps}",
            highlight=False,
        )
    console.print(f"# {args.file}: valid", highlight=False)
    return 0


def _run(args: argparse.Namespace, console: Console) -> int:
    cfg = config.load(args.file)  # everything is validated here, before Ray starts
    from swarm import experiment, summary  # imports ray and torch: only once the file is known good

    columns = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("agent_steps"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console) as progress:
        tasks = {arm.name: progress.add_task(arm.name, total=cfg.budget.total) for arm in cfg.arms}
        run_dir, result = experiment.run(
            cfg, Path(args.out), args.address, lambda arm, spent: progress.update(tasks[arm], completed=spent)
        )
    summary.render(result, console)
    console.print(f"run directory: {run_dir}", highlight=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
