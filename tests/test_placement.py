"""An arm's CPUs as hosts and rollout workers, and the advice where it leaves some idle: no Ray needed."""

from __future__ import annotations

from swarm import config
from swarm.engine.placement import Layout, idle, layout


def test_spare_cpus_go_to_rollout_workers_never_beyond_an_agents_shards():
    assert layout(2, 3, 1, 4) == Layout(1, 0.6666, 0)  # three arms on two CPUs: fractions, no workers
    assert layout(2, 1, 1, 4) == Layout(1, 1.0, 1)  # the single agent alone on two: a host and a worker
    assert layout(16, 1, 1, 4) == Layout(1, 1.0, 3)  # four shards: four processes at most
    assert layout(16, 1, 16, 4) == Layout(16, 1.0, 0)
    assert layout(32, 1, 16, 4) == Layout(16, 1.0, 1)
    assert layout(8, 1, 16, 4) == Layout(8, 1.0, 0)  # fewer CPUs than agents: hosts share them


def test_an_arms_gpus_split_evenly_between_its_hosts_never_above_its_share():
    assert layout(16, 2, 16, 1, gpus=1) == Layout(8, 1.0, 0, 0.0625)  # 16 agents on 8 hosts share half a GPU
    assert layout(16, 2, 1, 4, gpus=1) == Layout(1, 1.0, 3, 0.5)  # the single agent's host: the other half
    assert layout(2, 3, 4, 1, gpus=1) == Layout(1, 0.6666, 0, 0.3333)  # rounded down, as Ray counts


def test_an_arm_reserves_a_bundle_per_host_then_one_cpu_per_worker():
    assert Layout(1, 0.6666, 0).bundles == [{"CPU": 0.6666}]
    assert Layout(2, 1.0, 2).bundles == [{"CPU": 1.0}] * 6
    assert Layout(2, 1.0, 1, 0.5).bundles == [{"CPU": 1.0, "GPU": 0.5}] * 2 + [{"CPU": 1.0}] * 2


def test_agents_are_dealt_to_hosts_in_turn():
    assert Layout(3, 1.0, 0).members(7) == [[0, 3, 6], [1, 4], [2, 5]]
    assert Layout(1, 0.5, 0).members(2) == [[0, 1]]


def test_an_arm_with_idle_cpus_is_told_what_to_change_and_no_other(make_config):
    cfg = config.parse(make_config())  # 8 games and batches of 256 an agent
    single, swarm = cfg.arms[0], cfg.arms[2]  # 1 and 4 agents, one shard each
    advice = idle(cfg, single, 2, Layout(1, 1.0, 0))
    assert advice and "leaves 1 of its 2 CPUs idle" in advice and "shards to 2" in advice
    assert "shards to 8" in idle(cfg, single, 16, Layout(1, 1.0, 0))  # no more shards than games
    assert idle(cfg, swarm, 5, Layout(4, 1.0, 0)) is None  # 5 CPUs over 4 agents: one process each at most
    assert idle(cfg, single.model_copy(update={"shards": 2}), 2, Layout(1, 1.0, 1)) is None
    assert idle(cfg, single, 0, Layout(1, 0.0, 0)) is None  # a fraction of a CPU
