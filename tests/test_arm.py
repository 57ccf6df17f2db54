"""An arm's round rules, without Ray: driven to the end with made-up round reports in milliseconds."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from swarm import budget, config, interaction
from swarm.interaction import CURRENT, Key, Tally
from swarm.interaction.pbt import Copy
from swarm.interaction.uniform import draw_self_play
from swarm.ledger import Ledger
from swarm.training import arm as core
from swarm.training import cost
from swarm.training.agent import RoundReport
from swarm.training.rollout import SELF


def ledger_of(cfg: config.Experiment, a: int) -> Ledger:
    spec = cfg.arms[a]
    shares = dict(zip(spec.agent_ids, budget.split(cfg.budget.total, spec.agents), strict=True))
    return Ledger(shares, cfg.budget.unit)


def report(plan: core.AgentPlan, flops: Callable[[int], int] = lambda steps: 10 * steps) -> RoundReport:
    """What a host would report: the planned agent-steps, `flops(steps)`, one game won against each
    opponent."""
    return RoundReport(
        plan.target, flops(plan.target), 0.0, {"score": 1.0}, [Tally(1, 1.0)] * len(plan.opponents)
    )


def drive(
    cfg: config.Experiment, a: int, flops: Callable[[int], int] = lambda steps: 10 * steps
) -> tuple[list[core.Plan], core.State, Ledger, list[dict]]:
    """Every round of arm `a` from start to end, each charged `flops(agent-steps)`: its plans, its last
    state, its ledger and its rows."""
    ledger = ledger_of(cfg, a)
    state, plans, rows = core.start(cfg, a, ledger), [], []
    while (plan := core.plan(cfg, a, state, ledger)) is not None:
        plans.append(plan)
        state, new_rows = core.absorb(
            cfg, a, state, plan, {i: report(p, flops) for i, p in plan.agents.items()}, ledger
        )
        rows += new_rows
    return plans, state, ledger, rows


@pytest.fixture
def uneven(make_config) -> config.Experiment:
    """Shares of 513 and 512 over batches of 256: every agent's last round is a remainder of 1 or 0."""
    return config.parse(make_config(budget={"unit": "agent_steps", "total": 2050}))


@pytest.mark.parametrize("a", [0, 1, 2], ids=["single", "independent", "swarm"])
def test_an_arm_spends_exactly_every_share_and_never_more(uneven, a):
    plans, state, ledger, rows = drive(uneven, a)
    assert all(ledger.remaining(agent) == 0 for agent in ledger.shares)
    assert sum(row["agent_steps"] for row in rows) == 2050 == sum(r["agent_steps"] for r in ledger.rows)
    assert all(0 < p.target <= uneven.ppo.rollout_steps for plan in plans for p in plan.agents.values())
    if a:  # 513, 513, 512, 512: two agents play a last round of one agent-step, alone
        assert {i: p.target for i, p in plans[-1].agents.items()} == {0: 1, 1: 1}
    assert state.round == len(plans) and core.plan(uneven, a, state, ledger) is None
    shares = budget.split(2050, uneven.arms[a].agents)
    for plan in plans:  # the share spent before the round, for the learning rate's annealing
        for i, p in plan.agents.items():
            assert (
                p.progress == pytest.approx(min(plan.round * 256, shares[i]) / shares[i]) and p.progress < 1
            )


@pytest.mark.parametrize("charged", ["bound", "least"])
def test_a_flop_budget_binds_arms_of_different_networks(make_config, charged):
    """The single agent twice as wide as the swarm's: each agent ends within one step's bound of its FLOP
    share and never above it, each arm within one batch of the total, whether every round costs its bound
    or only what it surely costs; the learning curve reaches the end of the share."""
    data = make_config(budget={"unit": "flops", "total": 4 * 10**8})
    data["arms"][0]["network"] = {"hidden": [64]}
    cfg = config.parse(data)
    for a, arm in enumerate(cfg.arms):
        price = cost.of(cfg, a)
        flops = price.bound if charged == "bound" else lambda steps, p=price: p.least_per_step * steps
        plans, state, ledger, _ = drive(cfg, a, flops)
        assert all(0 <= ledger.remaining(agent) <= price.slack for agent in arm.agent_ids)
        spent = sum(r["flops"] for r in ledger.rows)
        assert cfg.budget.total - price.least_per_step * cfg.ppo.rollout_steps <= spent <= cfg.budget.total
        assert all(p.target <= cfg.ppo.rollout_steps for plan in plans for p in plan.agents.values())
        assert state.next_point == (cfg.evaluation.curve_points + 1,) * arm.agents
    widths = {a: cost.of(cfg, a).per_step for a in range(3)}
    assert widths[0] > 1.5 * widths[1] and widths[1] == widths[2]


def test_pools_keep_the_last_pool_size_snapshots_every_snapshot_every_rounds(make_config):
    cfg = config.parse(make_config(opponents={"snapshot_every": 2, "pool_size": 2}))
    plans, state, _, _ = drive(cfg, 0)  # 8 rounds
    for plan in plans:
        taken = [r for r in range(plan.round + 1) if r % 2 == 0]
        assert plan.pools == (tuple(taken[-2:]),)
        assert plan.snapshots == ((Key(0, plan.round),) if plan.round % 2 == 0 else ())
    assert state.pools == ((4, 6),) and core.wanted(state) >= {Key(0, 4), Key(0, 6)}
    assert Key(0, 2) not in core.wanted(state) - {p.key for p in state.curve}


def test_unbounded_pools_keep_every_snapshot(make_config):
    cfg = config.parse(make_config(opponents={"snapshot_every": 3, "pool_size": None}))
    _, state, _, _ = drive(cfg, 0)
    assert state.pools == ((0, 3, 6),)


def test_curve_points_at_even_steps_of_the_share_from_step_0(make_config):
    cfg = config.parse(make_config())  # 4 points a share: the single agent's 2048 in batches of 256
    _, state, _, _ = drive(cfg, 0)
    assert [p.agent_steps for p in state.curve] == [0, 512, 1024, 1536, 2048]
    assert [p.round for p in state.curve] == [0, 2, 4, 6, 8]  # the weights at the start of that round
    assert all(p.arm_agent_steps == p.agent_steps for p in state.curve)
    _, swarm, _, _ = drive(cfg, 2)  # shares of 512: a point every 128, taken at round ends every 256
    assert [p.agent_steps for p in swarm.curve if p.agent == 0] == [0, 256, 512]
    assert [p.arm_agent_steps for p in swarm.curve if p.agent == 0] == [0, 1024, 2048]


def test_no_curve_points_when_none_are_asked_for(make_config):
    cfg = config.parse(make_config(evaluation={**make_config()["evaluation"], "curve_points": 0}))
    assert drive(cfg, 0)[1].curve == ()


def test_the_plan_is_reproducible_from_the_seed(make_config):
    cfg = config.parse(make_config())
    assert drive(cfg, 2)[0] == drive(cfg, 2)[0]
    other = config.parse(make_config(seed=1))
    assert [p.agents for p in drive(cfg, 2)[0]] != [p.agents for p in drive(other, 2)[0]]


def test_slots_are_the_drawn_opponents_and_modes_keep_to_their_rules(make_config):
    cfg = config.parse(make_config())
    for a, meets_others in ((1, False), (2, True)):
        for plan in drive(cfg, a)[0]:
            for i, p in plan.agents.items():
                assert len(p.places) == cfg.ppo.envs and sorted(set(p.places)) == list(p.opponents)
                assert all((key.agent != i) == meets_others for key in p.opponents)
                assert all(key.round == CURRENT or key.round in plan.pools[key.agent] for key in p.opponents)


def test_an_agent_learning_from_every_seat_fills_its_own_current_selfs_places(make_config):
    """With `opponents.every_seat`, the places self-play draws the agent's current self for are the agent's
    own (`SELF`), its snapshots stay opponents, and otherwise the draw is the same."""
    data = make_config()
    cfg, shared = (
        config.parse(data),
        config.parse({**data, "opponents": {**data["opponents"], "every_seat": True}}),
    )
    filled = 0
    for plan, own in zip(drive(cfg, 1)[0], drive(shared, 1)[0], strict=True):
        for i, p in plan.agents.items():
            assert [None if key == Key(i, CURRENT) else key for key in p.places] == own.agents[i].places
            assert Key(i, CURRENT) not in own.agents[i].opponents
            filled += own.agents[i].slot_opponent.count(SELF)
    assert filled > 0


def test_results_add_up_per_agent_and_opponent(make_config):
    cfg = config.parse(make_config(opponents={"snapshot_every": 1, "pool_size": 2, "results_decay": 1}))
    plans, state, _, _ = drive(cfg, 2)
    expected: dict[tuple[int, Key], int] = {}
    for plan in plans:
        for i, p in plan.agents.items():
            for key in p.opponents:
                expected[i, key] = expected.get((i, key), 0) + 1
    assert {k: r.games for k, r in state.results.items()} == expected
    assert all(r.score == r.games for r in state.results.values())


def test_modes_see_the_results_so_far(make_config, monkeypatch):
    seen = []

    def spy(population, settings, options, rng):
        seen.append(dict(population.results))
        return draw_self_play(population, settings, options, rng)

    monkeypatch.setitem(interaction.MODES, "self_play", replace(interaction.MODES["self_play"], draw=spy))
    cfg = config.parse(make_config(opponents={"snapshot_every": 1, "pool_size": 2, "results_decay": 1}))
    plans, _, _, _ = drive(cfg, 0)
    assert seen[0] == {} and len(seen) == len(plans)
    for r, results in enumerate(seen):  # one game against each opponent of every earlier round
        assert sum(record.games for record in results.values()) == sum(
            len(p.agents[0].opponents) for p in plans[:r]
        )


def test_charged_selection_reserve_is_held_back(make_config):
    evaluation = {**make_config()["evaluation"], "charge_selection": True, "max_game_length": 42}
    cfg = config.parse(make_config(budget={"unit": "agent_steps", "total": 4096}, evaluation=evaluation))
    reserve = cfg.selection_reserve(cfg.arms[2])
    assert reserve == 3 * 4 * 21
    _, state, ledger, _ = drive(cfg, 2)
    assert all(ledger.remaining(agent) == reserve for agent in ledger.shares)
    assert state.curve[-1].agent_steps == 1024 - reserve  # the training share's end is its last point
    assert drive(cfg, 0)[2].remaining("single/0") == 0  # one agent plays no selection games


def test_a_report_of_other_than_the_plan_is_refused(make_config):
    cfg = config.parse(make_config())
    ledger = ledger_of(cfg, 0)
    state = core.start(cfg, 0, ledger)
    plan = core.plan(cfg, 0, state, ledger)
    short = RoundReport(255, 0, 0.0, {}, [Tally()] * len(plan.agents[0].opponents))
    with pytest.raises(ValueError, match="spent 255 agent_steps, planned 256"):
        core.absorb(cfg, 0, state, plan, {0: short}, ledger)
    with pytest.raises(ValueError, match="reports of"):
        core.absorb(cfg, 0, state, plan, {}, ledger)


def pbt_config(make_config, **options) -> config.Experiment:
    """Four pbt agents, exploit step every 2 rounds, 8 rounds of 256 each."""
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play"},
        {"name": "pbt", "agents": 4, "interaction": "pbt", "options": {"every": 2, **options}},
    ]
    return config.parse(make_config(budget={"unit": "agent_steps", "total": 8192}, arms=arms))


def test_pbt_copies_the_stronger_and_the_ledger_keeps_the_lineage(make_config):
    """Agent i wins a share i / 3 of its games: at every exploit step the weakest agent copies agent 3 (the
    quantile of 4 is one agent), agent 0 first; it then takes agent 3's results and perturbed
    hyperparameters, spends its own share still, and its weights embody agent 3's spend up to the copy
    plus its own since."""
    cfg = pbt_config(make_config, hyperparameters=["lr", "clip"])
    ledger = ledger_of(cfg, 1)
    state = core.start(cfg, 1, ledger)
    assert len({h["lr"] for h in state.hypers}) == 4 and all(set(h) == {"lr", "clip"} for h in state.hypers)
    plans = []
    while (plan := core.plan(cfg, 1, state, ledger)) is not None:
        plans.append(plan)
        for i, p in plan.agents.items():
            assert p.hypers == plan.hypers[i]
        reports = {
            i: RoundReport(p.target, p.target, 0.0, {}, [Tally(3, i)] + [Tally()] * (len(p.opponents) - 1))
            for i, p in plan.agents.items()
        }
        state, _ = core.absorb(cfg, 1, state, plan, reports, ledger)
    copied = [(plan.round, c.agent, c.source) for plan in plans for c in plan.copies]
    assert [r for r, _, _ in copied] == [2, 4, 6] and {s for _, _, s in copied} == {3}
    assert copied[0][1] == 0 and copied[1][1] == 1  # agent 0 now holds agent 3's record: agent 1 is last
    for plan in plans:
        for c in plan.copies:
            assert {k: t for (i, k), t in plan.results.items() if i == c.agent} == {
                k: t for (i, k), t in plan.results.items() if i == c.source
            }
            ratio = {
                h: plan.hypers[c.agent][h] / plans[plan.round - 1].hypers[c.source][h] for h in ("lr", "clip")
            }
            assert all(r == pytest.approx(0.8) or r == pytest.approx(1.2) for r in ratio.values())
    assert all(ledger.remaining(a) == 0 for a in ledger.shares)  # every share spent, copies or not
    assert ledger.lineage_frame().to_dict("records") == [
        {"arm": "pbt", "agent": f"pbt/{a}", "source": f"pbt/{s}", "round": r} for r, a, s in copied
    ]
    # a copier's weights hold pbt/3's rounds before the copy and its own after: all 8 rounds' worth
    for _, a, _ in copied:
        assert ledger.embodied(f"pbt/{a}")["agent_steps"] == 8 * 256
    assert ledger.embodied("pbt/0", before=3)["agent_steps"] == 3 * 256  # pbt/3's rounds 0, 1; its own 2


def test_a_copy_takes_the_source_results_and_hyperparameters():
    results = {
        (0, Key(2, CURRENT)): Tally(4, 0.0),
        (1, Key(2, 0)): Tally(2, 2.0),
        (2, Key(0, 0)): Tally(1, 1),
    }
    hypers = ({"lr": 1.0}, {"lr": 2.0}, {"lr": 3.0})
    got, new = core.inherited(results, hypers, (Copy(0, 1, {"lr": 2.4}),))
    assert got == {(0, Key(2, 0)): Tally(2, 2.0), (1, Key(2, 0)): Tally(2, 2.0), (2, Key(0, 0)): Tally(1, 1)}
    assert new == ({"lr": 2.4}, {"lr": 2.0}, {"lr": 3.0})


def test_results_decay_each_round(make_config):
    cfg = config.parse(make_config(opponents={"snapshot_every": 1, "pool_size": 2, "results_decay": 0.5}))
    ledger = ledger_of(cfg, 2)
    state, met = core.start(cfg, 2, ledger), []
    for _ in range(2):
        plan = core.plan(cfg, 2, state, ledger)
        met.append(len(plan.agents[0].opponents))  # one game won against each (`report`)
        state, _ = core.absorb(cfg, 2, state, plan, {i: report(p) for i, p in plan.agents.items()}, ledger)
    total = sum(t.games for (i, _), t in state.results.items() if i == 0)
    assert total == pytest.approx(0.5 * met[0] + met[1])
