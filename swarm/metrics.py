"""Live metrics: every round's training rows as namespaced scalars, per agent, to the sinks a budget file
names (`metrics.sinks`), as the round is absorbed.

Tags (TensorBoard's word for a metric's name) come from one fixed vocabulary, CleanRL's: `losses/*`
(what the learner reports), `charts/*` (how the round went) and `budget/*` (what the ledger has charged
the agent, and its arm, so far). Every scalar's step is the agent's cumulative agent-steps, the x axis of
every learning curve in the report, so agents of arms with different shares line up on one scale. The
driver writes them (no Ray worker writes a file).

The sinks are a registry, `SINKS`, with one home: `tensorboard` (event files in the run directory, no
package needed, on by default), `wandb` and `mlflow` (their packages, an extra each; they reach a network
only when the file names them, and follow their own environment: WANDB_MODE, MLFLOW_TRACKING_URI).
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from swarm import DISTRIBUTION
from swarm.results import events
from swarm.results.rundir import RunDir

if TYPE_CHECKING:
    from swarm.config import Experiment

TAGS = {  # training row column -> tag
    "policy_loss": "losses/policy",
    "value_loss": "losses/value",
    "entropy": "losses/entropy",
    "approx_kl": "losses/approx_kl",
    "clip_fraction": "losses/clip_fraction",
    "lr": "charts/learning_rate",
    "entropy_coef": "charts/entropy_coef",
    "clip": "charts/clip",
    "score": "charts/score",
    "games": "charts/games",
    "game_length": "charts/game_length",
    "cum_agent_steps": "budget/agent_steps",
    "cum_flops": "budget/flops",
    "cum_core_seconds": "budget/core_seconds",
    "arm_agent_steps": "budget/arm_agent_steps",
}
RATE = "charts/agent_steps_per_second"  # the round's agent-steps over its wall seconds on the host
Rows = Callable[[list[dict]], None]  # takes a round's training rows


def scalars(row: dict) -> dict[str, float]:
    """A training row as namespaced scalars (columns outside the vocabulary are left out)."""
    out = {tag: float(row[column]) for column, tag in TAGS.items() if column in row}
    if row.get("seconds"):
        out[RATE] = row["agent_steps"] / row["seconds"]
    return out


class Sink(Protocol):
    def write(self, agent: str, step: int, scalars: dict[str, float]) -> None: ...

    def close(self) -> None: ...


class TensorBoard:
    """An event file per agent in <run>/tensorboard/<arm>/<i>/, so TensorBoard shows each agent as a run."""

    def __init__(self, config: Experiment, run: RunDir):
        self.run, self.files = run, {}

    def write(self, agent: str, step: int, scalars: dict[str, float]) -> None:
        if agent not in self.files:
            self.files[agent] = events.EventFile(self.run.tensorboard(agent))
        self.files[agent].write(step, scalars)

    def close(self) -> None:
        """Nothing to close: every write opens, appends and closes."""


class WandB:
    """One W&B run per seed run, keyed `<agent>/<tag>`, each agent's plotted against its agent-steps.
    A resumed run continues its W&B run: the id comes from the run directory's path."""

    def __init__(self, config: Experiment, run: RunDir):
        import wandb

        self.wandb = wandb.init(
            project=config.metrics.project or config.name,
            name=run_name(run),
            id=hashlib.sha1(str(run.path.resolve()).encode()).hexdigest()[:16],
            resume="allow",
            dir=str(run.path),
            config=config.model_dump(mode="json"),
        )
        self.agents: set[str] = set()

    def write(self, agent: str, step: int, scalars: dict[str, float]) -> None:
        if agent not in self.agents:  # W&B's own step counts calls; each agent's x axis is its agent-steps
            axis = f"{agent}/{TAGS['cum_agent_steps']}"
            self.wandb.define_metric(axis)
            self.wandb.define_metric(f"{agent}/*", step_metric=axis)
            self.agents.add(agent)
        self.wandb.log({f"{agent}/{tag}": value for tag, value in scalars.items()})

    def close(self) -> None:
        self.wandb.finish()


class MLflow:
    """One MLflow run per process and seed run, in the experiment `metrics.project` (default: the file's
    name), `<agent>/<tag>` metrics at step = the agent's agent-steps; the tracking URI is MLflow's own
    (MLFLOW_TRACKING_URI, else its default)."""

    def __init__(self, config: Experiment, run: RunDir):
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient

        self.client, self.metric = MlflowClient(), Metric
        name = config.metrics.project or config.name
        found = self.client.get_experiment_by_name(name)
        experiment = found.experiment_id if found else self.client.create_experiment(name)
        self.run_id = self.client.create_run(experiment, run_name=run_name(run)).info.run_id

    def write(self, agent: str, step: int, scalars: dict[str, float]) -> None:
        now = int(time.time() * 1000)
        metrics = [self.metric(f"{agent}/{tag}", value, now, step) for tag, value in scalars.items()]
        self.client.log_batch(self.run_id, metrics=metrics)

    def close(self) -> None:
        self.client.set_terminated(self.run_id)


@dataclass(frozen=True)
class Kind:
    """A sink by name: how to open it for a seed run, and the package it needs (None: none)."""

    open: Callable[[Experiment, RunDir], Sink]
    package: str | None = None


SINKS: dict[str, Kind] = {
    "tensorboard": Kind(TensorBoard),
    "wandb": Kind(WandB, "wandb"),
    "mlflow": Kind(MLflow, "mlflow"),
}


def check(name: str) -> None:
    """A ValueError, naming the fix, for a sink that is not registered or whose package is missing."""
    if name not in SINKS:
        raise ValueError(f"unknown sink {name!r}; pick from {', '.join(SINKS)}")
    package = SINKS[name].package
    if package is not None and importlib.util.find_spec(package) is None:
        raise ValueError(
            f"the {name} sink needs the {package} package, not installed here; "
            f"pip install '{DISTRIBUTION}[{name}]', or remove {name} from metrics.sinks"
        )


def run_name(run: RunDir) -> str:
    """The run directory's name, with what it is part of: `<run>/seed-<s>` for a seed of a multi-seed run,
    `<sweep>/N<n>-B<b>` for a sweep's cell."""
    path = run.path.resolve()
    if path.name.startswith("seed-"):
        return f"{run_name(RunDir(path.parent))}/{path.name}"
    return f"{path.parents[1].name}/{path.name}" if path.parent.name == "cells" else path.name


@contextmanager
def live(config: Experiment, run: RunDir) -> Iterator[Rows]:
    """The file's sinks, open for one seed's training: yields what to hand each round's training rows."""
    sinks: list[Sink] = []
    try:
        for name in config.metrics.sinks:
            sinks.append(SINKS[name].open(config, run))

        def write(rows: list[dict]) -> None:
            for row in rows:
                step, values = int(row["cum_agent_steps"]), scalars(row)
                for sink in sinks:
                    sink.write(row["agent"], step, values)

        yield write
    finally:
        for sink in sinks:
            sink.close()
