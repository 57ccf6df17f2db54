"""A Ray session: a local Ray bound to loopback that ends with its driver, or a cluster joined at its
address."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import ray
import torch
from ray._private import ray_constants  # private: the one switch that keeps a local Ray on loopback

from swarm.config import ConfigError
from swarm.engine import watchdog


def local_gpus(asked: float, present: int) -> int:
    """The GPUs a local Ray starts with: the whole ones the file's `resources.gpus` reaches into, none for
    a file that asks for none; a ConfigError, before Ray starts, where this machine has fewer."""
    if asked > present:
        raise ConfigError(
            f"resources.gpus: the file asks for {asked:g} GPU(s) and this machine has {present} that torch "
            "can use; lower resources.gpus (0 trains on CPUs only) or run on a machine or cluster with them"
        )
    return math.ceil(asked)


@contextmanager
def session(address: str | None, cpus: int | None, gpus: float = 0.0) -> Iterator[int]:
    """Start a local Ray on loopback only (or join `address`); yields the CPUs the run may use: Ray's, at
    most `cpus`. A local Ray gets the GPUs `gpus` asks for (`local_gpus`); on a cluster, or a local Ray
    lent as it is, the waves are planned against the nodes' GPUs (`packing`).

    Ray turns a node address of 127.0.0.1 into the machine's LAN address, and its gRPC servers then listen
    on every interface, unless its cluster switch is off. For a local session we turn it off, so every port
    (GCS, raylet, workers, agents) binds 127.0.0.1 and the dashboard is not started; joining a cluster keeps
    Ray's own behaviour, which the cluster needs. On Linux a watchdog ends a local session's processes when
    the driver ends, even when it is killed (`watchdog`).

    A local Ray this process already runs (a notebook's, a test module's) is lent as it is: used, and left
    running for its owner to end.
    """
    if address is None and ray.is_initialized():
        total = int(ray.cluster_resources().get("CPU", 1))
        yield total if cpus is None else min(cpus, total)
        return
    num_gpus = local_gpus(gpus, torch.cuda.device_count()) if address is None else None
    switch = ray_constants.ENABLE_RAY_CLUSTER
    guard = None
    try:
        if address is None:
            ray_constants.ENABLE_RAY_CLUSTER = False
            token = watchdog.token()
            guard = watchdog.start(token) if watchdog.SUPPORTED else None
            os.environ[watchdog.MARK] = token  # inherited by every process of this Ray, and only by them
            try:
                ray.init(
                    address="local",  # a new local Ray even where RAY_ADDRESS names a cluster
                    num_cpus=cpus,
                    num_gpus=num_gpus,
                    include_dashboard=False,
                    logging_level=logging.WARNING,
                    _node_ip_address="127.0.0.1",
                )
            finally:
                del os.environ[watchdog.MARK]
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        total = int(ray.cluster_resources().get("CPU", 1))
        yield total if cpus is None else min(cpus, total)
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = switch
        if guard is not None:
            _release(guard)


def _release(guard: subprocess.Popen) -> None:
    """Close the watchdog's pipe, as the driver's death would, and wait while it ends anything Ray's own
    shutdown left running (which is nothing, when that shutdown went well)."""
    guard.stdin.close()
    with contextlib.suppress(subprocess.TimeoutExpired):  # a machine too loaded: it finishes on its own
        guard.wait(timeout=2 * watchdog.GRACE)
