"""The arms' reservations planned against the cluster's nodes before any is made: side by side where equal
shares fit the nodes, else one after another, else an error naming every node's free resources. Plain
Python: no Ray is asked anything here.

Ray counts CPUs in 1e-4 units and gives a process a fraction of a CPU only below one, and it does not hold a
process to its fraction: processes on one node share its cores evenly, processes on different nodes do
not. So where the arms' shares are below one CPU (more arms than CPUs), the arms' hosts go on one node
together, as on one machine; whole-CPU bundles go wherever a node has a whole CPU free. A wave that cannot
be packed so waits for nothing: two one-CPU nodes never hold three hosts of 0.6666 CPU on one node, however
long Ray is asked.

GPUs are counted the same way, device by device: Ray gives a process a fraction of one GPU, or whole GPUs,
and a host's learner uses one device, so a host's share of its arm's GPUs is at most one, and the hosts'
shares are packed onto the nodes' devices (a node's free GPUs taken as whole devices and one part-used
one: Ray reports only their sum).
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm.config import Experiment
from swarm.engine.placement import Layout, Node, Unplaceable, layout

UNIT = 10_000  # Ray's CPUs and GPUs are counted in 1e-4 units


@dataclass(frozen=True)
class Wave:
    """Arms that train side by side, each laid out on an equal share of the CPUs and GPUs."""

    arms: list[int]
    layouts: list[Layout]

    @property
    def bundles(self) -> list[dict[str, float]]:
        """Every arm's bundles, arm after arm: its hosts', then its rollout workers' (one CPU each)."""
        return [bundle for laid in self.layouts for bundle in laid.bundles]

    @property
    def gpus(self) -> list[int]:
        """The hosts' GPU shares, in 1e-4 units, largest first (none without GPUs)."""
        shares = (round(b.get("GPU", 0) * UNIT) for b in self.bundles)
        return sorted((g for g in shares if g), reverse=True)

    @property
    def fractional(self) -> bool:
        """Shares below one CPU: the wave's hosts must share one node (see the module's docstring)."""
        return any(laid.cpus_per_host < 1 for laid in self.layouts)

    def need(self) -> str:
        """What the wave asks of the nodes, in words."""
        gpus = f" and {sum(self.gpus) / UNIT:g} GPU(s) of at most one device per host" if self.gpus else ""
        if self.fractional:
            return f"{len(self.bundles)} x {self.bundles[0]['CPU']:g} CPU on one node{gpus}"
        return f"{len(self.bundles)} whole CPU(s) in all{gpus}"


@dataclass(frozen=True)
class Arrangement:
    """The waves the arms train in, and why they go one after another where the file asked otherwise."""

    waves: list[Wave]
    note: str | None = None


def fits(nodes: list[Node], wave: Wave) -> bool:
    """Whether the wave's bundles fit the nodes: fractions of a CPU together on one node, whole CPUs one to
    a whole free CPU anywhere (bundles of one size: any node with room will do, so Ray's own choice does);
    the hosts' GPU shares, largest first, each to the first device with room on a node with a CPU for it."""
    units = sum(round(b["CPU"] * UNIT) for b in wave.bundles)
    if wave.fractional:
        return any(
            units <= round(n.cpus * UNIT) and _devices_hold([n], [len(wave.bundles)], wave.gpus)
            for n in nodes
        )
    cpus = [round(node.cpus * UNIT) // UNIT for node in nodes]  # whole free CPUs
    return _devices_hold(nodes, cpus, wave.gpus) and len(wave.bundles) - len(wave.gpus) <= sum(cpus)


def _devices_hold(nodes: list[Node], cpus: list[int], shares: list[int]) -> bool:
    """First fit of GPU shares (1e-4 units, at most one device each) onto the nodes' devices, each share
    taking one of its node's `cpus` (which it counts down)."""
    devices = [[UNIT] * (round(n.gpus * UNIT) // UNIT) + [round(n.gpus * UNIT) % UNIT] for n in nodes]
    for share in shares:
        room = (
            (n, d) for n in range(len(nodes)) if cpus[n] for d, free in enumerate(devices[n]) if free >= share
        )
        found = next(room, None)
        if found is None:
            return False
        n, d = found
        devices[n][d] -= share
        cpus[n] -= 1
    return True


def arrange(config: Experiment, cpus: int, nodes: list[Node]) -> Arrangement:
    """The arms' waves on `cpus` CPUs and the file's GPUs of these nodes: side by side when the file asks and
    their equal shares fit, else one after another, each on all of them; raises Unplaceable when neither
    fits, or when a host would get more than one GPU."""
    count, gpus = len(config.arms), config.resources.gpus

    def wave(arms: list[int]) -> Wave:
        specs = [config.arms[a] for a in arms]
        return Wave(arms, [layout(cpus, len(arms), spec.agents, spec.shards, gpus) for spec in specs])

    together, apart = wave(list(range(count))), [wave([a]) for a in range(count)]
    parallel = config.resources.arms_in_parallel and count > 1
    _one_device_per_host(config, together if parallel else apart[0], gpus)
    if parallel and fits(nodes, together):
        return Arrangement([together])
    free = "; ".join(map(str, nodes)) or "no node"
    if all(_one_device_per_host(config, w, gpus) and fits(nodes, w) for w in apart):
        note = (
            f"the {count} arms' equal shares of {cpus} CPUs ({together.need()}) do not fit the nodes side by "
            f"side (free: {free}); training them one after another, each on all {cpus} CPUs "
            "(resources.arms_in_parallel: false asks for that and silences this)"
        )
        return Arrangement(apart, note if parallel else None)
    largest = max(apart, key=lambda w: len(w.bundles)).need()
    tried = f"side by side they need {together.need()}, one after another {largest}" if parallel else largest
    splits = f"{cpus} CPUs" + (f" and {gpus:g} GPUs" if gpus else "")
    raise Unplaceable(
        f"resources: the arms fit no node of this cluster: {tried}, and the nodes have free {free}; lower "
        f"resources.cpus{' or resources.gpus' if gpus else ''} (the run splits {splits} between the arms"
        f"{', side by side as resources.arms_in_parallel asks, else one after another' if parallel else ''}"
        "), or free or add nodes"
    )


def _one_device_per_host(config: Experiment, wave: Wave, gpus: float) -> bool:
    """True where no host of the wave would get more than one GPU (a learner uses one device, and Ray gives
    a process a fraction of a GPU only below one); else Unplaceable, naming the most the file may ask."""
    for a, laid in zip(wave.arms, wave.layouts, strict=True):
        if laid.gpus_per_host > 1:
            most = min(other.hosts for other in wave.layouts) * len(wave.arms)
            raise Unplaceable(
                f"resources.gpus: arm {config.arms[a].name!r} would hold {gpus / len(wave.arms):g} GPUs on "
                f"{laid.hosts} host(s), and a host learns on one device at most (an arm has a host per CPU, "
                f"at most one per agent); lower resources.gpus to {most} or less"
            )
    return True
