"""swarm's Adam is torch.optim.Adam(fused=True) to the bit, saves and loads torch's state dict, and never
imports torch._dynamo."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import pytest
import torch

from swarm.training.adam import Adam


def net() -> torch.nn.Module:
    """Two layers, the second unused on some steps: a parameter without a gradient is skipped, and its
    moments start at its first step, as torch's do."""
    torch.manual_seed(0)
    return torch.nn.ModuleList([torch.nn.Linear(5, 4), torch.nn.Linear(4, 3)])


def descend(model: torch.nn.Module, optimizer, step: int, lr: float) -> None:
    optimizer.param_groups[0]["lr"] = lr
    optimizer.zero_grad()
    x = torch.randn(8, 5, generator=torch.Generator().manual_seed(step))
    out = model[0](x)
    if step % 3:
        out = model[1](out)
    out.pow(2).mean().backward()
    optimizer.step()


def train(model: torch.nn.Module, optimizer, steps: range) -> None:
    for step in steps:
        descend(model, optimizer, step, lr=1e-2 * (1 - step / 20))  # annealed, as PPO's may be


def test_steps_are_torch_fused_adams_to_the_bit():
    ours, theirs = net(), net()
    optimizer = Adam(ours.parameters(), lr=1e-2, eps=1e-5)
    reference = torch.optim.Adam(theirs.parameters(), lr=1e-2, eps=1e-5, fused=True)
    for step in range(12):
        descend(ours, optimizer, step, lr=1e-2 * (1 - step / 20))
        descend(theirs, reference, step, lr=1e-2 * (1 - step / 20))
        for p, q in zip(ours.parameters(), theirs.parameters(), strict=True):
            assert torch.equal(p, q)
    saved, expected = optimizer.state_dict(), reference.state_dict()
    assert saved["param_groups"] == expected["param_groups"]
    assert saved["state"].keys() == expected["state"].keys()
    for i, state in saved["state"].items():
        assert state.keys() == expected["state"][i].keys()
        for key, value in state.items():
            assert value.dtype == expected["state"][i][key].dtype and torch.equal(
                value, expected["state"][i][key]
            )


def test_either_state_dict_resumes_in_the_other_to_the_bit():
    """A checkpoint written by torch.optim.Adam (as swarm's were) resumes here, and the other way."""
    start = net()
    first = torch.optim.Adam(start.parameters(), lr=1e-2, eps=1e-5, fused=True)
    train(start, first, range(5))
    theirs, ours = copy.deepcopy(start), copy.deepcopy(start)
    reference = torch.optim.Adam(theirs.parameters(), lr=1.0, eps=1e-5, fused=True)
    reference.load_state_dict(copy.deepcopy(first.state_dict()))
    optimizer = Adam(ours.parameters(), lr=1.0, eps=1e-5)
    optimizer.load_state_dict(copy.deepcopy(first.state_dict()))
    assert optimizer.param_groups[0]["lr"] == first.param_groups[0]["lr"]  # the group's settings, as saved
    back = copy.deepcopy(start)
    returned = torch.optim.Adam(back.parameters(), lr=1.0, eps=1e-5, fused=True)
    returned.load_state_dict(copy.deepcopy(optimizer.state_dict()))
    for model, opt in ((theirs, reference), (ours, optimizer), (back, returned)):
        train(model, opt, range(5, 10))
    for p, q, r in zip(ours.parameters(), theirs.parameters(), back.parameters(), strict=True):
        assert torch.equal(p, q) and torch.equal(r, q)


def test_a_state_dict_for_another_network_is_refused():
    small = Adam(torch.nn.Linear(2, 2).parameters(), lr=1e-3, eps=1e-5)
    big = net()
    optimizer = Adam(big.parameters(), lr=1e-3, eps=1e-5)
    with pytest.raises(ValueError, match="has 4 parameters; this network has 2"):
        small.load_state_dict(optimizer.state_dict())


def test_learning_never_imports_torch_dynamo(make_config):
    """torch.optim's Optimizer imports torch._dynamo (seconds) on first use; an agent's round of PPO, and
    saving and loading its optimizer's state, must not, in a fresh interpreter as a Ray worker is."""
    script = """
import json, sys
import numpy as np
from swarm import config, envs
from swarm.players import RandomPlayer
from swarm.training.agent import Agent

cfg = config.parse(json.loads(sys.argv[1]))
agent = Agent(envs.describe(cfg.env), cfg, 0, 0)
report = agent.train_round(0, [RandomPlayer()], np.zeros(cfg.ppo.envs, np.int64), cfg.ppo.rollout_steps)
agent.optimizer.load_state_dict(agent.optimizer.state_dict())
assert report.agent_steps > 0 and agent.optimizer.state, report
print(sorted(m for m in sys.modules if m.startswith("torch._dynamo")))
"""
    data = json.dumps(make_config())
    done = subprocess.run([sys.executable, "-c", script, data], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout
