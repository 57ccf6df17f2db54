"""One experiment, end to end: split -> train arms -> evaluate -> rate -> verdict -> write; once per seed.
With a tuning block, each arm's settings are tuned first, once for every seed (`swarm.tuning`).

The config is already validated (`config.load`) before this runs, so no compute is spent on a bad file.
Tables are written as soon as they are final, so a later failure loses nothing already finished. With
`seeds: [...]` every seed is a whole run in `seed-<s>/`, and the verdict over seeds goes beside them; a
seed whose summary.json exists is not run again, so re-running into the same directory resumes. Where each
file goes is `swarm.results.rundir`'s business.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from swarm import engine, envs, metrics, references, seeds, tuning
from swarm.config import Experiment
from swarm.evaluation import aggregate, evaluate, plackett_luce, ratings, roles, summary
from swarm.ledger import Ledger
from swarm.players.network import forward_flops
from swarm.results import records, rundir
from swarm.results.rundir import RunDir
from swarm.weights import save_weights

OnRound = Callable[[int, str, float], None]  # seed, arm, agent-steps spent
Say = Callable[[str], None]  # one line of progress for the user
CURVE_COLUMNS = ["arm", "agent", "checkpoint", "agent_steps", "arm_agent_steps", "opponent", "games", "score"]


def run(
    config: Experiment,
    out: Path,
    address: str | None = None,
    on_round: OnRound | None = None,
    run_dir: Path | None = None,
    say: Say = lambda _: None,
    after_seed: Callable[[], None] = lambda: None,
) -> tuple[Path, records.Summary]:
    """Run every seed; returns the run directory and its summary (the over-seed one for several seeds).
    `after_seed` runs once each seed's files are written (the CLI mirrors them to shared storage)."""
    run = rundir.start(RunDir(run_dir)) if run_dir else rundir.create(out, config.name)
    rundir.write_yaml(rundir.resolved_config(config), run.config)
    with engine.session(address, config.resources.cpus, config.resources.gpus) as cpus:
        members = references.train(config, run, train_member, say)  # once for all seeds
        if config.tuning is not None:
            config = tune(config, run, cpus, say, members)
        if config.seeds is None:
            result = run_seed(config, run.path, cpus, on_round, say, members)
            after_seed()
            return run.path, result
        for seed in config.seeds:
            if not run.seed(seed).finished:
                run_seed(config.for_seed(seed), run.seed(seed).path, cpus, on_round, say, members)
                after_seed()
    return run.path, aggregate.write(config, run)


def train_member(recipe: Experiment, store: Path) -> tuple[Ledger, dict[str, engine.Weights]]:
    """A trained ladder member's recipe (`references.recipe`) on the engine, on one CPU, checkpointed in
    `store`."""
    trained = engine.train(recipe, 1, store=store)
    return trained.ledger, trained.weights


def tune(
    config: Experiment, run: RunDir, cpus: int, say: Say, members: dict[str, engine.Weights]
) -> Experiment:
    """Equal tuning, once before any seed (`swarm.tuning`): every arm's trials trained and played on the
    engine (a resumed run keeps its finished ones), the ladder's trained `members` among their opponents; the
    experiment with each arm's tuned settings comes back, and is the run's config.yaml from then on."""

    def train_trial(trial: Experiment) -> tuple[Ledger, dict[str, engine.Weights]]:
        trained = engine.train(trial, cpus)
        return trained.ledger, trained.weights

    def play_with(trial: Experiment, weights: dict[str, engine.Weights]) -> evaluate.Play:
        return lambda games: engine.play_games(trial, games, {**weights, **members})

    tuned = tuning.apply(config, tuning.search(config, run.tuning, train_trial, play_with, say))
    rundir.write_yaml(rundir.resolved_config(tuned), run.config)
    return tuned


def run_seed(
    config: Experiment,
    run_dir: Path,
    cpus: int,
    on_round: OnRound | None = None,
    say: Say = lambda _: None,
    members: dict[str, engine.Weights] | None = None,
) -> records.SeedSummary:
    """One seed, step by step; each step writes its tables as soon as they are final. `members`: the
    ladder's trained members' weights (`references.train`)."""
    started = time.time()
    run = rundir.start(RunDir(run_dir))
    rundir.write_yaml(rundir.resolved_config(config), run.config)
    trained = train(config, run, cpus, on_round)
    say(f"seed {config.seed}: trained; playing selection, held-out and curve games")
    evaluation, spend = judge(config, run, trained, members or {})
    if config.evaluation.exploit_steps:
        say(f"seed {config.seed}: training an exploiter against each arm's best")
    exploited = engine.exploit_bests(config, evaluation.best, trained.weights)
    rated = rate(config, run, evaluation)
    training = {
        arm: records.Training(trained.wall_seconds[arm], tuple(sorted(set(trained.nodes[arm]))))
        for arm in trained.wall_seconds
    }
    spent = trained.ledger.totals_by_arm()
    lineage = {
        arm: summary.Lineage(
            trained.ledger.embodied(best),
            sum(row["arm"] == arm for row in trained.ledger.lineage),
        )
        for arm, best in evaluation.best.items()
    }
    result = summary.build(
        config,
        spent,
        evaluation,
        rated,
        selection_cost(spend),
        time.time() - started,
        training,
        exploited,
        lineage,
    )
    rundir.write_summary(result, run)
    return result


def train(config: Experiment, run: RunDir, cpus: int, on_round: OnRound | None) -> engine.Trained:
    """Every arm trained on Ray, checkpointed into the run, each round's metrics to the file's sinks as it
    comes; the final weights and training rows written."""
    progress = None if on_round is None else lambda arm, spent: on_round(config.seed, arm, spent)
    with metrics.live(config, run) as on_rows:
        trained = engine.train(config, cpus, progress, store=run.train_checkpoints, on_rows=on_rows)
    for agent, weights in trained.weights.items():
        save_weights(weights, run.weights(agent))
    rundir.write_parquet(pd.DataFrame(trained.rows), run.training)
    rundir.write_parquet(trained.ledger.lineage_frame(), run.lineage)
    return trained


def judge(
    config: Experiment, run: RunDir, trained: engine.Trained, members: dict[str, engine.Weights]
) -> tuple[evaluate.Evaluation, pd.DataFrame]:
    """Selection, held-out (free-for-all and ad-hoc team games included) and learning-curve games, the
    ladder's trained `members` playing from their weights; then the ledger, with the selection games charged
    to the arms that reserved them (their spend is returned either way)."""
    players = {**trained.weights, **members}
    evaluation = evaluate.run(
        config,
        lambda games: engine.play_games(config, games, players),
        lambda games: engine.play_free_for_all(config, games, players),
    )
    curve_matches, curve = learning_curve(config, trained.curve)
    rundir.write_parquet(pd.concat([evaluation.matches, curve_matches]), run.matches)
    rundir.write_parquet(evaluation.free_for_all, run.free_for_all)
    rundir.write_parquet(evaluation.teamwork, run.teamwork)
    rundir.write_parquet(curve, run.curve)
    spend = selection_spend(config, evaluation.matches)
    charged = [arm.name for arm in config.arms if config.selection_reserve(arm)]
    charge_selection(trained.ledger, spend[spend.arm.isin(charged)])
    rundir.write_parquet(trained.ledger.frame(), run.ledger)
    return evaluation, spend


def rate(config: Experiment, run: RunDir, evaluation: evaluate.Evaluation) -> summary.Rated:
    """Ratings on the held-out games (what judges), on every game (what shows selection's inflation) and
    against the fixed ladder alone (pool-invariant); each pair's held-out record; Plackett-Luce on the
    free-for-all games' finishing orders, where there are any. Returns the held-out, ladder and
    free-for-all fits."""
    held_out = evaluation.matches[evaluation.matches.stage != "selection"]
    ev = config.evaluation
    rated = ratings.fit_matches(
        held_out, "random", ev.confidence, ev.bootstrap, rng=seeds.bootstrap_rng(config.seed)
    )
    every = ratings.fit_matches(
        evaluation.matches, "random", ev.confidence, ev.bootstrap, rng=seeds.bootstrap_rng(config.seed)
    )
    ladder = ratings.against_ladder(
        held_out, ev.ladder, "random", ev.confidence, ev.bootstrap, rng=seeds.bootstrap_rng(config.seed)
    )
    fits = {"held_out": rated, "all": every, "ladder": ladder}
    rundir.write_parquet(ratings_frame(config, evaluation.best, fits), run.ratings)
    rundir.write_parquet(ratings.crossplay(held_out), run.pairs)
    games = evaluation.free_for_all
    free_for_all = None
    if len(games):
        rng = seeds.bootstrap_rng(config.seed)
        free_for_all = plackett_luce.fit_table(games, "random", ev.confidence, ev.bootstrap, rng=rng)
    return summary.Rated(rated, ladder, free_for_all)


def learning_curve(config: Experiment, points: list[engine.CurvePoint]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every learning-curve point's games against random, and one row per point with its score."""
    games = evaluate.curve_schedule(config, [(c.player, c.arm) for c in points])
    weights = {c.player: c.weights for c in points}
    matches = evaluate.play_schedule(
        games,
        lambda g: engine.play_games(config, g, weights),
        config.payoff_bound,
        roles.judged_roles(config),
    )
    rows = [
        {
            "arm": c.arm,
            "agent": c.agent,
            "checkpoint": c.player,
            "agent_steps": c.agent_steps,
            "arm_agent_steps": c.arm_agent_steps,
            "opponent": "random",
        }
        for c in points
    ]
    curve = pd.DataFrame(rows, columns=CURVE_COLUMNS[:6])
    scores = evaluate.player_scores(matches).rename(columns={"player": "checkpoint"})
    curve = curve.merge(scores[["checkpoint", "games", "score"]], on="checkpoint", how="left")
    return matches, curve[CURVE_COLUMNS]


def ratings_frame(config: Experiment, best: dict[str, str], fits: dict[str, ratings.Ratings]) -> pd.DataFrame:
    """Tidy ratings: one row per player and fit. `held_out` rates on games that did not choose anyone;
    `all` adds the selection games, so the chosen agents' inflation is visible; `ladder` rates every player
    against the fixed ladder alone."""
    arm_of = {a: arm for arm, agents in evaluate.arm_agents(config).items() for a in agents}
    frames = []
    for fit, rated in fits.items():
        frame = rated.table.copy()
        frame.insert(0, "fit", fit)
        frame.insert(2, "arm", frame.player.map(arm_of).fillna("ladder"))
        frame["chosen"] = frame.player.isin(set(best.values()))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def selection_spend(config: Experiment, matches: pd.DataFrame) -> pd.DataFrame:
    """Agent-steps and forward FLOPs each agent spent in selection games; of a game of L moves the seat that
    moves first makes ceil(L / 2). In a cooperative game each team makes every move of its own episode, L
    (player_0's episode's, the same as player_1's under a time limit such as MPE2's); in a role game each
    player makes the moves of its role's seats in its own episode (`role_moves`)."""
    selection = matches[matches.stage == "selection"]
    length = selection.length.to_numpy()
    spec = config.env_spec()
    if config.evaluation.kind == "roles":
        first = second = role_moves(spec, selection.role.to_numpy(), length)
    elif config.evaluation.kind == "cooperative":
        first, second = length, length
    else:
        first, second = (length + 1) // 2, length // 2
    moves = (
        pd.concat(
            [
                pd.Series(first, index=selection.player_0.to_numpy()),
                pd.Series(second, index=selection.player_1.to_numpy()),
            ]
        )
        .groupby(level=0)
        .sum()
    )
    rows = [
        {
            "arm": arm.name,
            "agent": agent,
            "agent_steps": int(moves.get(agent, 0)),
            "per_move": forward_flops([spec.obs_dim, *config.for_arm(arm).network.hidden, spec.actions], 1),
        }
        for arm in config.arms
        for agent in arm.agent_ids
    ]
    frame = pd.DataFrame(rows, columns=["arm", "agent", "agent_steps", "per_move"])
    frame["flops"] = frame.agent_steps * frame.pop("per_move")
    return frame


def role_moves(spec: envs.EnvSpec, roles: np.ndarray, length: np.ndarray) -> np.ndarray:
    """The moves the seats of each game's role made in an episode of `length` moves, the seats moving in
    turn from seat 0 (as an AEC game's, and a parallel one's through parallel_to_aec): seat s of k makes
    ceil((L - s) / k)."""
    k = spec.seats
    per_seat = (length[:, None] - np.arange(k) + k - 1) // k
    mine = np.asarray(spec.roles)[None, :] == np.asarray(roles)[:, None]
    return (per_seat * mine).sum(1)


def selection_cost(spend: pd.DataFrame) -> dict[str, dict[str, int]]:
    sums = spend.groupby("arm", sort=False)[["agent_steps", "flops"]].sum()
    return {arm: {unit: int(sums.loc[arm, unit]) for unit in sums.columns} for arm in sums.index}


def charge_selection(ledger: Ledger, spend: pd.DataFrame) -> None:
    """Charge every agent its selection moves, out of the reserve it held back from training."""
    for row in spend[spend.agent_steps > 0].itertuples():
        ledger.charge(row.arm, row.agent, -1, row.agent_steps, row.flops, 0.0, stage="selection")
