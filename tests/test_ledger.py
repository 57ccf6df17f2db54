import pytest

from swarm.budget import UNITS
from swarm.ledger import BudgetExceeded, Ledger


def test_charges_accumulate_in_every_unit():
    ledger = Ledger({"a/0": 100, "a/1": 100})
    ledger.charge("a", "a/0", 0, 60, 1000, 0.5)
    ledger.charge("a", "a/0", 1, 40, 700, 0.25)
    ledger.charge("a", "a/1", 0, 10, 10, 0.1)
    assert ledger.remaining("a/0") == 0
    assert ledger.spent["a/0"] == {"agent_steps": 100, "flops": 1700, "core_seconds": 0.75}
    frame = ledger.frame()
    assert list(frame.columns) == ["arm", "agent", "stage", "round", *UNITS, *(f"cum_{u}" for u in UNITS)]
    assert frame.cum_agent_steps.tolist() == [60, 100, 10]
    totals = ledger.totals_by_arm()["a"]
    assert totals == {"agent_steps": 110, "flops": 1710, "core_seconds": pytest.approx(0.85)}
    assert isinstance(totals["agent_steps"], int) and isinstance(totals["flops"], int)


def test_frame_order_does_not_depend_on_charge_order():
    ledger = Ledger({"a/0": 10, "b/0": 10, "b/1": 10})
    for arm, agent, round_ in [("b", "b/1", 0), ("a", "a/0", 0), ("b", "b/0", 0), ("a", "a/0", 1)]:
        ledger.charge(arm, agent, round_, 1, 1, 0.0)
    assert list(zip(ledger.frame().agent, ledger.frame()["round"], strict=True)) == [
        ("a/0", 0),
        ("a/0", 1),
        ("b/0", 0),
        ("b/1", 0),
    ]


def test_refuses_overspend_and_records_nothing():
    ledger = Ledger({"a/0": 100})
    ledger.charge("a", "a/0", 0, 90, 1, 0.0)
    with pytest.raises(BudgetExceeded, match="a/0 tried to spend 11"):
        ledger.charge("a", "a/0", 1, 11, 1, 0.0)
    assert ledger.remaining("a/0") == 10
    assert len(ledger.rows) == 1


def test_refuses_unknown_agent_and_negative_charges():
    ledger = Ledger({"a/0": 100})
    with pytest.raises(KeyError):
        ledger.charge("a", "b/0", 0, 1, 1, 0.0)
    with pytest.raises(ValueError):
        ledger.charge("a", "a/0", 0, 1, -1, 0.0)


def test_weights_embody_their_lineage():
    """c trains rounds 0-3; b copies c at round 2 and trains 2-3; a copies b at round 3 and trains round 3:
    a's weights hold c's rounds 0, 1, b's round 2 and its own round 3, in every unit."""
    ledger = Ledger({"a": 100, "b": 100, "c": 100})
    for agent, cost in (("a", 1), ("b", 2), ("c", 4)):
        for r in range(4):
            ledger.charge("x", agent, r, cost, 10 * cost, 0.5 * cost)
    ledger.inherit("x", "b", "c", 2)
    ledger.inherit("x", "a", "b", 3)
    assert ledger.embodied("c") == {"agent_steps": 16, "flops": 160, "core_seconds": 8.0}
    assert ledger.embodied("b")["agent_steps"] == 4 + 4 + 2 + 2
    assert ledger.embodied("a") == {"agent_steps": 4 + 4 + 2 + 1, "flops": 110, "core_seconds": 5.5}
    assert ledger.embodied("a", before=3)["agent_steps"] == 3  # before its copy: its own rounds 0-2
    assert sum(r["agent_steps"] for r in ledger.rows) == 28  # copying spent nothing
    assert list(ledger.lineage_frame().source) == ["c", "b"]
    with pytest.raises(KeyError):
        ledger.inherit("x", "a", "nobody", 4)
