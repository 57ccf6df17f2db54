"""Trained ladder members: fixed reference policies for games where no search plays honestly or none
reaches above the agents, trained once by one documented recipe and stored with the run.

`trained-<agent-steps>` on evaluation.ladder is the agent the file would train alone: one agent, interaction
self_play, one shard, the file's ppo, network, opponents, learner and scaling blocks (no arm's own changes),
<agent-steps> agent-steps, from seed REFERENCE_SEED whatever the run's seeds. So it is the same network for
every seed of a run and for every run of the same game and blocks: a fixed yardstick, trained on the engine
like an arm (and as reproducibly: the engine's training is handed in, so this module needs no Ray) but
charged to no arm, since it is evaluation. Members are trained one after another, each on one CPU, before
tuning and the seeds; each is stored as references/<member>.pt with its ledger beside it, once for all seeds
(and all cells of a sweep). A resumed run loads a finished member and resumes a half-trained one from its
checkpoints. Name one with more agent-steps than the single arm's budget to reach above the agents.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from swarm.config import Arm, Budget, Experiment
from swarm.evaluation import ladder
from swarm.ledger import Ledger
from swarm.results import rundir
from swarm.results.rundir import Directory
from swarm.training.agent import Weights
from swarm.weights import load_weights, save_weights

# Trains a recipe on one CPU (its checkpoints in the path given): its ledger and the weights of each agent
TrainOne = Callable[[Experiment, Path], tuple[Ledger, dict[str, Weights]]]

REFERENCE_SEED = 2**27 - 2  # beside config.TUNING_SEED: a seed no run is likely to judge on
ARM = "trained"  # the recipe's one arm; its agent is trained/0


def members(config: Experiment) -> list[str]:
    """The trained members on the file's ladder, in its order."""
    return [name for name in config.evaluation.ladder if ladder.trained_steps(name) is not None]


def recipe(config: Experiment, member: str) -> Experiment:
    """The experiment that trains `member`: the file's blocks, one self-play agent, the member's agent-steps,
    the reference seed. It reads nothing of the run's seeds, arms or evaluation."""
    steps = ladder.trained_steps(member)
    if steps is None:
        raise ValueError(f"{member!r} is not a trained ladder member (trained-<agent-steps>)")
    return config.model_copy(
        update={
            "arms": [Arm(name=ARM, agents=1, interaction="self_play")],
            "baseline": ARM,
            "primary": None,
            "budget": Budget(unit="agent_steps", total=steps),
            "seed": REFERENCE_SEED,
            "seeds": None,
            "tuning": None,
        }
    )


def train(
    config: Experiment, run: Directory, train_one: TrainOne, say: Callable[[str], None] = lambda _: None
) -> dict[str, Weights]:
    """Every trained member's weights by its name: loaded where the run holds them, else trained by
    `train_one` (the engine, on one CPU) and stored with its ledger."""
    weights = {}
    for member in members(config):
        path = run.reference(member)
        if not path.is_file():
            say(f"training ladder member {member} ({ladder.trained_steps(member):,} agent-steps, self-play)")
            ledger, trained = train_one(recipe(config, member), run.reference_checkpoints(member))
            save_weights(trained[f"{ARM}/0"], path)
            rundir.write_parquet(ledger.frame(), run.reference_ledger(member))
        weights[member] = {name: np.asarray(t) for name, t in load_weights(path).items()}
    return weights
