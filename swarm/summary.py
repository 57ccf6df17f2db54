"""summary.json and the console table: both arms' spend side by side, each arm's best, the verdict."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from swarm import verdict
from swarm.config import Experiment
from swarm.evaluate import Evaluation
from swarm.ledger import UNITS, Ledger
from swarm.population import RANDOM


def build(config: Experiment, ledger: Ledger, evaluation: Evaluation, wall_seconds: float) -> dict:
    confidence = config.evaluation.confidence
    matches = evaluation.matches
    spent = ledger.totals_by_arm()
    baseline = config.baseline_arm
    arms = {}
    for arm in config.arms:
        best = evaluation.best[arm.name]
        versus_random = verdict.head_to_head(matches[matches.stage == "random"], best, RANDOM, confidence)
        arms[arm.name] = {
            "agents": arm.agents,
            "interaction": arm.interaction,
            "budget": {"unit": config.budget.unit, "total": config.budget.total},
            "spent": {unit: spent[arm.name][unit] for unit in UNITS},
            "best": best,
            "selection_score": evaluation.selection_scores[arm.name].get(best),
            "vs_random": versus_random.as_dict(),
        }
    baseline_label = "single" if baseline.agents == 1 else f"{baseline.name} best"
    verdicts = []
    for arm in config.arms:
        if arm.name == baseline.name:
            continue
        held_out = matches[(matches.stage == "verdict") & (matches.arm == arm.name)]
        result = verdict.head_to_head(
            held_out, evaluation.best[arm.name], evaluation.best[baseline.name], confidence
        )
        verdicts.append(
            {
                "arm": arm.name,
                "baseline": baseline.name,
                **result.as_dict(),
                "verdict": verdict.line(result, arm.name, baseline_label, confidence),
            }
        )
    return {
        "name": config.name,
        "env": config.env,
        "seed": config.seed,
        "baseline": baseline.name,
        "arms": arms,
        "verdicts": verdicts,
        "wall_seconds": wall_seconds,
    }


def render(summary: dict, console: Console) -> None:
    arms = summary["arms"]
    table = Table(title=f"{summary['name']} on {summary['env']} (seed {summary['seed']})")
    table.add_column("")
    for name in arms:
        table.add_column(name, justify="right")

    def row(label: str, cell) -> None:
        table.add_row(label, *(cell(a) for a in arms.values()))

    row("agents x interaction", lambda a: f"{a['agents']} x {a['interaction']}")
    row("budget (agent_steps)", lambda a: f"{a['budget']['total']:,}")
    row("spent agent_steps", lambda a: f"{a['spent']['agent_steps']:,.0f}")
    row("spent GFLOPs", lambda a: f"{a['spent']['flops'] / 1e9:,.1f}")
    row("spent core-seconds", lambda a: f"{a['spent']['core_seconds']:,.1f}")
    row("best agent", lambda a: a["best"])
    row(
        "best's selection score",
        lambda a: "-" if a["selection_score"] is None else f"{a['selection_score']:.3f}",
    )
    row("best vs random", lambda a: _score(a["vs_random"]))
    console.print(table)
    for v in summary["verdicts"]:
        console.print(
            f"{v['player']} vs {v['opponent']}: {v['wins']} W / {v['draws']} D / {v['losses']} L, "
            f"score {_score(v)}"
        )
        console.print(f"[bold]verdict: {v['verdict']}[/bold]")


def _score(result: dict) -> str:
    return f"{result['score']:.3f} [{result['ci_low']:.3f}, {result['ci_high']:.3f}]"
