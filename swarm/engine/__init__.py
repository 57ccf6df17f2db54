"""The population layer: the only module that talks to Ray.

Agents live on `Host` actors; one host holds several agents, so the number of processes follows the CPUs,
not N. Each arm reserves its CPUs through its own placement group, so every arm gets the same resources;
where an arm has more CPUs than agents (the single agent), each host plays its agent's games on
`RolloutWorker` actors too, one shard of them each (`swarm.training.shards`), so the arm uses all it reserved.
Training runs in synchronous rounds per arm: at a round's start every member's weights are frozen in the
object store, matchmaking draws each agent's opponents from the round's seeded RNG, hosts play and learn,
and the driver charges the ledger. Arms advance side by side, each at its own pace, or one after another.
The driver keeps every agent's latest state, so a host whose process or node dies is restarted, restored and
replays its round, and checkpoints (`swarm.training.checkpoint`) need no call to the hosts. Evaluation
games run as Ray tasks.
"""

from __future__ import annotations

import copy
import logging
import math
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import ray
import torch
from ray._private import ray_constants  # private: the one switch that keeps a local Ray on loopback
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from swarm import budget, interaction, seeds
from swarm.config import Arm, Experiment
from swarm.envs import describe
from swarm.envs import games as games_of
from swarm.evaluation import ladder
from swarm.interaction import CURRENT
from swarm.ledger import Ledger
from swarm.players import GAME, Player
from swarm.training import checkpoint
from swarm.training.agent import Agent, RoundReport, network, opponent
from swarm.training.checkpoint import Key
from swarm.training.rollout import play
from swarm.training.shards import GameState, Part, Shards, owned

Weights = dict[str, np.ndarray]
CHUNK = 64  # evaluation games one task plays in lockstep
RESERVE_TIMEOUT = 600  # seconds to wait for an arm's placement group
log = logging.getLogger(__name__)


@contextmanager
def session(address: str | None, cpus: int | None) -> Iterator[int]:
    """Start a local Ray on loopback only (or join `address`); yields the CPUs the run may use: Ray's, at
    most `cpus`.

    Ray turns a node address of 127.0.0.1 into the machine's LAN address, and its gRPC servers then listen
    on every interface, unless its cluster switch is off. For a local session we turn it off, so every port
    (GCS, raylet, workers, agents) binds 127.0.0.1 and the dashboard is not started; joining a cluster keeps
    Ray's own behaviour, which the cluster needs.
    """
    switch = ray_constants.ENABLE_RAY_CLUSTER
    try:
        if address is None:
            ray_constants.ENABLE_RAY_CLUSTER = False
            ray.init(
                address="local",  # a new local Ray even where RAY_ADDRESS names a cluster
                num_cpus=cpus,
                include_dashboard=False,
                logging_level=logging.WARNING,
                _node_ip_address="127.0.0.1",
            )
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        total = int(ray.cluster_resources().get("CPU", 1))
        yield total if cpus is None else min(cpus, total)
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = switch


def agent_id(arm: str, index: int) -> str:
    return f"{arm}/{index}"


AgentState = tuple[Weights, dict, list[GameState]]  # weights, optimizer.state_dict(), games by shard


@ray.remote(num_cpus=1, max_restarts=-1)
class RolloutWorker:
    """Plays its share of its host's agents' shards each round: the shards of process `process` of
    `processes` (the host is process 0). Ray restarts it if its process dies; the host then hands it its
    shards' games as the round started and has it play them again (`Host.gather`)."""

    def __init__(self, config: Experiment, arm: int, members: list[int], process: int, processes: int):
        torch.set_num_threads(1)
        self.instance = uuid.uuid4().hex  # a restarted worker is a new instance, with none of its games
        self.config, self.spec = config, describe(config.env)
        self.shards = {i: Shards(self.spec, config, arm, i, process, processes) for i in members}
        self.learner = network(self.spec, config)

    def node(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def states(self, i: int) -> tuple[str, dict[int, GameState]]:
        return self.instance, self.shards[i].state()

    def collect(
        self,
        round_: int,
        i: int,
        learner: Weights,
        opponents: list[ray.ObjectRef],
        slot_opponent: np.ndarray,
        target: int,
        instance: str | None,
        restore: dict[int, GameState] | None = None,
    ) -> tuple[str, dict[int, Part], float, dict[int, GameState]] | None:
        """Agent i's parts of the round, played with `learner` against the weights in `opponents`, with the
        CPU seconds they took and where its shards' games stand after them; `restore`: games to start from.
        None, playing nothing, if this is not `instance` and nothing is restored: Ray restarted the worker
        since its host last heard from it (its games are gone), or the call was sent before a restore."""
        if restore is None and instance != self.instance:
            return None
        start = time.process_time()
        if restore is not None:
            self.shards[i].restore(restore)
            self.instance = uuid.uuid4().hex  # a call sent before this restore (a dead host's) is refused
        self.learner.load_weights(learner)
        players = [opponent(self.spec, self.config, w) for w in ray.get(opponents)]
        parts, _ = self.shards[i].collect(round_, self.learner, players, slot_opponent, target)
        return self.instance, parts, time.process_time() - start, self.shards[i].state()


@ray.remote(num_cpus=1, max_restarts=-1)
class Host:
    """Holds some agents of one arm and trains them, one after another, each round; the rollout workers
    named `workers` play the agents' other shards meanwhile (none unless the arm has CPUs to spare).

    Ray restarts a host whose process dies (max_restarts=-1), on another node if its node is gone; the driver
    then restores its agents from their last round and replays that round (`ArmTraining.poll`).
    """

    def __init__(self, config: Experiment, arm: int, members: list[int], workers: list[str]):
        torch.set_num_threads(1)
        self.instance = uuid.uuid4().hex  # a restarted host is a new instance, with fresh agents
        self.config, self.workers = config, [ray.get_actor(name) for name in workers]
        self.worker_instances: list[str | None] = [None] * len(workers)
        self.spec = describe(config.env)
        self.processes = 1 + len(workers)
        self.shards = config.arms[arm].rollout_workers
        self.agents = {i: Agent(self.spec, config, arm, i, self.processes) for i in members}
        # each agent's workers' shards' games as the round starts; (agent, worker) pairs to hand them to
        self.remote: dict[int, dict[int, GameState]] = {i: {} for i in members}
        self.stale: set[tuple[int, int]] = set()

    def node(self) -> str:
        return ray.get_runtime_context().get_node_id()

    def states(self) -> tuple[str, dict[int, AgentState]]:
        for i in self.agents:
            for p, (instance, part) in enumerate(ray.get([w.states.remote(i) for w in self.workers])):
                self.worker_instances[p] = instance
                self.remote[i] |= part
        return self.instance, {i: self.state(i) for i in self.agents}

    def state(self, i: int) -> AgentState:
        agent, games = self.agents[i], self.agents[i].shards.state() | self.remote[i]
        return agent.net.weights(), agent.optimizer.state_dict(), [games[k] for k in range(self.shards)]

    def restore(self, states: dict[int, tuple[ray.ObjectRef, dict, list[GameState]]]) -> str:
        """Set agents to the driver's copy of their state: weights (a ref), optimizer state and games (the
        workers' shards are handed to them with their next round)."""
        for i, (weights, optimizer, games) in states.items():
            agent = self.agents[i]
            agent.net.load_weights(ray.get(weights))
            agent.optimizer.load_state_dict(copy.deepcopy(optimizer))  # Ray's buffers are read-only
            agent.shards.restore({k: games[k] for k in agent.shards.games})
            self.remote[i] = {k: games[k] for k in range(self.shards) if k not in agent.shards.games}
            self.stale |= {(i, p) for p in range(len(self.workers))}
        return self.instance

    def start_workers(
        self, i: int, round_: int, opponents: list[ray.ObjectRef], slot_opponent: np.ndarray, target: int
    ) -> Callable[[], tuple[dict[int, Part], float]]:
        """Start agent i's workers on their shards of the round (handing them their games if the agent was
        restored since they last played); returns the wait for them."""
        args = (round_, i, ray.put(self.agents[i].net.weights()), opponents, slot_opponent, target)
        calls = [
            worker.collect.remote(
                *args, self.worker_instances[p], restore=self.handed(i, p) if (i, p) in self.stale else None
            )
            for p, worker in enumerate(self.workers)
        ]
        self.stale -= {(i, p) for p in range(len(self.workers))}
        return lambda: self.gather(i, calls, args)

    def handed(self, i: int, p: int) -> dict[int, GameState]:
        """The games of agent i's shards on worker p as the round started."""
        return {k: self.remote[i][k] for k in owned(self.shards, self.processes, p + 1)}

    def gather(self, i: int, calls: list[ray.ObjectRef], args: tuple) -> tuple[dict[int, Part], float]:
        """Wait for the workers' parts of agent i's round. A worker that died (or was restarted since its
        last round) gets its shards' games as the round started and plays them again, drawing what it drew
        the first time; Ray restarts it as often as it takes."""
        parts, seconds = {}, 0.0
        for p, ref in enumerate(calls):
            while True:
                try:
                    got = ray.get(ref)
                except ray.exceptions.RayActorError:
                    got = None
                if got is not None:
                    instance, played, spent, games = got
                    if instance != self.worker_instances[p]:  # restored: any other agent's games there too
                        self.stale |= {(j, p) for j in self.agents if j != i}
                    self.worker_instances[p] = instance
                    break
                log.warning("agent %d: rollout worker %d died; restoring it, replaying its shards", i, p + 1)
                retry = self.workers[p].collect.options(max_task_retries=-1)
                ref = retry.remote(*args, None, restore=self.handed(i, p))
            parts |= played
            seconds += spent
            self.remote[i] |= games
        return parts, seconds

    def train_round(
        self,
        round_: int,
        plans: dict[int, tuple[int, float, list[tuple[int, int]]]],
        frozen: dict[tuple[int, int], ray.ObjectRef],
        instance: str,
        restore: dict[int, tuple[ray.ObjectRef, dict, list[GameState]]] | None = None,
    ) -> tuple[str, dict[int, tuple[RoundReport, AgentState]]] | None:
        """plans: agent -> (target agent-steps, share spent so far, opponent per slot);
        frozen: opponent -> its weights' ref; restore: agent states to start from (a replayed round).
        None, training nothing, if this is not `instance` and nothing is restored: Ray restarted the host
        since the driver last heard from it, so its agents are fresh ones."""
        if restore is None and instance != self.instance:
            return None
        if restore is not None:
            self.restore(restore)
        needed = sorted({opp for _, _, opponents in plans.values() for opp in opponents})
        fetched = ray.get([frozen[opp] for opp in needed])
        players = {opp: opponent(self.spec, self.config, w) for opp, w in zip(needed, fetched, strict=True)}
        results = {}
        for i, (target, progress, opponents) in plans.items():
            keys = sorted(set(opponents))
            slot_opponent = np.array([keys.index(opp) for opp in opponents])
            elsewhere = None
            if self.workers:  # they play their shards while this process plays its own
                elsewhere = self.start_workers(i, round_, [frozen[k] for k in keys], slot_opponent, target)
            round_players = [players[k] for k in keys]
            report = self.agents[i].train_round(
                round_, round_players, slot_opponent, target, progress, elsewhere
            )
            results[i] = (report, self.state(i))
        return self.instance, results


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
    """One arm's training, advanced a round at a time by the driver, on its own placement group.

    The driver holds every agent's latest state (weights in the object store, optimizer states in memory),
    so a host that dies mid-round is restored and replays that round, and the arm is checkpointed to `store`
    every `checkpoint_every` rounds without asking the hosts; a store with a checkpoint resumes from it.
    """

    def __init__(
        self,
        config: Experiment,
        arm: int,
        hosts: int,
        cpus_per_host: float,
        workers: int,
        ledger: Ledger,
        store: Path | None,
    ):
        """`hosts` on `cpus_per_host` each, and `workers` rollout workers (one CPU each) per host."""
        self.config, self.arm, self.ledger, self.store = config, arm, ledger, store
        spec = config.arms[arm]
        self.name, self.size = spec.name, spec.agents
        self.ids = [agent_id(self.name, i) for i in range(self.size)]
        self.members = [list(range(h, self.size, hosts)) for h in range(hosts)]
        saved = None if store is None else checkpoint.load(store, self.name, spec.rollout_workers)
        done = saved is not None and saved[0].finished  # nothing left to train: no hosts needed
        self.group = None
        self.actors, self.workers = [], []
        if not done:  # bundles: the hosts', then each host's workers'
            self.group = reserve(
                self.name, [{"CPU": cpus_per_host}] * hosts + [{"CPU": 1}] * (hosts * workers)
            )

            def place(bundle: int) -> PlacementGroupSchedulingStrategy:
                return PlacementGroupSchedulingStrategy(self.group, placement_group_bundle_index=bundle)

            for h, members in enumerate(self.members):
                # named, so a restarted host finds them: handles among an actor's arguments sit in the
                # object store, which need not keep them for a restart (ray-project/ray#53727)
                mine = [f"{self.group.id.hex()}-{h}-{w}" for w in range(workers)]
                self.workers += [
                    RolloutWorker.options(
                        name=name, scheduling_strategy=place(hosts + h * workers + w)
                    ).remote(config, arm, members, w + 1, workers + 1)
                    for w, name in enumerate(mine)
                ]
                host = Host.options(num_cpus=cpus_per_host, scheduling_strategy=place(h))
                self.actors.append(host.remote(config, arm, members, mine))
        got = ray.get([a.states.remote() for a in self.actors])
        self.instances = [instance for instance, _ in got]  # each host as the driver last heard from it
        states = {i: s for _, part in got for i, s in part.items()}
        self.current = {i: ray.put(w) for i, (w, _, _) in states.items()}
        self.optimizers = {i: optimizer for i, (_, optimizer, _) in states.items()}
        self.games = {i: games for i, (_, _, games) in states.items()}
        self.round, self.rows, self.wall_before = 0, [], 0.0
        self.pools: list[list[int]] = [[] for _ in range(self.size)]  # rounds, oldest first
        self.kept: dict[Key, ray.ObjectRef] = {}  # pool and curve weights
        self.written: set[Key] = set()  # those in the store
        self.curve: list[tuple[int, int, int, int]] = []  # agent, its steps, the arm's, round of the weights
        self.next_point = [0] * self.size
        self.pending: dict[int, tuple[ray.ObjectRef, tuple]] = {}  # host -> its round in flight, its args
        self.results: dict[int, dict[int, tuple[RoundReport, AgentState]]] = {}
        self.consistent, self.finished_at = True, None  # consistent: no round half absorbed
        if saved is None:
            for i in range(self.size):
                self.take_curve_point(i, 0)
        else:
            self.resume(*saved)
        self.started = time.perf_counter()

    def resume(self, state: checkpoint.ArmState, kept: dict[Key, Weights]) -> None:
        """Continue from a checkpoint: the agents' weights and optimizers, pools, curve, ledger and rows."""
        self.round, self.rows, self.wall_before = state.round, state.rows, state.wall_seconds
        self.current = {i: ray.put(w) for i, w in enumerate(state.weights)}
        self.optimizers, self.games = dict(enumerate(state.optimizers)), dict(enumerate(state.games))
        self.pools, self.next_point, self.curve = state.pools, state.next_point, state.curve
        self.kept = {key: ray.put(w) for key, w in kept.items()}
        self.written = set(kept)
        for row in state.charges:
            self.ledger.charge(
                row["arm"], row["agent"], row["round"], row["agent_steps"], row["flops"], row["core_seconds"]
            )
        if self.actors:  # none for an arm that had finished
            self.instances = ray.get(
                [a.restore.remote(self.states(m)) for a, m in zip(self.actors, self.members, strict=True)]
            )

    def states(self, members: list[int]) -> dict[int, tuple[ray.ObjectRef, dict, list[GameState]]]:
        return {i: (self.current[i], self.optimizers[i], self.games[i]) for i in members}

    def take_curve_point(self, i: int, arm_spent: int) -> None:
        """Keep agent i's current weights for the learning curve when its spend reaches the next of
        `curve_points` even steps of its training share (the initial weights count as step 0)."""
        points = self.config.evaluation.curve_points
        spent = self.ledger.shares[self.ids[i]] - self.ledger.remaining(self.ids[i])
        share = self.ledger.shares[self.ids[i]] - self.config.selection_reserve(self.config.arms[self.arm])
        if points and spent * points >= self.next_point[i] * share:
            self.curve.append((i, int(spent), int(arm_spent), self.round))
            self.kept[i, self.round] = self.current[i]
            self.next_point[i] = int(spent * points // share) + 1

    def launch(self) -> bool:
        """Start the next round on every host; False once every agent has spent its share."""
        reserve = self.config.selection_reserve(self.config.arms[self.arm])
        left = [self.ledger.remaining(a) - reserve for a in self.ids]  # for training
        targets = [budget.next_batch(n, self.config.ppo.rollout_steps) for n in left]
        if not any(targets):
            return False
        # The round's snapshots, once: a round relaunched after a checkpoint taken mid-round has them already.
        if self.round % self.config.opponents.snapshot_every == 0 and self.round not in self.pools[0]:
            keep = self.config.opponents.pool_size
            for i, pool in enumerate(self.pools):
                self.pools[i] = [*pool, self.round][-keep if keep else 0 :]
                self.kept[i, self.round] = self.current[i]
            self.forget()
        pools = [list(pool) for pool in self.pools]
        rng = seeds.round_rng(self.config.seed, self.arm, self.round)
        opponents = interaction.pairings(
            self.config.arms[self.arm].interaction,
            pools,
            self.config.ppo.envs,
            self.config.opponents.per_round,
            self.config.opponents.latest_share,
            rng,
        )
        frozen = {(i, CURRENT): ref for i, ref in self.current.items()}
        frozen.update({(i, r): self.kept[i, r] for i, pool in enumerate(self.pools) for r in pool})
        for k, members in enumerate(self.members):
            plans = {
                i: (targets[i], 1 - left[i] / (self.ledger.shares[self.ids[i]] - reserve), opponents[i])
                for i in members
                if targets[i] > 0
            }
            if plans:
                needed = {opp for _, _, opps in plans.values() for opp in opps}
                args = (self.round, plans, {key: frozen[key] for key in needed}, self.instances[k])
                self.pending[k] = (self.actors[k].train_round.remote(*args), args)
        return True

    def forget(self) -> None:
        """Drop kept weights that left every pool and are no curve point."""
        wanted = {(i, r) for i, pool in enumerate(self.pools) for r in pool}
        wanted |= {(i, r) for i, _, _, r in self.curve}
        self.kept = {key: ref for key, ref in self.kept.items() if key in wanted}

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
                log.warning("%s: host %d died in round %d; restoring it, replaying", self.name, k, self.round)
                # restore and replay in one call: retried calls to a restarting actor may run out of order
                replay = self.actors[k].train_round.options(max_task_retries=-1)
                self.pending[k] = (replay.remote(*args, restore=self.states(self.members[k])), args)
        return not self.pending

    def absorb(self) -> None:
        """Charge the ledger, record metrics and publish the new weights."""
        self.consistent = False
        merged = {i: r for part in self.results.values() for i, r in part.items()}
        self.results = {}
        for i in sorted(merged):
            report, _ = merged[i]
            self.ledger.charge(
                self.name, self.ids[i], self.round, report.agent_steps, report.flops, report.core_seconds
            )
        arm_spent = sum(self.ledger.shares[a] - self.ledger.remaining(a) for a in self.ids)
        self.round += 1
        for i in sorted(merged):
            report, (weights, optimizer, games) = merged[i]
            self.rows.append(
                {
                    "arm": self.name,
                    "agent": self.ids[i],
                    "round": self.round - 1,
                    "agent_steps": report.agent_steps,
                    "cum_agent_steps": self.ledger.spent[self.ids[i]]["agent_steps"],
                    "arm_agent_steps": arm_spent,
                    **report.metrics,
                }
            )
            self.current[i], self.optimizers[i], self.games[i] = ray.put(weights), optimizer, games
            self.take_curve_point(i, arm_spent)
        self.consistent = True

    @property
    def wall_seconds(self) -> float:
        return self.wall_before + (self.finished_at or time.perf_counter()) - self.started

    def finish(self) -> None:
        """Training is over: checkpoint it as finished, and fetch what evaluation needs before closing."""
        self.finished_at = time.perf_counter()
        self.save()
        self.final_weights, self.final_curve = self.weights(), self.curve_points()
        self.nodes = ray.get([actor.node.remote() for actor in self.actors + self.workers])

    def save(self) -> None:
        """Checkpoint the arm as of its last finished round (no-op without a store or mid-absorb)."""
        if self.store is None or not self.consistent:
            return
        keys = sorted(set(self.kept) - self.written)  # pool and curve weights are written once
        kept = dict(zip(keys, ray.get([self.kept[key] for key in keys]), strict=True))
        state = checkpoint.ArmState(
            round=self.round,
            weights=ray.get([self.current[i] for i in range(self.size)]),
            optimizers=[self.optimizers[i] for i in range(self.size)],
            games=[self.games[i] for i in range(self.size)],
            pools=self.pools,
            curve=self.curve,
            next_point=self.next_point,
            charges=[row for row in self.ledger.rows if row["arm"] == self.name],
            rows=self.rows,
            wall_seconds=self.wall_seconds,
            finished=self.finished_at is not None,
        )
        checkpoint.save(self.store, self.name, state, kept)
        self.written |= set(keys)

    def weights(self) -> dict[str, Weights]:
        return {self.ids[i]: w for i, w in enumerate(ray.get([self.current[i] for i in range(self.size)]))}

    def curve_points(self) -> list[CurvePoint]:
        weights = ray.get([self.kept[i, r] for i, _, _, r in self.curve])
        return [
            CurvePoint(self.ids[i], self.name, steps, arm_steps, w)
            for (i, steps, arm_steps, _), w in zip(self.curve, weights, strict=True)
        ]

    def close(self) -> None:
        for actor in self.actors + self.workers:
            ray.kill(actor, no_restart=True)
        if self.group is not None:
            remove_placement_group(self.group)


def reserve(name: str, bundles: list[dict[str, float]]) -> PlacementGroup:
    """A placement group of `bundles`, spread over nodes where it can be; fails clearly if the cluster cannot
    hold it within RESERVE_TIMEOUT seconds (an autoscaler may add nodes meanwhile)."""
    group = placement_group(bundles, strategy="SPREAD", name=f"swarm-{name}-{uuid.uuid4().hex[:8]}")
    try:
        ray.get(group.ready(), timeout=RESERVE_TIMEOUT)
    except ray.exceptions.GetTimeoutError:
        remove_placement_group(group)
        raise RuntimeError(
            f"arm {name!r}: Ray could not reserve {bundles} within {RESERVE_TIMEOUT} s (cluster: "
            f"{ray.available_resources()} free); lower resources.cpus or add nodes"
        ) from None
    return group


def _hosts(cpus: int, arms: int, agents: int, shards: int) -> tuple[int, float, int]:
    """Hosts for one arm, CPUs per host and rollout workers per host: up to cpus / arms CPUs in all, whole
    CPUs where it can, never more hosts than agents, and never more processes per agent than its shards.

    Ray takes fractions of a CPU only below 1, so with fewer CPUs than arms each arm runs one host on
    cpus / arms of a CPU (the processes share the cores evenly); otherwise one host per whole CPU, and where
    the whole CPUs outnumber the agents (a single agent), rollout workers on the ones left over.
    """
    share = cpus / arms
    if share < 1:
        return 1, math.floor(share * 1e4) / 1e4, 0  # Ray counts in units of 1e-4; never ask for more than all
    hosts = min(agents, int(share))
    return hosts, 1.0, min(shards, int(share) // hosts) - 1


def _idle(config: Experiment, arm: Arm, cpus: int, hosts: int, workers: int) -> str | None:
    """What to change where an arm on `cpus` whole CPUs could play its agents' games on more processes."""
    best = min(cpus // hosts, config.ppo.envs, config.ppo.rollout_steps)
    if arm.rollout_workers >= best:
        return None
    return (
        f"arm {arm.name!r} leaves {cpus - hosts * (1 + workers)} of its {cpus} CPUs idle: its agents' games "
        f"are in {arm.rollout_workers} shard(s); set its rollout_workers to {best} to play them on {best} "
        "processes each (results depend on it)"
    )


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
) -> Trained:
    """Train every arm on an equal share of the CPUs: side by side, or one after another with all of them
    (`resources.arms_in_parallel`). With `store`, each arm is checkpointed there every
    `checkpoint_every` rounds and when it finishes, and an arm with a checkpoint there resumes from it.

    Ctrl-C (KeyboardInterrupt) checkpoints every running arm as of its last finished round, then re-raises.
    """
    shares = {
        agent_id(arm.name, i): share
        for arm in config.arms
        for i, share in enumerate(budget.split(config.budget.total, arm.agents))
    }
    ledger = Ledger(shares)
    parallel = config.resources.arms_in_parallel
    waves = [list(range(len(config.arms)))] if parallel else [[a] for a in range(len(config.arms))]
    done: list[ArmTraining] = []
    for wave in waves:
        arms = []
        for a in wave:
            spec = config.arms[a]
            hosts, per_host, workers = _hosts(cpus, len(wave), spec.agents, spec.rollout_workers)
            if advice := _idle(config, spec, int(cpus / len(wave)), hosts, workers):
                log.warning(advice)
            arms.append(ArmTraining(config, a, hosts, per_host, workers, ledger, store))
        try:
            _advance(arms, config.checkpoint_every, ledger, on_round)
        except KeyboardInterrupt:
            for arm in arms:
                arm.save()
            raise
        finally:
            for arm in arms:
                arm.close()
        done += arms
    weights = {agent: w for arm in done for agent, w in arm.final_weights.items()}
    curve = [c for arm in done for c in arm.final_curve]
    return Trained(
        ledger,
        [row for arm in done for row in arm.rows],
        weights,
        curve,
        {arm.name: arm.wall_seconds for arm in done},
        {arm.name: arm.nodes for arm in done},
    )


def _advance(
    arms: list[ArmTraining], every: int, ledger: Ledger, on_round: Callable[[str, float], None] | None
) -> None:
    """Run rounds until every arm has spent its share; each arm advances as soon as its round is in."""
    running = [arm for arm in arms if arm.launch()]
    for arm in arms:
        if arm not in running:
            arm.finish()
    while running:
        ray.wait([ref for arm in running for ref in arm.in_flight()], num_returns=1)
        for arm in list(running):
            if not arm.poll():
                continue
            arm.absorb()
            if on_round is not None:
                on_round(arm.name, sum(ledger.spent[a]["agent_steps"] for a in arm.ids))
            if arm.round % every == 0:
                arm.save()  # before the next round takes its snapshots
            if not arm.launch():
                running.remove(arm)
                arm.finish()


def play_local(
    config: Experiment, games: list[tuple[int, str, str]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, player_0, player_1) games in this process, all in lockstep; players are agents by id
    (their weights given) or ladder members by name."""
    torch.set_num_threads(1)
    spec = describe(config.env)
    names = sorted({name for _, a, b in games for name in (a, b)})
    players: list[Player] = [
        ladder.build(n) if n in config.evaluation.ladder else opponent(spec, config, weights[n])
        for n in names
    ]
    seating = np.array([[names.index(a), names.index(b)] for _, a, b in games])
    seeds_ = [seed for seed, _, _ in games]
    # searchers (the ladder's heuristic and MCTS) search copies of PettingZoo envs; networks play anywhere
    searching = any(p.sees == GAME for p in players)
    env_games = games_of(spec, len(games), "pettingzoo" if searching else config.env_backend)
    return play(env_games, players, seating, seeds_, seeds.eval_generator(seeds_[0]))


_play_chunk = ray.remote(num_cpus=1)(play_local)


def play_games(
    config: Experiment, games: list[tuple[int, str, str]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, player_0, player_1) games in parallel Ray tasks; rewards [G, 2] and lengths [G]."""
    if not games:
        return np.zeros((0, 2), np.float32), np.zeros(0, np.int64)
    ref = ray.put(weights)
    # Chunks of at most CHUNK games, dealt out in turn so slow games (a search player's) spread evenly; they
    # depend on the schedule alone, so results do not depend on the number of CPUs.
    n = -(-len(games) // CHUNK)
    chunks = [np.arange(k, len(games), n) for k in range(n)]
    parts = ray.get([_play_chunk.remote(config, [games[i] for i in chunk], ref) for chunk in chunks])
    rewards, lengths = np.zeros((len(games), 2), np.float32), np.zeros(len(games), np.int64)
    for chunk, (r, length) in zip(chunks, parts, strict=True):
        rewards[chunk], lengths[chunk] = r, length
    return rewards, lengths
