"""One line of text for each result, shared by the console (`swarm run`), the report and the notebooks."""

from __future__ import annotations

from swarm.results.records import ArmSummary, Estimate, Interval, SeedSummary, Verdict

ONE_SEED = (
    "one seed: these verdicts compare these trained agents, not the ways of training them; for a claim "
    "about the methods, run several seeds (budgets/multi-seed.yaml)"
)


def maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def elo(r: Interval) -> str:
    return f"{r.rating:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}]"


def gap(g: Estimate) -> str:
    return f"{g.estimate:+.0f} Elo [{g.ci_low:+.0f}, {g.ci_high:+.0f}]"


def selection_cost(arm: ArmSummary) -> str:
    return f"{arm.selection_cost['agent_steps']:,}" + (" (charged)" if arm.selection_charged else "")


def record(v: Verdict) -> str:
    """The verdict games' record, its score with interval, and the rating gap."""
    r = v.record
    return (
        f"{r.wins} W / {r.draws} D / {r.losses} L, score {r.score:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}], "
        f"rating gap {gap(v.rating_gap)}"
    )


def gains(summary: SeedSummary) -> list[str]:
    """Each interacting arm's gain over the baseline, from selection and from interaction."""
    return [
        f"gain from selection ({g.control} best vs {g.baseline}): {gap(g.selection_gain)}; "
        f"from interaction ({g.arm} best vs {g.control} best): {gap(g.interaction_gain)}"
        for g in summary.gains
    ]
