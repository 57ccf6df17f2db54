"""Equal tuning: each arm's key settings searched with the same compute per arm, on seeds that never judge.

Every arm gets `tuning.trials` trials. A trial trains the whole arm with the settings Optuna proposes (Akiba
et al., KDD 2019; the tree-structured Parzen estimator of Bergstra et al., NeurIPS 2011), on each tuning seed:
its N agents on B / N each, exactly as the run will train it (trial k of every arm in one go, side by side
as in the run, each arm with its own proposal). It then picks the arm's best as a run does
(selection games) and plays that best against every ladder member, `tuning.games` games each: the objective
is its mean score over those games and seeds. The ladder is fixed, so the objective is pool-invariant and no
arm is tuned against the other. Every game seed and RNG seed a trial uses derives from a tuning seed, never
a run seed (`swarm.seeds`), so no trial touches the verdict's games or streams.

Deterministic and resumable: trial k of an arm is proposed by a fresh sampler seeded by the tuning seeds,
the arm and k (`seeds.sampler_seed`), fed the arm's finished trials; trials.parquet gains each trial as it
finishes, so a resumed search rebuilds the study from it and proposes the very same trials. Training and
playing are handed in (`Train`, `PlayWith`), so this module never sees Ray: `experiment.tune` hands it the
engine's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from swarm import seeds
from swarm.budget import UNITS
from swarm.config import Choices, Experiment, Tuning, setting_type, settle, shown
from swarm.evaluation import evaluate, roles
from swarm.ledger import Ledger
from swarm.results import rundir
from swarm.results.rundir import TuningDir
from swarm.training.agent import Weights

Train = Callable[[Experiment], tuple[Ledger, dict[str, Weights]]]  # a one-arm experiment -> ledger, weights
PlayWith = Callable[[Experiment, dict[str, Weights]], evaluate.Play]  # games played with these weights
Say = Callable[[str], None]

TRIAL_COLUMNS = ["arm", "trial", "settings", "objective", "seconds"]
LEDGER_COLUMNS = ["arm", "trial", "seed", *UNITS, "selection_games", "selection_moves", "games", "moves"]
MATCH_COLUMNS = ["trial", *evaluate.MATCH_COLUMNS]


@dataclass(frozen=True)
class Tables:
    """The search so far: finished trials, what each spent (ledger) and every game it played (matches)."""

    trials: pd.DataFrame
    ledger: pd.DataFrame
    matches: pd.DataFrame

    def add(self, trials: pd.DataFrame, ledger: pd.DataFrame, matches: pd.DataFrame) -> Tables:
        return Tables(_stack(self.trials, trials), _stack(self.ledger, ledger), _stack(self.matches, matches))

    def history(self, arm: str) -> list[tuple[dict[str, Any], float]]:
        """The arm's finished trials, in order: (settings, objective)."""
        mine = self.trials[self.trials.arm == arm].sort_values("trial")
        return [(json.loads(s), float(o)) for s, o in zip(mine.settings, mine.objective, strict=True)]


def search(config: Experiment, directory: TuningDir, train: Train, play_with: PlayWith, say: Say) -> dict:
    """Each arm's tuned settings (dotted, as `tuning.space` names them): every trial not yet in
    trials.parquet run and written as it finishes; then each arm's best trial, written to tuned.yaml as its
    ppo, network and opponents changes. Trial k of every arm trains in one go, the arms side by side on the
    CPUs each gets in the run; each arm's proposal reads that arm's trials alone."""
    tuning = config.tuning
    tables = load(directory)
    for k in range(len(tables.history(config.arms[0].name)), tuning.trials):
        proposed = {
            arm.name: propose(tuning, a, tables.history(arm.name)) for a, arm in enumerate(config.arms)
        }
        started = time.perf_counter()
        ledger, matches, objectives = run_trial(config, proposed, train, play_with)
        trials = pd.DataFrame(
            [
                {
                    "arm": arm,
                    "trial": k,
                    "settings": json.dumps(settings),
                    "objective": objectives[arm],
                    "seconds": time.perf_counter() - started,
                }
                for arm, settings in proposed.items()
            ],
            columns=TRIAL_COLUMNS,
        )
        tables = tables.add(
            trials, ledger.assign(trial=k)[LEDGER_COLUMNS], matches.assign(trial=k)[MATCH_COLUMNS]
        )
        save(tables, directory)
        for arm, settings in proposed.items():
            say(f"tuning {arm}: trial {k + 1}/{tuning.trials}: {objectives[arm]:.3f} with {shown(settings)}")
    tuned = {arm.name: best(tables.history(arm.name)) for arm in config.arms}
    rundir.write_yaml({arm: as_blocks(settings) for arm, settings in tuned.items()}, directory.tuned)
    return tuned


def apply(config: Experiment, tuned: dict[str, dict[str, Any]]) -> Experiment:
    """The experiment with each arm's tuned settings as its own changes to the blocks."""
    return config.model_copy(update={"arms": [settle(arm, tuned[arm.name]) for arm in config.arms]})


# ---- proposing ----------------------------------------------------------------------------------------


def propose(tuning: Tuning, arm_index: int, history: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """The next trial's settings: a study rebuilt from the arm's finished trials asks a sampler seeded for
    this arm and trial number, so the proposal is a function of the history alone."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    space = distributions(tuning)
    study = optuna.create_study(direction="maximize", sampler=sampler(tuning, arm_index, len(history)))
    for settings, objective in history:
        params = encode(tuning, settings)
        study.add_trial(optuna.trial.create_trial(params=params, distributions=space, value=objective))
    return decode(tuning, study.ask(space).params)


def sampler(tuning: Tuning, arm_index: int, trial: int):
    from optuna.samplers import RandomSampler, TPESampler

    seed = seeds.sampler_seed(tuning.seeds, arm_index, trial)
    if tuning.sampler == "random":
        return RandomSampler(seed=seed)
    return TPESampler(seed=seed, n_startup_trials=max(2, tuning.trials // 3))


def distributions(tuning: Tuning) -> dict:
    """Optuna's distribution of each setting: a choice by its index (choices may be lists, which Optuna's
    categorical values may not), a range as int or float as its field is."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    found = {}
    for setting, values in tuning.space.items():
        if isinstance(values, Choices):
            found[setting] = CategoricalDistribution(tuple(range(len(values.choices))))
        elif setting_type(setting) is int:
            found[setting] = IntDistribution(int(values.low), int(values.high), log=values.log)
        else:
            found[setting] = FloatDistribution(float(values.low), float(values.high), log=values.log)
    return found


def encode(tuning: Tuning, settings: dict[str, Any]) -> dict[str, Any]:
    return {
        s: values.choices.index(settings[s]) if isinstance(values, Choices) else settings[s]
        for s, values in tuning.space.items()
    }


def decode(tuning: Tuning, params: dict[str, Any]) -> dict[str, Any]:
    return {
        s: values.choices[params[s]] if isinstance(values, Choices) else params[s]
        for s, values in tuning.space.items()
    }


def best(history: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """The settings of the highest objective; of tied trials, the first."""
    return max(enumerate(history), key=lambda kv: (kv[1][1], -kv[0]))[1][0]


def as_blocks(settings: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Dotted settings as an arm's block changes: {ppo.lr: x} -> {ppo: {lr: x}}."""
    blocks: dict[str, dict[str, Any]] = {}
    for setting, value in settings.items():
        block, _, field = setting.partition(".")
        blocks.setdefault(block, {})[field] = value
    return blocks


# ---- one trial ----------------------------------------------------------------------------------------


def trial_config(config: Experiment, proposed: dict[str, dict[str, Any]], seed: int) -> Experiment:
    """The experiment a trial runs: every arm with its proposed settings over its own, on a tuning seed
    (every game seed and RNG of the trial derives from it), without the tuning block."""
    arms = [settle(arm, proposed[arm.name]) for arm in config.arms]
    return config.model_copy(update={"seed": seed, "seeds": None, "arms": arms, "tuning": None})


def objective_schedule(config: Experiment, best: dict[str, str], games: int) -> list[evaluate.Game]:
    """`games` games of each arm's best against each ladder member, on the (tuning) seed's ladder stage."""
    schedule: list[evaluate.Game] = []
    for arm, player in best.items():
        for member in config.evaluation.ladder:
            schedule += evaluate.pairing(config.seed, "ladder", arm, player, member, games, len(schedule))
    return schedule


def run_trial(
    config: Experiment, proposed: dict[str, dict[str, Any]], train: Train, play_with: PlayWith
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, float]]:
    """Every arm trained with its proposed settings on every tuning seed, its best chosen and played against
    the ladder: a ledger row per arm and seed, every game played, and each arm's objective (its best's mean
    score, over seeds). Arms train and play independently, so an arm's trial never depends on another's
    settings."""
    rows, played, scores = [], [], {arm.name: [] for arm in config.arms}
    for seed in config.tuning.seeds:
        one = trial_config(config, proposed, seed)
        ledger, weights = train(one)
        play, judged = play_with(one, weights), roles.judged_roles(one)
        selection = evaluate.play_schedule(evaluate.selection_schedule(one), play, one.payoff_bound, judged)
        best = {
            arm.name: evaluate.select_best(
                selection[selection.arm == arm.name], arm.agent_ids, arm.candidates
            )[0]
            for arm in one.arms
        }
        games = evaluate.play_schedule(
            objective_schedule(one, best, config.tuning.games), play, one.payoff_bound, judged
        )
        score = evaluate.player_scores(games).set_index("player").score
        spent = ledger.totals_by_arm()
        for arm in one.arms:
            scores[arm.name].append(float(score[best[arm.name]]))
            chose, judged = selection[selection.arm == arm.name], games[games.arm == arm.name]
            rows.append(
                {
                    "arm": arm.name,
                    "seed": seed,
                    **spent[arm.name],
                    "selection_games": len(chose),
                    "selection_moves": int(chose.length.sum()),
                    "games": len(judged),
                    "moves": int(judged.length.sum()),
                }
            )
        played += [selection, games]
    matches = pd.concat([g for g in played if len(g)], ignore_index=True)
    return pd.DataFrame(rows), matches, {arm: sum(s) / len(s) for arm, s in scores.items()}


# ---- the tables ---------------------------------------------------------------------------------------


def load(directory: TuningDir) -> Tables:
    """The finished trials, and the ledger rows and games of those alone (a trial cut short may have
    written its games, never its row in trials.parquet, which is written last)."""
    if not directory.trials.is_file():
        return Tables(*(pd.DataFrame(columns=c) for c in (TRIAL_COLUMNS, LEDGER_COLUMNS, MATCH_COLUMNS)))
    trials = pd.read_parquet(directory.trials)
    done = set(zip(trials.arm, trials.trial, strict=True))

    def finished(frame: pd.DataFrame) -> pd.DataFrame:
        keep = [key in done for key in zip(frame.arm, frame.trial, strict=True)]
        return frame[keep].reset_index(drop=True)

    return Tables(
        trials, finished(pd.read_parquet(directory.ledger)), finished(pd.read_parquet(directory.matches))
    )


def save(tables: Tables, directory: TuningDir) -> None:
    """Each table atomically, trials.parquet last: a trial is finished once it is there."""
    rundir.write_parquet(tables.matches, directory.matches)
    rundir.write_parquet(tables.ledger, directory.ledger)
    rundir.write_parquet(tables.trials, directory.trials)


def _stack(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    return new.reset_index(drop=True) if old.empty else pd.concat([old, new], ignore_index=True)
