"""Where an agent learns: its host's GPU where Ray assigned one, else the CPU; an update that visits a device
leaves the agent's state on the CPU, and on the CPU it is the plain update to the bit."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from swarm import config
from swarm.players import RandomPlayer
from swarm.players.network import ActorCritic
from swarm.training import device, ppo
from swarm.training.agent import Agent
from swarm.training.parallel import Split
from swarm.training.rollout import Batch
from swarm.training.shards import merge


def test_a_host_learns_on_the_cpu_without_gpus_and_on_its_first_gpu_with_some():
    assert device.learner([], cuda=False) == device.learner([], cuda=True) == torch.device("cpu")
    assert device.learner(["3"], cuda=True) == torch.device("cuda", 0)  # Ray shows a process its GPUs alone
    with pytest.raises(
        RuntimeError, match=r"GPU\(s\) \[0\], but this torch cannot use CUDA.*resources.gpus: 0"
    ):
        device.learner([0], cuda=False)


def test_the_optimizers_state_follows_the_parameters_which_stay_the_optimizers():
    """Moved to the meta device (no data, any machine): every parameter and Adam state tensor goes there,
    and the optimizer still steps the network's own parameters."""
    net = ActorCritic(4, 3, [8])
    optimizer = ppo.optimizer(net, config.PPO())
    obs, mask = torch.ones(2, 4), torch.ones(2, 3, dtype=torch.bool)
    (net.outputs(obs, mask).sum() + net.value(obs).sum()).backward()
    optimizer.step()
    params = list(net.parameters())
    device.move(net, optimizer, torch.device("meta"))
    assert all(p.device.type == "meta" for p in net.parameters())
    assert [id(p) for p in optimizer.param_groups[0]["params"]] == [id(p) for p in params]
    states = [v for state in optimizer.state.values() for v in state.values()]
    assert len(states) == 3 * len(params) and all(v.device.type == "meta" for v in states)  # step, m, v


def collected(spec, cfg: config.Experiment) -> tuple[Agent, Batch, torch.Generator]:
    agent = Agent(spec, cfg, 0, 0)
    slot_opponent = np.zeros(cfg.ppo.envs, np.int64)
    parts, generator = agent.shards.collect(0, agent.net, [RandomPlayer()], slot_opponent, 256)
    return agent, merge(parts)[0], generator


@pytest.mark.parametrize("shards", [1, 2])
def test_an_update_on_the_cpu_through_the_device_path_is_the_plain_one_to_the_bit(spec, make_config, shards):
    """Two updates (the second moves Adam's state too): weights and optimizer state equal to the bit, with
    one shard (the plain step) and two (every part computed here)."""
    data = make_config()
    data["arms"][0]["shards"] = shards
    cfg = config.parse(data)
    agent, batch, generator = collected(spec, cfg)
    net = copy.deepcopy(agent.net)
    optimizer = ppo.optimizer(net, cfg.ppo)
    plain = copy.deepcopy(generator)
    step = Split(shards) if shards > 1 else ppo.descend
    for _ in range(2):
        learned, _ = agent.learn(batch, cfg.ppo, generator)
        assert learned == ppo.update(net, optimizer, batch, cfg.ppo, plain, step)
    np.testing.assert_equal(agent.net.weights(), net.weights())
    mine, theirs = agent.optimizer.state_dict()["state"], optimizer.state_dict()["state"]
    assert mine.keys() == theirs.keys()
    for k in mine:
        assert all(torch.equal(mine[k][name], theirs[k][name]) for name in ("step", "exp_avg", "exp_avg_sq"))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_an_update_on_cuda_is_the_cpus_up_to_float_rounding_and_comes_back_to_the_cpu(spec, make_config):
    """Two parts of one epoch's two minibatches: 4 Adam steps, whose eps (1e-5) bounds how far a gradient's
    rounding moves a weight."""
    data = make_config(ppo={"rollout_steps": 256, "envs": 8, "epochs": 1, "minibatches": 2})
    data["arms"][0]["shards"] = 2
    cfg = config.parse(data)
    agent, batch, generator = collected(spec, cfg)
    on_gpu = copy.deepcopy(agent)
    on_gpu.learns_on = torch.device("cuda", 0)
    expected, _ = agent.learn(batch, cfg.ppo, copy.deepcopy(generator))
    learned, _ = on_gpu.learn(batch, cfg.ppo, generator)
    assert all(p.device.type == "cpu" for p in on_gpu.net.parameters())
    assert all(v.device.type == "cpu" for s in on_gpu.optimizer.state.values() for v in s.values())
    for name, weights in agent.net.weights().items():
        np.testing.assert_allclose(on_gpu.net.weights()[name], weights, atol=1e-4, err_msg=name)
    assert learned == pytest.approx(expected, rel=1e-3, abs=1e-5)
