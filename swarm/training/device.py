"""Where an agent learns: on the GPU Ray assigned its host (`resources.gpus`), else on the CPU.

Only the update goes to the device. An agent's network and Adam state live on the CPU and visit the device
for the update (`on`), so everything that leaves an agent -- weights for snapshots, opponents, curve points
and checkpoints, its optimizer's state -- is CPU tensors whatever the machine: weights on disk load with
`weights_only=True` anywhere, and the object store never holds a device's memory. A visit moves the network
and its Adam state (three times the weights: 0.7 MB for the default network) each way once a round, against
a round's update of epochs x minibatches gradient steps.

Rollouts' batched inference stays on the CPU, where moving it would not pay. The update is what costs (72%
of a native Connect Four round on one core, `benchmarks/throughput.py`); the rollouts' forwards are 15%
there and 2% in Leduc hold'em, whose env is 93% of a round. A move's batch is one observation per game
(`ppo.envs`), every move waits on the env, which steps on the CPU, and on a GPU each move would add a
transfer and a synchronizing read of the actions back to a forward of microseconds. Sampling stays on the
agent's CPU generators too, so the games -- and what every round spends -- are the same to the bit on any
machine: only the update's float rounding depends on the device.

Plain torch: no Ray, no files.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from swarm.training.adam import Adam

CPU = torch.device("cpu")


def learner(gpu_ids: Sequence[int | str], cuda: bool) -> torch.device:
    """The device a host's agents learn on, from the GPUs Ray assigned its process (`ray.get_gpu_ids()`):
    none, the CPU; else the first of them, which is cuda:0, since Ray makes its assigned GPUs the only ones
    the process sees. `cuda`: whether this torch can use CUDA (`torch.cuda.is_available()`)."""
    if not gpu_ids:
        return CPU
    if not cuda:
        raise RuntimeError(
            f"Ray assigned this host GPU(s) {list(gpu_ids)}, but this torch cannot use CUDA; install a CUDA "
            "build of torch on the GPU nodes, or set resources.gpus: 0"
        )
    return torch.device("cuda", 0)


def move(net: nn.Module, optimizer: Adam, device: torch.device) -> None:
    """The network's parameters and the optimizer's state on `device`, in place: the optimizer keeps its
    parameters (a module's `to` keeps their identity), and its state follows them."""
    net.to(device)
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                state[key] = value.to(device)


@contextmanager
def on(device: torch.device, net: nn.Module, optimizer: Adam) -> Iterator[None]:
    """The network and its optimizer's state on `device` inside the block, back on the CPU after it, even
    where the update failed (a process of its group died: it is redone from the CPU state)."""
    move(net, optimizer, device)
    try:
        yield
    finally:
        move(net, optimizer, CPU)
