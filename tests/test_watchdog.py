"""The watchdog kills a session's processes and nothing else; a `swarm run` killed by SIGKILL takes its local
Ray with it, and `swarm resume` finishes the run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from swarm.engine import watchdog
from swarm.results.rundir import RunDir

BOUND = 10.0  # seconds a dead driver's Ray may take to go; Ray alone leaves its agents for about a minute


def survivors(started: dict[int, int]) -> list[str]:
    table = watchdog.processes()
    alive = [pid for pid, start in started.items() if pid in table and table[pid][1] == start]
    return [f"{pid} {Path(f'/proc/{pid}/comm').read_text().strip()}" for pid in alive]


@pytest.mark.skipif(not watchdog.SUPPORTED, reason="the watchdog reads /proc: Linux only")
def test_end_kills_the_marked_and_the_known_with_their_children_and_nothing_else(descendants):
    token = watchdog.token()
    marked = subprocess.Popen(["sleep", "60"], env=os.environ | {watchdog.MARK: token})
    known = subprocess.Popen(["sh", "-c", "sleep 60 & wait"])  # unmarked, with a child of its own
    other = subprocess.Popen(["sleep", "60"], env=os.environ | {watchdog.MARK: watchdog.token()})
    try:
        time.sleep(0.2)  # sh has started its sleep
        (child,) = descendants(known.pid)
        started = {known.pid: watchdog.processes()[known.pid][1]}
        assert watchdog.end(token, started) == {marked.pid, known.pid, child}
        assert marked.wait(5) == known.wait(5) == -signal.SIGKILL and other.poll() is None
        assert watchdog.end(token, started) == set()  # a dead session: nothing left to kill
    finally:
        other.kill()
        other.wait()


@pytest.mark.skipif(not watchdog.SUPPORTED, reason="the watchdog reads /proc: Linux only")
def test_a_killed_driver_leaves_no_ray_process_and_its_run_resumes(
    tmp_path, make_config, least_evaluation, descendants
):
    data = make_config(
        budget={"unit": "agent_steps", "total": 8192},  # some seconds of training to kill it in
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "swarm", "agents": 2, "interaction": "population"},
        ],
        evaluation=least_evaluation(),
    )
    file = tmp_path / "tiny.yaml"
    file.write_text(yaml.safe_dump(data))
    runs = tmp_path / "runs"
    driver = subprocess.Popen(
        [sys.executable, "-m", "swarm", "run", str(file), "--out", str(runs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    with driver.stdout:
        for line in driver.stdout:  # plain progress lines, as stdout is a pipe
            if " agent_steps (" in line:
                break
        else:
            pytest.fail(f"swarm run ended before training (exit {driver.wait()})")
        ray = descendants(driver.pid)
        names = {Path(f"/proc/{pid}/comm").read_text().strip() for pid in ray}
        assert {"raylet", "gcs_server"} <= names and any(n.startswith("ray::Dashboard") for n in names)
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    deadline = time.monotonic() + BOUND
    while (left := survivors(ray)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not left, f"still running {BOUND:.0f} s after their driver was killed: {left}"

    (run_dir,) = runs.iterdir()
    resumed = subprocess.run(
        [sys.executable, "-m", "swarm", "resume", str(run_dir)], capture_output=True, text=True, timeout=600
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert RunDir(run_dir).finished and (run_dir / "report.html").is_file()
