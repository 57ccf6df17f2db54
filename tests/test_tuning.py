"""Equal tuning: the door, the search's determinism and resume, seeds that never judge, and one tiny real run
whose verdict trains with the tuned settings."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
import yaml

from swarm import budget, config, experiment, report, tuning
from swarm.config import ConfigError
from swarm.ledger import Ledger
from swarm.results.rundir import RunDir, TuningDir

SPACE = {
    "ppo.lr": {"low": 1e-4, "high": 1e-2, "log": True},
    "ppo.entropy_coef": {"low": 0.0, "high": 0.05},
    "ppo.rollout_steps": {"choices": [128, 256]},
}


@pytest.fixture
def tuned_file(make_config):
    """`make_config` with a tuning block: `tuned_file(**tuning fields)`, the rest overridable."""

    def build(**fields) -> dict:
        return make_config(tuning={"trials": 3, "space": SPACE, "games": 2, **fields})

    return build


def refused(data: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        config.parse(data)
    return str(caught.value)


# ---- the door -----------------------------------------------------------------------------------------


def test_the_door_takes_a_tuning_block(tuned_file):
    cfg = config.parse(tuned_file())
    assert cfg.tuning.seeds == [2**27 - 1] and cfg.tuning.sampler == "tpe"
    assert isinstance(cfg.tuning.space["ppo.rollout_steps"], config.Choices)


@pytest.mark.parametrize("run_seeds", [{"seed": 5}, {"seeds": [3, 5]}])
def test_the_door_refuses_tuning_seeds_that_judge(tuned_file, run_seeds):
    data = tuned_file(seeds=[5, 7])
    data.pop("seed")
    message = refused({**data, **run_seeds})
    assert "tuning.seeds: [5] also judge the verdict" in message and "[134217727]" in message


@pytest.mark.parametrize(
    ("setting", "values", "said"),
    [
        ("learner.lr", {"low": 0.1, "high": 0.2}, "'learner' is not a per-arm block; name one of ppo"),
        ("ppo.lrate", {"low": 0.1, "high": 0.2}, "ppo has no field 'lrate'; pick one of rollout_steps"),
        ("network.hidden", {"low": 1, "high": 2}, "a range needs a number field"),
        ("ppo.epochs", {"low": 1.5, "high": 4}, "integer low and high"),
        ("ppo.lr", {"low": 0.0, "high": 0.1, "log": True}, "a log range needs low > 0"),
        ("ppo.lr", {"low": 0.2, "high": 0.1}, "low (0.2) must be below high (0.1)"),
        ("ppo.lr", {"low": -0.1, "high": 0.1}, "tuning.space.ppo.lr: -0.1: Input should be greater than 0"),
        ("network.hidden", {"choices": [[32], [0]]}, "tuning.space.network.hidden: [0]: Value error"),
        ("opponents.per_round", {"choices": [2, 64]}, "with opponents.per_round = 64: opponents.per_round"),
    ],
)
def test_the_door_refuses_a_bad_space(tuned_file, setting, values, said):
    assert said in refused(tuned_file(space={setting: values}))


def test_the_door_refuses_a_choice_an_arm_cannot_afford(tuned_file):
    """B / N = 512 agent-steps for the four-agent arms: a rollout batch of 1024 would not fit."""
    message = refused(tuned_file(space={"ppo.rollout_steps": {"choices": [256, 1024]}}))
    assert "tuning.space with ppo.rollout_steps = 1024: budget.total" in message


def test_an_arms_own_setting_may_be_tuned(tuned_file):
    data = tuned_file()
    data["arms"][1]["ppo"] = {"lr": 0.5}
    cfg = config.parse(data)
    settings = {"ppo.lr": 0.001, "ppo.entropy_coef": 0.0, "ppo.rollout_steps": 128}
    one = tuning.trial_config(cfg, {arm.name: settings for arm in cfg.arms}, 9)
    assert one.for_arm(1).ppo.lr == 0.001 and one.seed == 9 and one.tuning is None


def test_the_door_refuses_tuning_without_optuna(tuned_file, monkeypatch):
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "optuna" else found(name)
    )
    assert "pip install 'swarm-testbed[tune]'" in refused(tuned_file())


def test_a_sweep_refuses_a_tuning_block():
    from swarm import sweep

    with pytest.raises(ConfigError, match="a sweep does not tune its cells"):
        sweep.parse({"name": "s", "tuning": {"trials": 1, "space": SPACE}})


def test_validate_counts_the_tuning(tuned_file, tmp_path, capsys):
    from swarm.cli import main

    path = tmp_path / "tuned.yaml"
    path.write_text(yaml.safe_dump(tuned_file()))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    assert (
        "# tuning: 3 trial(s) an arm on tuning seed(s) [134217727]" in out
        and "(6,144 agent_steps an arm)" in out
    )
    assert "CPU(s): tuning " in out  # the estimate counts the trials' training and games


# ---- the search, with training and games faked ---------------------------------------------------------


class Fake:
    """Training and playing without Ray: every agent spends its share; a game's result is a coin fixed by its
    seed, biased by the trial's learning rate (so the objective depends on the settings). Records every
    run seed a trial trained on and every game seed it played."""

    def __init__(self, fail_after: int | None = None):
        self.trained: list[int] = []
        self.played: list[int] = []
        self.fail_after = fail_after

    def train(self, one: config.Experiment) -> tuple[Ledger, dict]:
        if self.fail_after is not None and len(self.trained) == self.fail_after:
            raise KeyboardInterrupt
        self.trained.append(one.seed)
        shares = {
            agent: share
            for arm in one.arms
            for agent, share in zip(arm.agent_ids, budget.split(one.budget.total, arm.agents), strict=True)
        }
        ledger = Ledger(shares)
        for agent, share in shares.items():
            ledger.charge(agent.split("/")[0], agent, 0, share, 10 * share, 1.0)
        return ledger, dict.fromkeys(shares)

    def play_with(self, one: config.Experiment, weights: dict):
        names = [arm.name for arm in one.arms]
        edge = {n: np.log10(one.for_arm(a).ppo.lr) / 10 + 0.5 for a, n in enumerate(names)}  # 0.1 to 0.3

        def play(games):
            self.played += [seed for seed, _, _ in games]
            rewards = []
            for seed, a, b in games:
                lift = edge[a.split("/")[0]] if "/" in a else -edge[b.split("/")[0]]  # ladder members: no /
                won = np.random.default_rng(seed).random() < 0.5 + lift  # player_0 wins
                rewards.append([1.0, -1.0] if won else [-1.0, 1.0])
            return np.array(rewards).reshape(-1, 2), np.full(len(games), 10)

        return play


def search(cfg: config.Experiment, path, fake: Fake) -> dict:
    return tuning.search(cfg, TuningDir(path), fake.train, fake.play_with, say=lambda _: None)


def test_a_search_never_touches_the_verdicts_seeds(tuned_file, tmp_path):
    """Every trial trains on a tuning seed (every RNG of its training derives from it) and every game it
    plays carries a tuning seed in its bits: none is a run seed's."""
    cfg = config.parse(tuned_file(seeds=[11, 12], trials=2))
    fake = Fake()
    search(cfg, tmp_path, fake)
    assert sorted(set(fake.trained)) == [11, 12] and len(fake.trained) == 2 * 2  # trials x tuning seeds
    assert {s >> 35 for s in fake.played} == {11, 12}  # (run_seed * 8 + stage) << 32 | index
    assert {seed for seed in fake.played if (seed >> 32) % 8 in (1, 4)} == set(
        fake.played
    )  # selection, ladder
    matches = pd.read_parquet(TuningDir(tmp_path).matches)
    assert sorted(matches.seed) == sorted(fake.played)
    assert not {s >> 35 for s in matches.seed} & set(cfg.run_seeds)


def test_a_proposal_is_a_function_of_the_seed_and_the_finished_trials(tuned_file):
    tuned = config.parse(tuned_file()).tuning
    history = [({"ppo.lr": 0.001, "ppo.entropy_coef": 0.01, "ppo.rollout_steps": 128}, 0.4)]
    first = tuning.propose(tuned, 0, history)
    assert tuning.propose(tuned, 0, history) == first
    assert tuning.propose(tuned, 1, history) != first  # another arm, another stream
    other = tuned.model_copy(update={"seeds": [5]})
    assert tuning.propose(other, 0, history) != first
    assert first["ppo.rollout_steps"] in (128, 256) and 1e-4 <= first["ppo.lr"] <= 1e-2


def test_a_resumed_search_runs_the_same_trials(tuned_file, tmp_path):
    cfg = config.parse(tuned_file(trials=4))
    whole = search(cfg, tmp_path / "whole", Fake())
    with pytest.raises(KeyboardInterrupt):
        search(cfg, tmp_path / "cut", Fake(fail_after=2))  # in the third trial
    assert len(pd.read_parquet(TuningDir(tmp_path / "cut").trials)) == 6
    rest = Fake()
    assert search(cfg, tmp_path / "cut", rest) == whole
    assert len(rest.trained) == 4 - 2  # finished trials are not run again
    for table in ("trials", "ledger", "matches"):
        cut, full = (pd.read_parquet(getattr(TuningDir(tmp_path / d), table)) for d in ("cut", "whole"))
        pd.testing.assert_frame_equal(
            cut.drop(columns="seconds", errors="ignore"), full.drop(columns="seconds", errors="ignore")
        )


def test_every_arm_spends_trials_times_its_budget(tuned_file, tmp_path):
    cfg = config.parse(tuned_file(trials=3))
    tuned = search(cfg, tmp_path, Fake())
    ledger = pd.read_parquet(TuningDir(tmp_path).ledger)
    assert (ledger.groupby("arm").agent_steps.sum() == 3 * cfg.budget.total).all()
    trials = pd.read_parquet(TuningDir(tmp_path).trials)
    for arm, settings in tuned.items():
        mine = trials[trials.arm == arm]
        assert json.loads(mine.settings[mine.objective.idxmax()]) == settings
    written = yaml.safe_load(TuningDir(tmp_path).tuned.read_text())
    assert written == {arm: tuning.as_blocks(s) for arm, s in tuned.items()}
    applied = tuning.apply(cfg, tuned)
    assert [applied.for_arm(a).ppo.lr for a in range(3)] == [tuned[a.name]["ppo.lr"] for a in cfg.arms]


# ---- one tiny real run ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tuned_run(tmp_path_factory, make_config, least_evaluation, ray_module):
    """Two arms (one agent; two in population play) on 512 agent-steps, two trials each, then the verdict
    on one seed with the tuned settings."""
    data = make_config(
        budget={"unit": "agent_steps", "total": 512},
        arms=[
            {"name": "single", "agents": 1, "interaction": "self_play"},
            {"name": "swarm", "agents": 2, "interaction": "population"},
        ],
        ppo={"rollout_steps": 128, "envs": 8, "epochs": 1, "minibatches": 2},
        evaluation=least_evaluation(),
        metrics={"sinks": []},
        tuning={
            "trials": 2,
            "space": {
                "ppo.lr": {"low": 1e-4, "high": 1e-2, "log": True},
                "ppo.rollout_steps": {"choices": [128, 256]},
            },
            "games": 2,
        },
    )
    cfg = config.parse(data)
    run_dir, _ = experiment.run(cfg, tmp_path_factory.mktemp("tuned"))
    return cfg, run_dir


def test_a_tuned_run_trains_its_arms_with_their_tuned_settings(tuned_run):
    cfg, run_dir = tuned_run
    tuned = yaml.safe_load(RunDir(run_dir).tuning.tuned.read_text())
    resolved = config.parse(
        {k: v for k, v in yaml.safe_load(RunDir(run_dir).config.read_text()).items() if k != "provenance"}
    )
    training = pd.read_parquet(RunDir(run_dir).training)
    for a, arm in enumerate(resolved.arms):
        assert arm.ppo == {**cfg.arms[a].ppo, **tuned[arm.name]["ppo"]}
        first = training[(training.arm == arm.name) & (training["round"] == 0)]
        assert np.allclose(first.lr, tuned[arm.name]["ppo"]["lr"])  # the first round's rate, not yet annealed
        assert (first.agent_steps == tuned[arm.name]["ppo"]["rollout_steps"]).all()


def test_a_tuned_runs_arms_spend_equally_on_tuning(tuned_run):
    cfg, run_dir = tuned_run
    ledger = pd.read_parquet(RunDir(run_dir).tuning.ledger)
    spent = ledger.groupby("arm").agent_steps.sum()
    assert (spent == cfg.tuning.trials * cfg.budget.total).all()  # agent-steps bind exactly here
    matches = pd.read_parquet(RunDir(run_dir).tuning.matches)
    assert {s >> 35 for s in matches.seed} == set(cfg.tuning.seeds)
    assert set(ledger.seed) == set(cfg.tuning.seeds) and (ledger.flops > 0).all()


def test_a_tuned_runs_report_has_its_tuning(tuned_run):
    _, run_dir = tuned_run
    text = report.write(run_dir).with_suffix(".md").read_text()
    assert "## Tuning" in text and "The trials' seeds were never the verdict's" in text
    assert "tuning agent_steps" in text and "| swarm | 1 |" in text
