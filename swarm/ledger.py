"""The ledger: what every agent spent, round by round, in every unit.

Modelled on Acme's counter: `charge(...)` adds one row. The binding unit (`budget.unit`: agent_steps or flops)
is checked against the agent's share at every charge, so an overspend is refused at the moment it happens,
not found afterwards. Counts stay Python integers, exact at any size; budgets are capped at 2**53
(`config.MAX_TOTAL`) so that the float64 sums of tables and progress bars hold them exactly too.

Weights copied between agents (PBT's exploit step) spend nothing but carry their history: `inherit` records
who copied whom and when (the lineage), and `embodied` follows it back to the training spend an agent's
weights hold, its own since its last copy plus what the weights it copied held then.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from swarm.budget import UNITS


class BudgetExceeded(RuntimeError):
    """An agent tried to spend more than its share."""


@dataclass
class Ledger:
    shares: dict[str, int]  # agent id -> what it may spend, in `unit`
    unit: str = "agent_steps"  # the binding unit
    rows: list[dict] = field(default_factory=list)
    spent: dict[str, dict[str, float]] = field(default_factory=dict)
    lineage: list[dict] = field(default_factory=list)  # arm, agent, source, round: copies of weights

    def remaining(self, agent: str) -> int:
        return self.shares[agent] - int(self.spent.get(agent, {}).get(self.unit, 0))

    def charge(
        self,
        arm: str,
        agent: str,
        round_: int,
        agent_steps: int,
        flops: int,
        core_seconds: float,
        stage: str = "training",
    ) -> None:
        """Add one row; `stage` is training, or selection when selection games are charged (round -1)."""
        if agent not in self.shares:
            raise KeyError(f"agent {agent!r} has no share in this ledger")
        if agent_steps < 0 or flops < 0 or core_seconds < 0:
            raise ValueError(f"negative charge for {agent}: {agent_steps}, {flops}, {core_seconds}")
        charge = {"agent_steps": agent_steps, "flops": flops, "core_seconds": core_seconds}
        if charge[self.unit] > self.remaining(agent):
            raise BudgetExceeded(
                f"{agent} tried to spend {charge[self.unit]} {self.unit} in round {round_} with "
                f"{self.remaining(agent)} of its {self.shares[agent]} left"
            )
        totals = self.spent.setdefault(agent, dict.fromkeys(UNITS, 0))
        for unit, amount in charge.items():
            totals[unit] += amount
        self.rows.append(
            {
                "arm": arm,
                "agent": agent,
                "stage": stage,
                "round": round_,
                **charge,
                **{f"cum_{u}": totals[u] for u in UNITS},
            }
        )

    def inherit(self, arm: str, agent: str, source: str, round_: int) -> None:
        """`agent` took `source`'s weights at the start of round `round_`."""
        for name in (agent, source):
            if name not in self.shares:
                raise KeyError(f"agent {name!r} has no share in this ledger")
        self.lineage.append({"arm": arm, "agent": agent, "source": source, "round": round_})

    def embodied(self, agent: str, before: int | None = None) -> dict[str, float]:
        """The training spend, in every unit, that `agent`'s weights hold at the start of round `before`
        (after its last round, by default): its own since it last copied weights, plus what the weights it
        copied held when it copied them. Without copies, its own training spend."""
        copies = [r for r in self.lineage if r["agent"] == agent and (before is None or r["round"] < before)]
        last = max(copies, key=lambda r: r["round"]) if copies else None
        since = last["round"] if last else 0
        total = dict.fromkeys(UNITS, 0.0)
        for row in self.rows:
            within = row["round"] >= since and (before is None or row["round"] < before)
            if row["agent"] == agent and row["stage"] == "training" and within:
                for unit in UNITS:
                    total[unit] += row[unit]
        if last is not None:
            for unit, amount in self.embodied(last["source"], last["round"]).items():
                total[unit] += amount
        return total

    def lineage_frame(self) -> pd.DataFrame:
        """One row per copy, by round then agent."""
        columns = ["arm", "agent", "source", "round"]
        rows = sorted(self.lineage, key=lambda r: (r["round"], r["arm"], r["agent"]))
        return pd.DataFrame(rows, columns=columns)

    def frame(self) -> pd.DataFrame:
        """One row per charge, ordered by agent (as in `shares`) then round, however arms interleaved."""
        columns = ["arm", "agent", "stage", "round", *UNITS, *(f"cum_{u}" for u in UNITS)]
        position = {agent: k for k, agent in enumerate(self.shares)}
        rows = sorted(
            self.rows, key=lambda row: (position[row["agent"]], row["stage"] != "training", row["round"])
        )
        return pd.DataFrame(rows, columns=columns)

    def totals_by_arm(self) -> dict[str, dict[str, int | float]]:
        frame = self.frame()
        sums = frame.groupby("arm")[list(UNITS)].sum()
        kind = {"agent_steps": int, "flops": int, "core_seconds": float}  # counts stay integers
        return {arm: {u: kind[u](sums.loc[arm, u]) for u in UNITS} for arm in sums.index}
