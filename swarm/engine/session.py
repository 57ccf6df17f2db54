"""A Ray session: a local Ray bound to loopback, or a cluster joined at its address."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import ray
from ray._private import ray_constants  # private: the one switch that keeps a local Ray on loopback


@contextmanager
def session(address: str | None, cpus: int | None) -> Iterator[int]:
    """Start a local Ray on loopback only (or join `address`); yields the CPUs the run may use: Ray's, at
    most `cpus`.

    Ray turns a node address of 127.0.0.1 into the machine's LAN address, and its gRPC servers then listen
    on every interface, unless its cluster switch is off. For a local session we turn it off, so every port
    (GCS, raylet, workers, agents) binds 127.0.0.1 and the dashboard is not started; joining a cluster keeps
    Ray's own behaviour, which the cluster needs.
    """
    switch = ray_constants.ENABLE_RAY_CLUSTER
    try:
        if address is None:
            ray_constants.ENABLE_RAY_CLUSTER = False
            ray.init(
                address="local",  # a new local Ray even where RAY_ADDRESS names a cluster
                num_cpus=cpus,
                include_dashboard=False,
                logging_level=logging.WARNING,
                _node_ip_address="127.0.0.1",
            )
        else:
            ray.init(address=address, logging_level=logging.WARNING)
        total = int(ray.cluster_resources().get("CPU", 1))
        yield total if cpus is None else min(cpus, total)
    finally:
        ray.shutdown()
        ray_constants.ENABLE_RAY_CLUSTER = switch
