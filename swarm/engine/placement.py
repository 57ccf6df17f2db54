"""Where an arm's processes run: its share of the CPUs laid out as hosts and rollout workers, its share of the
GPUs split evenly between its hosts (their learners' devices), reserved through its wave's placement group
(`swarm.engine.packing` plans the waves against the nodes), so every arm gets the same resources; the nodes'
free resources as Ray reports them; and what to change where an arm leaves CPUs idle."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import ray
from ray._private import state  # private (a developer API): the one place Ray tells each node's free CPUs
from ray.actor import ActorHandle
from ray.util.placement_group import (
    PlacementGroup,
    placement_group,
    placement_group_table,
    remove_placement_group,
)
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from swarm.config import Arm, ConfigError, Experiment
from swarm.engine.actors import Host, RolloutWorker


class Unplaceable(ConfigError):
    """The arms' reservations cannot be made on this cluster: said like a bad file (a `swarm: error:` line,
    exit 2), since the fix is in the file's `resources` or in the cluster."""


@dataclass(frozen=True)
class Node:
    """A node's free resources (or all of them), as Ray reports them."""

    id: str
    address: str
    cpus: float
    gpus: float = 0.0

    def __str__(self) -> str:
        gpus = f", {self.gpus:g} GPU" if self.gpus else ""
        return f"{self.address} ({self.id[:6]}) {self.cpus:g} CPU{gpus}"


def nodes(total: bool = False) -> list[Node]:
    """Every live node's free CPUs and GPUs (all of them, with `total`), as Ray's GCS last heard."""
    if ray.util.client.ray.is_connected():  # a Ray Client driver has no GCS of its own: ask on the cluster
        return ray.get(_nodes_on_cluster.remote(total))
    alive = {n["NodeID"]: n["NodeManagerAddress"] for n in ray.nodes() if n["Alive"]}
    resources = state.total_resources_per_node() if total else state.available_resources_per_node()
    return [
        Node(node, alive[node], held.get("CPU", 0.0), held.get("GPU", 0.0))
        for node, held in sorted(resources.items(), key=lambda item: alive.get(item[0], ""))
        if node in alive
    ]


@ray.remote(num_cpus=0)
def _nodes_on_cluster(total: bool) -> list[Node]:
    return nodes(total)


Bundle = dict[str, float]  # a process's resources, as Ray names them: {"CPU": c} or {"CPU": c, "GPU": g}


@dataclass(frozen=True)
class Layout:
    """One arm's processes: `hosts` on `cpus_per_host` and `gpus_per_host` each, and `workers` rollout
    workers (one CPU each, no GPU: they only play) per host."""

    hosts: int
    cpus_per_host: float
    workers: int
    gpus_per_host: float = 0.0

    def members(self, agents: int) -> list[list[int]]:
        """The agents of each host, dealt in turn."""
        return [list(range(h, agents, self.hosts)) for h in range(self.hosts)]

    @property
    def bundles(self) -> list[Bundle]:
        """Each bundle it reserves: the hosts' (their GPUs too, where they have some), then each host's
        workers' (one CPU each)."""
        gpus = {"GPU": self.gpus_per_host} if self.gpus_per_host else {}
        host = {"CPU": self.cpus_per_host} | gpus
        return [dict(host) for _ in range(self.hosts)] + [
            {"CPU": 1.0} for _ in range(self.hosts * self.workers)
        ]


def layout(cpus: int, arms: int, agents: int, shards: int, gpus: float = 0.0) -> Layout:
    """One arm's layout on up to cpus / arms CPUs and gpus / arms GPUs: whole CPUs where it can, never more
    hosts than agents, and never more processes per agent than its shards; the GPUs split evenly between
    the hosts, whose agents learn on them.

    Ray takes fractions of a CPU only below 1, so with fewer CPUs than arms each arm runs one host on
    cpus / arms of a CPU (the processes share the cores evenly); otherwise one host per whole CPU, and where
    the whole CPUs outnumber the agents (a single agent), rollout workers on the ones left over.
    """
    share = cpus / arms
    if share < 1:
        laid = Layout(1, _units(share), 0)
    else:
        hosts = min(agents, int(share))
        laid = Layout(hosts, 1.0, min(shards, int(share) // hosts) - 1)
    return Layout(laid.hosts, laid.cpus_per_host, laid.workers, _units(gpus / arms / laid.hosts))


def _units(share: float) -> float:
    """A share as Ray counts it, in 1e-4 units, rounded down: never ask for more than the share."""
    return math.floor(share * 1e4) / 1e4


def idle(config: Experiment, arm: Arm, cpus: int, laid: Layout) -> str | None:
    """What to change where an arm on `cpus` whole CPUs could play its agents' games on more processes."""
    ppo = config.for_arm(arm).ppo
    best = min(cpus // laid.hosts, ppo.envs, ppo.rollout_steps)
    if arm.shards >= best:
        return None
    return (
        f"arm {arm.name!r} leaves {cpus - laid.hosts * (1 + laid.workers)} of its {cpus} CPUs idle: its "
        f"agents' games are in {arm.shards} shard(s); set its shards to {best} to play "
        f"them on {best} processes each (results depend on it)"
    )


def reserve(bundles: list[Bundle], together: bool, timeout: float) -> PlacementGroup:
    """A wave's placement group: its bundles on one node (`together`) or spread over nodes where they can be.
    Fails clearly, naming each node's free resources, if Ray cannot place it within `timeout` seconds (a
    job may end or an autoscaler add a node meanwhile)."""
    strategy = "STRICT_PACK" if together else "SPREAD"
    group = placement_group(bundles, strategy=strategy, name=f"swarm-{uuid.uuid4().hex[:8]}")
    try:
        ray.get(group.ready(), timeout=timeout)
    except ray.exceptions.GetTimeoutError:
        remove_placement_group(group)
        raise Unplaceable(
            f"resources: Ray could not reserve {len(bundles)} bundle(s) of {_kinds(bundles)} "
            f"{'on one node' if together else 'over the nodes'} within {timeout:g} s "
            f"(resources.reserve_timeout_s; free: {'; '.join(map(str, nodes())) or 'no node'}); lower "
            f"resources.cpus{' or resources.gpus' if any('GPU' in b for b in bundles) else ''} or free or "
            "add nodes"
        ) from None
    return group


def _kinds(bundles: list[Bundle]) -> str:
    """The bundles' distinct shapes, in words: "1 CPU", "1 CPU + 0.25 GPU"."""
    shapes = sorted({tuple(sorted(b.items())) for b in bundles})
    return ", ".join(" + ".join(f"{amount:g} {kind}" for kind, amount in shape) for shape in shapes)


def rescheduling(group: PlacementGroup) -> bool:
    """Whether Ray is placing again a bundle of the group whose node died."""
    return placement_group_table(group)["state"] == "RESCHEDULING"


@dataclass(frozen=True)
class Placed:
    """An arm's actors on its wave's placement group (none for an arm with nothing left to train)."""

    hosts: list[ActorHandle]
    workers: list[ActorHandle]

    def close(self) -> None:
        for actor in self.hosts + self.workers:
            ray.kill(actor, no_restart=True)


def place(config: Experiment, arm_index: int, laid: Layout, group: PlacementGroup, first: int) -> Placed:
    """Start the arm's actors on its bundles of the group (`laid.bundles`, from index `first` on)."""
    agents = config.arms[arm_index].agents

    def bundle(index: int) -> PlacementGroupSchedulingStrategy:
        return PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=first + index)

    hosts, workers = [], []
    for h, members in enumerate(laid.members(agents)):
        # named, so a restarted host finds them: handles among an actor's arguments sit in the object store,
        # which need not keep them for a restart (ray-project/ray#53727)
        mine = [f"{group.id.hex()}-{first + h}-{w}" for w in range(laid.workers)]
        workers += [
            RolloutWorker.options(
                name=worker, scheduling_strategy=bundle(laid.hosts + h * laid.workers + w)
            ).remote(config, arm_index, members, w + 1, laid.workers + 1)
            for w, worker in enumerate(mine)
        ]
        host = Host.options(
            num_cpus=laid.cpus_per_host, num_gpus=laid.gpus_per_host, scheduling_strategy=bundle(h)
        )
        hosts.append(host.remote(config, arm_index, members, mine))
    return Placed(hosts, workers)
