"""Splitting one arm's budget over its agents.

Each of N agents gets total // N; the remainder goes one unit each to the lowest-indexed agents, so the
shares are deterministic, differ by at most one, and add up to the total exactly.
"""

from __future__ import annotations

UNITS = ("agent_steps", "flops", "core_seconds")  # what a spend is recorded in; budget.unit binds


def split(total: int, agents: int) -> list[int]:
    if agents < 1:
        raise ValueError(f"agents must be at least 1, got {agents}")
    if total < 0:
        raise ValueError(f"total must be non-negative, got {total}")
    base, remainder = divmod(total, agents)
    return [base + (i < remainder) for i in range(agents)]


def next_batch(remaining: int, rollout_steps: int, per_step: int = 1, per_round: int = 0) -> int:
    """Agent-steps to collect next: a full batch, else as many as `remaining` surely pays for, where a round
    of T agent-steps costs at most per_step * T + per_round in the binding unit (`training.cost`).

    Under agent_steps (1 and 0) that is the exact remainder: every agent spends exactly its share, and every
    arm exactly its total; leaving each agent's remainder unspent would cost an arm of N agents up to N
    batches, not the one batch the design allows. Under flops an agent stops less than per_step + per_round
    short of its share, never past it.
    """
    return max(0, min(rollout_steps, (remaining - per_round) // per_step))


def rounds(share: int, rollout_steps: int) -> int:
    return -(-share // rollout_steps)


# Selection games are charged by default (charge_selection: auto) once their worst case reaches this share
# of an agent's budget: at the ~500 Elo per tenfold compute measured in board games (Jones 2021, Hex), 1% of
# the budget is worth about 2 Elo, well under what a verdict resolves; past it, free games flatter the arm.
SELECTION_MATTERS = 0.01


def selection_reserve(opponents: int, selection_games: int, max_game_length: int | None) -> int:
    """Agent-steps one agent holds back for its selection games when they are charged: it plays
    opponents * selection_games of them and moves at most ceil(max_game_length / 2) times in each."""
    if max_game_length is None:
        return 0
    return opponents * selection_games * -(-max_game_length // 2)


def when_it_matters(reserve: int, share: int) -> int:
    """charge_selection auto: the reserve where it is at least SELECTION_MATTERS of the share, else 0."""
    return reserve if reserve >= SELECTION_MATTERS * share else 0
