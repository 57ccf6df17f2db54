"""The arms' reservations planned against the cluster's nodes before any is made: side by side where equal
shares fit the nodes, else one after another, else an error naming every node's free resources. Plain
Python: no Ray is asked anything here.

Ray counts CPUs in 1e-4 units and gives a process a fraction of a CPU only below one, and it does not hold a
process to its fraction: processes on one node share its cores evenly, processes on different nodes do
not. So where the arms' shares are below one CPU (more arms than CPUs), the arms' hosts go on one node
together, as on one machine; whole-CPU bundles go wherever a node has a whole CPU free. A wave that cannot
be packed so waits for nothing: two one-CPU nodes never hold three hosts of 0.6666 CPU on one node, however
long Ray is asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm.config import Experiment
from swarm.engine.placement import Layout, Node, Unplaceable, layout

UNIT = 10_000  # Ray's CPUs are counted in 1e-4 units


@dataclass(frozen=True)
class Wave:
    """Arms that train side by side, each laid out on an equal share of the CPUs."""

    arms: list[int]
    layouts: list[Layout]

    @property
    def bundles(self) -> list[float]:
        """Every arm's bundles, arm after arm: its hosts', then its rollout workers' (one CPU each)."""
        return [cpus for laid in self.layouts for cpus in laid.bundles]

    @property
    def fractional(self) -> bool:
        """Shares below one CPU: the wave's hosts must share one node (see the module's docstring)."""
        return any(laid.cpus_per_host < 1 for laid in self.layouts)

    def need(self) -> str:
        """What the wave asks of the nodes, in words."""
        if self.fractional:
            return f"{len(self.bundles)} x {self.bundles[0]:g} CPU on one node"
        return f"{len(self.bundles)} whole CPU(s) in all"


@dataclass(frozen=True)
class Arrangement:
    """The waves the arms train in, and why they go one after another where the file asked otherwise."""

    waves: list[Wave]
    note: str | None = None


def fits(nodes: list[Node], wave: Wave) -> bool:
    """Whether the wave's bundles fit the nodes' CPUs: fractions together on one node, whole CPUs one to a
    whole free CPU anywhere (bundles of one size: any node with room will do, so Ray's own choice does)."""
    free = [round(node.cpus * UNIT) for node in nodes]
    units = [round(cpus * UNIT) for cpus in wave.bundles]
    if wave.fractional:
        return sum(units) <= max(free, default=0)
    return len(units) <= sum(f // UNIT for f in free)


def arrange(config: Experiment, cpus: int, nodes: list[Node]) -> Arrangement:
    """The arms' waves on `cpus` CPUs of these nodes: side by side when the file asks and their equal shares
    fit, else one after another, each on all `cpus`; raises Unplaceable when neither fits."""
    count = len(config.arms)

    def wave(arms: list[int]) -> Wave:
        specs = [config.arms[a] for a in arms]
        return Wave(arms, [layout(cpus, len(arms), spec.agents, spec.shards) for spec in specs])

    together, apart = wave(list(range(count))), [wave([a]) for a in range(count)]
    parallel = config.resources.arms_in_parallel and count > 1
    if parallel and fits(nodes, together):
        return Arrangement([together])
    free = "; ".join(map(str, nodes)) or "no node"
    if all(fits(nodes, w) for w in apart):
        note = (
            f"the {count} arms' equal shares of {cpus} CPUs ({together.need()}) do not fit the nodes side by "
            f"side (free: {free}); training them one after another, each on all {cpus} CPUs "
            "(resources.arms_in_parallel: false asks for that and silences this)"
        )
        return Arrangement(apart, note if parallel else None)
    largest = max(apart, key=lambda w: len(w.bundles)).need()
    tried = f"side by side they need {together.need()}, one after another {largest}" if parallel else largest
    raise Unplaceable(
        f"resources: the arms fit no node of this cluster: {tried}, and the nodes have free {free}; lower "
        f"resources.cpus (the run splits {cpus} CPUs between the arms"
        f"{', side by side as resources.arms_in_parallel asks, else one after another' if parallel else ''}"
        "), or free or add nodes"
    )
