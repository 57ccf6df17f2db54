"""The design's boundaries as a test: a forbidden import anywhere in the package fails the suite.

Imports are read from the source (ast), not by importing: a module's own imports count wherever they stand
(a function's lazy import included), and the modules it loads when imported count through their top-level
imports. So "report needs no torch" fails if report, or anything report loads, imports torch. The layer a
rule exempts (the engine, for Ray) is not looked into: the experiment may call the engine.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "swarm"

# (what the design promises, the modules it binds, the imports they may not reach)
RULES = [
    ("only the engine talks to Ray", ("swarm",), ("swarm.engine",), ("ray",)),
    (
        "results, report and analysis read a run directory without torch or Ray",
        ("swarm.results", "swarm.report", "swarm.analysis"),
        (),
        ("torch", "ray"),
    ),
    (
        "live metrics are written by the driver, without torch or Ray",
        ("swarm.metrics",),
        (),
        ("torch", "ray", "swarm.engine"),
    ),
    (
        "the learner is plain torch: no Ray, no files",
        ("swarm.training.ppo", "swarm.players.network"),
        (),
        (
            "ray",
            "swarm.engine",
            "swarm.results",
            "swarm.weights",
            "swarm.storage",
            "swarm.training.checkpoint",
        ),
    ),
    (
        "environments know nothing of learning",
        ("swarm.envs",),
        (),
        ("torch", "ray", "swarm.training", "swarm.players", "swarm.engine"),
    ),
    (
        "evaluation sees policies and games, never optimizers, ledgers or Ray",
        ("swarm.evaluation",),
        (),
        ("ray", "swarm.engine", "swarm.ledger", "swarm.training.agent", "swarm.training.ppo"),
    ),
    (
        "matchmaking is a pure function of the round's seeded RNG",
        ("swarm.interaction",),
        (),
        ("torch", "ray", "swarm.engine", "swarm.training"),
    ),
]


def modules(root: Path) -> dict[str, Path]:
    """Every module of the package under `root`, by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, known: dict[str, Path]) -> tuple[set[str], set[str]]:
    """(every import in the file, the top-level ones): dotted names, `from a import b` as a.b where a.b is
    a module of the package, else as a."""
    everywhere, top = set(), set()
    tree = ast.parse(path.read_text())
    top_nodes = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = {
                f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in known else node.module
                for a in node.names
            }
        else:
            continue
        everywhere |= names
        if id(node) in top_nodes:
            top |= names
    return everywhere, top


def reaches(
    module: str, graph: dict[str, tuple[set[str], set[str]]], exempt: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """What `module` imports anywhere in itself, and what the modules it imports load when imported, not
    looking inside `exempt` modules (the layer allowed to): each name with the chain that brings it in."""
    chains: dict[str, list[str]] = {}
    stack = [(name, [module]) for name in graph[module][0]]
    while stack:
        name, chain = stack.pop()
        if name in chains:
            continue
        chains[name] = chain
        if _within(name, exempt):
            continue
        for parent in _parents(name):  # importing a.b.c runs a/__init__ and a/b/__init__ first
            if parent in graph and parent not in chains and not _within(parent, exempt):
                stack += [(sub, [*chain, parent]) for sub in graph[parent][1]]
        if name in graph:
            stack += [(sub, [*chain, name]) for sub in graph[name][1]]
    return chains


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:k]) for k in range(1, len(parts) + 1)]


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def violations(root: Path) -> list[str]:
    known = modules(root)
    graph = {name: imports(path, known) for name, path in known.items()}
    found = []
    for promise, bound, exempt, forbidden in RULES:
        for module in known:
            if not _within(module, bound) or _within(module, exempt):
                continue
            for name, chain in reaches(module, graph, exempt).items():
                if _within(name, forbidden) and not _within(name, exempt):
                    found.append(f"{promise}: {' -> '.join(chain)} imports {name}")
    return sorted(set(found))


def test_the_package_keeps_every_boundary():
    found = violations(PACKAGE)
    assert not found, "\n".join(["imports that cross a boundary:", *found])


@pytest.mark.parametrize(
    ("where", "line", "promise"),
    [
        ("evaluation/ratings.py", "import ray", "only the engine talks to Ray"),
        ("report.py", "from swarm.training import ppo", "results, report and analysis"),
        ("training/ppo.py", "from swarm import storage", "the learner is plain torch"),
        ("envs/spec.py", "import torch", "environments know nothing of learning"),
        ("interaction/pfsp.py", "from swarm.training import agent", "matchmaking is a pure function"),
    ],
)
def test_a_forbidden_import_is_caught_even_through_another_module(tmp_path, where, line, promise):
    """A copy of the package with one forbidden import added, inside a function: the check names the
    promise it breaks (and, for report, the chain through ppo that brings torch in)."""
    copy = tmp_path / "swarm"
    for path in modules(PACKAGE).values():
        target = copy / path.relative_to(PACKAGE)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text())
    target = copy / where
    target.write_text(target.read_text() + f"\n\ndef _added():\n    {line}\n")
    assert any(v.startswith(promise) for v in violations(copy)), violations(copy)


def test_test_files_share_helpers_only_through_conftest_fixtures():
    """No test file imports another (conftest included): shared helpers are fixtures, so each file reads on
    its own and a helper has one home."""
    tests = Path(__file__).resolve().parent
    importing = {
        path.name: sorted(
            name for name in imports(path, {})[0] if name == "tests" or name.startswith("tests.")
        )
        for path in tests.glob("*.py")
    }
    assert {name: found for name, found in importing.items() if found} == {}
