"""An agent's PPO update split over the processes that play its shards, with results that depend on its
shards, never on the processes.

Every minibatch is split into the agent's K parts (K = its shards, a property of the file): K runs of
consecutive rows, `budget.split(len(minibatch), K)` of them. A part's contribution is the gradient of its
rows' summed loss terms over the minibatch's size, so the parts' contributions add up to the gradient of
the minibatch's mean loss; the same holds for the diagnostics. Process p of P computes the parts it owns
(`shards.owned(K, P, p)`), the processes all-gather every part's flat vector (gradient, then diagnostics),
and each sums them in part order 0..K-1 and takes the same clipped Adam step. One process computes every
part itself and sums them in the same order, so the weights come out the same to the bit for any P; they
equal the unsplit update's up to float rounding. Whatever spans a minibatch (its advantages' normalization,
the permutation that draws it) is computed whole, on every process, from the same batch and generator.

The transport is gloo (`torch.distributed`), in a `Group` of the agent's processes made once and kept while
they live: each minibatch needs one exchange, and through Ray's object store it would cost 7 times as much.
Measured on a 2-core VM under load (2026-11-30, load average 10-11; two processes swapping a part's 55,821
floats, the default network's): gloo's all-gather 1.2 ms, a Ray actor call carrying the same tensor there
and back 8.3 ms; a default minibatch (2,048 rows) takes about 19 ms unsplit and 9 ms for one of two parts
(load 4.8), so gloo costs an eighth of the half saved, Ray nearly all of it. A group is made in 20 ms.

Plain torch: no Ray, no files.
"""

from __future__ import annotations

import datetime
import socket
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from swarm import budget
from swarm.config import PPO
from swarm.players.network import ActorCritic
from swarm.training.ppo import Minibatch, objective
from swarm.training.shards import owned

# this process's rows (a part's vector each, padded to the most any process owns) -> every process's, in
# process order
Exchange = Callable[[torch.Tensor], list[torch.Tensor]]
DIAGNOSTICS = 5  # policy and value loss, entropy, approx KL, clip fraction (ppo.objective)
TIMEOUT = datetime.timedelta(seconds=60)  # a collective waiting this long on a dead peer fails


class Broken(RuntimeError):
    """A process of the group died or left it: the update fails on every process, to be redone."""


def alone(rows: torch.Tensor) -> list[torch.Tensor]:
    """The exchange of a process that computes every part."""
    return [rows]


@dataclass(frozen=True)
class Split:
    """A `ppo.Descend` over the agent's `parts`, of which this process (`process` of `processes`) computes
    its own and `exchange` brings the others'."""

    parts: int
    processes: int = 1
    process: int = 0
    exchange: Exchange = alone

    def __call__(
        self, net: ActorCritic, optimizer: torch.optim.Optimizer, mb: Minibatch, cfg: PPO
    ) -> torch.Tensor:
        size = len(mb.action)
        params = list(net.parameters())
        total = sum(p.numel() for p in params)
        bounds = np.cumsum([0, *budget.split(size, self.parts)])
        mine = owned(self.parts, self.processes, self.process)
        rows = torch.zeros(-(-self.parts // self.processes), total + DIAGNOSTICS, device=mb.obs.device)
        for row, k in enumerate(mine):
            if bounds[k + 1] > bounds[k]:  # an empty part adds nothing
                loss, diagnostics = objective(
                    net, mb.rows(bounds[k], bounds[k + 1]), cfg, lambda x: x.sum() / size
                )
                grads = torch.autograd.grad(loss, params)
                rows[row] = torch.cat([*(g.reshape(-1) for g in grads), diagnostics])
        gathered = self.exchange(rows)
        summed = gathered[0][0].clone()
        for k in range(1, self.parts):  # in part order, whichever process computed which part
            summed += gathered[k % self.processes][k // self.processes]
        offset = 0
        for p in params:
            p.grad = summed[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        optimizer.step()
        return summed[total:]


class Group:
    """A gloo process group of an agent's processes, its host rank 0: the host's store listens on its node's
    address (`listen`), the others connect to it. Every socket is bound to the process's own node address,
    never to all interfaces: placement spreads an arm's whole-CPU bundles over nodes, so an agent's processes
    may be on different nodes; on one machine (a local Ray) the address is 127.0.0.1. A group ends with its
    processes (the run's end, Ctrl-C and a dead host all end them; the survivors' next exchange fails at
    once, or after TIMEOUT where a whole node went)."""

    def __init__(
        self, address: str, store: dist.Store, rank: int, size: int, listening: socket.socket | None = None
    ):
        options = dist.ProcessGroupGloo._Options()
        options._timeout = TIMEOUT
        options._devices = [dist.ProcessGroupGloo.create_device(hostname=address)]
        self.store, self.size, self.listening = store, size, listening
        self.group = dist.ProcessGroupGloo(store, rank, size, options)

    def exchange(self, rows: torch.Tensor) -> list[torch.Tensor]:
        gathered = [torch.empty_like(rows) for _ in range(self.size)]
        try:
            self.group.allgather([gathered], [rows]).wait()
        except RuntimeError as error:  # gloo's: a peer's connection reset or timed out
            raise Broken(str(error)) from error
        return gathered

    def close(self) -> None:
        """Shut the group's connections, so that a peer still waiting on it fails at once."""
        self.group.shutdown()
        if self.listening is not None:
            self.listening.close()


def listen(address: str) -> tuple[socket.socket, int]:
    """A socket for the host's store, bound to `address` on a free port, and the port."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    sock.bind((address, 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def host(address: str, sock: socket.socket, size: int) -> Group:
    """Rank 0's group: its store served on `sock` (from `listen`); returns once every rank has joined."""
    port = sock.getsockname()[1]
    store = dist.TCPStore(
        address,
        port,
        size,
        is_master=True,
        timeout=TIMEOUT,
        wait_for_workers=False,
        master_listen_fd=sock.fileno(),
    )
    return Group(address, store, 0, size, sock)


def join(address: str, host_address: str, port: int, rank: int, size: int) -> Group:
    """Rank `rank`'s group, its own sockets on `address`, the store at the host's `host_address:port`."""
    store = dist.TCPStore(host_address, port, size, is_master=False, timeout=TIMEOUT)
    return Group(address, store, rank, size)
