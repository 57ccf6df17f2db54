"""Where an arm's processes run: its share of the CPUs laid out as hosts and rollout workers, reserved
through a placement group of its own, so every arm gets the same resources; and what to change where an arm
leaves CPUs idle."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

import ray
from ray.actor import ActorHandle
from ray.util.placement_group import PlacementGroup, placement_group, remove_placement_group
from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

from swarm.config import Arm, Experiment
from swarm.engine.actors import Host, RolloutWorker

RESERVE_TIMEOUT = 600  # seconds to wait for an arm's placement group


@dataclass(frozen=True)
class Layout:
    """One arm's processes: `hosts` on `cpus_per_host` each, and `workers` rollout workers (one CPU each)
    per host."""

    hosts: int
    cpus_per_host: float
    workers: int

    def members(self, agents: int) -> list[list[int]]:
        """The agents of each host, dealt in turn."""
        return [list(range(h, agents, self.hosts)) for h in range(self.hosts)]


def layout(cpus: int, arms: int, agents: int, shards: int) -> Layout:
    """One arm's layout on up to cpus / arms CPUs: whole CPUs where it can, never more hosts than agents,
    and never more processes per agent than its shards.

    Ray takes fractions of a CPU only below 1, so with fewer CPUs than arms each arm runs one host on
    cpus / arms of a CPU (the processes share the cores evenly); otherwise one host per whole CPU, and where
    the whole CPUs outnumber the agents (a single agent), rollout workers on the ones left over.
    """
    share = cpus / arms
    if share < 1:
        return Layout(1, math.floor(share * 1e4) / 1e4, 0)  # Ray counts in 1e-4 units; never ask for more
    hosts = min(agents, int(share))
    return Layout(hosts, 1.0, min(shards, int(share) // hosts) - 1)


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


@dataclass(frozen=True)
class Placed:
    """An arm's actors on its placement group (none for an arm with nothing left to train)."""

    group: PlacementGroup | None
    hosts: list[ActorHandle]
    workers: list[ActorHandle]

    def close(self) -> None:
        for actor in self.hosts + self.workers:
            ray.kill(actor, no_restart=True)
        if self.group is not None:
            remove_placement_group(self.group)


def place(config: Experiment, arm_index: int, laid: Layout) -> Placed:
    """Reserve the arm's bundles (the hosts', then each host's workers') and start its actors on them."""
    name, agents = config.arms[arm_index].name, config.arms[arm_index].agents
    group = reserve(
        name, [{"CPU": laid.cpus_per_host}] * laid.hosts + [{"CPU": 1}] * (laid.hosts * laid.workers)
    )

    def bundle(index: int) -> PlacementGroupSchedulingStrategy:
        return PlacementGroupSchedulingStrategy(group, placement_group_bundle_index=index)

    hosts, workers = [], []
    for h, members in enumerate(laid.members(agents)):
        # named, so a restarted host finds them: handles among an actor's arguments sit in the object store,
        # which need not keep them for a restart (ray-project/ray#53727)
        mine = [f"{group.id.hex()}-{h}-{w}" for w in range(laid.workers)]
        workers += [
            RolloutWorker.options(
                name=worker, scheduling_strategy=bundle(laid.hosts + h * laid.workers + w)
            ).remote(config, arm_index, members, w + 1, laid.workers + 1)
            for w, worker in enumerate(mine)
        ]
        host = Host.options(num_cpus=laid.cpus_per_host, scheduling_strategy=bundle(h))
        hosts.append(host.remote(config, arm_index, members, mine))
    return Placed(group, hosts, workers)
