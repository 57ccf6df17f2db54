"""The results module: summary.json through its types, the run directory's layout and its format version."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swarm import analysis
from swarm.cli import main
from swarm.results import records, rundir
from swarm.results.rundir import RunDir, SweepDir


def test_results_report_and_analysis_need_neither_torch_nor_ray():
    modules = "swarm.results.records, swarm.results.rundir, swarm.results.text, swarm.analysis, swarm.report"
    code = f"import sys, {modules}; print(sorted({{'torch', 'ray'}} & set(sys.modules)))"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "[]"


def test_a_seed_summary_round_trips_through_json(multi_seed_run):
    for seed in (0, 1):
        path = RunDir(multi_seed_run).seed(seed).summary
        data = json.loads(path.read_text())
        summary = records.SeedSummary.from_json(data)
        assert summary.seed == seed and set(summary.arms) == {"single", "independent", "swarm"}
        assert json.loads(json.dumps(summary.to_json())) == data  # every field, none added or lost
        assert records.summary_from_json(data) == summary


def test_every_type_round_trips(seed_summary):
    s = seed_summary
    assert s.gains and s.verdicts and s.ladder and s.ratings  # every type is there to check
    for arm in s.arms.values():
        assert records.ArmSummary.from_json(_json(dataclasses.asdict(arm))) == arm
        for interval in (arm.best_rating, arm.oracle_rating):
            assert records.Interval(**_json(dataclasses.asdict(interval))) == interval
        assert records.Estimate(**_json(dataclasses.asdict(arm.selection_loss))) == arm.selection_loss
        assert isinstance(arm.training, records.Training) and arm.training.nodes
    for gain in s.gains:
        assert records.Gains.from_json(_json(dataclasses.asdict(gain))) == gain
    for verdict in s.verdicts:
        assert records.Verdict.from_json(_json(verdict.to_json())) == verdict
        r = verdict.record
        assert r.games == r.wins + r.draws + r.losses and r.ci_low <= r.score <= r.ci_high
    for rating in s.ratings:
        assert records.PlayerRating(**_json(dataclasses.asdict(rating))) == rating
    assert [r.rating for r in s.ratings] == sorted((r.rating for r in s.ratings), reverse=True)


def test_the_verdict_over_seeds_round_trips(multi_seed_run):
    run = RunDir(multi_seed_run)
    data = json.loads(run.summary.read_text())
    over = rundir.read_over_seeds(run)
    assert over.seeds == (0, 1) and [v.arm for v in over.verdicts] == ["independent", "swarm"]
    assert json.loads(json.dumps(over.to_json())) == data
    assert records.summary_from_json(data) == over == rundir.read_summary(run)
    for v in over.verdicts:
        assert records.OverSeedsVerdict.from_json(_json(dataclasses.asdict(v))) == v
        assert v.seeds == 2 and v.significant == (v.rating_gap.ci_low > 0 or v.rating_gap.ci_high < 0)


def test_a_real_run_holds_every_file_the_layout_names(multi_seed_run):
    run = RunDir(multi_seed_run)
    for path in (run.format, run.config, run.summary, run.per_seed, run.seed(0).path):
        assert path.exists(), path
    seed = run.seed(1)
    for path in (seed.format, seed.config, seed.ledger, seed.training, seed.matches, seed.ratings):
        assert path.is_file(), path
    for path in (seed.curve, seed.pairs, seed.summary, seed.weights("swarm/2")):
        assert path.is_file(), path
    assert seed.train_checkpoints.is_dir() and not (seed.path / "crossplay.parquet").exists()
    assert run.finished and seed.finished


def test_layout_paths():
    run, sweep = RunDir(Path("r")), SweepDir(Path("s"))
    assert run.seed(3).summary == Path("r/seed-3/summary.json")
    assert run.weights("swarm/12") == Path("r/checkpoints/final/swarm-12.pt")
    assert run.train_checkpoints == Path("r/checkpoints/train")
    assert (run.pairs, run.per_seed, run.report_html) == (
        Path("r/pairs.parquet"),
        Path("r/per_seed.parquet"),
        Path("r/report.html"),
    )
    assert run.figure("ratings") == Path("r/figures/ratings.png")
    assert (sweep.config, sweep.table) == (Path("s/sweep.yaml"), Path("s/sweep.parquet"))
    assert sweep.cell("N2-B512").seed(0).config == Path("s/cells/N2-B512/seed-0/config.yaml")


def test_new_directories_carry_the_format(tmp_path):
    first, second = rundir.create(tmp_path, "x"), rundir.create(tmp_path, "x")
    assert first.path != second.path and first.path.name.startswith("x-")
    assert first.format.read_text() == f"{rundir.FORMAT}\n"
    assert rundir.start(first) == first  # an existing directory in this format is taken as it is
    fresh = rundir.start(RunDir(tmp_path / "a" / "b"))
    assert fresh.format.is_file()


@pytest.mark.parametrize(("content", "says"), [(None, "has no format file"), ("0\n", "is in format 0")])
def test_another_format_is_refused_with_the_fix(multi_seed_run, tmp_path, content, says, capsys):
    old = tmp_path / "old"
    shutil.copytree(multi_seed_run / "seed-0", old, ignore=shutil.ignore_patterns("checkpoints"))
    if content is None:
        (old / "format").unlink()
    else:
        (old / "format").write_text(content)
    expected = f"{re.escape(str(old))}: this directory {says}.*run it again with this one"
    with pytest.raises(rundir.FormatError, match=expected):
        analysis.load_run(old)
    with pytest.raises(rundir.FormatError, match=expected):
        rundir.start(RunDir(old))
    for command in ("report", "resume"):
        assert main([command, str(old)]) == 2, command
        stderr = capsys.readouterr().err
        assert says in stderr and str(old) in stderr, command


def _json(data: dict) -> dict:
    """What reading the written file gives back."""
    return json.loads(json.dumps(data))
