"""One arm's rounds as plain Python: a state in, a round's plan out; its reports in, the next state out.

The rules of an arm's training live here, with no Ray and no weights: each agent's target agent-steps for the
round (a full batch, else what the rest of its training share surely pays for: the exact remainder under
agent_steps, the bound of `training.cost` under flops), its progress through the share, the copies of weights
that start the round where the arm's mode evolves its population (PBT) and each agent's hyperparameters, the
opponent of each place in its game slots (the seats other than its own; drawn by the arm's interaction mode
from the round's seeded RNG), the snapshots that join the agents' opponent pools, and the learning-curve
points due at the round's end. Weights are named by `interaction.Key`, (agent, round): an agent's weights at
the start of that round (`CURRENT`: of this round). The engine maps keys to weights on Ray, plays the plan
and hands the reports back to `absorb`, which charges the ledger. Everything here follows from the config,
the seed and the reports, so a round replayed after a fault or from a checkpoint is the same round.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from swarm import budget, interaction, seeds
from swarm.config import Experiment
from swarm.interaction import Key, Results, Tally
from swarm.interaction.pbt import Copy
from swarm.training import cost
from swarm.training.agent import RoundReport
from swarm.training.rollout import SELF

if TYPE_CHECKING:  # the ledger (and pandas) is the driver's: the actors import this module for AgentPlan
    from swarm.ledger import Ledger


@dataclass(frozen=True)
class Point:
    """A learning-curve point: agent `agent`'s weights at the start of `round`, and the agent-steps it and its
    arm had spent by then (whatever unit binds)."""

    agent: int
    agent_steps: int
    arm_agent_steps: int
    round: int

    @property
    def key(self) -> Key:
        return Key(self.agent, self.round)


@dataclass(frozen=True)
class State:
    """An arm's training between rounds: all that decides its next plans, besides the ledger."""

    round: int  # the next round to play
    pools: tuple[tuple[int, ...], ...]  # each agent's snapshot rounds, oldest first
    curve: tuple[Point, ...]
    next_point: tuple[int, ...]  # each agent's next learning-curve point, counted in `curve_points`
    results: Results = field(default_factory=dict)  # (agent, opponent) -> its tally, decayed each round
    hypers: tuple[Mapping[str, float], ...] = ()  # each agent's ppo fields set by its mode (PBT), else empty


@dataclass(frozen=True)
class AgentPlan:
    """One agent's round: `target` agent-steps against `opponents[slot_opponent[p]]` in place p, where
    slot s's places (its seats other than the agent's) are s x (seats - 1) onwards; `SELF` where the agent
    fills the place itself and learns from it (`opponents.every_seat`)."""

    target: int
    progress: float  # share of its training budget spent so far, in [0, 1)
    opponents: tuple[Key, ...]  # the round's distinct opponents, sorted
    slot_opponent: tuple[int, ...]
    hypers: Mapping[str, float] = field(default_factory=dict)  # ppo fields its mode sets for it (PBT)

    @property
    def places(self) -> list[Key | None]:
        """The opponent of every place; None where the agent fills it itself."""
        return [None if k == SELF else self.opponents[k] for k in self.slot_opponent]


@dataclass(frozen=True)
class Plan:
    round: int
    agents: dict[int, AgentPlan]  # the agents with budget left
    pools: tuple[tuple[int, ...], ...]  # the pools the opponents were drawn from, this round's snapshots in
    snapshots: tuple[Key, ...]  # current weights kept, before the round, as the snapshots that joined
    curve: tuple[Point, ...]  # learning-curve points due at the round's end, of the weights it ends with
    copies: tuple[Copy, ...] = ()  # weights copied at the round's start, after its snapshots are kept
    results: Results = field(default_factory=dict)  # the results the round starts from, copies applied
    hypers: tuple[Mapping[str, float], ...] = ()
    next_point: tuple[int, ...] = ()  # each agent's next learning-curve point once the round's are taken


def training_share(config: Experiment, arm_index: int, ledger: Ledger, agent: str) -> int:
    """What an agent may spend on training, in the binding unit: its share less its charged selection
    reserve."""
    return ledger.shares[agent] - config.selection_reserve(config.arms[arm_index])


def spent(ledger: Ledger, agent: str) -> int:
    """What an agent has spent, in the binding unit."""
    return ledger.shares[agent] - ledger.remaining(agent)


def steps(ledger: Ledger, agent: str) -> int:
    """The agent-steps an agent has spent, whatever unit binds."""
    return int(ledger.spent.get(agent, {}).get("agent_steps", 0))


def start(config: Experiment, arm_index: int, ledger: Ledger) -> State:
    """The state before round 0: empty pools and every agent's initial weights as its step-0 curve point."""
    config = config.for_arm(arm_index)
    arm = config.arms[arm_index]
    size, evolution = arm.agents, interaction.MODES[arm.interaction].evolution
    hypers = ({},) * size
    if evolution is not None:
        base = config.ppo.model_dump()
        hypers = tuple(
            evolution.initial(arm.mode_options, base, size, seeds.evolution_rng(config.seed, arm_index, 0))
        )
    state = State(0, ((),) * size, (), (0,) * size, hypers=hypers)
    curve, next_point = _due(config, arm_index, state, ledger, [0] * size, [0] * size, 0)
    return replace(state, curve=curve, next_point=next_point)


def plan(config: Experiment, arm_index: int, state: State, ledger: Ledger, seats: int = 2) -> Plan | None:
    """The next round's plan; None once every agent has spent its training share. `seats`: the game's."""
    config = config.for_arm(arm_index)  # the arm's ppo and opponents blocks
    names, reserve = config.arms[arm_index].agent_ids, config.selection_reserve(config.arms[arm_index])
    price = cost.of(config, arm_index)
    left = [ledger.remaining(a) - reserve for a in names]
    rollout = config.ppo.rollout_steps
    targets = [budget.next_batch(n, rollout, price.per_step, price.per_round) for n in left]
    if not any(targets):
        return None
    arm = config.arms[arm_index]
    results, hypers, copies = state.results, state.hypers, ()
    if (evolution := interaction.MODES[arm.interaction].evolution) is not None:
        rng = seeds.evolution_rng(config.seed, arm_index, state.round)
        population = interaction.Population(state.pools, state.results)
        copies = tuple(evolution.step(state.round, population, hypers, arm.mode_options, rng))
        results, hypers = inherited(results, hypers, copies)
    pools, snapshots = state.pools, ()
    if state.round % config.opponents.snapshot_every == 0:
        keep = config.opponents.pool_size
        pools = tuple((*pool, state.round)[-keep if keep else 0 :] for pool in state.pools)
        snapshots = tuple(Key(i, state.round) for i in range(len(pools)))
    settings = interaction.Settings(
        config.ppo.envs * (seats - 1), config.opponents.per_round, config.opponents.latest_share
    )
    drawn = interaction.pairings(
        arm.interaction,
        interaction.Population(pools, results),
        settings,
        seeds.round_rng(config.seed, arm_index, state.round),
        arm.mode_options,
    )
    agents = {}
    for i, places in enumerate(drawn):
        if targets[i]:
            itself = Key(i, interaction.CURRENT) if config.opponents.every_seat else None
            keys = tuple(sorted(set(places) - {itself}))
            progress = 1 - left[i] / training_share(config, arm_index, ledger, names[i])
            slot_opponent = tuple(SELF if key == itself else keys.index(key) for key in places)
            agents[i] = AgentPlan(targets[i], progress, keys, slot_opponent, hypers[i])
    arm_steps = sum(steps(ledger, a) for a in names) + sum(targets)
    after = [steps(ledger, a) + targets[i] for i, a in enumerate(names)]
    reached = [spent(ledger, a) + price.bound(targets[i]) for i, a in enumerate(names)]
    due, next_point = _due(config, arm_index, state, ledger, reached, after, arm_steps, state.round + 1)
    return Plan(state.round, agents, pools, snapshots, due, copies, results, hypers, next_point)


def inherited(
    results: Results, hypers: tuple[Mapping[str, float], ...], copies: tuple[Copy, ...]
) -> tuple[Results, tuple[Mapping[str, float], ...]]:
    """The results and hyperparameters after `copies`: each copying agent takes its source's record (it
    describes the weights it now has) and the copy's hyperparameters."""
    if not copies:
        return results, hypers
    taken = {c.agent: c for c in copies}
    kept = {(i, key): t for (i, key), t in results.items() if i not in taken}
    for c in copies:
        kept |= {(c.agent, key): t for (i, key), t in results.items() if i == c.source}
    return kept, tuple(taken[i].hypers if i in taken else h for i, h in enumerate(hypers))


def absorb(
    config: Experiment,
    arm_index: int,
    state: State,
    plan: Plan,
    reports: Mapping[int, RoundReport],
    ledger: Ledger,
) -> tuple[State, list[dict]]:
    """Charge the round's reports to the ledger; the next state and the round's training rows."""
    config = config.for_arm(arm_index)
    names, name = config.arms[arm_index].agent_ids, config.arms[arm_index].name
    if sorted(reports) != sorted(plan.agents):
        raise ValueError(
            f"round {plan.round} of arm {name!r}: reports of {sorted(reports)}, planned {plan.agents}"
        )
    for i in sorted(reports):
        report = reports[i]
        if report.agent_steps != plan.agents[i].target:
            raise ValueError(
                f"{names[i]} spent {report.agent_steps} agent_steps, planned {plan.agents[i].target}"
            )
        ledger.charge(name, names[i], plan.round, report.agent_steps, report.flops, report.core_seconds)
    for c in plan.copies:
        ledger.inherit(name, names[c.agent], names[c.source], plan.round)
    arm_steps = sum(steps(ledger, a) for a in names)
    results = decayed(plan.results, config.opponents.results_decay)
    rows = []
    for i in sorted(reports):
        report = reports[i]
        rows.append(
            {
                "arm": name,
                "agent": names[i],
                "round": plan.round,
                "agent_steps": report.agent_steps,
                "cum_agent_steps": ledger.spent[names[i]]["agent_steps"],
                "arm_agent_steps": arm_steps,
                **report.metrics,
            }
        )
        for key, tally in zip(plan.agents[i].opponents, report.tallies, strict=True):
            results[i, key] = results.get((i, key), Tally()) + tally
    after = replace(
        state,
        round=plan.round + 1,
        pools=plan.pools,
        results=results,
        hypers=plan.hypers,
        curve=(*state.curve, *plan.curve),
        next_point=plan.next_point,
    )
    return after, rows


def decayed(results: Results, decay: float) -> dict[tuple[int, Key], Tally]:
    """Every tally times `decay`, those that weigh less than a thousandth of a game dropped."""
    if decay == 1:
        return dict(results)
    scaled = {pair: tally.scaled(decay) for pair, tally in results.items()}
    return {pair: tally for pair, tally in scaled.items() if tally.games >= 1e-3}


def wanted(state: State) -> set[Key]:
    """The kept weights the state names: its pools' snapshots and its curve points."""
    return {Key(i, r) for i, pool in enumerate(state.pools) for r in pool} | {p.key for p in state.curve}


def _due(
    config: Experiment,
    arm_index: int,
    state: State,
    ledger: Ledger,
    reached: list[int],
    after: list[int],
    arm_steps: int,
    round_: int = 0,
) -> tuple[tuple[Point, ...], tuple[int, ...]]:
    """The curve points due once each agent has spent at most `reached` in the binding unit (`after`
    agent-steps): where that reaches the next of `curve_points` even steps of its training share less its
    slack, what it surely spends (the initial weights count as step 0); and each agent's next point."""
    points, price = config.evaluation.curve_points, cost.of(config, arm_index)
    due, next_point = [], list(state.next_point)
    for i, agent in enumerate(config.arms[arm_index].agent_ids):
        share = training_share(config, arm_index, ledger, agent) - price.slack
        if points and reached[i] * points >= state.next_point[i] * share:
            due.append(Point(i, after[i], arm_steps, round_))
            next_point[i] = int(reached[i] * points // share) + 1
    return tuple(due), tuple(next_point)
