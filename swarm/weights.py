"""An agent's weights on disk: torch tensors, written atomically and loaded back with `weights_only=True`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from swarm.results.rundir import atomic


def save_weights(weights: dict[str, np.ndarray], path: Path) -> None:
    state = {k: torch.tensor(v) for k, v in weights.items()}
    atomic(path, lambda tmp: torch.save(state, tmp))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)
