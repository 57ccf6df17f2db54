"""Shared fixtures: the real code paths, shrunk (as in BenchMARL's test conftest).

Test files share helpers only through these fixtures, never by importing each other.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from swarm import config, envs
from swarm.evaluation import significance

CONNECT_FOUR = "classic/connect_four-v3"

# One authentication mode for every Ray the tests start. Unset, a local ray.init() switches this process to
# token mode for good, and a multi-node test cluster started earlier (which chose by whether a token file
# existed) then refuses the driver's actors.
os.environ.setdefault("RAY_AUTH_MODE", "token")


def tiny_config(**overrides) -> dict:
    """A budget file small enough to run end to end in seconds on 2 CPUs."""
    data = {
        "name": "tiny",
        "env": CONNECT_FOUR,
        "seed": 0,
        "budget": {"unit": "agent_steps", "total": 2048},
        "arms": [
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "independent", "agents": 4, "interaction": "self_play"},
            {"name": "swarm", "agents": 4, "interaction": "population"},
        ],
        "ppo": {"rollout_steps": 256, "envs": 8, "epochs": 2, "minibatches": 2},
        "network": {"hidden": [32]},
        "opponents": {"snapshot_every": 1, "pool_size": 2},
        "evaluation": {
            "selection_games": 4,
            "verdict_games": 20,
            "crossplay_games": 2,
            "ladder": ["random", "heuristic", "mcts-4"],
            "ladder_games": 4,
            "curve_points": 4,
            "curve_games": 4,
            "bootstrap": 200,
        },
        "resources": {"cpus": 2},
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="session")
def least_evaluation() -> Callable[[], dict]:
    """`least_evaluation()`: a fresh evaluation block at the least the door allows (random alone, no curve),
    for runs that test training, the command line or faults, not the games."""
    return lambda: {
        "selection_games": 2,
        "verdict_games": 4,
        "crossplay_games": 2,
        "ladder": ["random"],
        "ladder_games": 2,
        "curve_points": 0,
        "curve_games": 2,
        "bootstrap": 100,
    }


@pytest.fixture(scope="session")
def spec() -> envs.EnvSpec:
    return envs.describe(CONNECT_FOUR)


@pytest.fixture
def tiny() -> config.Experiment:
    return config.Experiment.model_validate(tiny_config())


@pytest.fixture
def generator() -> torch.Generator:
    return torch.Generator().manual_seed(0)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


SEAT_GAME = """
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv


class SeatGame(AECEnv):
    \"\"\"k players move in seat order, `rounds` times each, choosing 0 .. k - 1; a seat's return is the
    sum of its choices. Each sees a one-hot of its own seat, so a player can tell where it sat.\"\"\"

    metadata = {"name": "seat_game_v0"}

    def __init__(self, players=3, rounds=1):
        self.possible_agents = [f"player_{i}" for i in range(players)]
        self.rounds = rounds
        seat, mask = spaces.Box(0, 1, (players,), np.float32), spaces.Box(0, 1, (players,), np.int8)
        self.spaces = spaces.Dict({"observation": seat, "action_mask": mask})
        self.actions = spaces.Discrete(players)

    def observation_space(self, agent):
        return self.spaces

    def action_space(self, agent):
        return self.actions

    def reset(self, seed=None, options=None):
        self.agents, self.moves = list(self.possible_agents), 0
        self.sums = dict.fromkeys(self.agents, 0.0)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: {} for a in self.agents}
        self.agent_selection = self.agents[0]

    def observe(self, agent):
        seat = self.possible_agents.index(agent)
        k = len(self.possible_agents)
        return {"observation": np.eye(k, dtype=np.float32)[seat], "action_mask": np.ones(k, np.int8)}

    def step(self, action):
        if self.terminations[self.agent_selection]:
            return self._was_dead_step(action)
        self.sums[self.agent_selection] += action
        self.moves += 1
        k = len(self.agents)
        over = self.moves == k * self.rounds
        self.rewards = {a: (self.sums[a] if over else 0.0) for a in self.agents}
        self.terminations = dict.fromkeys(self.agents, over)
        self.agent_selection = self.agents[self.moves % k]
        self._accumulate_rewards()


def env(players=3, rounds=1):
    return SeatGame(players, rounds)
"""


@pytest.fixture(scope="session")
def seat_game(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The module path of `SEAT_GAME`, a game of k seats (env_kwargs players, rounds) that tells every player
    its seat, importable in this process."""
    import sys

    folder = tmp_path_factory.mktemp("seat_game")
    (folder / "seat_game_v0.py").write_text(SEAT_GAME)
    sys.path.insert(0, str(folder))
    yield "seat_game_v0"
    sys.path.remove(str(folder))
    sys.modules.pop("seat_game_v0", None)


@pytest.fixture(scope="module")
def ray_module():
    """One local 2-CPU Ray for a whole test module: `engine.session` lends it to every in-process run there,
    so the module pays Ray's start and stop (about 5 s) once, not once a run."""
    from swarm import engine

    with engine.session(None, 2):
        yield


@pytest.fixture(scope="session")
def make_config() -> Callable[..., dict]:
    """`tiny_config` as a fixture: `make_config(**overrides)` gives a fresh budget-file mapping."""
    return tiny_config


@pytest.fixture(scope="session")
def flops_of() -> Callable[[Callable[[], object]], int]:
    """The FLOPs torch's own counter sees while a function runs."""

    def count(fn: Callable[[], object]) -> int:
        with FlopCounterMode(display=False) as counter:
            fn()
        return counter.get_total_flops()

    return count


@pytest.fixture(scope="session")
def descendants() -> Callable[[int], dict[int, int]]:
    """`descendants(pid)`: every live process under `pid`, by pid and start time (a reused pid is another
    process), from /proc."""
    from swarm.engine import watchdog

    def under(pid: int) -> dict[int, int]:
        table = watchdog.processes()
        return {p: table[p][1] for p in watchdog.family(table, {pid}) - {pid}}

    return under


@pytest.fixture(scope="session")
def multi_seed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny two-seed run directory per test session, for the analysis, report and notebook tests. Its
    `seed-0/` is a whole single-seed run directory, so one experiment gives both kinds. The tiny config is
    shrunk further (3 agents an arm, a three-member ladder, one of them trained for 512 agent-steps): two
    seeds took 55 to 68 s on the slower 2-core VM (AVX2, 2026-12-02), most of it Ray workers starting."""
    from swarm import experiment

    path = tmp_path_factory.getbasetemp() / "tiny-multi-seed"
    data = tiny_config(
        seeds=[0, 1],
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "independent", "agents": 3, "interaction": "self_play"},
            {"name": "swarm", "agents": 3, "interaction": "population"},
        ],
    )
    del data["seed"]
    data["evaluation"] |= {
        "verdict_games": 10,
        "ladder": ["random", "heuristic", "trained-512"],
        "curve_points": 2,
        "exploit_steps": 512,
        "exploit_games": 10,
    }
    experiment.run(config.parse(data), path.parent, run_dir=path)
    return path


@pytest.fixture
def sweep_frame() -> pd.DataFrame:
    """A sweep.parquet in the sweep runner's schema: two arms, N in {2, 4, 8}, two budgets, seeds 0-2 in
    the N = 2 cells and seed 0 elsewhere."""
    rng = np.random.default_rng(0)
    rows = []
    for arm in ("independent", "swarm"):
        for budget in (4096, 8192):
            for n in (2, 4, 8):
                for seed in range(3 if n == 2 else 1):
                    gap = rng.normal(-40.0 * np.log2(n), 20)
                    score = 1 / (1 + 10 ** (-gap / 400))
                    rows.append(
                        {
                            "n": n,
                            "budget": budget,
                            "seed": seed,
                            "arm": arm,
                            "baseline": "single",
                            "primary": True,
                            "best": f"{arm}/0",
                            "games": 400,
                            "score": score,
                            "score_low": score - 0.05,
                            "score_high": score + 0.05,
                            "rating_gap": gap,
                            "gap_low": gap - 60,
                            "gap_high": gap + 60,
                            "p_value": significance.score_p_value(score, 400),
                            "arm_rating": 100 + gap,
                            "baseline_rating": 100.0,
                            "verdict": "no significant difference",
                            "cell": f"n{n}-b{budget}",
                        }
                    )
    return pd.DataFrame(rows)


def _ledger_without_time(ledger: pd.DataFrame) -> pd.DataFrame:
    return ledger.drop(columns=["core_seconds", "cum_core_seconds"]).reset_index(drop=True)


def _rows_without_time(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows).drop(columns=["seconds"])


@pytest.fixture(scope="session")
def same_training() -> Callable[[pd.DataFrame, list[dict], pd.DataFrame, list[dict]], None]:
    """Assert two trainings spent and learned alike: equal ledgers and training rows, leaving out what is
    measured (CPU seconds, a round's wall seconds), which no two runs share."""

    def check(ledger: pd.DataFrame, rows: list[dict], reference: pd.DataFrame, reference_rows: list[dict]):
        pd.testing.assert_frame_equal(_ledger_without_time(ledger), _ledger_without_time(reference))
        pd.testing.assert_frame_equal(_rows_without_time(rows), _rows_without_time(reference_rows))

    return check


@pytest.fixture(scope="session")
def uninterrupted() -> Callable:
    """`uninterrupted(cfg)`: `cfg` trained once on a local 2-CPU Ray, start to end, cached for the session:
    what interrupted, faulty or resharded runs must match."""
    from swarm import engine

    trained: dict[str, object] = {}

    def train(cfg: config.Experiment):
        key = cfg.model_dump_json()
        if key not in trained:
            with engine.session(None, 2) as cpus:
                trained[key] = engine.train(cfg, cpus)
        return trained[key]

    return train


@pytest.fixture
def modes_config(make_config) -> config.Experiment:
    """The tiny run with a single agent (8 rounds) beside an arm of every mode that meets others, four
    agents each (2 rounds each): pbt copies weights at round 1."""
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play"},
        {"name": "pfsp", "agents": 4, "interaction": "pfsp"},
        {"name": "pbt", "agents": 4, "interaction": "pbt", "options": {"every": 1}},
        {"name": "league", "agents": 4, "interaction": "league", "options": {"mains": 2}},
    ]
    return config.parse(make_config(arms=arms, checkpoint_every=2))


@pytest.fixture(scope="session")
def seed_summary(multi_seed_run: Path):
    """Seed 0's summary of `multi_seed_run`, typed: a real one to vary with `dataclasses.replace`."""
    from swarm.results import rundir

    return rundir.read_seed_summary(rundir.RunDir(multi_seed_run).seed(0))
