"""report.md, report.html and figures/*.png of a tiny run, one seed and two, from the directory alone; the
HTML rendered in a headless Chromium, where one is installed."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from swarm import report
from swarm.results import rundir
from swarm.results.rundir import RunDir

pytestmark = pytest.mark.usefixtures("ray_module")  # one local Ray for the module's runs

FIGURES = ["verdict", "learning_curves", "ratings", "crossplay", "winners_curse"]  # in the report's order
CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-headless-shell"))), None)
# Appended to a copy of report.html: once the page has loaded, write every image's size as the browser
# decoded it into the DOM, which --dump-dom then prints.
PROBE = """<script>
window.addEventListener("load", () => {
  const out = document.createElement("pre");
  out.id = "probe";
  const images = [...document.images].map(i => [i.alt, i.complete, i.naturalWidth, i.naturalHeight]);
  out.textContent = JSON.stringify(images);
  document.body.append(out);
});
</script>
"""
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def reports(multi_seed_run):
    """Both kinds of run directory, each with its report written: seed-0 alone, and the two seeds."""
    dirs = [multi_seed_run / "seed-0", multi_seed_run]
    return [(run_dir, report.write(run_dir)) for run_dir in dirs]


def test_every_file_is_written(reports):
    for run_dir, page in reports:
        assert page == run_dir / "report.html" and page.is_file()
        assert (run_dir / "report.md").read_text().startswith("# tiny on classic/connect_four-v3")
        for name in FIGURES:
            png = (run_dir / "figures" / f"{name}.png").read_bytes()
            assert png.startswith(PNG) and len(png) > 10_000, name


def test_html_embeds_every_figure_and_fetches_nothing(reports):
    for run_dir, page in reports:
        text = page.read_text()
        for name in FIGURES:
            data = base64.b64encode((run_dir / "figures" / f"{name}.png").read_bytes()).decode()
            assert f'src="data:image/png;base64,{data}"' in text, name
        assert not re.search(r'(src|href)="(https?:|//)', text)
        markdown = (run_dir / "report.md").read_text()
        assert all(f"](figures/{name}.png)" in markdown for name in FIGURES)


def test_the_verdict_comes_before_the_ledger(reports):
    for run_dir, page in reports:
        verdicts = [v.verdict for v in rundir.read_summary(RunDir(run_dir)).verdicts]
        markdown, text = (run_dir / "report.md").read_text(), page.read_text()
        for line in verdicts:
            assert -1 < markdown.find(f"**{line}") < markdown.index("## Spend")
            assert -1 < text.find(f"<strong>{html.escape(line)}") < text.index("<h2>Spend</h2>")
        assert (
            markdown.index("![verdict](") < markdown.index("## Spend") < markdown.index("## Held-out ratings")
        )
        assert markdown.index("## Held-out ratings") < markdown.index("![learning_curves](")


def test_the_ledger_shows_every_arms_spend(reports):
    for run_dir, _ in reports:
        markdown = (run_dir / "report.md").read_text()
        ledger = markdown[markdown.index("## Spend") : markdown.index("## Held-out ratings")]
        run = RunDir(run_dir)
        for seed in [run.seed(s) for s in (0, 1) if run.seed(s).finished] or [run]:
            for arm, a in rundir.read_seed_summary(seed).arms.items():
                assert f" {arm} |" in ledger
                assert f"| {a.spent['agent_steps']:,.0f} |" in ledger
                assert f"| {a.spent['core_seconds']:,.1f} |" in ledger


def test_multi_seed_report_has_the_per_seed_table(reports):
    run_dir, _ = reports[1]
    markdown = (run_dir / "report.md").read_text()
    assert "2 seeds (0, 1)" in markdown
    per_seed = markdown[markdown.index("Per seed") : markdown.index("## Spend")]
    assert len(re.findall(r"^\| [01] \| (independent|swarm) \|", per_seed, flags=re.M)) == 4


def test_a_null_check_of_single_agent_arms_reports_without_selection(tmp_path, make_config):
    """Two identical single-agent arms over two seeds (budgets/null-check.yaml's design: no arm chooses a
    best, so no selection games): the run, both kinds of report and the tables go through; the winner's
    curse says why it is empty, each arm is named as itself, and the null check counts the one-seed verdicts
    that told the identical procedures apart."""
    from swarm import analysis, config, experiment

    data = make_config(
        arms=[
            {"name": "a", "agents": 1, "interaction": "self_play"},
            {"name": "b", "agents": 1, "interaction": "self_play"},
        ],
        seeds=[0, 1],
    )
    del data["seed"]
    data["evaluation"] |= {"ladder": ["random", "heuristic"], "curve_points": 2}
    run_dir, over_seeds = experiment.run(config.parse(data), tmp_path)
    for directory in (run_dir, run_dir / "seed-0"):
        assert report.write(directory).is_file()
    seed_dir = RunDir(run_dir / "seed-0")
    assert seed_dir.figure("winners_curse").read_bytes().startswith(PNG)
    run = analysis.load_run(run_dir)
    assert analysis.winners_curse(run.matches).empty and (run.matches.stage != "selection").all()
    summary = rundir.read_seed_summary(seed_dir)
    (verdict,) = summary.verdicts
    assert verdict.primary and verdict.verdict.endswith("at 95%")
    assert (
        " b " in f" {verdict.verdict} " and " a " in f" {verdict.verdict} " and "best" not in verdict.verdict
    )
    assert summary.gains == () and [a.best for a in summary.arms.values()] == ["a/0", "b/0"]
    check = over_seeds.null_check
    named = sum(rundir.read_seed_summary(RunDir(run_dir).seed(s)).verdicts[0].p_value < 0.05 for s in (0, 1))
    assert check.arms == ("a", "b") and check.seeds == 2 and check.named_winner == named
    assert over_seeds.verdicts[0].verdict.startswith("b vs a: ")  # one agent each: named as themselves
    assert "null check: a and b train identically" in (run_dir / "report.md").read_text()


def test_a_one_seed_report_says_its_verdict_is_about_these_agents(reports):
    from swarm.results.text import ONE_SEED

    (one, _), (several, _) = reports
    assert f"**{ONE_SEED}**" in (one / "report.md").read_text()
    assert ONE_SEED not in (several / "report.md").read_text()


@pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium to render the report (Debian: apt-get install chromium)"
)
def test_a_browser_loads_every_figure_of_a_copied_run_directory(reports, tmp_path):
    """The HTML rendered in a real headless Chromium, from a copy of the run directory elsewhere: every
    figure is an image the browser decoded, at the size of its PNG in figures/."""
    for run_dir, _ in reports:
        copy = shutil.copytree(run_dir, tmp_path / run_dir.name, ignore=shutil.ignore_patterns("checkpoints"))
        probe = copy / "probe.html"
        probe.write_text((copy / "report.html").read_text().replace("</body>", PROBE + "</body>"))
        images = {alt: (done, width, height) for alt, done, width, height in _render(probe, tmp_path)}
        assert list(images) == FIGURES
        for name in FIGURES:
            assert images[name] == (True, *_png_size(copy / "figures" / f"{name}.png")), name


def _render(page: Path, scratch: Path) -> list:
    """The probe's list of images, from the DOM Chromium holds once the page has loaded."""
    command = [
        CHROMIUM,
        "--headless",
        "--disable-gpu",
        f"--user-data-dir={scratch / 'chromium'}",
        "--virtual-time-budget=10000",  # wait (in the page's own time) for the load event
        "--dump-dom",
        page.as_uri(),
    ]
    if os.geteuid() == 0:
        command.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r'<pre id="probe">(.*?)</pre>', dom, flags=re.S)
    assert found, f"the page never finished loading: {dom[-500:]}"
    return json.loads(html.unescape(found.group(1)))


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (IHDR)."""
    return struct.unpack(">II", path.read_bytes()[16:24])
