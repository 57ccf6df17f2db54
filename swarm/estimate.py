"""The expected wall time of a budget file on this machine, from a short probe measured here.

`probe` times, in this process: one training round of one agent (the file's env, network and learner on one
batch of PROBE_STEPS agent-steps, at one epoch and at two, which splits a round into rollouts and update
epochs), two games between copies of that agent, and two games of every ladder member against random, a
search at a capped strength (SEARCH_PROBE) scaled up to the file's (`SCALE`). `estimate` scales those by
the file's agent-steps (under flops, those the budget buys: `training.cost`), epochs and evaluation game
counts (`games`, exact for the schedules of `evaluation.evaluate`; learning-curve points at their most),
over the CPUs the run gets, as if they scaled perfectly (`benchmarks/scaling.py`: 96% on 2 CPUs). Equal
tuning adds trials x tuning seeds trainings of every arm (at the file's settings' cost) and their games. It
ignores Ray's start (a few seconds), the report, how games lengthen as agents learn, and other load on the
machine. `absurd` names the fields of a file that would run for more than a week.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from dataclasses import dataclass

import numpy as np
import torch

from swarm import budget, envs, references, seeds
from swarm.config import Experiment, Scaling
from swarm.evaluation import evaluate, ladder
from swarm.evaluation.roles import REFERENCE
from swarm.players import RandomPlayer
from swarm.training import cost
from swarm.training.agent import Agent, opponent
from swarm.training.rollout import play

PROBE_STEPS, PROBE_ENVS = 4096, 64
MAX_PROBE_PARAMS = 2**24  # a wider network is not built here: the estimate is left out
SEARCH_PROBE = {"mcts": 16, "alphabeta": 4}  # strength each search family is probed at, at most
# a search's time per move at strength k, relative to its probed strength k0: MCTS is linear in its
# simulations; alpha-beta roughly doubles per ply on Connect Four (ladder.py: ~15 ms at 6, ~50 ms at 8)
SCALE = {"mcts": lambda k, k0: k / k0, "alphabeta": lambda d, d0: 2.0 ** (d - d0)}
AGENT = ""  # a trained agent, in `Probe.move`
WEEK = 7 * 24 * 3600.0

_probes: dict[tuple, Probe] = {}


@dataclass(frozen=True)
class Probe:
    collect: float  # seconds per agent-step of rollouts
    epoch: float  # seconds per agent-step of one update epoch
    move: dict[str, float]  # seconds per move of each ladder member, and of an agent (AGENT)
    length: float  # moves per game between agents
    seconds: float  # what the probe took


@dataclass(frozen=True)
class Estimate:
    training: float  # seconds, training and exploiters, all seeds, on the run's CPUs
    per_step: float  # seconds per agent-step of training on one CPU: the mean over arms and exploiters
    evaluation: float  # seconds, evaluation games, all seeds, on the run's CPUs
    games: dict[str, int]  # evaluation games per seed, by the field that sets their number
    cpus: int
    probe: Probe
    tuning: float = 0.0  # seconds, equal tuning: every trial's training and games, on the run's CPUs
    references: float = 0.0  # seconds, training the ladder's trained members, one after another on one CPU

    @property
    def total(self) -> float:
        return self.training + self.evaluation + self.tuning + self.references


def params(config: Experiment) -> int:
    spec = config.env_spec()
    sizes = [spec.obs_dim, *config.network.hidden, spec.actions]
    return 2 * sum(a * b for a, b in itertools.pairwise(sizes))  # actor and critic, about


def probe(config: Experiment) -> Probe:
    """Measured once per env, network, learner and ladder in a process."""
    key = (config.env, repr(sorted(config.env_kwargs.items())), config.env_backend)
    key += (tuple(config.network.hidden), config.learner)
    key += (min(config.ppo.minibatches, PROBE_STEPS), tuple(config.evaluation.ladder))
    if key not in _probes:
        _probes[key] = _measure(config)
    return _probes[key]


def _measure(config: Experiment) -> Probe:
    started = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as every Ray worker runs
    try:
        spec = config.env_spec()
        one, two = _shrunk(config, 1), _shrunk(config, 2)
        agent = Agent(spec, one, arm_index=0, index=0)
        frozen = opponent(agent.net.weights())
        slots = np.zeros((one.ppo.envs, spec.seats - 1), np.int64)  # the frozen copy in every other seat
        agent.train_round(0, [frozen], slots, PROBE_STEPS)  # warm-up: first calls pay for lazy setup
        once = agent.train_round(1, [frozen], slots, PROBE_STEPS).metrics["seconds"]
        agent.config = two
        twice = agent.train_round(2, [frozen], slots, PROBE_STEPS).metrics["seconds"]
        epoch = max(twice - once, 0.1 * once) / PROBE_STEPS
        collect = max(once / PROBE_STEPS - epoch, 0.1 * once / PROBE_STEPS)
        seconds, lengths = _games(spec, [frozen, frozen], config.env_backend)
        move = {AGENT: seconds / lengths.sum()}
        length = float(lengths.mean())
        for name in config.evaluation.ladder:
            if ladder.trained_steps(name) is not None:  # a network of the file's blocks, as an agent is
                move[name] = move[AGENT]
                continue
            probed, scale = _probed(name)
            seconds, lengths = _games(
                spec, [ladder.build(probed, spec), RandomPlayer(spec.box)], "pettingzoo"
            )
            move[name] = scale * seconds / max(lengths.sum() / 2, 1)
    finally:
        torch.set_num_threads(threads)
    return Probe(collect, epoch, move, length, time.perf_counter() - started)


def _shrunk(config: Experiment, epochs: int) -> Experiment:
    """The file's network and learner on one small batch (no arm's own or scaled settings): what the probe
    trains."""
    ppo = config.ppo.model_copy(
        update={
            "rollout_steps": PROBE_STEPS,
            "envs": min(config.ppo.envs, PROBE_ENVS),
            "epochs": epochs,
            "minibatches": min(config.ppo.minibatches, PROBE_STEPS),
        }
    )
    arms = [
        arm.model_copy(update={"shards": 1, "ppo": {}, "network": {}, "opponents": {}}) for arm in config.arms
    ]
    return config.model_copy(update={"ppo": ppo, "arms": arms, "scaling": Scaling()})


def _probed(name: str) -> tuple[str, float]:
    """The member the probe plays for `name`, and how much slower per move `name` is."""
    parsed = ladder.parse(name)
    if parsed is None:
        return name, 1.0
    family, strength = parsed
    low = min(strength, SEARCH_PROBE[family])
    return f"{family}-{low}", SCALE[family](strength, low)


def _games(spec: envs.EnvSpec, players: list, backend: envs.Backend) -> tuple[float, np.ndarray]:
    """Seconds of two games between players[0] and players[1], sides swapped, and their lengths."""
    seeds_ = [seeds.game_seed(0, "selection", k) for k in range(2)]
    started = time.perf_counter()
    seating = (np.arange(spec.seats) + np.arange(2)[:, None]) % 2  # sides take the seats in turn
    _, lengths = play(envs.games(spec, 2, backend), players, seating, seeds_, seeds.eval_generator(seeds_[0]))
    return time.perf_counter() - started, lengths


def games(config: Experiment, seats: int) -> dict[str, list[tuple[int, str, str]]]:
    """Evaluation games per seed in a game of `seats` seats, as (count, player, player) with AGENT for any
    trained agent (a free-for-all game counted as one between agents; an ad-hoc team game as (best,
    partner)), by the field that sets their number; counted, not listed, as a file may ask for billions."""
    ev, arms = config.evaluation, config.arms
    agents = sum(arm.agents for arm in arms)
    selection = []
    for arm in arms:
        if arm.agents > 1 and ev.selection == "peers":
            selection.append((math.comb(arm.agents, 2) * ev.selection_games, AGENT, AGENT))
        elif arm.agents > 1:
            selection += [(arm.agents * ev.selection_games, AGENT, member) for member in ev.ladder]
    verdicts = len(arms) - 1 + len(evaluate.controls(config))
    ladder_games = [(agents * ev.ladder_games, AGENT, member) for member in ev.ladder]
    ladder_games += [(ev.ladder_games, a, b) for i, a in enumerate(ev.ladder) for b in ev.ladder[i + 1 :]]
    curve = 0
    if ev.curve_points:
        for arm in arms:
            share = min(budget.split(config.budget.total, arm.agents)) - config.selection_reserve(arm)
            steps = cost.of(config, config.arms.index(arm)).steps(share)
            points = min(ev.curve_points, budget.rounds(steps, config.for_arm(arm).ppo.rollout_steps)) + 1
            curve += arm.agents * points * ev.curve_games
    free_for_all = 0
    if seats > 2 and ev.kind == "competitive":  # the arms' names stand for their bests
        free_for_all = (
            len(evaluate.lineups([*(a.name for a in arms), *ev.ladder], seats)) * seats * ev.ffa_games
        )
    teamwork = []
    if ev.kind == "cooperative":  # each arm's best with every other arm's best and every ladder member
        per_partner = len(arms) * seats * ev.teamwork_games
        teamwork = [
            ((len(arms) - 1) * per_partner, AGENT, AGENT),
            *((per_partner, AGENT, m) for m in ev.ladder),
        ]
    return {
        "selection_games": selection,
        "verdict_games": [(verdicts * ev.verdict_games, AGENT, AGENT)],
        "crossplay_games": [(math.comb(agents, 2) * ev.crossplay_games, AGENT, AGENT)],
        "ladder_games": ladder_games,
        "curve_games": [(curve, AGENT, "random")],
        "exploit_games": [(len(arms) * ev.exploit_games, AGENT, AGENT)] if ev.exploit_steps else [],
        "ffa_games": [(free_for_all, AGENT, AGENT)],
        "teamwork_games": teamwork,
    }


def estimate(config: Experiment, cpus: int | None = None) -> Estimate:
    measured = probe(config)  # the file's network: exploiters, and every agent's evaluation games
    cpus = cpus or config.resources.cpus or os.cpu_count() or 1
    seeds_ = len(config.run_seeds)
    seconds = len(config.arms) * config.evaluation.exploit_steps * _per_step(config, measured)
    steps = len(config.arms) * config.evaluation.exploit_steps
    for a, arm in enumerate(config.arms):  # an arm with its own network or ppo block is probed on them
        own, bought = config.for_arm(arm), cost.of(config, a).steps(config.budget.total)
        seconds += bought * _per_step(own, probe(own))
        steps += bought
    per_step = seconds / steps
    arms_seconds = seconds - len(config.arms) * config.evaluation.exploit_steps * _per_step(config, measured)
    spec = config.env_spec()
    counted = games(config, spec.seats)
    evaluation = {
        field: sum(n * SECONDS.get(field, game_seconds)(config, spec, measured, a, b) for n, a, b in rows)
        for field, rows in counted.items()
    }
    tuning = 0.0
    if config.tuning is not None:  # each trial trains every arm on the file's settings' cost, then plays
        against = sum(game_seconds(config, spec, measured, AGENT, m) for m in config.evaluation.ladder)
        played = len(config.arms) * config.tuning.games * against
        runs = config.tuning.trials * len(config.tuning.seeds)
        tuning = runs * (arms_seconds + evaluation["selection_games"] + played) / cpus
    return Estimate(
        training=seeds_ * steps * per_step / cpus,
        per_step=per_step,
        evaluation=seeds_ * sum(evaluation.values()) / cpus,
        games={field: sum(count for count, _, _ in rows) for field, rows in counted.items()},
        cpus=cpus,
        probe=measured,
        tuning=tuning,
        references=sum(map(ladder.trained_steps, references.members(config))) * _per_step(config, measured),
    )


def game_seconds(config: Experiment, spec: envs.EnvSpec, measured: Probe, a: str, b: str) -> float:
    """Seconds one evaluation game of a and b takes: a competitive game's moves are shared by its two sides;
    a cooperative game is two teams' episodes, each player making every move of its own; a role game is two
    episodes of one role, each player making the moves of that role's seats in its own (a share of the
    seats: 1 / R of them on average over R roles in turn) and random the rest."""
    kind, per_game, move = config.evaluation.kind, measured.length, measured.move
    if kind == "competitive":
        return 0.5 * per_game * (move[a] + move[b])
    if kind == "cooperative":
        return per_game * (move[a] + move[b])
    share = 1 / len(spec.role_names)
    return per_game * (share * (move[a] + move[b]) + 2 * (1 - share) * move[REFERENCE])


def teamwork_seconds(
    config: Experiment, spec: envs.EnvSpec, measured: Probe, best: str, partner: str
) -> float:
    """Seconds one ad-hoc team game takes: one episode, the best making the moves of one seat of k, its
    partner those of the others."""
    k = spec.seats
    return measured.length * (measured.move[best] + (k - 1) * measured.move[partner]) / k


SECONDS = {"teamwork_games": teamwork_seconds}  # fields whose games are not two-sided (`game_seconds`)


def _per_step(config: Experiment, measured: Probe) -> float:
    """Seconds an agent-step of training costs with this ppo block, from a probe of its network."""
    return measured.collect + config.ppo.epochs * measured.epoch


def absurd(config: Experiment, found: Estimate) -> list[str]:
    """Warnings naming the fields of a file that would run for more than a week here."""
    if found.total <= WEEK:
        return []
    if found.training >= found.evaluation:
        fields = "budget.total" + (", seeds" if config.seeds else "")
        if config.evaluation.exploit_steps > config.budget.total:
            fields = "evaluation.exploit_steps"
    else:
        fields = f"evaluation.{max(found.games, key=found.games.get)}" + (", seeds" if config.seeds else "")
        fields += ", arms[].agents" if found.games["crossplay_games"] == max(found.games.values()) else ""
    return [f"warning: {fields}: this file would run for {duration(found.total)} on this machine; lower it"]


def lines(config: Experiment) -> list[str]:
    """What `swarm validate` and `swarm plan` print: the estimate, how it was made, and any warning."""
    size = max(params(config), *(params(config.for_arm(arm)) for arm in config.arms))
    if size > MAX_PROBE_PARAMS:
        return [
            f"expected wall time: not estimated: network.hidden gives {size:,} parameters, more "
            f"than the probe builds ({MAX_PROBE_PARAMS:,}); narrow network.hidden to estimate it"
        ]
    found = estimate(config)
    p, per_cpu = found.probe, 1 / found.per_step
    return [
        f"expected wall time on this machine: {duration(found.total)} on {found.cpus} CPU(s): "
        + (f"trained ladder members {duration(found.references)}, " if found.references else "")
        + (f"tuning {duration(found.tuning)}, " if config.tuning else "")
        + f"training {duration(found.training)}, evaluation {duration(found.evaluation)} "
        f"({sum(found.games.values()):,} games a seed, {len(config.run_seeds)} seed(s))",
        f"  an estimate from a {p.seconds:.2f} s probe here ({per_cpu:,.0f} agent-steps/s a CPU, over the "
        f"arms' networks and epochs; moves of every ladder member, searches scaled from a capped strength); "
        "it assumes perfect scaling over the CPUs and ignores Ray's start, the report, games lengthening "
        "as agents learn, and other load",
        *absurd(config, found),
    ]


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    if seconds < 48 * 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds < 365 * 86400:
        return f"{seconds / 86400:.0f} days"
    return f"{seconds / (365.25 * 86400):.3g} years"
