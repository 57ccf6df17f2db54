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

The processes exchange in a `Group` made once and kept while they live: each minibatch needs one exchange.
Where every process is on one machine (one address), through shared memory (`Local`): each writes its rows
into a memory-mapped file of its own and waits at a barrier kept by rank 0 over loopback sockets. Across
machines, through gloo (`torch.distributed`). Measured on a quiet 2-core VM (2026-12-01, two pinned
processes): gloo's all-gather takes 1.0 ms whatever the size up to the default network's 55,826 floats
(its wake-ups, not its bytes), 3.0 ms for 616,000 (hidden [512, 512]); a Ray actor call carrying the
default's there and back 8.3 ms (under load). A default minibatch (2,048 rows) takes about 11 ms unsplit
and 6 ms for one of two parts, so gloo's 16 exchanges a round cost a fifth of the half saved.

Plain torch and sockets: no Ray.
"""

from __future__ import annotations

import contextlib
import datetime
import mmap
import os
import socket
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from swarm import budget
from swarm.config import PPO
from swarm.players.network import ActorCritic
from swarm.training.adam import Adam
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

    def __call__(self, net: ActorCritic, optimizer: Adam, mb: Minibatch, cfg: PPO) -> torch.Tensor:
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


class Local:
    """An all-gather among processes of one machine. Each process writes its rows into a file of its own,
    memory-mapped by all, then waits at a barrier: every other rank sends rank 0 a byte over a loopback
    socket and rank 0 answers each once all have. Two buffers alternate, so a process may write the next
    exchange's rows while a slower one still reads this one's (it cannot get two ahead: the barrier between).
    A file is unlinked as soon as every process has mapped it, and any rank's leftover files when a rank
    closes the group, so only a process killed while it makes its files can leave one behind; a dead peer's
    socket closes, which fails the others' exchange at once."""

    def __init__(self, address: str, store: dist.Store, rank: int, size: int):
        self.rank, self.size = rank, size
        self.folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
        self.layouts: dict[tuple, list[np.ndarray]] = {}  # (shape, dtype) -> every rank's two buffers
        self.maps: list[mmap.mmap] = []
        self.calls = 0
        if rank == 0:
            store.set("local/name", f"swarm-{uuid.uuid4().hex}")
            listening = socket.create_server((address, 0))
            listening.settimeout(TIMEOUT.total_seconds())  # a rank that died joining
            store.set("local/port", str(listening.getsockname()[1]))
            self.peers = []
            try:
                for _ in range(size - 1):
                    conn, _ = listening.accept()
                    self.peers.append(conn)
            finally:
                listening.close()
        else:
            conn = socket.create_connection((address, int(store.get("local/port"))), TIMEOUT.total_seconds())
            self.peers = [conn]
        self.name = store.get("local/name").decode()
        for conn in self.peers:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            conn.settimeout(TIMEOUT.total_seconds())

    def barrier(self) -> None:
        """Return once every rank has called it; a rank that left fails it on every other rank."""
        try:
            if self.rank == 0:
                for conn in self.peers:
                    if not conn.recv(1):
                        raise Broken("a process left the group")
                for conn in self.peers:
                    conn.sendall(b"g")
            else:
                self.peers[0].sendall(b"a")
                if not self.peers[0].recv(1):
                    raise Broken("the group's first process left it")
        except (Broken, OSError) as error:  # OSError: reset, refused or timed out
            if self.rank == 0:  # the others wait on it: they fail now
                for conn in self.peers:
                    conn.close()
            raise Broken(str(error)) from error

    def buffers(self, rows: np.ndarray) -> list[np.ndarray]:
        """Every rank's two buffers for rows of this shape and type, made the first time it is seen."""
        key = (rows.shape, rows.dtype.str)
        if key not in self.layouts:
            stem = f"{self.name}-{len(self.layouts)}"
            mine = self.folder / f"{stem}-{self.rank}"
            with open(mine, "w+b") as f:
                try:  # every page now: a full /dev/shm would otherwise kill the process at its first write
                    allocate(f.fileno(), 2 * rows.nbytes)
                except OSError as error:
                    self.close()  # the others fail at once
                    raise RuntimeError(
                        f"no room for {2 * rows.nbytes / 2**20:.1f} MiB of shared memory in {self.folder} "
                        f"({error}); give it more (in Docker: --shm-size) or run each agent on one CPU"
                    ) from error
            self.barrier()  # every rank's file exists
            for r in range(self.size):
                with open(self.folder / f"{stem}-{r}", "r+b") as f:
                    self.maps.append(mmap.mmap(f.fileno(), 2 * rows.nbytes))
            self.barrier()  # every rank has mapped every file
            mine.unlink()
            self.layouts[key] = [
                np.frombuffer(m, rows.dtype).reshape(2, *rows.shape) for m in self.maps[-self.size :]
            ]
        return self.layouts[key]

    def exchange(self, rows: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's rows; the others' are views of the shared buffers, read before the next exchange but
        one overwrites them (a copy of a large part would cost more than a small part's compute)."""
        mine = rows.numpy()
        buffers = self.buffers(mine)
        self.calls += 1
        half = self.calls % 2
        buffers[self.rank][half] = mine
        self.barrier()
        return [rows if r == self.rank else torch.from_numpy(b[half]) for r, b in enumerate(buffers)]

    def close(self) -> None:
        for conn in self.peers:
            conn.close()
        self.layouts.clear()
        for m in self.maps:
            with contextlib.suppress(BufferError):  # a gathered tensor may still view it: the GC closes it
                m.close()
        for leftover in self.folder.glob(f"{self.name}-*"):  # a rank closed or died before all mapped it
            leftover.unlink(missing_ok=True)


def allocate(fd: int, size: int) -> None:
    """Give the file `size` bytes of real pages (raising OSError where there is no room), not a sparse
    file whose pages come at first write."""
    if hasattr(os, "posix_fallocate"):
        os.posix_fallocate(fd, 0, size)
    else:  # macOS
        os.ftruncate(fd, size)
        os.pwrite(fd, bytes(size), 0)


class Group:
    """The exchange of an agent's processes, its host rank 0: the host's store listens on its node's
    address (`listen`), the others connect to it. On one machine (every rank's address the same) the ranks
    exchange through shared memory (`Local`), unless `shared` is false; across machines through a gloo
    process group. Every socket is bound to the process's own node address, never to all interfaces:
    placement spreads an arm's whole-CPU bundles over nodes, so an agent's processes may be on different
    nodes; on one machine (a local Ray) the address is 127.0.0.1. A group ends with its processes (the run's
    end, Ctrl-C and a dead host all end them; the survivors' next exchange fails at once, or after TIMEOUT
    where a whole node went)."""

    def __init__(
        self,
        address: str,
        store: dist.Store,
        rank: int,
        size: int,
        shared: bool = True,
    ):
        self.store, self.size = store, size
        store.set(f"address/{rank}", address)
        machines = {store.get(f"address/{r}") for r in range(size)}
        self.local = Local(address, store, rank, size) if shared and len(machines) == 1 else None
        self.group = None
        if self.local is None:
            options = dist.ProcessGroupGloo._Options()
            options._timeout = TIMEOUT
            options._devices = [dist.ProcessGroupGloo.create_device(hostname=address)]
            self.group = dist.ProcessGroupGloo(store, rank, size, options)

    def exchange(self, rows: torch.Tensor) -> list[torch.Tensor]:
        if self.local is not None:
            return self.local.exchange(rows)
        gathered = [torch.empty_like(rows) for _ in range(self.size)]
        try:
            self.group.allgather([gathered], [rows]).wait()
        except RuntimeError as error:  # gloo's: a peer's connection reset or timed out
            raise Broken(str(error)) from error
        return gathered

    def close(self) -> None:
        """Shut the group's connections, so that a peer still waiting on it fails at once."""
        if self.local is not None:
            self.local.close()
        else:
            self.group.shutdown()


def listen(address: str) -> tuple[socket.socket, int]:
    """A socket for the host's store, bound to `address` on a free port, and the port."""
    sock = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET)
    sock.bind((address, 0))
    sock.listen()
    return sock, sock.getsockname()[1]


def host(address: str, sock: socket.socket, size: int, shared: bool = True) -> Group:
    """Rank 0's group: its store served on `sock` (from `listen`), which the store's server then owns;
    returns once every rank has joined.

    The socket is detached, not closed by Python too: the server closes its file descriptor as the store
    goes, and a second close, of a number the process may have handed out again by then, hung the next
    group's host for ever (torch's libuv store daemon never stopped; tests/test_arms.py)."""
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
    sock.detach()
    return Group(address, store, 0, size, shared)


def join(address: str, host_address: str, port: int, rank: int, size: int, shared: bool = True) -> Group:
    """Rank `rank`'s group, its own sockets on `address`, the store at the host's `host_address:port`."""
    store = dist.TCPStore(host_address, port, size, is_master=False, timeout=TIMEOUT)
    return Group(address, store, rank, size, shared=shared)
