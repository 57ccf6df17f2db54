"""The update split in K parts: its gradient is the minibatch's, and its weights the same to the bit on any
number of processes (here threads with a real group each, through shared memory and through gloo)."""

from __future__ import annotations

import gc
import os
import threading
import time

import numpy as np
import psutil
import pytest
import torch

from swarm import budget, config, envs, seeds
from swarm.players import RandomPlayer
from swarm.training import parallel, ppo, rollout
from swarm.training.agent import network


@pytest.fixture
def cfg(make_config) -> config.Experiment:
    return config.parse(make_config())


@pytest.fixture
def batch(spec, cfg) -> rollout.Batch:
    """A round of 256 transitions against a random player."""
    torch.set_num_threads(1)
    np_rng, generator = seeds.agent_rngs(0, 0, 0, 0)
    slots = rollout.Slots(envs.games(spec, cfg.ppo.envs, cfg.env_backend), cfg.ppo.rollout_steps)

    def game_seeds(n: int) -> np.ndarray:
        return seeds.game_seeds(0, "training", np_rng.integers(2**32, size=n))

    learner = network(spec, cfg)
    return slots.collect(
        learner, [RandomPlayer()], np.zeros(cfg.ppo.envs, np.int64), 256, generator, game_seeds
    )[0]


def minibatch(batch: rollout.Batch, size: int) -> ppo.Minibatch:
    adv = torch.from_numpy(ppo.gae(batch, 0.99, 0.95)[0][:size])
    return ppo.Minibatch(
        torch.from_numpy(batch.obs[:size]),
        torch.from_numpy(batch.mask[:size]),
        torch.from_numpy(batch.action[:size]),
        torch.from_numpy(batch.logp[:size]),
        (adv - adv.mean()) / (adv.std() + 1e-8),
        torch.from_numpy(batch.value[:size]) + adv,
    )


@pytest.mark.parametrize("parts", [2, 3, 7])
def test_the_parts_gradients_add_up_to_the_minibatch_gradient(spec, cfg, batch, parts):
    """Each part's gradient of its summed terms over the minibatch's size; their sum is the gradient (and
    the diagnostics) of the minibatch's mean loss."""
    net = network(spec, cfg)
    params = list(net.parameters())
    mb = minibatch(batch, 101)
    loss, whole = ppo.objective(net, mb, cfg.ppo, torch.mean)
    expected = torch.autograd.grad(loss, params)
    bounds = np.cumsum([0, *budget.split(101, parts)])
    summed, diagnostics = [torch.zeros_like(p) for p in params], torch.zeros(parallel.DIAGNOSTICS)
    for k in range(parts):
        part = mb.rows(bounds[k], bounds[k + 1])
        loss, diag = ppo.objective(net, part, cfg.ppo, lambda x: x.sum() / 101)
        summed = [s + g for s, g in zip(summed, torch.autograd.grad(loss, params), strict=True)]
        diagnostics += diag
    for got, want in zip(summed, expected, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(diagnostics, whole, rtol=1e-5, atol=1e-7)


def in_threads(target, ranks) -> None:
    """target(p) for every p in ranks, each in a thread of its own (a process of a group), all at once."""
    threads = [threading.Thread(target=target, args=(p,)) for p in ranks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def update(spec, cfg, batch, step_of) -> list[tuple[dict, dict]]:
    """One update per process (a thread each), process p stepping with `step_of(p)`: its weights and
    diagnostics, by process."""
    processes = len(step_of)
    out: list = [None] * processes
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(1)
        initial = network(spec, cfg).weights()  # the same initial weights in every process

    def run(p: int) -> None:
        net = network(spec, cfg)
        net.load_weights(initial)
        optimizer = ppo.optimizer(net, cfg.ppo)
        generator = torch.Generator().manual_seed(2)
        metrics = ppo.update(net, optimizer, batch, cfg.ppo, generator, step_of[p]())
        out[p] = (net.weights(), metrics)

    in_threads(run, range(processes))
    return out


def groups(processes: int, shared: bool) -> list[parallel.Group]:
    """A group of `processes` threads of this process on 127.0.0.1, by rank."""
    sock, port = parallel.listen("127.0.0.1")
    made: list = [None] * processes

    def make(p: int) -> None:
        made[p] = (
            parallel.host("127.0.0.1", sock, processes, shared)
            if p == 0
            else parallel.join("127.0.0.1", "127.0.0.1", port, p, processes, shared)
        )

    in_threads(make, range(processes))
    return made


def split_over(parts: int, processes: int, shared: bool = True) -> list:
    """Each process's step, over a group of `processes` (threads of this process on 127.0.0.1)."""
    if processes == 1:
        return [lambda: parallel.Split(parts)]
    made = groups(processes, shared)
    return [lambda p=p: parallel.Split(parts, processes, p, made[p].exchange) for p in range(processes)]


@pytest.mark.parametrize("shared", [True, False], ids=["shared memory", "gloo"])
@pytest.mark.parametrize("parts", [2, 3])
def test_the_split_update_is_the_same_on_any_number_of_processes(spec, cfg, batch, parts, shared):
    """K parts on one process or on 2..K: every process ends with the same weights and diagnostics, those of
    one process to the bit; and the plain, unsplit update's up to float rounding."""
    torch.set_num_threads(1)
    (alone,) = update(spec, cfg, batch, split_over(parts, 1))
    for processes in range(2, parts + 1):
        for weights, metrics in update(spec, cfg, batch, split_over(parts, processes, shared)):
            np.testing.assert_equal(weights, alone[0])
            assert metrics == alone[1]
    ((plain, metrics),) = update(spec, cfg, batch, [lambda: ppo.descend])
    for name, w in plain.items():
        np.testing.assert_allclose(alone[0][name], w, rtol=1e-4, atol=1e-6)
    assert alone[1] == pytest.approx(metrics, rel=1e-4, abs=1e-6)


@pytest.mark.parametrize("shared", [True, False], ids=["shared memory", "gloo"])
def test_a_group_listens_on_its_address_alone(shared):
    """The host's store and every socket of the exchange listen on the address given (here 127.0.0.1),
    never on all interfaces (gloo: a device a process; shared memory: the barrier's, closed once all
    joined)."""

    def listening() -> set:
        return {c.laddr for c in psutil.Process().net_connections("tcp") if c.status == psutil.CONN_LISTEN}

    before = listening()
    made = groups(2, shared)
    opened = listening() - before
    assert len(opened) >= (3 if shared is False else 1)
    assert {address.ip for address in opened} == {"127.0.0.1"}
    for group in made:
        group.close()


def test_a_closed_group_closes_no_file_descriptor_the_process_handed_out_again():
    """The host's store owns its listening socket: once a group is closed and gone, a socket opened in
    between (given the lowest free descriptor, as the next group's would be) still works. When Python closed
    the socket too, the store's server later closed the new socket's descriptor, and in the engine its
    daemon never stopped: the next group's host hung."""
    made = groups(2, shared=True)
    for group in made:
        group.close()
    fresh, _ = parallel.listen("127.0.0.1")
    del made, group
    gc.collect()  # the stores go, and their servers close what they own
    os.fstat(fresh.fileno())  # raises where another close took this descriptor
    assert fresh.getsockname()[0] == "127.0.0.1"
    fresh.close()


def test_shared_memory_leaves_no_file_and_a_leaving_process_fails_the_others_at_once():
    """Every process gets every process's rows, exchange after exchange (the two buffers alternating); no
    file is left once all have mapped them, nor where a process left before the first exchange; a process
    that closes its group (as one that dies) fails the next exchange of the others at once, not after the
    timeout."""
    made = groups(3, shared=True)
    assert all(group.local is not None for group in made)

    def exchange(ranks: range, value: float) -> list:
        """Each rank's exchange of rows full of value + rank, in a thread each: its result or its error."""
        got: list = [None] * len(ranks)

        def swap(p: int) -> None:
            try:
                got[p] = made[p].exchange(torch.full((2, 5), value + p))
            except parallel.Broken as error:
                got[p] = error

        in_threads(swap, ranks)
        return got

    for call in range(3):
        for rows in exchange(range(3), 10.0 * call):
            assert [float(r[1, 4]) for r in rows] == [10.0 * call + p for p in range(3)]
    assert not list(made[0].local.folder.glob(f"{made[0].local.name}-*"))
    made[2].close()
    start = time.monotonic()
    assert all(isinstance(got, parallel.Broken) for got in exchange(range(2), 0.0))
    assert time.monotonic() - start < 5
    for group in made[:2]:
        group.close()
    early = groups(2, shared=True)
    early[1].close()
    with pytest.raises(parallel.Broken):
        early[0].exchange(torch.zeros(2, 5))  # its file made, the other never came
    early[0].close()
    assert not list(early[0].local.folder.glob(f"{early[0].local.name}-*"))
