"""The run directory: every path in it, and every file written atomically (temp file, then rename), so a
crash or a kill leaves each file either whole or absent, never half-written (but for the event files,
which are appended to a record at a time, and read back whole records only).

A run directory holds config.yaml, the tables (ledger, training, matches, free_for_all, teamwork, ratings,
curve, pairs), summary.json, checkpoints/, the report and tensorboard/ (every agent's live metrics, appended
to as it trains, by `swarm.results.events`: the only files here not written whole); a multi-seed run holds one
such directory per seed in seed-<s>/ and the verdict over seeds (per_seed.parquet, summary.json) beside them.
A run with a tuning block holds tuning/ at its top, once for all seeds (`TuningDir`), and one whose ladder
has trained members holds references/ there (`swarm.references`). A sweep directory holds sweep.yaml,
sweep.parquet, one run directory per cell in cells/N<n>-B<b>/ and, for all its cells, references/. Each
directory carries its format version in `format`, written when it is made; a reader refuses any other
version, naming the directory and the fix.

A directory has one writer at a time: `owned` holds its lock, `.lock` (see `Lock`), for as long as a run,
resume or sweep writes there.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import platform
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pandas as pd
import yaml

from swarm import DISTRIBUTION
from swarm.results import records

if TYPE_CHECKING:
    from swarm.config import Experiment

# Raise it when a file's name or schema changes. 2: summary.json holds the primary endpoint (p-values,
# Holm), the ladder ratings, Nash averaging, the fit check, warnings and exploitability; ratings.parquet
# the "ladder" fit; per_seed.parquet head-to-head gaps. 3: free_for_all.parquet, and summary.json's
# free_for_all ratings.
FORMAT = 3
# teamwork.parquet's columns: here, since a reader of an older run directory, which lacks the file, reads an
# empty table of them (`analysis.load`)
TEAMWORK_COLUMNS = ["seed", "best", "arm", "partner", "seat", "team_return", "length"]
D = TypeVar("D", bound="Directory")
LOCK = ".lock"  # never uploaded to shared storage (swarm.storage) nor counted as a directory's content
PACKAGES = (DISTRIBUTION, "ray", "torch", "pettingzoo", "numpy", "pandas", "pydantic")


class FormatError(ValueError):
    """A directory written in another format (or by a swarm older than the format file). Not a ConfigError:
    swarm.config imports torch when it loads, and this module must not."""


class Busy(ValueError):
    """A directory another process is writing (or may be: its lock is another host's)."""


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

    @property
    def lock(self) -> Path:
        return self.path / LOCK

    def reference(self, member: str) -> Path:
        """The weights of a trained ladder member (`swarm.references`), once for every seed and cell."""
        return self.path / "references" / f"{member}.pt"

    def reference_ledger(self, member: str) -> Path:
        """What training the member spent, as ledger.parquet's rows (charged to no arm)."""
        return self.path / "references" / f"{member}-ledger.parquet"

    def reference_checkpoints(self, member: str) -> Path:
        return self.path / "references" / "checkpoints" / member


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
    def lineage(self) -> Path:
        return self.path / "lineage.parquet"

    @property
    def training(self) -> Path:
        return self.path / "training.parquet"

    @property
    def matches(self) -> Path:
        return self.path / "matches.parquet"

    @property
    def free_for_all(self) -> Path:
        """One row per free-for-all game and seat: its player, return and finishing position (empty but in
        a competitive game of more than two seats)."""
        return self.path / "free_for_all.parquet"

    @property
    def teamwork(self) -> Path:
        """One row per ad-hoc team game: a best in one seat, a held-out partner in the others, the team's
        return (empty but in a cooperative game; absent from run directories older than it)."""
        return self.path / "teamwork.parquet"

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

    def tensorboard(self, agent: str) -> Path:
        """The TensorBoard event files of `agent` (arm/index): one directory per agent, so `tensorboard
        --logdir RUN` shows every agent as a run of its own, named by its id."""
        return self.path / "tensorboard" / agent

    @property
    def train_checkpoints(self) -> Path:
        return self.path / "checkpoints" / "train"

    def weights(self, agent: str) -> Path:
        """The final weights of `agent` (arm/index)."""
        return self.path / "checkpoints" / "final" / f"{agent.replace('/', '-')}.pt"

    def seed(self, seed: int) -> RunDir:
        return RunDir(self.path / f"seed-{seed}")

    @property
    def tuning(self) -> TuningDir:
        return TuningDir(self.path / "tuning")

    @property
    def finished(self) -> bool:
        """summary.json is written last, for one seed or for all."""
        return self.summary.is_file()


@dataclass(frozen=True)
class TuningDir:
    """A run's equal tuning (`swarm.tuning`), once for all its seeds: its trials, what they spent and played,
    and each arm's tuned settings."""

    path: Path

    @property
    def trials(self) -> Path:
        """One row per arm and trial: its settings (JSON) and objective. Written last after every trial: a
        trial is finished once it is here."""
        return self.path / "trials.parquet"

    @property
    def ledger(self) -> Path:
        """One row per arm, trial and tuning seed: the trial's training spend in every unit, and its
        selection and objective games' count and moves."""
        return self.path / "ledger.parquet"

    @property
    def matches(self) -> Path:
        """Every game a trial played (selection and objective), with its seed."""
        return self.path / "matches.parquet"

    @property
    def tuned(self) -> Path:
        """Each arm's best trial's settings, as its ppo, network and opponents changes."""
        return self.path / "tuned.yaml"


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
    if directory.format.is_file() or (
        directory.path.is_dir() and any(p.name != LOCK for p in directory.path.iterdir())
    ):
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


# One writer per directory


@contextlib.contextmanager
def owned(directory: Directory, say: Callable[[str], None]) -> Iterator[None]:
    """Hold `directory`'s lock while the block writes there; `say` tells of a stale lock taken over."""
    lock = Lock.take(directory, say)
    try:
        yield
    finally:
        lock.release()


@dataclass
class Lock:
    """An exclusive `flock` on <directory>/.lock, which records the owner's host, pid and start.

    The kernel drops a flock when its process dies, however it dies (SIGKILL, a crash), so a lock file
    whose flock is free is stale: on this host it is taken over, with a message. A file naming another
    host is refused even so, as a network filesystem may not share flocks between hosts; its owner is
    named, and deleting the file is the override."""

    path: Path
    fd: int

    @classmethod
    def take(cls, directory: Directory, say: Callable[[str], None]) -> Lock:
        path = directory.lock
        path.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise Busy(
                    f"{directory.path}: {_owner(_read_owner(path))} is writing this directory; wait for it "
                    "to end or stop it (Ctrl-C), then try again"
                ) from None
            if _same_file(fd, path):  # not a file its last owner unlinked as we opened it
                break
            os.close(fd)
        previous = _read_owner(path)
        here = socket.gethostname()
        if previous.get("host", here) != here:
            os.close(fd)
            raise Busy(
                f"{directory.path}: locked by {_owner(previous)}, which cannot be checked from {here}; if "
                f"that process is gone, delete {path} and try again"
            )
        if previous:
            say(f"{directory.path}: took over a stale lock: {_owner(previous)} is gone")
        owner = {"host": here, "pid": os.getpid(), "started": datetime.now(timezone.utc).isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(owner).encode(), 0)
        os.fsync(fd)
        return cls(path, fd)

    def release(self) -> None:
        """Unlink, then unlock: a process waiting on the old file sees it unlinked and opens a new one."""
        self.path.unlink(missing_ok=True)
        os.close(self.fd)


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.fstat(fd).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def _read_owner(path: Path) -> dict:
    """The recorded owner, or {} for a lock file left empty or unreadable (its writer died writing it)."""
    try:
        owner = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return owner if isinstance(owner, dict) else {}


def _owner(owner: dict) -> str:
    """A recorded owner, for messages."""
    if not owner:
        return "a swarm process (no owner recorded)"
    return f"swarm process {owner.get('pid')} on {owner.get('host')} (since {owner.get('started')})"


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
    return {**config.resolved().model_dump(mode="json"), "provenance": provenance()}
