"""The engine package's names, loaded when first used (swarm/engine/__init__.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

from swarm import engine


def test_a_ray_worker_loads_neither_the_driver_nor_its_statistics():
    """What a Ray worker imports to run a host, a rollout worker, a game or an exploiter: no pandas, no
    scipy.stats, none of the driver's modules (each of those is a second or more of every worker's start)."""
    modules = "swarm.engine.actors, swarm.engine.play, swarm.engine.exploiters"
    driver = {"pandas", "scipy.stats", "swarm.ledger", "swarm.engine.arms", "swarm.engine.packing"}
    code = f"import sys, ray, {modules}; print(sorted({driver!r} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_name_is_its_modules_and_session_is_the_function():
    session = importlib.import_module("swarm.engine.session")  # loaded: engine.session stays the function
    for name in engine.__all__:
        assert getattr(engine, name) is not None
    assert engine.session is session.session
    assert engine.train is importlib.import_module("swarm.engine.arms").train
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = engine.nothing
