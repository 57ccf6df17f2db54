"""Read run directories into tidy frames: what the report, the notebooks and the figures share.

A run directory is enough: this imports no torch, no Ray and nothing of swarm that does, so a run copied to
another machine can be analysed there. Every frame comes back with the run's config columns joined on
(`run`, `name`, `env`, `seed`, `budget`, `baseline`, and the arm's `agents` and `interaction` where the
frame has an `arm` column), so frames from several runs or seeds stack with no reshaping. In `matches`,
`free_for_all` and `teamwork`, `seed` is the run seed as everywhere else; the game's own seed is
`game_seed`. Summaries come back typed (`swarm.results.records`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from swarm.results import rundir
from swarm.results.records import SeedSummary, Summary
from swarm.results.rundir import RunDir, SweepDir

TABLES = (
    "ledger",
    "training",
    "matches",
    "free_for_all",
    "teamwork",
    "ratings",
    "pairs",
    "curve",
)  # as RunDir names them
LADDER = "ladder"  # the arm of reference players in ratings and pairs


@dataclass
class Run:
    """One or more run directories, every finished seed included, as tidy frames stacked on run and seed."""

    ledger: pd.DataFrame
    training: pd.DataFrame
    matches: pd.DataFrame
    free_for_all: pd.DataFrame  # one row per free-for-all game and seat; empty but in games of k > 2 seats
    teamwork: pd.DataFrame  # one row per ad-hoc team game; empty but in cooperative games
    ratings: pd.DataFrame
    pairs: pd.DataFrame  # each pair's record over the held-out games
    curve: pd.DataFrame  # scores against random at checkpoints
    per_seed: pd.DataFrame  # one row per seed and compared arm; empty for single-seed runs
    summaries: dict[str, Summary]  # run -> its top summary (the verdict over seeds for a multi-seed run)
    configs: dict[str, dict]  # run -> its top config.yaml
    seed_summaries: dict[tuple[str, int], SeedSummary]  # (run, seed) -> that seed's summary

    @property
    def summary(self) -> Summary:
        return self.summaries[self._only()]

    @property
    def config(self) -> dict:
        return self.configs[self._only()]

    @property
    def multi_seed(self) -> bool:
        return self.config.get("seeds") is not None

    def _only(self) -> str:
        if len(self.configs) != 1:
            raise ValueError(f"{len(self.configs)} runs are loaded here; load one with load_run")
        return next(iter(self.configs))


def load_run(path: str | Path) -> Run:
    """One run directory; for a multi-seed run every `seed-<s>/` with a summary.json, stacked on `seed`."""
    run = rundir.open_run(path)
    name = run.path.name
    config = _read_yaml(run.config)
    summary = rundir.read_summary(run)
    if config.get("seeds") is None:
        seed_dirs, per_seed = [run], pd.DataFrame()
    else:
        seed_dirs = [run.seed(s) for s in config["seeds"] if run.seed(s).finished]
        per_seed = _with_config(pd.read_parquet(_need(run.per_seed)), name, config)
    seeds = [_load_seed(d, name) for d in seed_dirs]
    frames = {table: _stack([s[0][table] for s in seeds]) for table in TABLES}
    return Run(
        **frames,
        per_seed=per_seed,
        summaries={name: summary},
        configs={name: config},
        seed_summaries={(name, s[1].seed): s[1] for s in seeds},
    )


def load_runs(paths: Sequence[str | Path]) -> Run:
    """Several run directories stacked; the `run` column (the directory's name) tells them apart."""
    runs = [load_run(p) for p in paths]
    frames = {name: _stack([getattr(r, name) for r in runs]) for name in (*TABLES, "per_seed")}
    return Run(
        **frames,
        summaries={k: v for r in runs for k, v in r.summaries.items()},
        configs={k: v for r in runs for k, v in r.configs.items()},
        seed_summaries={k: v for r in runs for k, v in r.seed_summaries.items()},
    )


def load_sweep(path: str | Path) -> pd.DataFrame:
    """A sweep's table, one row per cell, seed and compared arm; `path` is the sweep directory or the file."""
    path = Path(path)
    return pd.read_parquet(_need(rundir.check(SweepDir(path)).table if path.is_dir() else path))


def _load_seed(run: RunDir, name: str) -> tuple[dict[str, pd.DataFrame], SeedSummary]:
    """One seed's tables, each with the config columns joined on, and its summary."""
    rundir.check(run)
    config = _read_yaml(run.config)
    frames = {table: _read_table(run, table) for table in TABLES}
    for table in ("matches", "free_for_all", "teamwork"):
        frames[table] = frames[table].rename(columns={"seed": "game_seed"})
    frames["pairs"]["arm"] = frames["pairs"].player.map(arm_of)
    rank = {"held_out": 0, "all": 1} | _player_order(config)
    frames["ratings"] = frames["ratings"].sort_values(["fit", "player"], key=lambda c: c.map(rank))
    frames["pairs"] = frames["pairs"].sort_values(["player", "opponent"], key=lambda c: c.map(rank))
    frames = {table: _with_config(frame, name, config) for table, frame in frames.items()}
    return frames, rundir.read_seed_summary(run)


def _read_table(run: RunDir, table: str) -> pd.DataFrame:
    """A table of the seed; teamwork.parquet, newer than the format, reads as an empty table where absent."""
    if table == "teamwork" and not run.teamwork.is_file():
        return pd.DataFrame(columns=rundir.TEAMWORK_COLUMNS)
    return pd.read_parquet(_need(getattr(run, table)))


def _with_config(frame: pd.DataFrame, run: str, config: dict) -> pd.DataFrame:
    """Put the config's columns first and the arm's beside `arm`; a column the frame has is kept (per_seed's
    `seed` is the seed, not the top config's)."""
    arms = pd.DataFrame(
        {
            "arm": [a["name"] for a in config["arms"]],
            "agents": pd.array([a["agents"] for a in config["arms"]], dtype="Int64"),
            "interaction": [a["interaction"] for a in config["arms"]],
        }
    )
    columns = {
        "run": run,
        "name": config["name"],
        "env": config["env"],
        "seed": config["seed"],
        "budget": config["budget"]["total"],
        "baseline": config.get("baseline") or config["arms"][0]["name"],
    }
    columns = {k: v for k, v in columns.items() if k not in frame.columns}
    frame = frame.assign(**columns)[[*columns, *frame.columns]]
    return frame.merge(arms, on="arm", how="left") if "arm" in frame.columns else frame


def _stack(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate, leaving out empty frames (pandas warns when they take part in choosing dtypes)."""
    full = [f for f in frames if not f.empty]
    return pd.concat(full or frames[:1], ignore_index=True)


def arm_of(player: str) -> str:
    return player.split("/")[0] if "/" in player else LADDER


def _player_order(config: dict) -> dict[str, int]:
    """Agents by arm (config order) then index, then ladder members in the ladder's order."""
    order = [f"{a['name']}/{i}" for a in config["arms"] for i in range(a["agents"])]
    return {p: k for k, p in enumerate([*order, *config["evaluation"]["ladder"]])}


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(_need(path).read_text())


def _need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: missing; is this a finished swarm run directory?")
    return path
