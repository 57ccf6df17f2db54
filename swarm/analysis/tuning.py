"""A run's equal tuning, from its tuning/ directory: the trials, their spend beside the arms' training, and
the check that no trial played on a seed of the run. Like the rest of `analysis`, no torch and no Ray."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from swarm.analysis.load import Run
from swarm.results.rundir import RunDir

UNITS = {"agent_steps": "agent_steps", "flops": "GFLOPs", "core_seconds": "core-seconds"}  # as spend_table


@dataclass(frozen=True)
class Tuned:
    trials: pd.DataFrame  # arm, trial, settings (JSON), objective, seconds
    ledger: pd.DataFrame  # arm, trial, seed: the trial's training spend and games
    matches: pd.DataFrame  # every game a trial played
    tuned: dict[str, dict]  # arm -> its tuned block changes (tuned.yaml)


def load(path: str | Path) -> Tuned | None:
    """The run's tuning tables, or None for a run without a finished search."""
    directory = RunDir(Path(path)).tuning
    if not directory.tuned.is_file():
        return None
    return Tuned(
        pd.read_parquet(directory.trials),
        pd.read_parquet(directory.ledger),
        pd.read_parquet(directory.matches),
        yaml.safe_load(directory.tuned.read_text()),
    )


def run_seed(game_seed: int) -> int:
    """The run seed a game seed carries: `(run_seed * 8 + stage) << 32 | index` (swarm.seeds)."""
    return int(game_seed) >> 35


def seeds_line(tuned: Tuned, config: dict) -> str:
    """Which seeds the trials played on, checked game by game against the run's."""
    tuning = config["tuning"]["seeds"]
    judged = config["seeds"] if config.get("seeds") is not None else [config["seed"]]
    carried = {run_seed(s) for s in tuned.matches.seed}
    if carried <= set(tuning) and not carried & set(judged):
        return (
            f"The trials' seeds were never the verdict's: every one of the {len(tuned.matches):,} games the "
            f"trials played (tuning/matches.parquet) carries tuning seed {', '.join(map(str, tuning))} in "
            f"its seed, and trained on it, never run seed {', '.join(map(str, judged))}."
        )
    return (
        f"Warning: the trials' games carry run seeds {sorted(carried)}, not only tuning seeds {tuning}: "
        "tuning may have touched the verdict's games."
    )


def spend_table(tuned: Tuned, run: Run) -> pd.DataFrame:
    """Per arm: its trials, its chosen settings, and its tuning spend beside its training spend (a seed's
    mean) in every unit."""
    spend = tuned.ledger.groupby("arm")[list(UNITS)].sum()
    trials = tuned.trials.groupby("arm").trial.count()
    arms = [arm["name"] for arm in run.config["arms"]]
    training = {
        arm: {
            u: sum(s.arms[arm].spent[u] for s in run.seed_summaries.values()) / len(run.seed_summaries)
            for u in UNITS
        }
        for arm in arms
    }
    rows = {
        "trials": [f"{trials[arm]}" for arm in arms],
        "chosen settings": [_settings(tuned.tuned[arm]) for arm in arms],
    }
    for unit, name in UNITS.items():
        scale, shown = (
            (1e9, ",.1f") if unit == "flops" else (1.0, ",.0f" if unit == "agent_steps" else ",.1f")
        )
        rows[f"tuning {name}"] = [f"{spend.loc[arm, unit] / scale:{shown}}" for arm in arms]
        rows[f"training {name} (a seed)"] = [f"{training[arm][unit] / scale:{shown}}" for arm in arms]
    return pd.DataFrame(rows, index=arms).T.rename_axis("").reset_index()


def trials_table(tuned: Tuned) -> pd.DataFrame:
    """Every trial: its settings and objective, the chosen one starred."""
    frame = tuned.trials.sort_values(["arm", "trial"], kind="stable")
    chosen = frame.groupby("arm").objective.transform("max")
    first = frame[frame.objective == chosen].groupby("arm").trial.min()
    return pd.DataFrame(
        {
            "arm": frame.arm,
            "trial": frame.trial,
            "settings": [
                ", ".join(f"{k} {_value(v)}" for k, v in json.loads(s).items()) for s in frame.settings
            ],
            "objective": [
                f"{o:.3f}" + (" *" if t == first[a] else "")
                for a, t, o in zip(frame.arm, frame.trial, frame.objective, strict=True)
            ],
        }
    ).reset_index(drop=True)


def _settings(blocks: dict) -> str:
    return ", ".join(
        f"{block}.{field} {_value(v)}" for block, fields in blocks.items() for field, v in fields.items()
    )


def _value(value: object) -> str:
    """A setting for a table: floats to 3 significant digits (tuned.yaml keeps them whole), lists as a/b."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return "/".join(map(str, value)) if isinstance(value, list) else str(value)
