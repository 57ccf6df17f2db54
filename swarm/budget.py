"""Splitting one arm's budget over its agents.

Each of N agents gets total // N; the remainder goes one unit each to the lowest-indexed agents, so the
shares are deterministic, differ by at most one, and add up to the total exactly.
"""

from __future__ import annotations


def split(total: int, agents: int) -> list[int]:
    if agents < 1:
        raise ValueError(f"agents must be at least 1, got {agents}")
    if total < 0:
        raise ValueError(f"total must be non-negative, got {total}")
    base, remainder = divmod(total, agents)
    return [base + (i < remainder) for i in range(agents)]


def next_batch(remaining: int, rollout_steps: int) -> int:
    """Agent-steps to collect next: a full batch, else the exact remainder.

    Every agent therefore spends exactly its share, and every arm exactly its total: leaving each agent's
    remainder unspent would cost an arm of N agents up to N batches, not the one batch the design allows.
    """
    return max(0, min(remaining, rollout_steps))


def rounds(share: int, rollout_steps: int) -> int:
    return -(-share // rollout_steps)
