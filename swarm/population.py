"""The population layer: the only module that talks to Ray.

Agents live on `Host` actors; one host holds several agents, so the number of processes follows the CPUs,
not N. Training runs in synchronous rounds per arm: at a round's start every member's weights are frozen
in the object store, matchmaking draws each agent's opponents from the round's seeded RNG, hosts play and
learn, and the driver charges the ledger. Arms advance side by side, each at its own pace,
on equal shares of the CPUs. Evaluation games run as Ray tasks.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import ray
import torch
from ray._private import ray_constants  # private: the one switch that keeps a local Ray on loopback

from swarm import budget, ladder, matchmaking, seeds
from swarm.agent import Agent, RoundReport, opponent
from swarm.config import Experiment
from swarm.envs import describe
from swarm.envs import games as games_of
from swarm.ledger import Ledger
from swarm.matchmaking import CURRENT
from swarm.policy import Player
from swarm.rollout import play

Weights = dict[str, np.ndarray]
CHUNK = 64  # evaluation games one task plays in lockstep


@contextmanager
def session(address: str | None, cpus: int | None) -> Iterator[int]:
    """Start a local Ray on loopback only (or join `address`); yields the CPUs Ray offers.

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
                num_cpus=cpus,
                include_dashboard=False,
                logging_level=logging.WARNING,
                _node_ip_address="127.0.0.1",
            )
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        yield int(ray.cluster_resources().get("CPU", 1))
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = switch


def agent_id(arm: str, index: int) -> str:
    return f"{arm}/{index}"


@ray.remote(num_cpus=1)
class Host:
    """Holds some agents of one arm and trains them, one after another, each round."""

    def __init__(self, config: Experiment, arm: int, members: list[int]):
        torch.set_num_threads(1)
        self.config = config
        self.spec = describe(config.env)
        self.agents = {i: Agent(self.spec, config, arm, i) for i in members}

    def weights(self) -> dict[int, Weights]:
        return {i: agent.net.weights() for i, agent in self.agents.items()}

    def train_round(
        self,
        round_: int,
        plans: dict[int, tuple[int, float, list[tuple[int, int]]]],
        frozen: dict[tuple[int, int], ray.ObjectRef],
    ) -> dict[int, tuple[RoundReport, Weights]]:
        """plans: agent -> (target agent-steps, share spent so far, opponent per slot);
        frozen: opponent -> its weights' ref."""
        needed = sorted({opp for _, _, opponents in plans.values() for opp in opponents})
        fetched = ray.get([frozen[opp] for opp in needed])
        players = {opp: opponent(self.spec, self.config, w) for opp, w in zip(needed, fetched, strict=True)}
        results = {}
        for i, (target, progress, opponents) in plans.items():
            keys = sorted(set(opponents))
            slot_opponent = np.array([keys.index(opp) for opp in opponents])
            report = self.agents[i].train_round(
                round_, [players[k] for k in keys], slot_opponent, target, progress
            )
            results[i] = (report, self.agents[i].net.weights())
        return results


@dataclass(frozen=True)
class Checkpoint:
    """An agent's weights kept for its learning curve, with what it and its arm had spent by then."""

    agent: str
    arm: str
    agent_steps: int
    arm_agent_steps: int
    weights: Weights

    @property
    def player(self) -> str:
        return f"{self.agent}@{self.agent_steps}"


@dataclass
class ArmTraining:
    """One arm's training, advanced a round at a time by the driver."""

    config: Experiment
    arm: int
    hosts: int
    cpus_per_host: float
    ledger: Ledger
    round: int = 0
    rows: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        spec = self.config.arms[self.arm]
        self.name, self.size = spec.name, spec.agents
        self.ids = [agent_id(self.name, i) for i in range(self.size)]
        members = [list(range(h, self.size, self.hosts)) for h in range(self.hosts)]
        host = Host.options(num_cpus=self.cpus_per_host)
        self.actors = [host.remote(self.config, self.arm, m) for m in members]
        initial = {}
        for part in ray.get([actor.weights.remote() for actor in self.actors]):
            initial.update(part)
        self.current = {i: ray.put(initial[i]) for i in range(self.size)}
        self.pools: list[list[tuple[int, ray.ObjectRef]]] = [[] for _ in range(self.size)]
        self.members = members
        self.curve: list[tuple[str, int, int, ray.ObjectRef]] = []  # agent, its steps, arm's steps, weights
        self.next_point = [0] * self.size
        for i in range(self.size):
            self.checkpoint(i, 0)

    def checkpoint(self, i: int, arm_spent: int) -> None:
        """Keep agent i's current weights for the learning curve when its spend reaches the next of
        `curve_points` even steps of its training share (the initial weights count as step 0)."""
        points = self.config.evaluation.curve_points
        spent = self.ledger.shares[self.ids[i]] - self.ledger.remaining(self.ids[i])
        share = self.ledger.shares[self.ids[i]] - self.config.selection_reserve(self.config.arms[self.arm])
        if points and spent * points >= self.next_point[i] * share:
            self.curve.append((self.ids[i], int(spent), int(arm_spent), self.current[i]))
            self.next_point[i] = int(spent * points // share) + 1

    def launch(self) -> list[ray.ObjectRef]:
        """Start the next round on every host; an empty list once every agent has spent its share."""
        reserve = self.config.selection_reserve(self.config.arms[self.arm])
        left = [self.ledger.remaining(a) - reserve for a in self.ids]  # for training
        targets = [budget.next_batch(n, self.config.ppo.rollout_steps) for n in left]
        if not any(targets):
            return []
        if self.round % self.config.opponents.snapshot_every == 0:
            keep = self.config.opponents.pool_size
            for i, pool in enumerate(self.pools):
                self.pools[i] = [*pool, (self.round, self.current[i])][-keep if keep else 0 :]
        pools = [[r for r, _ in pool] for pool in self.pools]
        rng = seeds.round_rng(self.config.seed, self.arm, self.round)
        opponents = matchmaking.pairings(
            self.config.arms[self.arm].interaction,
            pools,
            self.config.ppo.envs,
            self.config.opponents.per_round,
            self.config.opponents.latest_share,
            rng,
        )
        frozen = {(i, CURRENT): ref for i, ref in self.current.items()}
        frozen.update({(i, r): ref for i, pool in enumerate(self.pools) for r, ref in pool})
        refs = []
        for actor, members in zip(self.actors, self.members, strict=True):
            plans = {
                i: (
                    targets[i],
                    1 - left[i] / (self.ledger.shares[self.ids[i]] - reserve),
                    opponents[i],
                )
                for i in members
                if targets[i] > 0
            }
            needed = {opp for _, _, opps in plans.values() for opp in opps}
            refs.append(actor.train_round.remote(self.round, plans, {k: frozen[k] for k in needed}))
        return refs

    def absorb(self, results: list[dict[int, tuple[RoundReport, Weights]]]) -> None:
        """Charge the ledger, record metrics and publish the new weights."""
        merged = {i: r for part in results for i, r in part.items()}
        for i in sorted(merged):
            report, _ = merged[i]
            self.ledger.charge(
                self.name, self.ids[i], self.round, report.agent_steps, report.flops, report.core_seconds
            )
        arm_spent = sum(self.ledger.shares[a] - self.ledger.remaining(a) for a in self.ids)
        for i in sorted(merged):
            report, weights = merged[i]
            self.rows.append(
                {
                    "arm": self.name,
                    "agent": self.ids[i],
                    "round": self.round,
                    "agent_steps": report.agent_steps,
                    "cum_agent_steps": self.ledger.spent[self.ids[i]]["agent_steps"],
                    "arm_agent_steps": arm_spent,
                    **report.metrics,
                }
            )
            self.current[i] = ray.put(weights)
            self.checkpoint(i, arm_spent)
        self.round += 1

    def weights(self) -> dict[str, Weights]:
        return {self.ids[i]: w for i, w in enumerate(ray.get([self.current[i] for i in range(self.size)]))}

    def checkpoints(self) -> list[Checkpoint]:
        weights = ray.get([ref for *_, ref in self.curve])
        return [
            Checkpoint(agent, self.name, steps, arm_steps, w)
            for (agent, steps, arm_steps, _), w in zip(self.curve, weights, strict=True)
        ]

    def close(self) -> None:
        for actor in self.actors:
            ray.kill(actor)


def _hosts(cpus: int, arms: int, agents: int) -> tuple[int, float]:
    """Hosts for one arm and CPUs per host: up to cpus / arms, whole CPUs where it can, and never more
    hosts than agents (so a single agent uses one CPU of its share).

    Ray takes fractions of a CPU only below 1, so with fewer CPUs than arms each arm runs one host on
    cpus / arms of a CPU (the processes share the cores evenly); otherwise one host per whole CPU.
    """
    share = cpus / arms
    if share < 1:
        return 1, math.floor(share * 1e4) / 1e4  # Ray counts in units of 1e-4; never ask for more than all
    return min(agents, int(share)), 1.0


@dataclass
class Trained:
    ledger: Ledger
    rows: list[dict]
    weights: dict[str, Weights]
    checkpoints: list[Checkpoint]


def train(config: Experiment, cpus: int, on_round: Callable[[str, float], None] | None = None) -> Trained:
    """Train every arm, side by side, each on an equal share of the CPUs."""
    shares = {
        agent_id(arm.name, i): share
        for arm in config.arms
        for i, share in enumerate(budget.split(config.budget.total, arm.agents))
    }
    ledger = Ledger(shares)
    arms = [
        ArmTraining(config, a, *_hosts(cpus, len(config.arms), arm.agents), ledger)
        for a, arm in enumerate(config.arms)
    ]
    weights, checkpoints = {}, []
    running = {id(arm): (arm, arm.launch()) for arm in arms}
    while running:
        every = [ref for _, refs in running.values() for ref in refs]
        ray.wait(every, num_returns=1)
        for key, (arm, refs) in list(running.items()):
            done, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
            if len(done) < len(refs):
                continue
            arm.absorb(ray.get(refs))
            if on_round is not None:
                on_round(arm.name, sum(ledger.spent[a]["agent_steps"] for a in arm.ids))
            nxt = arm.launch()
            if nxt:
                running[key] = (arm, nxt)
            else:
                del running[key]
                weights.update(arm.weights())
                checkpoints += arm.checkpoints()
                arm.close()
    order = {arm.name: a for a, arm in enumerate(config.arms)}
    checkpoints.sort(key=lambda c: (order[c.arm], int(c.agent.split("/")[1]), c.agent_steps))
    return Trained(ledger, [row for arm in arms for row in arm.rows], weights, checkpoints)


def play_local(
    config: Experiment, games: list[tuple[int, str, str]], weights: dict[str, Weights]
) -> tuple[np.ndarray, np.ndarray]:
    """Play (seed, player_0, player_1) games in this process, all in lockstep; players are agents by id
    (their weights given) or ladder members by name."""
    torch.set_num_threads(1)
    spec = describe(config.env)
    names = sorted({name for _, a, b in games for name in (a, b)})
    players: list[Player | ladder.Searcher] = [
        ladder.build(n) if n in config.evaluation.ladder else opponent(spec, config, weights[n])
        for n in names
    ]
    seating = np.array([[names.index(a), names.index(b)] for _, a, b in games])
    seeds_ = [seed for seed, _, _ in games]
    # searchers (the ladder's heuristic and MCTS) search copies of PettingZoo envs; networks play anywhere
    searching = any(isinstance(p, ladder.Searcher) for p in players)
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
