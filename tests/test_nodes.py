"""Real Ray nodes, as a cluster user starts them: a head and a worker, each a `ray start --block` process of
its own with one CPU, and `swarm run --address` against them. `ray.cluster_utils.Cluster` runs its nodes in
this process and never met what these do: two nodes that cannot hold three arms' fractions of a CPU side
by side, and a node whose raylet dies mid-run.

Every node listens where a `ray start` node does (the machine's address, on free ports chosen here), and is
torn down by the process ids of its `ray start` and every process under it; a test fails if one survives.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(
    shutil.which("ray") is None or not Path("/proc").is_dir(), reason="needs the ray command and Linux /proc"
)
BUDGET = 2048


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment() -> dict[str, str]:
    """The code under test on every node and in the driver; a node death seen within about two seconds."""
    return os.environ | {
        "PYTHONPATH": str(ROOT),
        "RAY_AUTH_MODE": "token",
        "RAY_health_check_period_ms": "500",
        "RAY_health_check_failure_threshold": "3",
    }


@dataclass
class RayNode:
    """One `ray start --block` process and its log."""

    process: subprocess.Popen
    log: Path
    temp: Path

    def processes(self) -> list[psutil.Process]:
        """The node's processes: its `ray start` and every process under it."""
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def pid(self, name: str) -> int:
        return next(p.pid for p in self.processes() if p.name() == name)


def start_node(temp: Path, *args: str) -> RayNode:
    temp.mkdir()
    log = temp / "ray-start.log"
    command = ["ray", "start", "--block", "--num-cpus=1", "--node-ip-address=127.0.0.1", f"--temp-dir={temp}"]
    process = subprocess.Popen(
        [*command, f"--dashboard-agent-listen-port={free_port()}", "--disable-usage-stats", *args],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        env=environment(),
    )
    node = RayNode(process, log, temp)
    deadline = time.monotonic() + 60
    while "Ray runtime started" not in log.read_text():
        assert process.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    return node


def stop(nodes: list[RayNode]) -> list[str]:
    """End every process of the nodes by its id: SIGTERM, then SIGKILL to those alive 5 s later; returns
    any still running after that, looked for again among the nodes' processes and every process that names
    a node's temp directory (the test fails on them)."""
    for signum, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        procs = ours(nodes)
        for proc in procs:
            with contextlib.suppress(psutil.NoSuchProcess):
                proc.send_signal(signum)
        deadline = time.monotonic() + grace
        while any(map(running, procs)) and time.monotonic() < deadline:
            time.sleep(0.2)
    for node in nodes:
        node.process.wait(timeout=5)
    return [f"{proc.pid} {' '.join(proc.cmdline())[:80]}" for proc in ours(nodes) if running(proc)]


def ours(nodes: list[RayNode]) -> list[psutil.Process]:
    """The nodes' `ray start` processes, every process under them, and any that names a node's temp dir."""
    procs = [p for node in nodes for p in node.processes()]
    for proc in psutil.process_iter(["cmdline"]):
        if proc not in procs and any(
            str(n.temp) in part for n in nodes for part in proc.info["cmdline"] or []
        ):
            procs.append(proc)
    return [proc for proc in procs if running(proc)]


def running(proc: psutil.Process) -> bool:
    """Alive, not a zombie (a process that has exited but whose parent has not reaped it yet)."""
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.fixture(scope="module")
def two_nodes() -> Iterator[tuple[str, RayNode, RayNode]]:
    """A head and a worker of one CPU each, for this module's test (which kills the worker); yields
    the head's address and both nodes."""
    temp = Path(tempfile.mkdtemp(prefix="swarm-", dir="/tmp"))  # short: Ray's socket paths live under it
    port, nodes = free_port(), []
    try:
        nodes.append(
            start_node(
                temp / "h",
                "--head",
                f"--port={port}",
                "--include-dashboard=false",
                f"--ray-client-server-port={free_port()}",
            )
        )
        nodes.append(start_node(temp / "w", f"--address=127.0.0.1:{port}"))
        yield f"127.0.0.1:{port}", *nodes
    finally:
        survivors = stop(nodes)
        shutil.rmtree(temp, ignore_errors=True)
        assert not survivors, f"Ray processes left behind: {survivors}"


def budget_file(directory: Path, make_config, evaluation: dict, **resources) -> Path:
    """The tiny file (three arms of 1, 4 and 4 agents), its evaluation at the least the door allows."""
    data = make_config(resources={"cpus": None, **resources}, evaluation=evaluation)
    path = directory / "nodes.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def swarm(*args: str, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "swarm", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
        cwd=ROOT,
        **popen,
    )


def summary(out: Path) -> dict:
    [run] = out.iterdir()
    return json.loads((run / "summary.json").read_text())


def test_a_worker_whose_raylet_dies_mid_run_stops_the_run_clearly_and_it_resumes_on_the_head(
    two_nodes, tmp_path, make_config, least_evaluation
):
    """The issue's cluster: 3 x 0.6666 CPU fits neither node, so the arms train in turn on both, at once
    rather than after a ten-minute wait for a reservation that could never be made. The worker's raylet is
    then killed while the independent arm has a host on each node: the head has no CPU free to take the lost
    one, so after resources.reserve_timeout_s the run stops with a `swarm: error:` line (exit 2, the arms
    checkpointed) naming the head's free CPUs and how to resume; resumed on the head alone, the three arms
    share its CPU and finish with the budget in every arm."""
    address, _, worker = two_nodes
    out = tmp_path / "o"
    run = swarm(
        "run",
        str(budget_file(tmp_path, make_config, least_evaluation(), reserve_timeout_s=3)),
        "--address",
        address,
        "--out",
        str(out),
    )
    for line in run.stdout:
        if line.startswith("independent:"):  # its hosts are up, one on each node
            os.kill(worker.pid("raylet"), signal.SIGKILL)
            break
    _, err = run.communicate(timeout=300)
    assert run.returncode == 2, err[-3000:]
    assert "do not fit the nodes side by side" in err and "one after another, each on all 2 CPUs" in err
    assert "Traceback" not in err
    [error] = [line for line in err.splitlines() if line.startswith("swarm: error:")]
    assert "a node holding part of arms ['independent'] died" in error, err[-3000:]
    assert "resources.reserve_timeout_s" in error and "swarm resume" in error
    assert error.count(" 0 CPU") == 1  # the head, full: the worker is gone from the list
    [run_dir] = out.iterdir()
    resume = swarm("resume", str(run_dir), "--address", address)
    _, err = resume.communicate(timeout=300)
    assert resume.returncode == 0, err[-3000:]
    arms = summary(out)["arms"]
    assert {arm: a["spent"]["agent_steps"] for arm, a in arms.items()} == dict.fromkeys(arms, BUDGET)
