"""The arms' reservations planned against the nodes: side by side where equal shares fit, one after another
where they do not, refused (naming every node) where neither fits. No Ray needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarm import config
from swarm.engine.packing import Wave, arrange, fits
from swarm.engine.placement import Layout, Node, Unplaceable

DEFAULT = Path(__file__).resolve().parents[1] / "budgets" / "default.yaml"


def cluster(*cpus: float, gpus: tuple[float, ...] = ()) -> list[Node]:
    gpus = gpus or (0.0,) * len(cpus)
    pairs = zip(cpus, gpus, strict=True)
    return [Node(f"{i:056x}", f"10.0.0.{i}", c, g) for i, (c, g) in enumerate(pairs, 1)]


def experiment(make_config, **resources) -> config.Experiment:
    """The tiny file (arms of 1, 4 and 4 agents), the single arm in two shards."""
    data = make_config(resources=resources)
    data["arms"][0]["shards"] = 2
    return config.parse(data)


def per_arm(wave: Wave) -> list[float]:
    return [sum(b["CPU"] for b in laid.bundles) for laid in wave.layouts]


def test_one_machine_keeps_its_layout_three_fractions_side_by_side(make_config):
    arranged = arrange(experiment(make_config, cpus=2), 2, cluster(2))
    [wave] = arranged.waves
    assert wave.layouts == [Layout(1, 0.6666, 0)] * 3 and wave.fractional and arranged.note is None


def test_two_one_cpu_nodes_take_three_arms_one_after_another_each_on_both():
    """The issue's cluster: 3 x 0.6666 CPU fits neither node, so each arm trains alone on both CPUs."""
    cfg = config.parse(config.read_mapping(DEFAULT, "a budget file") | {"resources": {"cpus": None}})
    arranged = arrange(cfg, 2, cluster(1, 1))
    assert [wave.arms for wave in arranged.waves] == [[0], [1], [2]]
    assert [per_arm(wave) for wave in arranged.waves] == [[1.0], [2.0], [2.0]]  # single: one shard, one host
    assert not any(wave.fractional for wave in arranged.waves)
    note = arranged.note
    assert "3 x 0.6666 CPU on one node" in note and "one after another, each on all 2" in note
    assert note.count(" 1 CPU") == 2 and "arms_in_parallel: false" in note  # each node named, not a sum


def test_two_arms_on_two_one_cpu_nodes_go_side_by_side_one_cpu_each(make_config):
    data = make_config(resources={"cpus": 2})
    data["arms"] = [data["arms"][0], data["arms"][2]]
    arranged = arrange(config.parse(data), 2, cluster(1, 1))
    [wave] = arranged.waves
    assert per_arm(wave) == [1.0, 1.0] and not wave.fractional and arranged.note is None


def test_uneven_nodes_of_1_2_and_5_cpus_give_three_arms_two_whole_cpus_each(make_config):
    cfg = experiment(make_config, cpus=None)
    [wave] = arrange(cfg, 8, cluster(1, 2, 5)).waves
    assert per_arm(wave) == [2.0, 2.0, 2.0]  # 8 / 3 = 2.67 each: whole CPUs, the same for every arm
    assert wave.layouts[0] == Layout(1, 1.0, 1)  # the single agent: a host and a rollout worker
    assert wave.layouts[1] == Layout(2, 1.0, 0)
    assert all(b == {"CPU": 1.0} for b in wave.bundles)
    assert not fits(cluster(1, 2, 2), Wave([0, 1, 2], wave.layouts * 2))  # 12 whole CPUs asked of 5


def test_fractional_shares_share_one_node_where_one_can_hold_them_all(make_config):
    cfg = experiment(make_config, cpus=2)
    [wave] = arrange(cfg, 2, cluster(1, 3)).waves  # 3 x 0.6666 fits the 3-CPU node
    assert wave.fractional and per_arm(wave) == [0.6666] * 3
    assert fits(cluster(1.9998), wave) and not fits(cluster(1.9997, 1), wave)  # counted in 1e-4 units


def test_whole_cpus_count_only_whole_free_cpus_on_each_node():
    wave = Wave([0], [Layout(2, 1.0, 0)])
    assert fits(cluster(1, 1), wave) and fits(cluster(0.5, 2.5), wave)
    assert not fits(cluster(0.5, 0.5, 1), wave)  # 2 CPUs free in all, one of them whole


def test_arms_asked_to_go_one_after_another_do_so_without_a_note(make_config):
    arranged = arrange(experiment(make_config, cpus=2, arms_in_parallel=False), 2, cluster(2))
    assert [wave.arms for wave in arranged.waves] == [[0], [1], [2]] and arranged.note is None
    assert [per_arm(wave) for wave in arranged.waves] == [[2.0], [2.0], [2.0]]


def test_arms_that_fit_no_way_are_refused_naming_each_node_and_the_fields(make_config):
    with pytest.raises(Unplaceable) as refused:
        arrange(experiment(make_config, cpus=2), 2, cluster(1.5, 0.5))
    message = str(refused.value)
    assert "10.0.0.1 (000000) 1.5 CPU" in message and "10.0.0.2 (000000) 0.5 CPU" in message
    assert "resources.cpus" in message and "resources.arms_in_parallel" in message
    assert "3 x 0.6666 CPU on one node" in message and "2 whole CPU(s)" in message
    with pytest.raises(Unplaceable, match="no node"):
        arrange(experiment(make_config, cpus=2, arms_in_parallel=False), 2, [])


def test_a_node_says_its_gpus_where_it_has_some():
    assert str(Node("ab" * 28, "10.0.0.9", 3.5, 1.0)) == "10.0.0.9 (ababab) 3.5 CPU, 1 GPU"


def per_arm_gpus(wave: Wave) -> list[float]:
    return [round(sum(b.get("GPU", 0) for b in laid.bundles), 4) for laid in wave.layouts]


def test_gpus_split_evenly_between_arms_and_their_hosts(make_config):
    """Two GPUs over three arms on 8 CPUs: 0.6666 GPU an arm, its hosts' shares of it on their bundles."""
    cfg = experiment(make_config, cpus=None, gpus=2)
    [wave] = arrange(cfg, 8, cluster(8, gpus=(2,))).waves
    assert [laid.gpus_per_host for laid in wave.layouts] == [0.6666, 0.3333, 0.3333]  # 1, 2 and 2 hosts
    assert per_arm_gpus(wave) == [0.6666] * 3
    assert wave.bundles[:2] == [{"CPU": 1.0, "GPU": 0.6666}, {"CPU": 1.0}]  # the single's host, its worker
    assert fits(cluster(8, gpus=(2,)), wave) and not fits(cluster(8, gpus=(1.9997,)), wave)


def test_gpu_shares_are_packed_device_by_device_beside_a_cpu_each():
    wave = Wave([0, 1], [Layout(1, 1.0, 0, 0.6), Layout(1, 1.0, 0, 0.6)])
    assert not fits(cluster(2, gpus=(1.2,)), wave)  # 1.2 GPUs free, but no device holds both 0.6
    assert fits(cluster(2, gpus=(2,)), wave) and fits(cluster(1, 1, gpus=(1, 1)), wave)
    assert not fits(cluster(0, 2, gpus=(2, 0)), wave)  # the GPUs' node has no CPU for their hosts
    assert fits(cluster(8), Wave([0], [Layout(2, 1.0, 0)]))  # no GPU asked, none needed


def test_fractional_cpus_and_their_gpus_share_one_node():
    wave = Wave([0, 1, 2], [Layout(1, 0.6666, 0, 0.25)] * 3)
    assert wave.need() == "3 x 0.6666 CPU on one node and 0.75 GPU(s) of at most one device per host"
    assert fits(cluster(2, gpus=(1,)), wave)
    assert not fits(cluster(2, 1, gpus=(0, 1)), wave)  # the CPUs on one node, the GPU on the other


def test_arms_that_go_one_after_another_each_take_all_the_gpus():
    """The issue's two one-CPU nodes, a GPU each, and a file asking for one: one after another, each arm's
    hosts share all of it."""
    data = config.read_mapping(DEFAULT, "a budget file") | {"resources": {"cpus": None, "gpus": 1}}
    arranged = arrange(config.parse(data), 2, cluster(1, 1, gpus=(1, 1)))
    assert [wave.arms for wave in arranged.waves] == [[0], [1], [2]]
    assert [per_arm_gpus(wave) for wave in arranged.waves] == [[1.0]] * 3
    assert [wave.layouts[0].gpus_per_host for wave in arranged.waves] == [1.0, 0.5, 0.5]  # 1 host, 2, 2
    assert "and 0.9999 GPU(s) of at most one device per host" in arranged.note
    with pytest.raises(Unplaceable, match="the arms fit no node"):  # two hosts, one CPU beside a GPU
        arrange(config.parse(data), 2, cluster(1, 1, gpus=(1, 0)))


def test_a_file_asking_for_gpus_a_cluster_lacks_is_refused_naming_the_field(make_config):
    with pytest.raises(Unplaceable) as refused:
        arrange(experiment(make_config, cpus=None, gpus=1), 8, cluster(8))
    message = str(refused.value)
    assert "resources.gpus" in message and "1 GPUs between the arms" in message and "8 CPU" in message


def test_a_host_never_gets_more_than_one_gpu(make_config):
    """Four GPUs over three arms give the single agent's one host 1.33: refused, naming the most (3)."""
    single = r"resources\.gpus: arm 'single' would hold 1\.33333 GPUs on 1 host"
    with pytest.raises(Unplaceable, match=single):
        arrange(experiment(make_config, cpus=None, gpus=4), 8, cluster(8, gpus=(4,)))
    with pytest.raises(Unplaceable, match=r"lower resources\.gpus to 3 or less"):
        arrange(experiment(make_config, cpus=None, gpus=4), 8, cluster(8, gpus=(4,)))
    [wave] = arrange(experiment(make_config, cpus=None, gpus=3), 8, cluster(8, gpus=(3,))).waves
    assert [laid.gpus_per_host for laid in wave.layouts] == [1.0, 0.5, 0.5]
