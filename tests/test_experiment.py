"""A tiny run of the real experiment on a local 2-CPU Ray: every table, the verdict, the budget proofs."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import torch
import yaml

from swarm import config, experiment, rundir, seeds
from swarm.ledger import UNITS
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    cfg = config.parse(tiny_config())
    run_dir, summary = experiment.run(cfg, tmp_path_factory.mktemp("runs"))
    return cfg, run_dir, summary


def test_every_table_has_its_columns(run):
    _, run_dir, _ = run
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert list(ledger.columns) == ["arm", "agent", "round", *UNITS, *(f"cum_{u}" for u in UNITS)]
    training = pd.read_parquet(run_dir / "training.parquet")
    for column in [
        "arm",
        "agent",
        "round",
        "agent_steps",
        "policy_loss",
        "value_loss",
        "entropy",
        "approx_kl",
        "clip_fraction",
        "score",
        "games",
    ]:
        assert column in training.columns
    assert len(training) == len(ledger)  # one row per agent per round in both
    matches = pd.read_parquet(run_dir / "matches.parquet")
    assert list(matches.columns) == [
        "stage",
        "arm",
        "seed",
        "player_0",
        "player_1",
        "reward_0",
        "reward_1",
        "outcome",
        "length",
    ]
    assert set(matches.stage) == {"selection", "verdict", "random"}


def test_selection_and_verdict_games_share_no_seed(run):
    _, run_dir, _ = run
    matches = pd.read_parquet(run_dir / "matches.parquet")
    by_stage = {stage: set(group.seed) for stage, group in matches.groupby("stage")}
    assert by_stage["selection"].isdisjoint(by_stage["verdict"])
    assert by_stage["selection"].isdisjoint(by_stage["random"])
    assert by_stage["verdict"].isdisjoint(by_stage["random"])
    assert all(seeds.stage_of(s) == stage for stage, values in by_stage.items() for s in values)
    assert matches.seed.is_unique


def test_round_robin_and_seats(run):
    cfg, run_dir, summary = run
    matches = pd.read_parquet(run_dir / "matches.parquet")
    selection = matches[matches.stage == "selection"]
    assert len(selection) == 6 * cfg.evaluation.selection_games  # 4 agents: 6 pairs
    verdict = matches[matches.stage == "verdict"]
    best = summary["arms"]["swarm"]["best"]
    assert (
        (verdict.player_0 == best).sum()
        == (verdict.player_1 == best).sum()
        == cfg.evaluation.verdict_games // 2
    )
    scores = [_selection_score(selection, f"swarm/{i}") for i in range(4)]
    assert summary["arms"]["swarm"]["selection_score"] == pytest.approx(max(scores))
    assert best == f"swarm/{scores.index(max(scores))}"  # ties go to the lowest index


def _selection_score(selection: pd.DataFrame, player: str) -> float:
    own = pd.concat(
        [
            selection[selection.player_0 == player].outcome.map({"player_0": 1, "draw": 0.5, "player_1": 0}),
            selection[selection.player_1 == player].outcome.map({"player_1": 1, "draw": 0.5, "player_0": 0}),
        ]
    )
    return own.mean()


def test_budgets_are_equal_and_never_exceeded(run):
    cfg, run_dir, summary = run
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    per_agent = ledger.groupby("agent").agent_steps.sum()
    for arm in cfg.arms:
        share = cfg.budget.total // arm.agents
        agents = per_agent[per_agent.index.str.startswith(f"{arm.name}/")]
        assert len(agents) == arm.agents
        assert (agents <= share).all()
        spent = summary["arms"][arm.name]["spent"]
        assert set(spent) == set(UNITS)
        assert cfg.budget.total - cfg.ppo.rollout_steps <= spent["agent_steps"] <= cfg.budget.total
        assert spent["flops"] > 0 and spent["core_seconds"] > 0
    spent = [summary["arms"][a.name]["spent"]["agent_steps"] for a in cfg.arms]
    assert max(spent) - min(spent) <= cfg.ppo.rollout_steps


def test_summary_has_a_verdict(run):
    _, run_dir, summary = run
    assert json.loads((run_dir / "summary.json").read_text()) == json.loads(
        json.dumps(summary, default=float)
    )
    (v,) = summary["verdicts"]
    assert v["games"] == v["wins"] + v["draws"] + v["losses"] == 20
    assert v["ci_low"] <= v["score"] <= v["ci_high"]
    assert v["verdict"].startswith(("swarm best beats single", "single beats swarm best", "no significant"))
    for arm in summary["arms"].values():
        assert arm["vs_random"]["games"] == 10


def test_config_and_weights_are_saved(run):
    cfg, run_dir, _ = run
    saved = yaml.safe_load((run_dir / "config.yaml").read_text())
    assert saved["seed"] == cfg.seed and saved["budget"]["total"] == cfg.budget.total
    assert saved["provenance"]["packages"]["ray"]
    weights = sorted((run_dir / "checkpoints" / "final").glob("*.pt"))
    assert [w.name for w in weights] == [
        "single-0.pt",
        "swarm-0.pt",
        "swarm-1.pt",
        "swarm-2.pt",
        "swarm-3.pt",
    ]
    state = rundir.load_weights(weights[0])
    assert all(isinstance(t, torch.Tensor) for t in state.values())
    assert not list(run_dir.rglob("*.tmp"))  # atomic writes leave no temp files


def test_same_seed_same_run(run, tmp_path):
    """Invariant 2: a run is reproducible from its config and seed, whatever Ray's scheduling."""
    cfg, run_dir, _ = run
    again, _ = experiment.run(cfg, tmp_path)
    columns = ["arm", "agent", "round", "policy_loss", "value_loss", "entropy", "score"]
    first = pd.read_parquet(run_dir / "training.parquet")[columns]
    second = pd.read_parquet(again / "training.parquet")[columns]
    pd.testing.assert_frame_equal(first, second)
    pd.testing.assert_frame_equal(
        pd.read_parquet(run_dir / "matches.parquet"), pd.read_parquet(again / "matches.parquet")
    )


def test_cli_run_prints_the_verdict(tmp_path):
    path = tmp_path / "tiny.yaml"
    path.write_text(
        yaml.safe_dump(
            tiny_config(
                arms=[
                    {"name": "single", "agents": 1, "interaction": "self_play"},
                    {"name": "swarm", "agents": 2, "interaction": "population"},
                ]
            )
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "swarm", "run", str(path), "--out", str(tmp_path / "runs")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "verdict:" in done.stdout
    assert "run directory:" in done.stdout
    assert len(list((tmp_path / "runs").glob("tiny-*/summary.json"))) == 1
