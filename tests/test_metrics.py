"""Live metrics: the tags, the door, an event file for every agent of a real run, resume without a step twice,
and the optional W&B and MLflow sinks in their offline modes."""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path

import pandas as pd
import pytest

from swarm import DISTRIBUTION, config, metrics
from swarm.results import events
from swarm.results.rundir import RunDir

pytestmark = pytest.mark.usefixtures("ray_module")  # one local Ray for the module's runs

ROW = {
    "arm": "swarm",
    "agent": "swarm/1",
    "round": 3,
    "agent_steps": 256,
    "cum_agent_steps": 1024,
    "arm_agent_steps": 4096,
    "policy_loss": -0.01,
    "value_loss": 0.4,
    "entropy": 1.9,
    "approx_kl": 0.002,
    "clip_fraction": 0.05,
    "lr": 3e-4,
    "entropy_coef": 0.01,
    "clip": 0.2,
    "score": 0.6,
    "games": 12,
    "game_length": 21.5,
    "seconds": 0.5,
    "cum_flops": 1e9,
    "cum_core_seconds": 2.5,
}
EVERY_TAG = {*metrics.TAGS.values(), metrics.RATE}


def test_a_row_becomes_namespaced_scalars():
    got = metrics.scalars(ROW)
    assert set(got) == EVERY_TAG
    assert got["losses/value"] == 0.4 and got["charts/score"] == 0.6
    assert got["budget/agent_steps"] == 1024 and got["budget/arm_agent_steps"] == 4096
    assert got["charts/agent_steps_per_second"] == 512


def test_the_install_hint_names_the_distribution_and_its_extras():
    """What a refusal tells the user to pip install exists: the distribution and an extra per sink."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert project["name"] == DISTRIBUTION and project["scripts"] == {"swarm": "swarm.cli:main"}
    for name, kind in metrics.SINKS.items():
        if kind.package is not None:
            assert any(kind.package in need for need in project["optional-dependencies"][name]), name
    assert project["optional-dependencies"]["tensorboard"] == ["tensorboard>=2.14"]


def test_a_seed_or_a_cell_is_named_with_what_it_belongs_to(tmp_path):
    assert metrics.run_name(RunDir(tmp_path / "tiny-20261130-0700")) == "tiny-20261130-0700"
    assert metrics.run_name(RunDir(tmp_path / "tiny-20261130-0700" / "seed-3")) == "tiny-20261130-0700/seed-3"
    cell = RunDir(tmp_path / "small" / "cells" / "N4-B8192" / "seed-0")
    assert metrics.run_name(cell) == "small/N4-B8192/seed-0"


def test_sinks_are_checked_at_the_door(make_config, monkeypatch):
    with pytest.raises(config.ConfigError, match=r"metrics\.sinks: .*unknown sink 'neptune'.*tensorboard"):
        config.parse(make_config(metrics={"sinks": ["neptune"]}))
    with pytest.raises(config.ConfigError, match=r"metrics\.sinks: .*named twice"):
        config.parse(make_config(metrics={"sinks": ["tensorboard", "tensorboard"]}))
    found = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "wandb" else found(name))
    with pytest.raises(config.ConfigError, match=r"metrics\.sinks: .*pip install 'swarm-testbed\[wandb\]'"):
        config.parse(make_config(metrics={"sinks": ["tensorboard", "wandb"]}))
    assert config.parse(make_config()).metrics.sinks == ["tensorboard"]
    assert config.parse(make_config(metrics={"sinks": []})).metrics.sinks == []


def test_every_agent_of_a_run_has_its_event_file(multi_seed_run):
    """Every agent's curves, at every round it trained, under every tag; steps are its agent-steps."""
    run = RunDir(multi_seed_run).seed(0)
    rows = pd.read_parquet(run.training)
    for agent, own in rows.groupby("agent"):
        written = [e for e in events.read_dir(run.tensorboard(agent)) if e.scalars]
        assert [e.step for e in written] == own.cum_agent_steps.tolist(), agent
        assert all(set(e.scalars) == EVERY_TAG for e in written), agent
        losses = [e.scalars["losses/value"] for e in written]
        assert losses == pytest.approx(own.value_loss.tolist(), rel=1e-6)


def test_tensorboard_finds_every_tag_of_a_run(multi_seed_run):
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    run = RunDir(multi_seed_run).seed(0)
    rows = pd.read_parquet(run.training)
    multiplexer = pytest.importorskip("tensorboard.backend.event_processing.plugin_event_multiplexer")
    runs = multiplexer.EventMultiplexer().AddRunsFromDirectory(str(multi_seed_run))
    assert {name.replace("\\", "/") for name in runs.Runs()} >= {
        f"seed-0/tensorboard/{agent}" for agent in rows.agent.unique()
    }
    for agent, own in rows.groupby("agent"):
        reader = accumulator.EventAccumulator(str(run.tensorboard(agent)))
        reader.Reload()
        assert set(reader.Tags()["scalars"]) == EVERY_TAG
        assert [v.step for v in reader.Scalars("budget/agent_steps")] == own.cum_agent_steps.tolist()


def test_wandb_sink_offline(tmp_path, monkeypatch, tiny):
    """W&B's offline mode: the latest value of every key in the run's summary, the run on disk in the run
    directory (W&B ships no reader of its .wandb files, so the keys are looked for in its bytes)."""
    pytest.importorskip("wandb")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    (tmp_path / "tiny-run").mkdir()
    sink = metrics.WandB(tiny, RunDir(tmp_path / "tiny-run"))
    sink.write("swarm/1", 256, metrics.scalars({**ROW, "cum_agent_steps": 256}))
    sink.write("swarm/1", 512, metrics.scalars({**ROW, "cum_agent_steps": 512, "value_loss": 0.25}))
    sink.write("single/0", 1024, metrics.scalars({**ROW, "agent": "single/0", "cum_agent_steps": 1024}))
    last = dict(sink.wandb.summary)
    sink.close()
    assert last["swarm/1/losses/value"] == 0.25 and last["swarm/1/budget/agent_steps"] == 512
    assert last["single/0/budget/agent_steps"] == 1024
    (saved,) = (tmp_path / "tiny-run").glob("wandb/offline-run-*/run-*.wandb")
    deadline, missing = time.monotonic() + 30, list(EVERY_TAG)
    while missing and time.monotonic() < deadline:  # W&B's service may still be writing after finish
        data = saved.read_bytes()
        missing = [tag for tag in EVERY_TAG if f"single/0/{tag}".encode() not in data]
        time.sleep(0.2)
    assert missing == []


def test_mlflow_sink_to_a_local_store(tmp_path, monkeypatch, tiny):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # MLflow 3 keeps a file store only when asked
    sink = metrics.MLflow(tiny, RunDir(tmp_path / "tiny-run"))
    sink.write("swarm/1", 256, metrics.scalars({**ROW, "cum_agent_steps": 256}))
    sink.write("swarm/1", 512, metrics.scalars({**ROW, "cum_agent_steps": 512, "value_loss": 0.25}))
    sink.close()
    history = MlflowClient().get_metric_history(sink.run_id, "swarm/1/losses/value")
    assert [(m.step, m.value) for m in history] == [(256, 0.4), (512, 0.25)]
    assert MlflowClient().get_run(sink.run_id).info.status == "FINISHED"
