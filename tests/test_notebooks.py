"""The notebooks in analysis/ run top to bottom on a fresh kernel, on a tiny run and a synthetic sweep.

Parameters are injected as papermill does: a cell tagged `injected-parameters` right after the cell tagged
`parameters`. The kernel is the `python3` one of the interpreter running the tests, so it sees this swarm.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

from swarm.results import rundir
from swarm.results.rundir import RunDir, SweepDir

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"


def execute(name: str, **parameters: str) -> nbformat.NotebookNode:
    notebook = nbformat.read(ANALYSIS / f"{name}.ipynb", as_version=4)
    at = next(k for k, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", []))
    source = "\n".join(f"{key} = {json.dumps(value)}" for key, value in parameters.items())
    notebook.cells.insert(
        at + 1, nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    )
    client = NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(ANALYSIS)}}
    )
    return client.execute()


def images(notebook: nbformat.NotebookNode) -> int:
    return sum(
        "image/png" in out.get("data", {}) for cell in notebook.cells for out in cell.get("outputs", [])
    )


def test_notebooks_are_stored_without_outputs():
    for path in ANALYSIS.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.cells[0].cell_type == "markdown" and "How to run" in notebook.cells[0].source
        assert "parameters" in notebook.cells[1].metadata.get("tags", [])
        assert all(
            not c.get("outputs") and not c.get("execution_count")
            for c in notebook.cells
            if c.cell_type == "code"
        )


def test_the_kernel_is_this_interpreter():
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] in (sys.executable, "python")


@pytest.mark.parametrize("seed_dir", ["seed-0", "."], ids=["one-seed", "multi-seed"])
def test_compare_runs_on_a_run(multi_seed_run, seed_dir):
    run = multi_seed_run / seed_dir
    notebook = execute("compare", run=str(run.resolve()))
    assert images(notebook) == 5  # verdict, ratings, learning curves, cross-play, winner's curse
    printed = "".join(out.get("text", "") for out in notebook.cells[3].outputs)
    summary = rundir.read_summary(RunDir(run))
    assert all(v.verdict in printed for v in summary.verdicts)


def test_sweep_runs_on_a_sweep(tmp_path, sweep_frame):
    rundir.write_parquet(sweep_frame, rundir.start(SweepDir(tmp_path)).table)
    notebook = execute("sweep", sweep=str(tmp_path))
    assert images(notebook) == 3  # gap against N, verdict map, compute frontier
    printed = "".join(out.get("text", "") for out in notebook.cells[-2].outputs)
    assert printed.count("no crossing in sight") + printed.count("catch up") + printed.count("ahead") == 6
