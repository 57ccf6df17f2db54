"""Training checkpoints: what goes in comes back, and a run cut off anywhere resumes to the very same run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
import torch
import yaml

from swarm import config, engine
from swarm.interaction import CURRENT, Key, Tally
from swarm.results import events
from swarm.results.rundir import RunDir
from swarm.training import arm, checkpoint
from swarm.training.agent import AgentState
from swarm.weights import load_weights

pytestmark = pytest.mark.usefixtures("ray_module")  # one local Ray for the module's runs


def test_round_trip_loads_with_weights_only(tmp_path):
    net = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(net.parameters())
    net(torch.ones(4, 3)).sum().backward()
    optimizer.step()
    weights = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    games = {"seed": np.array([7, 9]), "moves": np.array([[3, 4], [0, 0]]), "started": np.array(True)}
    core = arm.State(
        round=3,
        pools=((0, 2),),
        curve=(arm.Point(0, 0, 0, 0), arm.Point(0, 512, 512, 2)),
        next_point=(2,),
        results={(0, Key(0, CURRENT)): Tally(5, 2.5), (0, Key(0, 2)): Tally(0.9, 0.45)},
        hypers=({"lr": 2.5e-4, "clip": 0.24},),
    )
    state = checkpoint.ArmState(
        core=core,
        agents=[AgentState(weights, optimizer.state_dict(), [games, {}])],
        charges=[{"arm": "a", "agent": "a/0", "round": 0, "agent_steps": 8, "flops": 1, "core_seconds": 0.5}],
        lineage=[{"arm": "a", "agent": "a/0", "source": "a/1", "round": 2}],
        rows=[{"agent": "a/0", "round": 0, "score": float("nan")}],
        wall_seconds=1.5,
        finished=False,
    )
    checkpoint.save(tmp_path, "a", state, {Key(0, 0): weights, Key(0, 2): weights})
    loaded, loaded_kept = checkpoint.load(tmp_path, "a", shards=2)
    assert loaded.core == core and loaded.charges == state.charges and loaded.lineage == state.lineage
    assert np.isnan(loaded.rows[0]["score"])
    (agent,) = loaded.agents
    np.testing.assert_equal(agent.weights, weights)
    exp_avg = agent.optimizer["state"][0]["exp_avg"]
    assert torch.equal(exp_avg, optimizer.state_dict()["state"][0]["exp_avg"])
    assert np.array_equal(agent.games[0]["moves"], [[3, 4], [0, 0]]) and agent.games[0]["started"]
    assert agent.games[1] == {}
    assert set(loaded_kept) == {Key(0, 0), Key(0, 2)}
    assert checkpoint.load(tmp_path, "missing") is None
    with pytest.raises(
        config.ConfigError, match=r"saved each agent's games in 2 shard\(s\), but its shards is 3"
    ):
        checkpoint.load(tmp_path, "a", shards=3)


def test_interrupted_training_resumes_to_the_uninterrupted_run(
    tmp_path, modes_config, uninterrupted, same_training
):
    """Ctrl-C after the 7th round any arm finishes (a single agent beside pfsp, pbt and league arms, other
    arms mid-round, pbt's agents copying weights at round 1) then a resume: the same ledger and lineage (no
    agent-step spent twice, no row twice), the same training rows and the same weights. (The Ctrl-C test
    below resumes a single agent learning on two processes under a FLOP budget.)"""
    cfg = modes_config
    reference = uninterrupted(cfg)
    finished = []

    def interrupt(arm: str, spent: float) -> None:
        finished.append(arm)
        if len(finished) == 7:
            raise KeyboardInterrupt

    with engine.session(None, 2) as cpus:
        with pytest.raises(KeyboardInterrupt):
            engine.train(cfg, cpus, interrupt, store=tmp_path)
        saved = {arm.name: checkpoint.load(tmp_path, arm.name, arm.shards) for arm in cfg.arms}
        assert any(s is not None and not s[0].finished for s in saved.values())
        resumed = engine.train(cfg, cpus, store=tmp_path)

    ledger = resumed.ledger.frame()
    assert not ledger.duplicated(["agent", "stage", "round"]).any()
    same_training(ledger, resumed.rows, reference.ledger.frame(), reference.rows)
    np.testing.assert_equal(resumed.weights, reference.weights)
    assert [c.player for c in resumed.curve] == [c.player for c in reference.curve]
    assert resumed.ledger.lineage == reference.ledger.lineage and reference.ledger.lineage  # pbt copied


def test_ctrl_c_saves_then_swarm_resume_finishes_the_same_run(
    tmp_path, make_config, least_evaluation, uninterrupted, same_training
):
    """Ctrl-C in a terminal signals the whole process group (driver and local Ray): the run checkpoints,
    mirrors itself to its --out URI, exits 130 naming the resume command, and `swarm resume URI` ends with
    the uninterrupted run's ledger, training rows and weights, on the shared storage. The run is a single
    agent on a host and a rollout worker, learning together, wider than the other arms' agents, under a FLOP
    budget, arms one after another on 2 CPUs. Its live metrics write no step twice: the rounds replayed from
    the checkpoint are skipped, each agent's steps are the uninterrupted run's, and an agent trained by both
    processes has a file from each."""
    data = make_config(
        checkpoint_every=1, budget={"unit": "flops", "total": 2 * 10**8}, evaluation=least_evaluation()
    )
    data["resources"] = {"cpus": 2, "arms_in_parallel": False}
    data["arms"][0] |= {"shards": 2, "network": {"hidden": [64]}}
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(data))
    shared = tmp_path / "shared"
    terminal = {"FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}  # what would make rich draw bars anyway
    env = {k: v for k, v in os.environ.items() if k not in terminal} | {
        "SWARM_STAGING": str(tmp_path / "staging")
    }
    command = [sys.executable, "-m", "swarm", "run", "tiny.yaml", "--out", shared.as_uri()]
    proc = subprocess.Popen(
        command,
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob("staging/**/checkpoints/train/*.pt")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 130, output
    (run_dir,) = shared.iterdir()
    assert list(run_dir.glob("checkpoints/train/*.pt")), "the checkpoints reached the shared storage"
    assert f"swarmresume{run_dir.as_uri()}" in "".join(output.split()), output  # rich wraps long lines
    assert not (run_dir / "summary.json").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "swarm", "resume", run_dir.as_uri()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert (run_dir / "summary.json").is_file() and (run_dir / "report.html").is_file()
    printed = resumed.stdout
    assert "verdict:" in printed and "run directory:" in printed and "report:" in printed
    assert "these verdicts compare these trained agents" in printed.replace("\n", " ")
    # stdout is a pipe: progress is plain lines (arm, spent/total, rate, ETA), not bars
    assert re.search(r"^swarm: [\d,]+/200,000,000 flops \(\d+%\), [\d,-]+ flops/s, ETA ", printed, re.M)
    assert "\x1b[" not in printed
    html = (run_dir / "report.html").stat().st_mtime
    again = subprocess.run(
        [sys.executable, "-m", "swarm", "report", str(run_dir)], capture_output=True, text=True
    )
    assert again.returncode == 0 and (run_dir / "report.html").stat().st_mtime >= html, again.stderr
    missing = subprocess.run(
        [sys.executable, "-m", "swarm", "report", str(tmp_path)], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no summary.json" in missing.stderr
    ledger = pd.read_parquet(run_dir / "ledger.parquet")
    assert not ledger.duplicated(["agent", "stage", "round"]).any()
    trained = uninterrupted(config.parse(data))
    rows = pd.read_parquet(run_dir / "training.parquet").to_dict("records")
    same_training(ledger, rows, trained.ledger.frame(), trained.rows)
    run, restarted = RunDir(run_dir), 0
    for agent, weights in trained.weights.items():
        np.testing.assert_equal({k: v.numpy() for k, v in load_weights(run.weights(agent)).items()}, weights)
    for agent, own in pd.DataFrame(trained.rows).groupby("agent"):
        steps = [e.step for e in events.read_dir(run.tensorboard(agent)) if e.scalars]
        assert steps == own.cum_agent_steps.tolist(), agent
        restarted += len(events.files(run.tensorboard(agent))) == 2
    assert restarted, "no agent was written by both processes"
