"""The run directory: every path in it, and every file written atomically (temp file, then rename), so a
crash or a kill leaves each file either whole or absent, never half-written.

A run directory holds config.yaml, the tables (ledger, training, matches, ratings, curve, pairs),
summary.json, checkpoints/ and the report; a multi-seed run holds one such directory per seed in
seed-<s>/ and the verdict over seeds (per_seed.parquet, summary.json) beside them. A sweep directory
holds sweep.yaml, sweep.parquet and one run directory per cell in cells/N<n>-B<b>/. Each directory
carries its format version in `format`, written when it is made; a reader refuses any other version,
naming the directory and the fix.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import yaml

from swarm.results import records

if TYPE_CHECKING:
    from swarm.config import Experiment

# Raise it when a file's name or schema changes. 2: summary.json holds the primary endpoint (p-values,
# Holm), the ladder ratings, Nash averaging, the fit check, warnings and exploitability; ratings.parquet
# the "ladder" fit; per_seed.parquet head-to-head gaps.
FORMAT = 2
D = TypeVar("D", bound="Directory")
PACKAGES = ("swarm", "ray", "torch", "pettingzoo", "numpy", "pandas", "pydantic")


class FormatError(ValueError):
    """A directory written in another format (or by a swarm older than the format file). Not a ConfigError:
    swarm.config imports torch when it loads, and this module must not."""


@dataclass(frozen=True)
class Directory:
    """What run and sweep directories share: the format file and the report."""

    path: Path

    @property
    def format(self) -> Path:
        return self.path / "format"

    @property
    def report_md(self) -> Path:
        return self.path / "report.md"

    @property
    def report_html(self) -> Path:
        return self.path / "report.html"

    def figure(self, name: str) -> Path:
        return self.path / "figures" / f"{name}.png"


@dataclass(frozen=True)
class RunDir(Directory):
    """One run: a single seed's files, or a multi-seed run's seed-<s>/ and its verdict over seeds."""

    @property
    def config(self) -> Path:
        return self.path / "config.yaml"

    @property
    def ledger(self) -> Path:
        return self.path / "ledger.parquet"

    @property
    def training(self) -> Path:
        return self.path / "training.parquet"

    @property
    def matches(self) -> Path:
        return self.path / "matches.parquet"

    @property
    def ratings(self) -> Path:
        return self.path / "ratings.parquet"

    @property
    def curve(self) -> Path:
        return self.path / "curve.parquet"

    @property
    def pairs(self) -> Path:
        """Each pair's record (wins, draws, losses, score) over all held-out games: verdict, cross-play
        and ladder stages."""
        return self.path / "pairs.parquet"

    @property
    def summary(self) -> Path:
        return self.path / "summary.json"

    @property
    def per_seed(self) -> Path:
        return self.path / "per_seed.parquet"

    @property
    def train_checkpoints(self) -> Path:
        return self.path / "checkpoints" / "train"

    def weights(self, agent: str) -> Path:
        """The final weights of `agent` (arm/index)."""
        return self.path / "checkpoints" / "final" / f"{agent.replace('/', '-')}.pt"

    def seed(self, seed: int) -> RunDir:
        return RunDir(self.path / f"seed-{seed}")

    @property
    def finished(self) -> bool:
        """summary.json is written last, for one seed or for all."""
        return self.summary.is_file()


@dataclass(frozen=True)
class SweepDir(Directory):
    """A sweep: its resolved file, its table, and one run directory per (N, budget) cell."""

    @property
    def config(self) -> Path:
        return self.path / "sweep.yaml"

    @property
    def table(self) -> Path:
        return self.path / "sweep.parquet"

    def cell(self, name: str) -> RunDir:
        return RunDir(self.path / "cells" / name)


# Making and opening directories


def create(out: Path, name: str) -> RunDir:
    """A fresh run directory <out>/<name>-<stamp>, with its format file."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    for suffix in ["", *(f"-{k}" for k in range(1, 1000))]:
        path = out / f"{name}-{stamp}{suffix}"
        try:
            path.mkdir(parents=True)
        except FileExistsError:
            continue
        return start(RunDir(path))
    raise FileExistsError(f"{out}: cannot find a free run directory name for {name}-{stamp}")


def start(directory: D) -> D:
    """Make `directory` if new and write its format; one that exists must already be in this format."""
    if directory.format.is_file() or (directory.path.is_dir() and any(directory.path.iterdir())):
        return check(directory)
    atomic(directory.format, lambda tmp: tmp.write_text(f"{FORMAT}\n"))
    return directory


def check(directory: D) -> D:
    """`directory` if it is in this format, else a FormatError that names it and the fix."""
    found = directory.format.read_text().strip() if directory.format.is_file() else None
    if found != str(FORMAT):
        written = "has no format file" if found is None else f"is in format {found}"
        raise FormatError(
            f"{directory.path}: this directory {written}, and this swarm reads format {FORMAT} only: read it "
            "with the swarm that wrote it, or run it again with this one"
        )
    return directory


def open_run(path: str | Path) -> RunDir:
    """A finished run directory (it holds summary.json) in this format."""
    run = RunDir(Path(path))
    if not run.finished:
        raise FileNotFoundError(f"{path}: no summary.json; give the directory of a finished swarm run")
    return check(run)


# Reading and writing


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


def write_bytes(data: bytes, path: Path) -> None:
    atomic(path, lambda tmp: tmp.write_bytes(data))


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def write_summary(summary: records.Summary, run: RunDir) -> None:
    write_json(summary.to_json(), run.summary)


def read_summary(run: RunDir) -> records.Summary:
    return records.summary_from_json(read_json(run.summary))


def read_seed_summary(run: RunDir) -> records.SeedSummary:
    return records.SeedSummary.from_json(read_json(run.summary))


def read_over_seeds(run: RunDir) -> records.OverSeeds:
    return records.OverSeeds.from_json(read_json(run.summary))


# The config, with where it ran


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
