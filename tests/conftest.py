"""Shared fixtures: the real code paths, shrunk (as in BenchMARL's test conftest)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from swarm import config, envs

CONNECT_FOUR = "classic/connect_four-v3"

# One authentication mode for every Ray the tests start. Unset, a local ray.init() switches this process to
# token mode for good, and a multi-node test cluster started earlier (which chose by whether a token file
# existed) then refuses the driver's actors.
os.environ.setdefault("RAY_AUTH_MODE", "token")


def tiny_config(**overrides) -> dict:
    """A budget file small enough to run end to end in seconds on 2 CPUs."""
    data = {
        "name": "tiny",
        "env": CONNECT_FOUR,
        "seed": 0,
        "budget": {"unit": "agent_steps", "total": 2048},
        "arms": [
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "independent", "agents": 4, "interaction": "self_play"},
            {"name": "swarm", "agents": 4, "interaction": "population"},
        ],
        "ppo": {"rollout_steps": 256, "envs": 8, "epochs": 2, "minibatches": 2},
        "network": {"hidden": [32]},
        "opponents": {"snapshot_every": 1, "pool_size": 2},
        "evaluation": {
            "selection_games": 4,
            "verdict_games": 20,
            "crossplay_games": 2,
            "ladder": ["random", "heuristic", "mcts-4"],
            "ladder_games": 4,
            "curve_points": 4,
            "curve_games": 4,
            "bootstrap": 200,
        },
        "resources": {"cpus": 2},
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="session")
def spec() -> envs.EnvSpec:
    return envs.describe(CONNECT_FOUR)


@pytest.fixture
def tiny() -> config.Experiment:
    return config.Experiment.model_validate(tiny_config())


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
