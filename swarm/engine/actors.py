"""The Ray actors that train: `Host`s hold agents and train them; `RolloutWorker`s play some of their shards.

One host holds several agents, so the number of processes follows the CPUs, not N. Where an arm has more
CPUs than agents (the single agent), each host plays its agents' games on rollout workers too, one shard of
them each (`swarm.training.shards`), and learns with them: each process computes its parts of every
minibatch's gradient (`swarm.training.parallel`) in a group of the host and its workers, made when
first needed and again after any of them died. A worker is handed the batch and the generator with each
update and learns from the weights it played the round with (the host's, handed with every round's
games), and keeps its replica's Adam state from one update to the next: every process takes the same step,
so it is the agent's as long as the replica took the agent's last update with it. The host hands it the
agent's weights and Adam state wherever it cannot know that (the worker restarted, the agent was restored,
copied or resumed, or an update failed). Rebuilding the optimizer every update took 14 ms of a worker's
round on the default file, on the host's critical path.

A host given a share of a GPU (`resources.gpus`) has its agents learn on it (`swarm.training.device`) and
computes every part of their updates itself: its rollout workers only play, since their parts on CPUs
would keep the device waiting, and the parts sum to the same weights on any number of processes.

Ray restarts either actor if its process dies; each carries an instance id, so a call sent to the process
that died is refused instead of played by fresh agents, and the caller restores it and replays the round,
which draws what the lost one drew.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import ray
import torch

from swarm.config import PPO, Experiment
from swarm.interaction import Key
from swarm.training import device, parallel
from swarm.training.adam import Adam
from swarm.training.agent import Agent, AgentState, RoundReport, Weights, network, opponent
from swarm.training.arm import AgentPlan
from swarm.training.learners import LEARNERS
from swarm.training.rollout import Batch
from swarm.training.shards import GameState, Part, Shards, owned

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stored:
    """An agent's state as the driver keeps it: its weights in the object store, where opponents read them."""

    weights: ray.ObjectRef
    optimizer: dict
    games: list[GameState]


@dataclass(frozen=True)
class Played:
    """An agent's round on its host: what it spent and learned, and its state after it."""

    report: RoundReport
    state: AgentState


@ray.remote(num_cpus=1, max_restarts=-1)
class RolloutWorker:
    """Plays its share of its host's agents' shards each round: the shards of process `process` of
    `processes` (the host is process 0), and its parts of their updates. Ray restarts it if its process
    dies; the host then hands it its shards' games as the round started and has it play them again
    (`Host.gather`), and redoes an update it died in (`Host.together`)."""

    def __init__(self, config: Experiment, arm_index: int, members: list[int], process: int, processes: int):
        torch.set_num_threads(1)
        self.instance = uuid.uuid4().hex  # a restarted worker is a new instance, with none of its games
        config = config.for_arm(arm_index)
        self.config, self.spec = config, config.env_spec()
        self.process, self.processes = process, processes
        self.shards = {i: Shards(self.spec, config, arm_index, i, process, processes) for i in members}
        self.learner = network(self.spec, config)
        self.replicas: dict[int, tuple[torch.nn.Module, Adam]] = {}  # agent: net, Adam
        self.played: dict[int, Weights] = {}  # agent: the weights of its latest round here
        self.group: parallel.Group | None = None

    def join(self, host: str, port: int) -> str:
        """Join the host's new group (leaving any old one); returns this instance."""
        if self.group is not None:
            self.group.close()
        self.group = parallel.join(ray.util.get_node_ip_address(), host, port, self.process, self.processes)
        return self.instance

    def learn(
        self,
        i: int,
        batch: Batch,
        state: list[ray.ObjectRef] | None,
        ppo: PPO,
        lr: float,
        drawn: torch.Tensor,
    ) -> float:
        """This process's parts of agent i's update at learning rate `lr`, from its generator's state
        `drawn`, stepping as the host does; returns the CPU seconds. `state`: refs to the agent's weights
        and Adam state as the update starts, or None where this worker's replica took the agent's last
        update with it (the weights are then those it played this round with: no replica drifts, even on
        machines whose float rounding differs)."""
        start = time.process_time()
        if self.group is None:  # restarted since the host's group was made
            raise parallel.Broken("not in the host's group")
        learner = LEARNERS[self.config.learner]
        try:  # any failure closes the group, so the other processes fail at once instead of waiting
            if state is not None:
                weights, adam = ray.get(state)
                net = network(self.spec, self.config)
                net.load_weights(weights)
                optimizer = learner.optimizer(net, ppo)
                optimizer.load_state_dict(copy.deepcopy(adam))  # Ray's buffers are read-only
                self.replicas[i] = net, optimizer
            elif i in self.replicas and i in self.played:
                self.replicas[i][0].load_weights(self.played[i])
            else:  # a host's mistake: fail the update, to be redone with the state
                raise parallel.Broken(f"no replica of agent {i} here")
            net, optimizer = self.replicas.pop(i)  # back once the update is whole
            for group in optimizer.param_groups:
                group["lr"] = lr
            batch = copy.deepcopy(batch)  # Ray's buffers are read-only, torch's tensors are not
            generator = torch.Generator()
            generator.set_state(drawn)
            step = parallel.Split(self.shards[i].count, self.processes, self.process, self.group.exchange)
            learner.update(net, optimizer, batch, ppo, generator, step)
        except Exception:
            self.group.close()
            self.group = None
            raise
        self.replicas[i] = net, optimizer
        return time.process_time() - start

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
        self.played[i] = learner
        players = [opponent(w) for w in ray.get(opponents)]
        parts, _ = self.shards[i].collect(round_, self.learner, players, slot_opponent, target)
        return self.instance, parts, time.process_time() - start, self.shards[i].state()


@ray.remote(num_cpus=1, max_restarts=-1)
class Host:
    """Holds some agents of one arm and trains them, one after another, each round; the rollout workers
    named `workers` play the agents' other shards meanwhile (none unless the arm has CPUs to spare).

    Ray restarts a host whose process dies (max_restarts=-1), on another node if its node is gone; the driver
    then restores its agents from their last round and replays that round (`ArmTraining.poll`).
    """

    def __init__(self, config: Experiment, arm_index: int, members: list[int], workers: list[str]):
        torch.set_num_threads(1)
        self.instance = uuid.uuid4().hex  # a restarted host is a new instance, with fresh agents
        self.config, self.workers = config, [ray.get_actor(name) for name in workers]
        self.worker_instances: list[str | None] = [None] * len(workers)
        self.spec = config.env_spec()
        self.processes = 1 + len(workers)
        self.shards = config.arms[arm_index].shards
        self.learns_on = device.learner(ray.get_gpu_ids(), torch.cuda.is_available())
        self.agents = {
            i: Agent(self.spec, config, arm_index, i, self.processes, self.learns_on) for i in members
        }
        self.group: parallel.Group | None = None  # with the workers, for the updates
        self.group_instances: list[str] = []  # the workers as they joined it
        # (agent, worker): the worker's instance whose replica took the agent's last update with it
        self.replicas: dict[tuple[int, int], str] = {}
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
        return AgentState(
            agent.net.weights(), agent.optimizer.state_dict(), [games[k] for k in range(self.shards)]
        )

    def restore(self, states: dict[int, Stored]) -> str:
        """Set agents to the driver's copy of their state (the workers' shards' games are handed to them with
        their next round)."""
        for i, state in states.items():
            agent = self.agents[i]
            agent.net.load_weights(ray.get(state.weights))
            agent.optimizer.load_state_dict(copy.deepcopy(state.optimizer))  # Ray's buffers are read-only
            agent.shards.restore({k: state.games[k] for k in agent.shards.games})
            self.remote[i] = {k: state.games[k] for k in range(self.shards) if k not in agent.shards.games}
            self.stale |= {(i, p) for p in range(len(self.workers))}
            self.replicas = {key: held for key, held in self.replicas.items() if key[0] != i}
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

    def connect(self) -> None:
        """A new group of this host and its workers (its store on this node's address)."""
        if self.group is not None:
            self.group.close()
        address = ray.util.get_node_ip_address()
        sock, port = parallel.listen(address)
        joins = [w.join.options(max_task_retries=-1).remote(address, port) for w in self.workers]
        self.group = parallel.host(address, sock, self.processes)
        self.group_instances = ray.get(joins)

    def together(
        self, i: int, batch: Batch, ppo: PPO, generator: torch.Generator
    ) -> tuple[dict[str, float], float]:
        """Agent i's update on this host and its workers, each computing its parts; returns its diagnostics
        and the workers' CPU seconds. Where a process died (or was restarted) the update fails on every one:
        the agent goes back to where it started and the update is redone, drawing the same minibatches, on
        a new group, every worker handed the agent's state."""
        agent, drawn = self.agents[i], generator.get_state()
        weights, adam = agent.net.weights(), copy.deepcopy(agent.optimizer.state_dict())
        lr = agent.optimizer.param_groups[0]["lr"]
        shared, state = ray.put(batch), None
        while True:
            if self.group is None or self.group_instances != self.worker_instances:
                self.connect()
            if state is None and any(
                self.replicas.get((i, p)) != held for p, held in enumerate(self.group_instances)
            ):
                state = [ray.put(weights), ray.put(adam)]
            calls = [
                worker.learn.remote(
                    i, shared, None if self.replicas.get((i, p)) == held else state, ppo, lr, drawn
                )
                for p, (worker, held) in enumerate(zip(self.workers, self.group_instances, strict=True))
            ]
            try:
                learned, _ = agent.learn(
                    batch, ppo, generator, parallel.Split(self.shards, self.processes, 0, self.group.exchange)
                )
                seconds = sum(ray.get(calls))
            except (parallel.Broken, ray.exceptions.RayActorError):  # a worker's Broken is one too
                log.warning("agent %d: a process left its update; redoing it on a new group", i)
                self.group.close()
                self.group = None
                self.replicas = {key: held for key, held in self.replicas.items() if key[0] != i}
                ray.wait(calls, num_returns=len(calls))  # they fail too
                for call in calls:  # a worker's own error (not a lost process) fails the round
                    with contextlib.suppress(parallel.Broken, ray.exceptions.RayActorError):
                        ray.get(call)
                agent.net.load_weights(weights)
                agent.optimizer.load_state_dict(copy.deepcopy(adam))
                generator.set_state(drawn)
                continue
            self.replicas |= {(i, p): held for p, held in enumerate(self.group_instances)}
            return learned, seconds

    def train_round(
        self,
        round_: int,
        plans: dict[int, AgentPlan],
        frozen: dict[Key, ray.ObjectRef],
        instance: str,
        restore: dict[int, Stored] | None = None,
    ) -> tuple[str, dict[int, Played]] | None:
        """Play and learn the round's plans of this host's agents; frozen: each opponent's weights' ref;
        restore: agent states to start from (a replayed round). None, training nothing, if this is not
        `instance` and nothing is restored: Ray restarted the host since the driver last heard from it, so
        its agents are fresh ones."""
        if restore is None and instance != self.instance:
            return None
        if restore is not None:
            self.restore(restore)
        needed = sorted(frozen)
        fetched = ray.get([frozen[key] for key in needed])
        players = {key: opponent(w) for key, w in zip(needed, fetched, strict=True)}
        results = {}
        for i, plan in plans.items():
            slot_opponent = np.array(plan.slot_opponent)
            elsewhere = together = None
            if self.workers:  # they play their shards while this process plays its own, then learn with it
                refs = [frozen[key] for key in plan.opponents]
                elsewhere = self.start_workers(i, round_, refs, slot_opponent, plan.target)
                if self.learns_on == device.CPU:
                    together = functools.partial(self.together, i)
            report = self.agents[i].train_round(
                round_,
                [players[key] for key in plan.opponents],
                slot_opponent,
                plan.target,
                plan.progress,
                elsewhere,
                plan.hypers,
                together,
            )
            results[i] = Played(report, self.state(i))
        return self.instance, results
