"""Sweeps: a tiny two-cell sweep on a local 2-CPU Ray, its table, resuming, and validation at the door."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

from swarm import cli, engine, report, sweep
from swarm.analysis.tables import sweep_cells
from swarm.config import ConfigError
from swarm.engine import sweeps
from swarm.evaluation import aggregate
from swarm.results import rundir
from swarm.results.rundir import SweepDir
from swarm.weights import load_weights

pytestmark = pytest.mark.usefixtures("ray_module")  # one local Ray for the module's runs

BUDGETS = Path(__file__).resolve().parent.parent / "budgets"


@pytest.fixture(scope="session")
def tiny_sweep(make_config):
    """`tiny_sweep(**overrides)`: the tiny config as a sweep file: N in {1, 2} at B = 512, two seed runs at
    once on 2 CPUs."""

    def make(**overrides) -> dict:
        data = make_config(name="tiny-sweep")
        del data["arms"]
        data["budget"] = {"unit": "agent_steps"}
        data["sweep"] = {"populations": [1, 2], "budgets": [512], "cpus_per_cell": 1}
        data.update(overrides)
        return data

    return make


@pytest.fixture(scope="module")
def swept(tmp_path_factory, tiny_sweep):
    """A tiny sweep run as a user runs one, `swarm sweep FILE --out DIR` (in process), into a fresh DIR."""
    grid, out = sweep.parse(tiny_sweep()), tmp_path_factory.mktemp("sweeps")
    path = out.parent / "tiny-sweep.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep()))
    assert cli.main(["sweep", str(path), "--out", str(out)]) == 0
    return grid, out, (out / "tiny-sweep").resolve()


def test_the_sweep_module_needs_no_ray():
    code = "import sys, swarm.sweep; print('ray' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"
    )


def test_table_has_a_row_per_cell_seed_and_arm(swept, tiny_sweep):
    _, out, sweep_dir = swept
    assert sweep_dir == (out / "tiny-sweep").resolve()
    frame = pd.read_parquet(sweep_dir / "sweep.parquet")
    assert list(frame.columns) == sweep.COLUMNS
    assert list(zip(frame.n, frame.budget, frame.cell, frame.seed, strict=True)) == [
        (1, 512, "N1-B512", 0),
        (2, 512, "N2-B512", 0),
    ]
    assert set(frame.arm) == {"swarm"} and set(frame.baseline) == {"single"}
    for row in frame.itertuples():
        summary = rundir.read_seed_summary(rundir.check(SweepDir(sweep_dir)).cell(row.cell))
        assert row.verdict == summary.verdicts[0].verdict
        assert row.best == summary.arms["swarm"].best
        for arm in ("single", "swarm"):  # equal budgets, spent exactly
            assert summary.arms[arm].spent["agent_steps"] == 512
    assert yaml.safe_load((sweep_dir / "sweep.yaml").read_text()) == sweep.parse(tiny_sweep()).model_dump(
        mode="json"
    )


def test_cells_are_run_directories_of_single_vs_swarm(swept):
    _, _, sweep_dir = swept
    for cell, interaction in (("N1-B512", "self_play"), ("N2-B512", "population")):
        cell_dir = sweep_dir / "cells" / cell
        for name in ("ledger.parquet", "training.parquet", "matches.parquet", "ratings.parquet"):
            assert (cell_dir / name).exists()
        arms = yaml.safe_load((cell_dir / "config.yaml").read_text())["arms"]
        assert [(a["name"], a["agents"], a["interaction"]) for a in arms] == [
            ("single", 1, "self_play"),
            ("swarm", int(cell[1]), interaction),
        ]


def test_null_cell_is_two_independent_seeds_and_cells_share_their_baseline(swept):
    """N = 1 pits single against a differently seeded single; at one budget every cell's baseline is the
    same agent (same seed, same arm), so a budget's gap-vs-N curve compares every N with one baseline."""
    _, _, sweep_dir = swept

    def weights(cell: str, agent: str) -> dict[str, torch.Tensor]:
        return load_weights(SweepDir(sweep_dir).cell(cell).weights(agent))

    single, twin = weights("N1-B512", "single/0"), weights("N1-B512", "swarm/0")
    assert any(not torch.equal(single[k], twin[k]) for k in single)
    other = weights("N2-B512", "single/0")
    assert all(torch.equal(single[k], other[k]) for k in single)


def test_rerun_skips_finished_cells(swept, tmp_path):
    grid, _, sweep_dir = swept
    copy = tmp_path / grid.name
    shutil.copytree(sweep_dir, copy)
    (copy / "cells" / "N2-B512" / "summary.json").unlink()
    kept = {p: p.stat().st_mtime_ns for p in (copy / "cells" / "N1-B512").rglob("*")}
    assert sweeps.run(grid, tmp_path) == copy.resolve()
    assert {p: p.stat().st_mtime_ns for p in (copy / "cells" / "N1-B512").rglob("*")} == kept
    # the re-run cell is reproduced exactly, so the table is the uninterrupted sweep's
    pd.testing.assert_frame_equal(
        pd.read_parquet(copy / "sweep.parquet"), pd.read_parquet(sweep_dir / "sweep.parquet")
    )


def test_finished_sweep_starts_no_ray_and_may_change_how_it_runs(swept, monkeypatch, tiny_sweep):
    _, out, sweep_dir = swept

    def no_ray(*_):
        raise AssertionError("a finished sweep must not start Ray")

    monkeypatch.setattr(engine, "session", no_ray)
    rerun = sweep.parse(tiny_sweep(sweep={"populations": [1, 2], "budgets": [512], "cpus_per_cell": 2}))
    assert sweeps.run(rerun, out) == sweep_dir
    assert len(pd.read_parquet(sweep_dir / "sweep.parquet")) == 2


def test_a_changed_file_into_the_same_sweep_directory_errors(swept, monkeypatch, tiny_sweep):
    _, out, _ = swept
    monkeypatch.setattr(engine, "session", lambda *_: pytest.fail("no compute before the check"))
    changed = sweep.parse(tiny_sweep(sweep={"populations": [1, 2], "budgets": [768]}))
    with pytest.raises(ConfigError, match=r"sweep\.budgets differ.*another name or --out"):
        sweeps.run(changed, out)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        (
            {"sweep": {"populations": [1, 4], "budgets": [512]}},
            r"sweep\.budgets, sweep\.populations: cell N4-B512 gives each of its 4 agents 128 .*1024",
        ),
        (
            {"arms": [{"name": "single", "agents": 1, "interaction": "self_play"}]},
            r"arms: a sweep sets every cell's arms",
        ),
        ({"primary": "swarm"}, r"primary: a sweep sets every cell's arms"),
        ({"budget": {"unit": "agent_steps", "total": 512}}, r"budget\.total: .*sweep\.budgets"),
        ({"sweep": {"populations": [0], "budgets": [512]}}, r"sweep\.populations\.0"),
        (
            {"sweep": {"populations": [2, 2], "budgets": [512]}},
            r"sweep\.populations: values must be distinct",
        ),
        ({"sweep": {"populations": [1], "budgets": [512], "pop": 3}}, r"sweep\.pop: unknown field"),
        ({"sweep": {"populations": [1], "budgets": [512], "cpus_per_cell": 4}}, r"sweep\.cpus_per_cell"),
        ({"opponents": {"per_round": 16}}, r"cell N1-B512: invalid.*opponents\.per_round"),
        (
            {"sweep": {"populations": [1, 2], "budgets": [512], "interaction": ["pbt", "pbt"]}},
            r"sweep\.interaction: .*distinct modes",
        ),
        (
            {"sweep": {"populations": [2], "budgets": [512], "interaction": ["population", "fsp"]}},
            r"unknown interaction mode 'fsp'",
        ),
        (
            {"sweep": {"populations": [2], "budgets": [512], "options": {"pbt": {"every": 2}}}},
            r"sweep\.options: options of \['pbt'\], which sweep\.interaction does not run",
        ),
        (
            {
                "sweep": {
                    "populations": [2],
                    "budgets": [512],
                    "interaction": "pbt",
                    "options": {"pbt": {"x": 1}},
                }
            },
            r"cell N2-B512: invalid.*options\.x",
        ),
        ({"seeds": [0, 1]}, r"seed or seeds"),
        ({"budget": {"unit": "core_seconds"}}, r"budget\.unit: .*core_seconds cannot bind.*use flops"),
        (
            {"budget": {"unit": "flops"}, "sweep": {"populations": [1, 2], "budgets": [10**6, 10**9]}},
            r"cell N1-B1000000: budget\.total: 1,000,000 flops .*less than one rollout batch",
        ),
    ],
)
def test_bad_sweep_files_error_naming_the_field(overrides, match, tiny_sweep):
    with pytest.raises(ConfigError, match=re.compile(match, re.DOTALL)):
        sweep.parse(tiny_sweep(**overrides))


def test_a_sweep_over_flops_gives_every_cell_a_flop_budget(tiny_sweep):
    grid = sweep.parse(
        tiny_sweep(budget={"unit": "flops"}, sweep={"populations": [1, 2], "budgets": [10**8, 10**9]})
    )
    assert {cell.budget.unit for cell in grid.cells.values()} == {"flops"}
    assert sweep.spend(grid) == 2 * 2 * (10**8 + 10**9)  # 2 arms x 2 cells (N = 1, 2) a budget, in flops


def test_missing_sweep_section_and_file(tmp_path, tiny_sweep):
    data = tiny_sweep()
    del data["sweep"]
    with pytest.raises(ConfigError, match="sweep: required field is missing"):
        sweep.parse(data)
    with pytest.raises(ConfigError, match="no such file"):
        sweep.load(tmp_path / "absent.yaml")


def test_seed_runs_and_table_over_seeds(tmp_path, tiny_sweep, seed_summary):
    """With seeds, each cell's seeds are separate runs; the table has a row per seed, with the cell's
    verdict over seeds, and holds only finished cells. The seeds' summaries are a real one, restricted to
    its swarm arm's verdict against single, as a cell's are."""
    data = tiny_sweep(seeds=[0, 1])
    del data["seed"]
    grid = sweep.parse(data)
    directory = rundir.start(SweepDir(tmp_path))
    swarm_only = tuple(replace(v, primary=True) for v in seed_summary.verdicts if v.arm == "swarm")
    for cell, seeds_done in (("N1-B512", [0, 1]), ("N2-B512", [0])):
        for s in seeds_done:
            run = rundir.start(directory.cell(cell).seed(s))
            rundir.write_summary(replace(seed_summary, seed=s, verdicts=swarm_only), run)
    over = aggregate.write(grid.cells["N1-B512"], directory.cell("N1-B512"))
    assert over.null_check.arms == ("single", "swarm")  # N = 1: the same procedure, seeded apart
    assert [(name, cell.seed, run_dir) for name, cell, run_dir in sweep.pending(grid, directory)] == [
        ("N2-B512", 1, directory.cell("N2-B512").seed(1).path)
    ]
    frame = sweep.table(grid, directory)
    assert list(frame.seed) == [0, 1] and set(frame.cell) == {"N1-B512"}
    assert list(frame.verdict) == [over.verdicts[0].verdict] * 2 and "over 2 seeds" in frame.verdict[0]
    # the last seed done: the cell's verdict over seeds, then the table with it
    rundir.write_summary(
        replace(seed_summary, seed=1, verdicts=swarm_only), directory.cell("N2-B512").seed(1)
    )
    lines = []
    sweep.finish(grid, directory, "N2-B512", grid.cells["N2-B512"], lines.append)
    verdict = rundir.read_over_seeds(directory.cell("N2-B512")).verdicts[0].verdict
    assert lines == [f"cell N2-B512: {verdict}"] and "over 2 seeds" in verdict
    assert rundir.read_over_seeds(directory.cell("N2-B512")).null_check is None
    frame = pd.read_parquet(directory.table)
    assert list(zip(frame.cell, frame.seed, strict=True)) == [
        ("N1-B512", 0),
        ("N1-B512", 1),
        ("N2-B512", 0),
        ("N2-B512", 1),
    ]


@pytest.mark.parametrize("path", sorted(BUDGETS.glob("sweep-*.yaml")), ids=lambda p: p.name)
def test_sweep_budget_files_are_valid_and_state_their_cost(path):
    grid = sweep.load(path)
    assert f"{sweep.spend(grid):,} agent-steps" in path.read_text()


def test_sweep_report_draws_both_figures(swept):
    _, _, sweep_dir = swept
    page = report.write_sweep(sweep_dir)
    for name in ("gap_vs_n", "verdict_map"):
        png = sweep_dir / "figures" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000
        assert f"figures/{name}.png" in (sweep_dir / "report.md").read_text()
    html = page.read_text()
    assert html.count("data:image/png;base64,") == 2
    assert "verdict" in (sweep_dir / "report.md").read_text()


def test_cli_sweep_on_a_finished_sweep_reports_without_training(swept, tmp_path, tiny_sweep):
    _, out, _ = swept
    path = tmp_path / "tiny-sweep.yaml"
    path.write_text(yaml.safe_dump(tiny_sweep()))
    done = subprocess.run(
        [sys.executable, "-m", "swarm", "sweep", str(path), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "2 cells finished" in " ".join(done.stdout.split()) and "report:" in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(tiny_sweep(sweep={"populations": [1, 4], "budgets": [512]})))
    refused = subprocess.run(
        [sys.executable, "-m", "swarm", "sweep", str(bad), "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert refused.returncode == 2 and "sweep.budgets" in refused.stderr
    assert not (tmp_path / "tiny-sweep").exists()  # refused before anything was written


def test_the_mode_is_a_sweep_axis(tiny_sweep):
    """Several modes: every N > 1 cell once per mode, named for it, with the mode's options; the N = 1 cells
    (the null: single vs single) once for all; the figures' cells give each mode its own line."""
    grid = sweep.parse(
        tiny_sweep(
            sweep={
                "populations": [1, 2],
                "budgets": [512, 1024],
                "interaction": ["population", "pbt"],
                "options": {"pbt": {"every": 2}},
            }
        )
    )
    assert list(grid.cells) == [
        "N1-B512",
        "population-N2-B512",
        "pbt-N2-B512",
        "N1-B1024",
        "population-N2-B1024",
        "pbt-N2-B1024",
    ]
    pbt = grid.cells["pbt-N2-B1024"].arms[1]
    assert (pbt.interaction, pbt.options["every"], pbt.agents) == ("pbt", 2, 2)
    assert grid.cells["N1-B512"].arms[1].interaction == "self_play"
    assert sweep.spend(grid) == 2 * 3 * (512 + 1024)
    rows = pd.DataFrame(
        {
            "arm": "swarm",
            "n": [1, 2, 2],
            "budget": 512,
            "interaction": ["self_play", "population", "pbt"],
            "rating_gap": [0.0, -50.0, 20.0],
            "gap_low": [-30.0, -90.0, -10.0],
            "gap_high": [30.0, -10.0, 50.0],
            "p_value": [1.0, 0.01, 0.2],
        }
    )
    cells = sweep_cells(rows)
    assert sorted(zip(cells.arm, cells.n, cells.gap, strict=True)) == [
        ("pbt", 1, 0.0),
        ("pbt", 2, 20.0),
        ("population", 1, 0.0),
        ("population", 2, -50.0),
    ]
    one = grid.model_copy(update={"sweep": grid.sweep.model_copy(update={"interaction": "pbt"})})
    assert list(one.cells) == ["N1-B512", "N2-B512", "N1-B1024", "N2-B1024"]  # one mode: names as before
