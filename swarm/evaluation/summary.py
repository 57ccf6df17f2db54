"""summary.json and the console tables of one seed's run.

Per arm: spend in every unit (with what selection games cost beside it), the chosen best and its held-out
rating, its selection score next to its held-out score against the same agents (the winner's curse), and the
oracle best (the agent with the top held-out rating: what a perfect selector would have chosen). Then every
agent's and ladder member's rating, the gains from selection and from interaction, and the verdicts.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from swarm.config import Experiment
from swarm.evaluation import ratings, verdict
from swarm.evaluation.evaluate import Evaluation, player_scores
from swarm.ledger import UNITS


def _interval(rated: ratings.Ratings, player: str) -> dict:
    row = rated.table.set_index("player").loc[player]
    return {"rating": float(row.rating), "ci_low": float(row.ci_low), "ci_high": float(row.ci_high)}


def _gap(rated: ratings.Ratings, a: str, b: str, confidence: float) -> dict:
    estimate, low, high = ratings.gap(rated, a, b, confidence)
    return {"estimate": estimate, "ci_low": low, "ci_high": high}


def held_out_score(matches, arm: str, player: str) -> float | None:
    """`player`'s score in held-out cross-play games against its own arm: the same opponents it was selected
    against, on fresh seeds."""
    own = matches[(matches.stage == "crossplay") & (matches.arm == arm)]
    own = own[(own.player_0 == player) | (own.player_1 == player)]
    if own.empty:
        return None
    table = player_scores(own).set_index("player")
    return float(table.loc[player, "score"])


def build(
    config: Experiment,
    spent: dict[str, dict[str, float]],
    evaluation: Evaluation,
    rated: ratings.Ratings,
    selection_cost: dict[str, dict[str, int]],
    wall_seconds: float,
    training: dict[str, dict] | None = None,
) -> dict:
    """`training`: per arm, its training wall seconds and the Ray nodes its hosts ran on."""
    confidence = config.evaluation.confidence
    matches = evaluation.matches
    table = rated.table.set_index("player")
    baseline = config.baseline_arm
    arms = {}
    for arm in config.arms:
        best = evaluation.best[arm.name]
        members = [p for p in table.index if p.startswith(f"{arm.name}/")]
        oracle = max(members, key=lambda p: (table.loc[p, "rating"], -members.index(p)))
        selection_score = evaluation.selection_scores[arm.name].get(best)
        held_out = held_out_score(matches, arm.name, best)
        arms[arm.name] = {
            "agents": arm.agents,
            "interaction": arm.interaction,
            "budget": {"unit": config.budget.unit, "total": config.budget.total},
            "spent": {unit: spent[arm.name][unit] for unit in UNITS},
            "training": (training or {}).get(arm.name),
            "selection_cost": selection_cost[arm.name],
            "selection_charged": config.evaluation.charge_selection,
            "best": best,
            "best_rating": _interval(rated, best),
            "selection_score": selection_score,
            "held_out_score": held_out,
            "winners_curse": None if held_out is None else selection_score - held_out,
            "oracle_best": oracle,
            "oracle_rating": _interval(rated, oracle),
            "selection_loss": _gap(rated, oracle, best, confidence),
        }
    ladder = {member: _interval(rated, member) for member in config.evaluation.ladder}
    return {
        "name": config.name,
        "env": config.env,
        "seed": config.seed,
        "baseline": baseline.name,
        "confidence": confidence,
        "arms": arms,
        "ladder": ladder,
        "ratings": rated.table.sort_values("rating", ascending=False).to_dict("records"),
        "gains": gains(config, evaluation.best, rated),
        "verdicts": verdicts(config, evaluation, rated),
        "wall_seconds": wall_seconds,
    }


def gains(config: Experiment, best: dict[str, str], rated: ratings.Ratings) -> list[dict]:
    """Split each interacting arm's gain over the baseline in two: selection (the best of N isolated agents,
    the `independent` control, vs the baseline) and interaction (the interacting arm's best vs that control's
    best). Needs a self_play arm of the same N beside each population arm."""
    confidence, baseline = config.evaluation.confidence, config.baseline_arm.name
    rows = []
    for arm in config.arms:
        if arm.interaction != "population":
            continue
        control = next(
            (
                c
                for c in config.arms
                if c.interaction == "self_play" and c.agents == arm.agents and c.name != baseline
            ),
            None,
        )
        if control is None or arm.name == baseline:
            continue
        rows.append(
            {
                "arm": arm.name,
                "control": control.name,
                "baseline": baseline,
                "selection_gain": _gap(rated, best[control.name], best[baseline], confidence),
                "interaction_gain": _gap(rated, best[arm.name], best[control.name], confidence),
                "total_gain": _gap(rated, best[arm.name], best[baseline], confidence),
            }
        )
    return rows


def verdicts(config: Experiment, evaluation: Evaluation, rated: ratings.Ratings) -> list[dict]:
    confidence, baseline = config.evaluation.confidence, config.baseline_arm
    label = "single" if baseline.agents == 1 else f"{baseline.name} best"
    matches = evaluation.matches
    rows = []
    for arm in config.arms:
        if arm.name == baseline.name:
            continue
        best, other = evaluation.best[arm.name], evaluation.best[baseline.name]
        held_out = matches[(matches.stage == "verdict") & (matches.arm == arm.name)]
        result = verdict.head_to_head(held_out, best, other, confidence)
        rows.append(
            {
                "arm": arm.name,
                "baseline": baseline.name,
                **result.as_dict(),
                "rating_gap": _gap(rated, best, other, confidence),
                "verdict": verdict.line(result, arm.name, label, confidence),
            }
        )
    return rows


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
    row(
        "training wall seconds",
        lambda a: f"{a['training']['wall_seconds']:,.1f}" if a.get("training") else "-",
    )
    row(
        "selection games' agent_steps",
        lambda a: (
            f"{a['selection_cost']['agent_steps']:,}" + (" (charged)" if a["selection_charged"] else "")
        ),
    )
    row("best agent", lambda a: a["best"])
    row("best's held-out rating", lambda a: _elo(a["best_rating"]))
    row("best's selection score", lambda a: _maybe(a["selection_score"]))
    row("best's held-out score, same opponents", lambda a: _maybe(a["held_out_score"]))
    row("oracle best (top held-out rating)", lambda a: a["oracle_best"])
    row("oracle best's rating", lambda a: _elo(a["oracle_rating"]))
    console.print(table)

    ratings_table = Table(title="held-out ratings (Elo, random = 0)")
    for column in ("player", "rating", f"{summary['confidence']:.0%} interval", "games", "score"):
        ratings_table.add_column(column, justify="left" if column == "player" else "right")
    chosen = {a["best"] for a in arms.values()}
    for r in summary["ratings"]:
        mark = " (best)" if r["player"] in chosen else ""
        ratings_table.add_row(
            r["player"] + mark,
            f"{r['rating']:+.0f}",
            f"[{r['ci_low']:+.0f}, {r['ci_high']:+.0f}]",
            f"{r['games']:,}",
            f"{r['score']:.3f}",
        )
    console.print(ratings_table)
    for g in summary["gains"]:
        console.print(
            f"gain from selection ({g['control']} best vs {g['baseline']}): "
            f"{_gap_text(g['selection_gain'])}; "
            f"from interaction ({g['arm']} best vs {g['control']} best): {_gap_text(g['interaction_gain'])}"
        )
    for v in summary["verdicts"]:
        console.print(
            f"{v['player']} vs {v['opponent']}: {v['wins']} W / {v['draws']} D / {v['losses']} L, "
            f"score {v['score']:.3f} [{v['ci_low']:.3f}, {v['ci_high']:.3f}], "
            f"rating gap {_gap_text(v['rating_gap'])}"
        )
        console.print(f"[bold]verdict: {v['verdict']}[/bold]")


def _maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _elo(r: dict) -> str:
    return f"{r['rating']:+.0f} [{r['ci_low']:+.0f}, {r['ci_high']:+.0f}]"


def _gap_text(g: dict) -> str:
    return f"{g['estimate']:+.0f} Elo [{g['ci_low']:+.0f}, {g['ci_high']:+.0f}]"
