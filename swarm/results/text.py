"""One line of text for each result, shared by the console (`swarm run`), the report and the notebooks."""

from __future__ import annotations

from swarm.results.records import ArmSummary, Estimate, Interval, OverSeeds, SeedSummary, Verdict

UNIT_NAMES = {"agent_steps": "agent-steps", "flops": "FLOPs", "core_seconds": "core-seconds"}  # in prose

ONE_SEED = (
    "one seed: these verdicts compare these trained agents, not the ways of training them; for a claim "
    "about the methods, run several seeds (budgets/multi-seed.yaml)"
)


def maybe(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def maybe_estimate(e: Estimate | None) -> str:
    return "-" if e is None else f"{e.estimate:+.3f} [{e.ci_low:+.3f}, {e.ci_high:+.3f}]"


def exploitability(arm: ArmSummary) -> str:
    e = arm.exploitability
    return "-" if e is None else f"{e.score:.3f} [{e.ci_low:.3f}, {e.ci_high:.3f}]"


def fit_check(summary: SeedSummary) -> str:
    f = summary.fit_check
    return (
        f"does Bradley-Terry fit the held-out games? chi-square {f.chi_square:.1f} on {f.df} df "
        f"(p = {f.p_value:.3g}); {f.cyclic} cyclic of {f.triads} testable triads"
    )


def nash(summary: SeedSummary) -> str:
    """The support of the held-out meta-game's maximum-entropy equilibrium, heaviest first."""
    support = sorted((n for n in summary.nash if n.mass > 1e-6), key=lambda n: -n.mass)
    return "Nash averaging (max-entropy equilibrium of the agents' held-out cross-play): " + ", ".join(
        f"{n.player} {n.mass:.2f}" for n in support
    )


def elo(r: Interval) -> str:
    return f"{r.rating:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}]"


def gap(g: Estimate) -> str:
    return f"{g.estimate:+.0f} Elo [{g.ci_low:+.0f}, {g.ci_high:+.0f}]"


def selection_cost(arm: ArmSummary) -> str:
    """The selection games' cost in the binding unit, and whether the arm paid it."""
    return f"{arm.selection_cost[arm.budget.unit]:,}" + (" (charged)" if arm.selection_charged else "")


def embodied(arm: ArmSummary) -> str:
    """The training spend the best's weights hold, in the binding unit, with the arm's copies of weights
    where it made any."""
    if arm.lineage is None:
        return "-"
    n = arm.lineage.copies
    copies = f" ({n} cop{'y' if n == 1 else 'ies'} of weights in the arm)" if n else ""
    return f"{arm.lineage.embodied[arm.budget.unit]:,.0f}{copies}"


def record(v: Verdict) -> str:
    """The verdict games' record, its score with interval, and the rating gap."""
    r = v.record
    return (
        f"{r.wins} W / {r.draws} D / {r.losses} L, score {r.score:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}], "
        f"Elo gap {gap(v.rating_gap)}, {p_value(v.p_value)}"
    )


def p_value(p: float) -> str:
    """`p = 0.0123`; below what a double resolves near 1 (the normal tail underflows), `p < 1e-15`."""
    return "p < 1e-15" if p < 1e-15 else f"p = {p:.3g}"


def gains(summary: SeedSummary) -> list[str]:
    """Each interacting arm's gain over the baseline, from selection and from interaction (head to head)."""
    return [
        f"gain from selection ({g.control} best vs {g.baseline}): {gap(g.selection_gain)}; "
        f"from interaction ({g.arm} best vs {g.control} best, {g.interaction_record.games} games): "
        f"{gap(g.interaction_gain)}, on the ladder {gap(g.ladder_gain)}"
        for g in summary.gains
    ]


def gains_over_seeds(summary: OverSeeds) -> list[str]:
    """Each interacting arm's gain from interaction, over seeds."""
    return [
        f"gain from interaction ({g.arm} best vs {g.control} best) over {g.seeds} seeds: "
        + (
            f"{g.interaction_gain.estimate:+.0f} Elo, one seed gives no interval"
            if g.seeds < 2
            else f"{gap(g.interaction_gain)} head to head, {p_value(g.p_value)} (t-test over seeds, not "
            f"corrected); on the ladder {gap(g.ladder_gain)}"
        )
        for g in summary.gains
    ]


def null_check(summary: OverSeeds) -> list[str]:
    """What a run of two identically trained arms says about the verdicts' false positives."""
    c = summary.null_check
    if c is None:
        return []
    a, b = c.arms
    over = "significant: a false positive" if c.over_seeds_significant else "not significant"
    return [
        f"null check: {a} and {b} train identically, so any winner named is a false positive. One-seed "
        f"verdicts named one in {c.named_winner} of {c.seeds} seeds ({c.rate.estimate:.0%}, interval "
        f"[{c.rate.ci_low:.0%}, {c.rate.ci_high:.0%}]): a one-seed verdict is about its agents, not the "
        f"method. The verdict over seeds is {over} (under this null it errs at most "
        f"{1 - summary.confidence:.0%} of the time)."
    ]
