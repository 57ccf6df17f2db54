"""The run directory: every file written atomically (temp file, then rename), so a crash or a kill leaves
each file either whole or absent, never half-written. Weights load back with `weights_only=True` only.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from swarm.config import Experiment

PACKAGES = ("swarm", "ray", "torch", "pettingzoo", "numpy", "pandas", "pydantic")


def create(out: Path, name: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for suffix in ["", *(f"-{k}" for k in range(1, 1000))]:
        path = out / f"{name}-{stamp}{suffix}"
        try:
            path.mkdir(parents=True)
            return path
        except FileExistsError:
            continue
    raise FileExistsError(f"{out}: cannot find a free run directory name for {name}-{stamp}")


def atomic(path: Path, write: Callable[[Path], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    atomic(path, lambda tmp: frame.to_parquet(tmp, index=False))


def write_json(data: dict, path: Path) -> None:
    atomic(path, lambda tmp: tmp.write_text(json.dumps(data, indent=2, default=float) + "\n"))


def write_yaml(data: dict, path: Path) -> None:
    atomic(path, lambda tmp: tmp.write_text(yaml.safe_dump(data, sort_keys=False)))


def save_weights(weights: dict[str, np.ndarray], path: Path) -> None:
    state = {k: torch.tensor(v) for k, v in weights.items()}
    atomic(path, lambda tmp: torch.save(state, tmp))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    return torch.load(path, weights_only=True)


def provenance() -> dict:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    try:
        revision = (
            subprocess.run(
                ["git", "rev-parse", "HEAD"],
                capture_output=True,
                text=True,
                timeout=5,
                cwd=Path(__file__).resolve().parent,
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.SubprocessError):
        revision = None
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "git_revision": revision,
    }


def resolved_config(config: Experiment) -> dict:
    return {**config.model_dump(mode="json"), "provenance": provenance()}


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
