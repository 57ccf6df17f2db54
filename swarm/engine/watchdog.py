"""A local Ray ends with its driver, even a driver killed by SIGKILL.

Ray ties the processes a driver starts itself (GCS, raylet, log monitor) to the driver's life
(PR_SET_PDEATHSIG), but not the agents the raylet starts (its dashboard agent and runtime-env agent): they
see the raylet gone within 2 s, then wait about a minute on the dead GCS before they exit. So a local
session's watchdog, a process in a session of its own, keeps the list of the Ray's processes while the
driver lives, and ends them when the driver does.

Which processes: the driver's children that carry the session's mark in their environment
(`SWARM_RAY_SESSION=<token>`, set in the driver only while `ray.init` starts them), and every descendant of
those, each by pid and start time (so a reused pid is never taken for one), looked up every `SCAN`
seconds; the agents, which rename themselves over their environment, are found as the raylet's children.
When: the watchdog reads a pipe only the driver writes to; when it closes (the driver ended, however it
ended), the watchdog kills every listed process still alive, and anything still carrying the mark, until
none is left, and exits.

It reads /proc, so it runs on Linux only (`SUPPORTED`), like Ray's own tie. This file imports nothing but the
standard library and runs as a script (`start` runs it by path), so the watchdog costs a bare interpreter,
not Ray or torch.
"""

from __future__ import annotations

import os
import secrets
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

MARK = "SWARM_RAY_SESSION"  # the environment variable the processes `ray.init` starts carry
SCAN = 2.0  # seconds between two looks at the session's processes while the driver lives
GRACE = 5.0  # seconds to keep killing, for processes started while the first are killed
SUPPORTED = Path("/proc/self/stat").exists()

Processes = dict[int, tuple[int, int]]  # pid -> (parent pid, start time in clock ticks since boot)


def token() -> str:
    """A new session's token: unique on this machine."""
    return secrets.token_hex(8)


def start(token: str) -> subprocess.Popen:
    """The watchdog of the session `token` whose driver is this process; close its stdin once Ray is shut
    down."""
    return subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), token, str(os.getpid())],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C or a kill of the driver's process group does not reach it
        env={k: v for k, v in os.environ.items() if k != MARK},
    )


def processes() -> Processes:
    """Every live process on this machine (zombies left out: they are dead, and cannot be killed again)."""
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()  # after the command name, which may hold anything
        if fields[0] != "Z":
            table[int(entry.name)] = (int(fields[1]), int(fields[19]))
    return table


def carries(pid: int, token: str) -> bool:
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # gone, or another user's: not ours
        return False
    return f"{MARK}={token}".encode() in environment.split(b"\0")


def family(table: Processes, roots: set[int]) -> set[int]:
    """`roots` and all their descendants in `table`."""
    found, frontier = set(roots), set(roots)
    while frontier:
        frontier = {pid for pid, (parent, _) in table.items() if parent in frontier} - found
        found |= frontier
    return found


def session(table: Processes, token: str, driver: int) -> dict[int, int]:
    """The session's processes now, pid -> start time: the driver's marked children and their descendants."""
    roots = {pid for pid, (parent, _) in table.items() if parent == driver and carries(pid, token)}
    return {pid: table[pid][1] for pid in family(table, roots)}


def end(token: str, known: dict[int, int], grace: float = GRACE) -> set[int]:
    """SIGKILL the session's processes: those in `known` still alive, any still carrying the mark, and their
    descendants, until none is left or `grace` seconds have passed; returns the processes killed."""
    killed: set[int] = set()
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        table = processes()
        alive = {pid for pid, started in known.items() if pid in table and table[pid][1] == started}
        left = family(table, alive | {pid for pid in table if carries(pid, token)}) - {os.getpid()}
        if not left:
            break
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                continue
            killed.add(pid)
        time.sleep(0.05)
    return killed


def watch(token: str, driver: int) -> None:
    """List the session's processes every SCAN seconds until stdin closes, then end them."""
    known: dict[int, int] = {}
    closed = False
    while not closed:
        known |= session(processes(), token, driver)
        closed = bool(select.select([sys.stdin], [], [], SCAN)[0])  # readable only at its end: nobody writes
    end(token, known)


if __name__ == "__main__":
    watch(sys.argv[1], int(sys.argv[2]))
