"""The Ray layer: a local session exposes nothing beyond loopback; arms spread over a cluster's nodes; a
killed host or a lost node costs a replayed round, never a different run."""

from __future__ import annotations

import ipaddress
import logging
import os
import signal
from pathlib import Path

import pandas as pd
import pytest
import ray
from ray.cluster_utils import Cluster

from swarm import config, population
from tests.conftest import tiny_config
from tests.tiny_runs import rows_without_time, uninterrupted, without_time

LISTEN = "0A"


def listening() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket on this machine, from /proc/net/tcp{,6}."""
    sockets = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state != LISTEN:
                continue
            hex_ip, hex_port = local.split(":")
            raw = bytes.fromhex(hex_ip)
            # the kernel prints each 32-bit word of the address in host (little-endian) order
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            sockets.add((str(ipaddress.ip_address(packed)), int(hex_port, 16)))
    return sockets


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net")
def test_local_session_listens_on_loopback_only():
    before = listening()
    with population.session(None, 2) as cpus:
        assert cpus == 2

        @ray.remote
        def ping() -> int:
            return 1

        assert ray.get(ping.remote()) == 1  # a worker process is up, with its own server
        opened = listening() - before
    assert opened, "a running Ray must listen somewhere"
    exposed = sorted(address for address, _ in opened if not is_loopback(address))
    assert not exposed, f"Ray listens beyond loopback: {exposed}"


def host_processes() -> list[int]:
    """PIDs of this machine's Host actor processes (Ray titles them ray::Host...)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(b"ray::Host"):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


def tiny(**resources) -> config.Experiment:
    return config.parse(tiny_config(resources={"cpus": 2, **resources}))


def assert_same_training(trained: population.Trained, reference: population.Trained) -> None:
    ledger = trained.ledger.frame()
    assert not ledger.duplicated(["agent", "stage", "round"]).any()
    pd.testing.assert_frame_equal(without_time(ledger), without_time(reference.ledger.frame()))
    pd.testing.assert_frame_equal(rows_without_time(trained.rows), rows_without_time(reference.rows))
    for totals in trained.ledger.totals_by_arm().values():
        assert totals["agent_steps"] == 2048  # the budget, in every arm


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_killed_host_is_restarted_and_replays_its_round(caplog):
    cfg = tiny()
    reference = uninterrupted(cfg)
    killed = []

    def kill(arm: str, spent: float) -> None:
        if not killed and arm == "single" and spent >= 768:  # hosts of every arm are up by now
            killed.append(max(host_processes()))
            os.kill(killed[0], signal.SIGKILL)

    with population.session(None, 2) as cpus, caplog.at_level(logging.WARNING, "swarm.population"):
        trained = population.train(cfg, cpus, kill)
    assert killed and "restoring it, replaying" in caplog.text
    assert_same_training(trained, reference)


@pytest.fixture(scope="module")
def cluster():
    """A three-node Ray cluster on this machine: a head and two workers, one CPU each."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def test_arms_spread_over_nodes_and_survive_a_lost_node(cluster):
    """Each arm in turn on 2 of the 3 CPUs (one bundle per node where it can); a worker node holding part of
    the swarm arm is removed mid-run and a fresh one joins, as an autoscaler would do: Ray restarts the lost
    host on it and the run finishes as if nothing happened."""
    cfg = tiny(arms_in_parallel=False)
    reference = uninterrupted(cfg)
    lost = []

    def remove_node(arm: str, spent: float) -> None:
        if lost or arm != "independent":
            return
        groups = ray.util.placement_group_table().values()
        used = {node for group in groups for node in group["bundles_to_node_id"].values()}
        victim = next((node for node in cluster.worker_nodes if node.node_id in used), None)
        if victim is not None:
            lost.append(victim.node_id)
            cluster.remove_node(victim, allow_graceful=False)
            cluster.add_node(num_cpus=1)

    with population.session(cluster.address, cfg.resources.cpus) as cpus:
        assert cpus == 2
        trained = population.train(cfg, cpus, remove_node)
    assert lost, "no worker node held a bundle of the independent arm"
    assert len({node for nodes in trained.nodes.values() for node in nodes}) > 1
    assert all(len(set(trained.nodes[arm])) == 2 for arm in ("independent", "swarm"))
    assert_same_training(trained, reference)
