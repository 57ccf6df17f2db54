"""Training every arm on Ray: each arm's core (`swarm.training.arm`) driven round by round on its actors.

Training runs in synchronous rounds per arm: the core plans a round, the driver freezes the weights it needs
in the object store (a key of the plan names each), hosts play and learn, and the core charges the ledger
with their reports. Arms advance side by side, each at its own pace, or one after another. The driver keeps
every agent's latest state, so a host whose process or node dies is restarted, restored and replays its
round, and checkpoints (`swarm.training.checkpoint`) need no call to the hosts.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import ray
from ray.util.placement_group import PlacementGroup, remove_placement_group

from swarm import budget
from swarm.config import Experiment
from swarm.engine import packing, placement
from swarm.engine.actors import Played, Stored
from swarm.interaction import CURRENT, Key
from swarm.interaction.pbt import Copy
from swarm.ledger import Ledger
from swarm.training import arm as core
from swarm.training import checkpoint
from swarm.training.agent import AgentState, Weights

log = logging.getLogger(__name__)
CHECK_S = 2.0  # seconds between checks that Ray is not stuck placing a dead node's part of a wave


@dataclass(frozen=True)
class CurvePoint:
    """An agent's weights kept for its learning curve, with what it and its arm had spent by then."""

    agent: str
    arm: str
    agent_steps: int
    arm_agent_steps: int
    weights: Weights

    @property
    def player(self) -> str:
        return f"{self.agent}@{self.agent_steps}"


class ArmTraining:
    """One arm's training on its bundles of its wave's placement group, a round at a time. The driver holds
    every agent's latest state, so a host that dies mid-round is restored and replays that round, and the arm
    is checkpointed to `store` without asking the hosts; a store with a checkpoint resumes from it."""

    def __init__(
        self,
        config: Experiment,
        arm_index: int,
        laid: placement.Layout,
        slot: tuple[PlacementGroup, int],  # the wave's group, and the index of the arm's first bundle in it
        ledger: Ledger,
        store: Path | None,
    ):
        self.config, self.arm_index, self.ledger, self.store = config, arm_index, ledger, store
        self.seats = config.env_spec().seats
        spec = config.arms[arm_index]
        self.name, self.ids, self.members = spec.name, spec.agent_ids, laid.members(spec.agents)
        saved = None if store is None else checkpoint.load(store, self.name, spec.shards)
        done = saved is not None and saved[0].finished  # nothing left to train: no hosts needed
        self.placed = placement.Placed([], []) if done else placement.place(config, arm_index, laid, *slot)
        got = ray.get([host.states.remote() for host in self.placed.hosts])
        self.instances = [instance for instance, _ in got]  # each host as the driver last heard from it
        states = {i: s for _, part in got for i, s in part.items()}
        self.agents = {i: Stored(ray.put(s.weights), s.optimizer, s.games) for i, s in states.items()}
        self.rows, self.wall_before = [], 0.0
        self.kept: dict[Key, ray.ObjectRef] = {}  # pool and curve weights
        # the round in flight's copies of weights (pbt), kept apart until it is absorbed: a checkpoint holds
        # the agents as its state names them, and a resumed run copies again
        self.copied: dict[int, Stored] = {}
        self.written: set[Key] = set()  # those in the store
        self.plan: core.Plan | None = None
        self.pending: dict[int, tuple[ray.ObjectRef, tuple]] = {}  # host -> its round in flight, its args
        self.results: dict[int, dict[int, Played]] = {}
        self.consistent, self.finished_at = True, None  # consistent: no round half absorbed
        if saved is None:
            self.state = core.start(config, arm_index, ledger)
            self.kept = {p.key: self.agents[p.agent].weights for p in self.state.curve}
        else:
            self.resume(*saved)
        self.started = time.perf_counter()

    def resume(self, saved: checkpoint.ArmState, kept: dict[Key, Weights]) -> None:
        """Continue from a checkpoint: the agents' states, the core's, the ledger and the rows."""
        self.state, self.rows, self.wall_before = saved.core, saved.rows, saved.wall_seconds
        self.agents = {
            i: Stored(ray.put(a.weights), a.optimizer, a.games) for i, a in enumerate(saved.agents)
        }
        self.kept, self.written = {key: ray.put(w) for key, w in kept.items()}, set(kept)
        for row in saved.charges:
            self.ledger.charge(
                row["arm"], row["agent"], row["round"], row["agent_steps"], row["flops"], row["core_seconds"]
            )
        for row in saved.lineage:
            self.ledger.inherit(row["arm"], row["agent"], row["source"], row["round"])
        if self.placed.hosts:  # none for an arm that had finished
            pairs = zip(self.placed.hosts, self.members, strict=True)
            self.instances = ray.get([host.restore.remote(self.stored(m)) for host, m in pairs])

    def stored(self, members: list[int]) -> dict[int, Stored]:
        """The agents' states as the round in flight starts: their last, or what they copied for it."""
        return {i: self.copied.get(i, self.agents[i]) for i in members}

    def frozen(self, key: Key) -> ray.ObjectRef:
        return self.stored([key.agent])[key.agent].weights if key.round == CURRENT else self.kept[key]

    def launch(self) -> bool:
        """Start the next round on every host; False once every agent has spent its share."""
        self.plan = core.plan(self.config, self.arm_index, self.state, self.ledger, self.seats)
        if self.plan is None:
            return False
        for key in self.plan.snapshots:
            self.kept[key] = self.agents[key.agent].weights
        self.copied = handed(self.agents, self.plan.copies)
        copied = set(self.copied)
        for k, members in enumerate(self.members):
            plans = {i: self.plan.agents[i] for i in members if i in self.plan.agents}
            if plans:
                needed = {key for plan in plans.values() for key in plan.opponents}
                args = (self.plan.round, plans, {key: self.frozen(key) for key in needed}, self.instances[k])
                # a host with a copied agent is restored whole: a partial restore would skip the check
                # that it is the instance the driver last heard from
                restore = self.stored(members) if copied & set(members) else None
                self.pending[k] = (self.placed.hosts[k].train_round.remote(*args, restore=restore), args)
        return True

    def in_flight(self) -> list[ray.ObjectRef]:
        return [ref for ref, _ in self.pending.values()]

    def poll(self) -> bool:
        """Collect the hosts' finished rounds; True once all are in. A host that died (in its round, or
        before it and restarted by Ray since) is restored and its round replayed: its agents start from the
        state they had, and the round's RNGs are the round's, so the replay plays exactly the lost round."""
        for k, (ref, args) in list(self.pending.items()):
            if not ray.wait([ref], timeout=0)[0]:
                continue
            try:
                got = ray.get(ref)
            except ray.exceptions.RayActorError:
                got = None
            if got is not None:
                self.instances[k], self.results[k] = got
                del self.pending[k]
            else:
                log.warning("%s: host %d died in round %d; restoring it, replaying", self.name, k, args[0])
                # restore and replay in one call: retried calls to a restarting actor may run out of order
                replay = self.placed.hosts[k].train_round.options(max_task_retries=-1)
                self.pending[k] = (replay.remote(*args, restore=self.stored(self.members[k])), args)
        return not self.pending

    def absorb(self) -> list[dict]:
        """Hand the round's reports to the core (which charges the ledger), and publish the new weights.
        Returns the round's rows, with the agents' spend in every unit, for the live metrics."""
        self.consistent = False
        played = {i: p for part in self.results.values() for i, p in part.items()}
        self.results = {}
        reports = {i: p.report for i, p in played.items()}
        self.agents |= self.copied  # an agent that copied and did not play (its share spent) holds the copy
        self.copied = {}
        self.state, rows = core.absorb(
            self.config, self.arm_index, self.state, self.plan, reports, self.ledger
        )
        self.rows += rows
        for i in sorted(played):
            state = played[i].state
            self.agents[i] = Stored(ray.put(state.weights), state.optimizer, state.games)
        for point in self.plan.curve:
            self.kept[point.key] = self.agents[point.agent].weights
        wanted = core.wanted(self.state)
        self.kept = {key: ref for key, ref in self.kept.items() if key in wanted}
        self.consistent = True
        spent = self.ledger.spent
        return [
            {
                **row,
                "cum_flops": spent[row["agent"]]["flops"],
                "cum_core_seconds": spent[row["agent"]]["core_seconds"],
            }
            for row in rows
        ]

    @property
    def wall_seconds(self) -> float:
        return self.wall_before + (self.finished_at or time.perf_counter()) - self.started

    def finish(self) -> None:
        """Training is over: checkpoint it as finished, and fetch what evaluation needs before closing."""
        self.finished_at = time.perf_counter()
        self.save()
        self.final_weights = dict(zip(self.ids, self.current(), strict=True))
        curve = zip(self.state.curve, ray.get([self.kept[p.key] for p in self.state.curve]), strict=True)
        self.final_curve = [
            CurvePoint(self.ids[p.agent], self.name, p.agent_steps, p.arm_agent_steps, w) for p, w in curve
        ]
        # asked again of a restarted actor: a host killed after the arm's last round must not fail the run
        actors = self.placed.hosts + self.placed.workers
        self.nodes = ray.get([actor.node.options(max_task_retries=-1).remote() for actor in actors])

    def current(self) -> list[Weights]:
        """Every agent's current weights, by index."""
        return ray.get([self.agents[i].weights for i in range(len(self.ids))])

    def save(self) -> None:
        """Checkpoint the arm as of its last finished round (no-op without a store or mid-absorb)."""
        if self.store is None or not self.consistent:
            return
        keys = sorted(core.wanted(self.state) - self.written)  # pool and curve weights are written once
        kept = dict(zip(keys, ray.get([self.kept[key] for key in keys]), strict=True))
        state = checkpoint.ArmState(
            core=self.state,
            agents=[
                AgentState(w, self.agents[i].optimizer, self.agents[i].games)
                for i, w in enumerate(self.current())
            ],
            charges=[row for row in self.ledger.rows if row["arm"] == self.name],
            lineage=[row for row in self.ledger.lineage if row["arm"] == self.name],
            rows=self.rows,
            wall_seconds=self.wall_seconds,
            finished=self.finished_at is not None,
        )
        checkpoint.save(self.store, self.name, state, kept)
        self.written |= set(keys)


def handed(agents: Mapping[int, Stored], copies: Iterable[Copy]) -> dict[int, Stored]:
    """What each copying agent starts its round with: its source's weights and Adam state, as they are, and
    its own games in progress (they belong to its shards' seeds, not to the weights)."""
    return {
        c.agent: Stored(agents[c.source].weights, agents[c.source].optimizer, agents[c.agent].games)
        for c in copies
    }


@dataclass
class Trained:
    ledger: Ledger
    rows: list[dict]
    weights: dict[str, Weights]
    curve: list[CurvePoint]
    wall_seconds: dict[str, float]  # per arm, training only
    nodes: dict[str, list[str]]  # per arm, the Ray node of each host, then of each rollout worker


def train(
    config: Experiment,
    cpus: int,
    on_round: Callable[[str, float], None] | None = None,
    store: Path | None = None,
    on_rows: Callable[[list[dict]], None] | None = None,
) -> Trained:
    """Train every arm on an equal share of the CPUs: side by side, or one after another with all of them
    (`resources.arms_in_parallel`, where the nodes can hold the arms side by side: `packing.arrange`). With
    `store`, each arm is checkpointed there every `checkpoint_every` rounds and when it finishes, and an arm
    with a checkpoint there resumes from it.
    After each round of an arm, `on_rows` gets its training rows, each with the agent's cumulative
    `cum_flops` and `cum_core_seconds` beside them (live metrics), then `on_round` the arm's spend.

    Ctrl-C (KeyboardInterrupt) checkpoints every running arm as of its last finished round, then re-raises;
    so does a reservation that Ray cannot make or remake in time (placement.Unplaceable).
    """
    shares = {
        agent: share
        for arm in config.arms
        for agent, share in zip(arm.agent_ids, budget.split(config.budget.total, arm.agents), strict=True)
    }
    ledger = Ledger(shares, config.budget.unit)
    timeout = config.resources.reserve_timeout_s
    done: list[ArmTraining] = []
    for wave in _arrange(config, cpus).waves:
        group = placement.reserve(wave.bundles, wave.fractional, timeout)
        trainings = []
        try:
            firsts = [sum(len(laid.bundles) for laid in wave.layouts[:k]) for k in range(len(wave.arms))]
            for a, laid, first in zip(wave.arms, wave.layouts, firsts, strict=True):
                if advice := placement.idle(config, config.arms[a], int(cpus / len(wave.arms)), laid):
                    log.warning(advice)
                trainings.append(ArmTraining(config, a, laid, (group, first), ledger, store))
            _advance(trainings, config.checkpoint_every, ledger, on_round, on_rows, group, timeout)
        except (KeyboardInterrupt, placement.Unplaceable):
            for training in trainings:
                training.save()
            raise
        finally:
            for training in trainings:
                training.placed.close()
            remove_placement_group(group)
        done += trainings
    return Trained(
        ledger,
        [row for training in done for row in training.rows],
        {agent: w for training in done for agent, w in training.final_weights.items()},
        [c for training in done for c in training.final_curve],
        {training.name: training.wall_seconds for training in done},
        {training.name: training.nodes for training in done},
    )


def _arrange(config: Experiment, cpus: int) -> packing.Arrangement:
    """The arms' waves, planned against the nodes' free CPUs; where only busy nodes could hold them, against
    the nodes' CPUs in all (reservation then waits for them); where not even those could, refused at once."""
    free = placement.nodes()
    try:
        arranged = packing.arrange(config, cpus, free)
    except placement.Unplaceable as refused:
        try:
            arranged = packing.arrange(config, cpus, placement.nodes(total=True))
        except placement.Unplaceable:
            raise refused from None  # it names the nodes' free CPUs
        log.warning(
            "the nodes' free CPUs (%s) cannot hold the arms now; waiting up to %d s for them "
            "(resources.reserve_timeout_s)",
            "; ".join(map(str, free)),
            config.resources.reserve_timeout_s,
        )
    if arranged.note:
        log.warning(arranged.note)
    return arranged


def _advance(
    trainings: list[ArmTraining],
    every: int,
    ledger: Ledger,
    on_round: Callable[[str, float], None] | None,
    on_rows: Callable[[list[dict]], None] | None,
    group: PlacementGroup,
    timeout: float,
) -> None:
    """Run rounds until every arm has spent its share; each arm advances as soon as its round is in. Where a
    node died and Ray cannot place its bundles elsewhere within `timeout` seconds, raises Unplaceable."""
    running = [training for training in trainings if training.launch()]
    for training in trainings:
        if training not in running:
            training.finish()
    since = None  # when the group was first seen waiting for a dead node's bundles to be placed again
    while running:
        refs = [ref for training in running for ref in training.in_flight()]
        ray.wait(refs, num_returns=1, timeout=CHECK_S)
        since = (since or time.monotonic()) if placement.rescheduling(group) else None
        if since is not None and time.monotonic() - since > timeout:
            raise placement.Unplaceable(
                f"resources: a node holding part of arms {[t.name for t in running]} died and Ray could not "
                f"place its bundles on the other nodes within {timeout:g} s (resources.reserve_timeout_s; "
                f"free: {'; '.join(map(str, placement.nodes()))}); the arms are checkpointed as of their "
                "last finished round"
            )
        for training in list(running):
            if not training.poll():
                continue
            rows = training.absorb()
            if on_rows is not None:
                on_rows(rows)
            if on_round is not None:
                on_round(training.name, sum(ledger.spent[a][ledger.unit] for a in training.ids))
            if training.state.round % every == 0:
                training.save()  # before the next round takes its snapshots
            if not training.launch():
                running.remove(training)
                training.finish()
