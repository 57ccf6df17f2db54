"""A local Ray session exposes nothing beyond loopback, and leaves no process behind."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import pytest
import ray

from swarm import engine
from swarm.config import ConfigError
from swarm.engine import watchdog
from swarm.engine.session import local_gpus

LISTEN = "0A"


def listening() -> set[tuple[str, int]]:
    """(address, port) of every listening TCP socket on this machine, from /proc/net/tcp{,6}."""
    sockets = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state != LISTEN:
                continue
            hex_ip, hex_port = local.split(":")
            raw = bytes.fromhex(hex_ip)
            # the kernel prints each 32-bit word of the address in host (little-endian) order
            packed = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
            sockets.add((str(ipaddress.ip_address(packed)), int(hex_port, 16)))
    return sockets


def is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or (ip.version == 6 and ip.ipv4_mapped is not None and ip.ipv4_mapped.is_loopback)


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net")
def test_local_session_listens_on_loopback_only_and_leaves_nothing_running(descendants):
    before, children = listening(), descendants(os.getpid())
    with engine.session(None, 2) as cpus:
        assert cpus == 2

        @ray.remote
        def ping() -> int:
            return 1

        assert ray.get(ping.remote()) == 1  # a worker process is up, with its own server
        opened = listening() - before
        started = {pid: start for pid, start in descendants(os.getpid()).items() if pid not in children}
    table = watchdog.processes()
    assert started and not [pid for pid, start in started.items() if table.get(pid, (0, -1))[1] == start]
    assert opened, "a running Ray must listen somewhere"
    exposed = sorted(address for address, _ in opened if not is_loopback(address))
    assert not exposed, f"Ray listens beyond loopback: {exposed}"


def test_a_local_ray_already_running_is_lent_and_left_to_its_owner():
    with engine.session(None, 2):
        node = ray.get_runtime_context().get_node_id()
        with engine.session(None, 1) as cpus:
            assert cpus == 1 and ray.get_runtime_context().get_node_id() == node  # the same Ray
        assert ray.is_initialized()  # still its owner's
    assert not ray.is_initialized()


def test_a_local_ray_gets_the_whole_gpus_a_file_reaches_into_and_none_it_does_not_ask_for():
    assert [local_gpus(asked, 2) for asked in (0, 0.25, 1, 1.5, 2)] == [0, 1, 1, 2, 2]
    with pytest.raises(
        ConfigError, match=r"resources\.gpus: the file asks for 2\.5 GPU\(s\) and this machine has 2"
    ):
        local_gpus(2.5, 2)


def test_a_file_asking_for_more_gpus_than_the_machine_has_is_refused_before_ray_starts():
    with pytest.raises(ConfigError, match=r"lower resources\.gpus"), engine.session(None, 1, 1024.5):
        pass
    assert not ray.is_initialized()
