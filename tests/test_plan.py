from __future__ import annotations

import math
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from swarm import config
from swarm.evaluation import plan, stats


@pytest.fixture
def design(make_config):
    """The tiny config with these run seeds and verdict games."""

    def make(seeds: list[int], verdict_games: int) -> config.Experiment:
        data = make_config()
        del data["seed"]
        data["seeds"] = seeds
        data["evaluation"]["verdict_games"] = verdict_games
        return config.parse(data)

    return make


def test_detectable_gap_shrinks_with_seeds_and_games(design):
    one = plan.plan(design([0], 400)).detectable
    four = plan.plan(design([0, 1, 2, 3], 400)).detectable
    game_se = stats.elo_standard_error(400)
    for spread in plan.ASSUMED_SEED_SPREADS:
        # one seed: a test over its games; four: a t test over seeds (3 dof) on sqrt(4) times less noise
        assert one[spread] == pytest.approx(stats.min_detectable_gap(math.hypot(game_se, spread)))
        assert four[spread] == pytest.approx(stats.min_detectable_gap(math.hypot(game_se, spread) / 2, dof=3))
        assert four[spread] < one[spread]
    more_games = plan.plan(design([0], 1600)).detectable
    assert more_games[0.0] == pytest.approx(one[0.0] / 2)  # game noise alone: sqrt(4) games
    assert one[100.0] > one[0.0]


def test_game_noise_matches_the_delta_method(design):
    result = plan.plan(design([0, 1], 400))
    se = 400 / math.log(10) / 0.25 * 0.5 / math.sqrt(400)
    assert result.game_se == pytest.approx(se)
    assert result.detectable[0.0] == pytest.approx(stats.min_detectable_gap(se / math.sqrt(2), dof=1))


def test_a_past_run_supplies_the_seed_spread(design):
    past = plan.Past(draw_rate=0.0, seed_spread=40.0, seeds=5)
    result = plan.plan(design([0, 1, 2, 3, 4], 400), past)
    assert list(result.detectable) == [40.0]
    assert any("measured on 5 seeds" in line for line in plan.render(result))


def test_cli_plan_prints_before_any_compute(tmp_path, make_config):
    path = tmp_path / "five.yaml"
    data = make_config()
    del data["seed"]
    path.write_text(yaml.safe_dump({**data, "seeds": [0, 1, 2, 3, 4]}))
    done = subprocess.run(
        [sys.executable, "-m", "swarm", "plan", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "smallest detectable gap" in done.stdout and "5 seed(s)" in done.stdout
    missing = subprocess.run(
        [sys.executable, "-m", "swarm", "plan", str(path), "--past", str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode == 2 and "--past" in missing.stderr


def test_a_past_run_is_read_from_its_directory(multi_seed_run):
    past = plan.read_past(multi_seed_run)
    matches = pd.concat(pd.read_parquet(multi_seed_run / f"seed-{s}" / "matches.parquet") for s in (0, 1))
    verdict = matches[matches.stage == "verdict"]
    assert past.seeds == 2 and past.draw_rate == pytest.approx((verdict.outcome == "draw").mean())
    assert past.seed_spread is None or past.seed_spread >= 0
    one = plan.read_past(multi_seed_run / "seed-0")
    assert (one.seeds, one.seed_spread) == (1, None)
