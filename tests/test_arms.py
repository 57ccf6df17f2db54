"""Training arms on Ray: arms spread over a cluster's nodes; a killed host, a killed rollout worker or a lost
node costs a replayed round, never a different run."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import ray
import torch
from ray.cluster_utils import Cluster
from ray.util.placement_group import placement_group

from swarm import config, engine, envs
from swarm.engine import arms
from swarm.engine.actors import Stored
from swarm.engine.placement import Unplaceable
from swarm.interaction.pbt import Copy
from swarm.training.agent import Agent


def actor_processes(actor: str = "Host") -> list[int]:
    """PIDs of this machine's processes of an actor class (Ray titles them ray::<class>...)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().startswith(f"ray::{actor}".encode()):
                pids.append(int(proc.name))
        except OSError:
            continue
    return pids


@pytest.fixture
def same_run(same_training):
    """Assert a run trained exactly as `reference` did: ledger, rows and weights, the budget in every arm."""

    def check(trained: engine.Trained, reference: engine.Trained) -> None:
        ledger = trained.ledger.frame()
        assert not ledger.duplicated(["agent", "stage", "round"]).any()
        same_training(ledger, trained.rows, reference.ledger.frame(), reference.rows)
        np.testing.assert_equal(trained.weights, reference.weights)
        assert trained.ledger.lineage == reference.ledger.lineage
        for totals in trained.ledger.totals_by_arm().values():
            assert totals["agent_steps"] == 2048  # the budget, in every arm

    return check


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_killed_host_is_restarted_and_replays_its_round(caplog, modes_config, uninterrupted, same_run):
    """Every host killed as pbt's copy round is about to start (Ray restarts them; the driver restores each
    running arm's agents, a copier from its source's weights and Adam state, and replays the round; an arm
    already done asks its restarted host where it ran): every arm of every mode trains as the uninterrupted
    run did, lineage and all."""
    cfg = modes_config
    reference = uninterrupted(cfg)
    assert reference.ledger.lineage  # pbt copied
    killed = []

    def kill(arm: str, spent: float) -> None:
        if not killed and arm == "pbt" and spent >= 4 * 256:  # round 0 in; the copy round goes next
            killed.extend(actor_processes())
            for pid in killed:
                os.kill(pid, signal.SIGKILL)

    with engine.session(None, 2) as cpus, caplog.at_level(logging.WARNING, "swarm.engine"):
        trained = engine.train(cfg, cpus, kill)
    assert killed and "restoring it, replaying" in caplog.text
    same_run(trained, reference)


@pytest.fixture(scope="module")
def with_workers(make_config) -> config.Experiment:
    """The tiny run, arms one after another on 2 CPUs, the single agent's games in 2 shards: it plays on
    its host and a rollout worker."""
    data = make_config(resources={"cpus": 2, "arms_in_parallel": False})
    data["arms"][0]["shards"] = 2
    return config.parse(data)


@pytest.fixture(scope="module")
def on_one_cpu(with_workers) -> engine.Trained:
    """`with_workers` trained on one CPU: no rollout workers, every shard on the host."""
    with engine.session(None, 1) as cpus:
        return engine.train(with_workers, cpus)


def kill(actor: str, restarted: bool) -> int:
    """SIGKILL the newest process of an actor class; with `restarted`, return only once Ray has restarted
    it (a new process done with __init__), so its next call finds a fresh instance and no error."""
    pid = max(actor_processes(actor))
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while restarted and time.monotonic() < deadline:
        ready = []
        for other in set(actor_processes(actor)) - {pid}:
            with contextlib.suppress(OSError):
                ready.append(
                    Path(f"/proc/{other}/cmdline").read_bytes().rstrip(b"\0") == f"ray::{actor}".encode()
                )
        if any(ready):
            break
        time.sleep(0.1)
    else:
        assert not restarted, f"Ray did not restart {actor} within 60 s"
    return pid


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_single_agent_plays_on_rollout_workers_and_survives_losing_one(with_workers, on_one_cpu, same_run):
    """On 2 CPUs the single agent plays its shards on its host and a rollout worker. The worker's process
    is killed in the middle of a round (50 ms into it, from a timer): it gets its games back and replays its
    shards, and the run is the one-CPU run to the bit."""
    killed, after, armed = [], set(), []

    def kill_worker(arm: str, spent: float) -> None:
        if arm != "single" or spent < 768:
            return
        if not armed:  # the next round is sent as this call returns
            armed.append(True)
            threading.Timer(0.05, lambda: killed.append(kill("RolloutWorker", restarted=False))).start()
        else:
            after.update(actor_processes("RolloutWorker"))

    with engine.session(None, 2) as cpus:
        trained = engine.train(with_workers, cpus, kill_worker)
    assert len(trained.nodes["single"]) == 2  # its host and its worker
    assert killed and after - set(killed)  # a fresh worker process played the later rounds
    same_run(trained, on_one_cpu)


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs Linux /proc")
def test_a_worker_then_a_host_restarted_while_idle_are_noticed(with_workers, on_one_cpu, same_run, caplog):
    """Between rounds the single agent's rollout worker is killed and restarted by Ray before its next call,
    which then finds a fresh worker without its games (and no error); rounds later its host is, and the fresh
    host (fresh agent, initial weights) must not play as if nothing happened. The worker gets its games back
    and replays its shards; the driver restores the host, which finds its workers by name; and the run is
    the one-CPU run to the bit."""
    killed, after = {}, set()

    def kill_idle(arm: str, spent: float) -> None:
        if arm != "single":  # arms one after another: the single arm's host and worker are the only ones up
            return
        if "worker" not in killed and spent >= 768:
            killed["worker"] = kill("RolloutWorker", restarted=True)
        elif "worker" in killed and "host" not in killed and spent >= 1280:
            after.update(actor_processes("RolloutWorker"))  # the fresh worker has played a round
            killed["host"] = kill("Host", restarted=True)

    with engine.session(None, 2) as cpus, caplog.at_level(logging.WARNING, "swarm.engine"):
        trained = engine.train(with_workers, cpus, kill_idle)
    assert set(killed) == {"worker", "host"} and after - {killed["worker"]}
    assert "restoring it, replaying" in caplog.text
    same_run(trained, on_one_cpu)


def test_nodes_busy_past_the_reservation_timeout_stop_training_clearly(caplog, make_config):
    """Another job holds both CPUs: the arms fit the node once it ends, so the run waits for them, then
    stops with an error naming the node's free CPUs after resources.reserve_timeout_s, trained nothing."""
    cfg = config.parse(make_config(resources={"cpus": 2, "reserve_timeout_s": 1}))
    with engine.session(None, 2) as cpus:
        other = placement_group([{"CPU": 2}])
        ray.get(other.ready())
        deadline = time.monotonic() + 10
        while ray.available_resources().get("CPU", 0) and time.monotonic() < deadline:  # the GCS has heard
            time.sleep(0.1)
        with caplog.at_level(logging.WARNING, "swarm.engine"), pytest.raises(Unplaceable) as stopped:
            engine.train(cfg, cpus, lambda arm, spent: pytest.fail("an arm trained"))
    assert "cannot hold the arms now; waiting up to 1 s" in caplog.text
    assert "could not reserve 3 bundle(s) of 0.6666 CPU on one node within 1 s" in str(stopped.value)
    assert "127.0.0.1 " in str(stopped.value) and " 0 CPU" in str(stopped.value)


@pytest.fixture(scope="module")
def cluster():
    """A three-node Ray cluster on this machine: a head and two workers, one CPU each."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    for _ in range(2):
        cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster
    cluster.shutdown()


def test_arms_spread_over_nodes_and_survive_a_lost_node(
    cluster, caplog, make_config, uninterrupted, same_run
):
    """Each arm in turn on 2 of the 3 CPUs (one bundle per node where it can); a worker node holding part of
    the swarm arm is removed mid-run and a fresh one joins, as an autoscaler would do: Ray restarts the lost
    host on it and the run finishes as if nothing happened."""
    cfg = config.parse(make_config(resources={"cpus": 2, "arms_in_parallel": False}))
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

    with engine.session(cluster.address, cfg.resources.cpus) as cpus:
        assert cpus == 2
        with caplog.at_level(logging.WARNING, "swarm.engine"):
            trained = engine.train(cfg, cpus, remove_node)
    assert "arm 'single' leaves 1 of its 2 CPUs idle" in caplog.text  # one shard: no rollout worker
    assert lost, "no worker node held a bundle of the independent arm"
    assert len({node for nodes in trained.nodes.values() for node in nodes}) > 1
    assert all(len(set(trained.nodes[arm])) == 2 for arm in ("independent", "swarm"))
    same_run(trained, reference)


def test_pbt_copies_weights_exactly(make_config):
    """At a learning rate of 1e-30 no update moves a float32 weight, so an agent's weights change only when
    it copies: after training, each agent holds the initial weights of its lineage's root, bit for bit."""
    arms = [
        {"name": "independent", "agents": 4, "interaction": "self_play"},
        {"name": "pbt", "agents": 4, "interaction": "pbt", "options": {"every": 1, "spread": 1}},
    ]
    cfg = config.parse(
        make_config(
            arms=arms,
            ppo={**make_config()["ppo"], "lr": 1e-30},
            budget={"unit": "agent_steps", "total": 4096},
        )
    )
    with engine.session(None, 2) as cpus:
        trained = engine.train(cfg, cpus)
    lineage = trained.ledger.lineage_frame()
    assert len(lineage)  # the members' training scores differ: the weakest copied
    holder = list(range(4))  # whose initial weights each agent holds
    for row in lineage.itertuples():
        holder[int(row.agent[-1])] = holder[int(row.source[-1])]
    spec = envs.describe(cfg.env, cfg.env_kwargs)
    initial = [Agent(spec, cfg, 1, i).net.weights() for i in range(4)]
    for i in range(4):
        np.testing.assert_equal(trained.weights[f"pbt/{i}"], initial[holder[i]])
    assert len(set(holder)) < 4


def test_a_copier_is_handed_its_source_weights_and_adam_state_and_keeps_its_games():
    """The driver's side of PBT's exploit step: the state a host restores the copier from."""
    agents = {
        i: Stored(
            weights=f"weights-{i}",  # an object ref in a run; any value here
            optimizer={"state": {0: {"step": torch.tensor(float(i)), "exp_avg": torch.full((3,), float(i))}}},
            games=[{"seed": np.array([i])}],
        )
        for i in range(4)
    }
    got = arms.handed(agents, [Copy(0, 3, {"lr": 1.0}), Copy(1, 2, {"lr": 1.0})])
    assert set(got) == {0, 1}
    for copier, source in ((0, 3), (1, 2)):
        assert got[copier].weights == agents[source].weights
        assert got[copier].optimizer is agents[source].optimizer  # Adam's moments and step, untouched
        assert got[copier].games is agents[copier].games
