"""Training throughput of a budget file, set against what its env, its network and RLlib can do.

Measures, on one core and on all cores, for the file's game and `ppo`/`network` settings:
  (a) raw env steps/s of the PettingZoo env (swarm.envs.Games: ppo.envs games in lockstep, random legal
      moves, or uniform draws in the Box of continuous actions);
  (b) the same on the native batched backend, with ppo.envs and with 4,096 games;
  (c) policy inference alone: the learner's per-move work in a rollout (masked logits or a Gaussian's
      mean, a sample and its log-probability, and the value) on batches of ppo.envs and 4,096, torch on 1
      thread;
  (d) swarm's training (rollouts + PPO updates) in agent-steps/s: one agent in a plain process (native and
      PettingZoo env), one such process per core, and the real `engine.train` path on local Ray with
      the file's budget scaled by --fraction, with Ray's share of every arm's round (the driver's round
      time minus the time the busiest host spends in train_round, from the agents' `seconds` metric);
  (e) RLlib's PPO on the same game, network and PPO settings (benchmarks/rllib_ppo.py, run with the
      python of a separate venv given by --rllib-python; skipped without it);
  (f) the peak resident memory (RSS, sampled every 0.2 s) of the largest arm trained alone by
      `engine.train`: the driver and Ray's worker processes, and Ray's own processes apart.
Then the ratios swarm / RLlib and swarm / the env-plus-inference limit, and a cProfile of one training
round of one agent, grouped into env stepping, policy forward and sampling, bookkeeping and the PPO update.
Measurements on all cores run one process per core at once (spawned, torch on 1 thread each) and add up.

How to run:
  python benchmarks/throughput.py [budgets/default.yaml] [--fraction 0.1] [--seconds 5]
      [--rllib-python /tmp/rllib-venv/bin/python]
  RLlib lives in its own venv, never in swarm's (same Ray version as swarm's):
      python3 -m venv /tmp/rllib-venv
      /tmp/rllib-venv/bin/pip install "ray[rllib]==2.60.0" torch==2.13.0 pettingzoo pygame
  Run it on an otherwise idle machine (it prints the load average it started with): about 6 minutes.

How the limit combines (b) and (c): a move costs one env step (1/b s) and one batched forward (1/c s), so the
two alone allow 1 / (1/b + 1/c) moves/s; an agent-step (a transition the learner learns from) is k moves in a
game of k seats, the learner's and its opponents', so 1/k of that (half, in a two-player game). A game with no
native backend (Leduc hold'em) has the same limit with (a) in place of (b). The limit leaves out the PPO
update and takes the full batch of ppo.envs, where training splits its games between the learner and its
opponents.

What to expect (2-core AMD EPYC VM (Zen 5), no GPU, 2026-11-23 22:37 UTC, nothing else running at the
start):
  budgets/default.yaml: classic/connect_four-v3, ppo.envs 128, rollout_steps 8192, network [128, 128]
  2 CPUs, load average 0.43 1.06 1.87 at the start
                                                            1 core     2 cores
  (a) PettingZoo env, 128 games, random moves               44,215      85,574  env steps/s
  (b) native env, 128 games, random moves                1,935,029   3,798,240  env steps/s
  (b) native env, 4,096 games, random moves              3,906,615   7,791,417  env steps/s
  (c) policy value+sample+logp, batch 128                  518,462   1,027,058  moves/s
  (c) policy value+sample+logp, batch 4,096                725,739     977,917  moves/s
  (d) swarm, one agent per core, native env, no Ray         43,049      82,568  agent-steps/s
  (d) swarm, one agent per core, PettingZoo env, no Ray      14,154      28,200  agent-steps/s
  (d) swarm run training (engine.train, Ray)                 -      56,768  agent-steps/s
        3 arms x 819,200 agent-steps in 43.3 s on 2 CPUs
        Ray's share of a round (driver's round time minus the busiest host's time in train_round):
          single       first round   6.4 s, then    99 rounds of   355.8 ms,   10.8 ms of them Ray's:  3.0%
          independent  first round  12.3 s, then     6 rounds of  4951.9 ms,  132.5 ms of them Ray's:  2.7%
          swarm        first round  12.9 s, then     6 rounds of  5062.6 ms,  124.8 ms of them Ray's:  2.5%
  memory of one 16-agent arm on Ray (13.6 s of engine.train), peak RSS: driver + workers 1.56 GiB
    (driver 0.52, workers 1.05); Ray's system processes 0.49 more
  (e) RLlib PPO, PettingZoo env, learner's steps             2,033       3,208  agent-steps/s
      the same, counting both players' moves                 3,822       6,024  env steps/s
        1 CPU(s): RLlib 2.60.0, new API stack, num_env_runners=0 x 128 envs, local learner
          an iteration samples for 3.65 s, learns for 0.52 s
        2 CPU(s): RLlib 2.60.0, new API stack, num_env_runners=2 x 128 envs, local learner
          an iteration samples for 2.15 s, learns for 0.77 s
  ratios:
    (d) / (e) on 1 core(s), swarm's one agent, native env: 21.17
    (d) / (e) on 1 core(s), swarm's one agent, PettingZoo env: 6.96
    (d) / (e) on 2 core(s), swarm's engine.train on Ray: 17.70
    (d) / (e) on 2 core(s), swarm's one agent per core, no Ray, native env: 25.74
    (d) / (e) on 2 core(s), swarm's one agent per core, no Ray, PettingZoo env: 8.79
    limit at batch 128, 1 core: 1/(1/b + 1/c) = 408,903 moves/s = 204,451 agent-steps/s; (d) one agent: 21%
    limit at batch 4,096, 1 core: 1/(1/b + 1/c) = 612,040 moves/s = 306,020 agent-steps/s; (d) one agent: 14%

  profile of one training round of one agent (8,192 agent-steps, 128 games, ConnectFourGames, cProfile):
    0.189 s profiled, 0.182 s a round without the profiler
    env stepping (ConnectFourGames.step, reset_many)               5.9%  0.011 s
    policy forward + sampling (learner and opponents)             15.2%  0.029 s
    rollout bookkeeping (rollout.py's own NumPy indexing)          6.2%  0.012 s
    GAE (ppo.gae)                                                  0.2%  0.000 s
    PPO update (minibatch forwards, backward, Adam)               72.3%  0.137 s
    other (seeding, metrics)                                       0.1%  0.000 s
    top functions by own time: (10 lines: backward 36%, linear 27%, ConnectFourGames.step 4%, ...)

Leduc hold'em, where the env is the limit (same VM, 2026-11-30 13:58 UTC, load average 1.2 at the start,
revision 9c3d143's file; python benchmarks/throughput.py budgets/leduc.yaml --fraction 0.05):
  (a) PettingZoo env, 128 games, random moves                5,781      11,830  env steps/s
  (c) policy value+sample+logp, batch 128                  633,406   1,075,188  moves/s
  (d) swarm, one agent per core, PettingZoo env, no Ray       3,866       8,138  agent-steps/s
  (d) swarm run training (engine.train, Ray)                     -       3,479  agent-steps/s (3 arms,
      65,536 agent-steps each: a 16-agent arm's first round is all of it, so Ray's start weighs)
  the profile of one agent's round: env stepping 93%, policy forwards 2%, bookkeeping 2%, PPO update 3%;
  rlcard builds a new game and seeds a new RNG at every hand's reset (a tenth of the round each).
  The limit formula says 135% here: random players' hands are shorter than learners', so (a) pays more
  resets a move than training does. Read it as: training runs at the env's own speed, a learner's move and
  about one reply per agent-step, and nothing but the env is worth making faster.

Before and after issue 6's rollout and update work (same machine; "before": the code of commit c262f8c
with its default file, 32 games and batches of 2,048, measured by this benchmark at 22:22 UTC, load 1.28
at the start and up to 2.9 during it, so lower than it would be idle; in brackets the figures this
docstring gave for it, measured idle at 21:09 UTC, load 0.59; "after": the run above):
                                                                  before               after
  (d) training, engine.train on Ray, 2 CPUs (3 arms)   9,920 [10,726]      56,768  agent-steps/s
      the default run's training: 3 arms x budget / time   16,216               66,200  agent-steps/s
        (its own file: 3 x 800,000 in 2 min 28 s before, 3 x 8,192,000 in 6 min 11 s after)
  (d) one agent, 1 core, native env, no Ray               16,618 [13,776]      43,049  agent-steps/s
  (d) / (e): engine.train on Ray / RLlib, 2 cores         5.8 [5.1]          17.7  x
  (d) one agent / env + inference limit at ppo.envs          23% [22%]            21%
  peak RSS of one 16-agent arm, driver + Ray workers        1.33 GiB             1.56 GiB
  Ray's share of a round: single, independent, swarm   4.8%, 4.8%, 7.7%   3.0%, 2.7%, 2.5%
A second run of the Ray and memory parts (23:01 UTC, load 0.41 at the start) gave 62,051 agent-steps/s,
Ray's shares 3.2%, 2.7% and 3.0%, and 1.46 GiB. RLlib's figure is at the same file's settings each time
(32 games and 2,048 steps before, 128 and 8,192 after: RLlib gains from the bigger batches too, 1,713
[2,111] before, 3,208 after on 2 cores). The limit grows with the batch: at 32 games it was 73,314
[62,594] agent-steps/s, at 128 it is 204,451.

Read it as: a round is now 72% PPO update, and the update is near its arithmetic floor: its matrix
products (9.5 GFLOP a round: 4 epochs over 8,192 transitions, forward and backward) take about 60% of it,
at roughly 100 GFLOP/s on one core; the rest is elementwise ops (tanh, the losses), Adam and indexing.
Rollouts run at about 80% of the env + inference limit (0.05 s for a round's 16,384 moves against 0.04 s
at the limit): one batched forward per player per step, games that persist and restart together, no
Python loop over games. So one agent trains at 21% of the limit because 4 PPO epochs cost about 3x the
rollout; measured together at load 1.4, one agent trains at 42,117 agent-steps/s with 4 epochs, 48,880
with 3 (24% of the limit) and 64,740 with 2 (32%), but a single agent trained on the default budget with
2 epochs was weaker than with 4 (see budgets/default.yaml), so the default keeps 4. On Ray three arms
share two cores through three processes, and Ray's round trip is 3% of a round or less; the 16-agent
arms' first round includes starting their host and importing torch (about 12 s). RLlib's PPO spends
70-90% of an iteration sampling the PettingZoo env through its env runners and connectors.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import itertools
import json
import multiprocessing as mp
import os
import pstats
import queue
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psutil
import torch

from swarm import config, engine, envs
from swarm.engine import placement
from swarm.envs import EnvSpec
from swarm.players.network import ActorCritic
from swarm.training.agent import Agent, opponent

WARMUP = 1.0  # seconds every measurement runs before its clock starts
BIG = 4096  # the large batch of (b) and (c)
RLLIB_SCRIPT = Path(__file__).with_name("rllib_ppo.py")
CONNECT_FOUR = {"classic/connect_four-v3", "pettingzoo.classic.connect_four_v3"}


def rate(step: Callable[[], int], seconds: float) -> float:
    """Units per second of repeated `step()` calls (each returns the units it did), after a warm-up."""
    for limit in (WARMUP, seconds):
        done, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < limit:
            done += step()
    return done / elapsed


def _worker(measure: Callable[..., float], args: tuple, barrier: Any, results: Any) -> None:
    torch.set_num_threads(1)
    barrier.wait()  # every process has imported torch and swarm before any clock starts
    results.put(measure(*args))


def on_cores(measure: Callable[..., float], args: tuple, cpus: int) -> float:
    """`measure(*args)` in `cpus` fresh processes at once, added up: every core doing the same work."""
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(cpus), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(measure, args, barrier, results)) for _ in range(cpus)]
    for proc in procs:
        proc.start()
    rates: list[float] = []
    while len(rates) < cpus:
        try:
            rates.append(results.get(timeout=1))
        except queue.Empty:
            if any(proc.exitcode for proc in procs):  # one failed: the rest would wait forever
                for proc in procs:
                    proc.terminate()
                raise RuntimeError(f"a process measuring {measure.__name__} failed; see above") from None
    for proc in procs:
        proc.join()
    return sum(rates)


# (a), (b): the env alone.


def random_moves(spec: EnvSpec, n: int, backend: envs.Backend, seconds: float) -> float:
    """Env steps/s of `n` games in lockstep, every move uniform over the legal ones (or over the Box of
    continuous actions); a finished game restarts at once, so every step moves all `n` games."""
    games = envs.games(spec, n, backend)
    rng = np.random.default_rng(0)
    every = np.arange(n)
    games.reset_many(every, range(n))
    if spec.box is not None:
        low, high = np.array(spec.box.low), np.array(spec.box.high)

    def step() -> int:
        if spec.box is None:
            actions = (rng.random(games.mask.shape) * games.mask).argmax(axis=1)
        else:
            actions = low + (high - low) * rng.random((n, len(low)))
        _, done = games.step(every, actions)
        finished = every[done]
        games.reset_many(finished, range(len(finished)))
        return n

    return rate(step, seconds)


# (c): the network alone.


def inference(spec: EnvSpec, hidden: list[int], batch: int, seconds: float) -> float:
    """Learner moves/s of the policy alone, as a rollout makes one: masked logits, a sample and its
    log-probability, and the value (which the rollout computes for the whole round at once), for a whole
    batch at once."""
    torch.set_num_threads(1)
    net = ActorCritic(spec.obs_dim, spec.actions, hidden, spec.box)
    generator = torch.Generator().manual_seed(0)
    obs = (torch.rand(batch, spec.obs_dim, generator=generator) < 0.2).float()
    mask = torch.ones(batch, 0 if spec.box else spec.actions, dtype=torch.bool)  # a Box has no masks

    @torch.inference_mode()
    def step() -> int:
        net.draw(obs, mask, generator)  # the head's outputs, a sample and its log-probability
        net.value(obs)
        return batch

    return rate(step, seconds)


# (d): swarm's training.


def one_agent(cfg: config.Experiment, seconds: float) -> float:
    """Agent-steps/s of one agent in self-play against a frozen copy of itself, rounds of
    ppo.rollout_steps (rollouts + PPO updates), in this process, no Ray."""
    torch.set_num_threads(1)
    spec = envs.describe(cfg.env, cfg.env_kwargs)
    agent = Agent(spec, cfg, arm_index=0, index=0)
    slots = np.zeros((cfg.ppo.envs, spec.seats - 1), np.int64)  # the frozen copy in every other seat
    rounds = itertools.count()

    def step() -> int:
        frozen = opponent(agent.net.weights())
        return agent.train_round(next(rounds), [frozen], slots, cfg.ppo.rollout_steps).agent_steps

    return rate(step, seconds)


@dataclass
class OnRay:
    rate: float  # agent-steps/s of all arms together
    cpus: int
    wall: float
    first: dict[str, float]  # arm -> seconds to its first round's end: hosts start, import torch, build
    overhead: dict[str, tuple[int, float, float]]  # arm -> later rounds, driver's seconds, hosts' seconds


def on_ray(cfg: config.Experiment) -> OnRay:
    """Agent-steps/s of every arm of `cfg` trained side by side by `engine.train` on local Ray, and
    what Ray's round trip costs each arm.

    An arm's round lasts, on the driver, from the end of its previous round to the `on_round` call that
    ends it; its hosts spend the agents' own round `seconds` inside train_round (a host trains its agents
    one after another, hosts in parallel: the busiest host counts). The rest is Ray's: scheduling, weights
    through the object store, the driver's matchmaking and ledger, opponents built on the hosts. The first
    round, which also waits for the hosts to start, is reported apart.
    """
    ends: dict[str, list[float]] = {arm.name: [] for arm in cfg.arms}
    with engine.session(None, cfg.resources.cpus) as cpus:
        start = time.perf_counter()
        trained = engine.train(cfg, cpus, lambda arm, _: ends[arm].append(time.perf_counter()))
        wall = time.perf_counter() - start
    steps = sum(trained.ledger.totals_by_arm()[arm.name]["agent_steps"] for arm in cfg.arms)
    rows = pd.DataFrame(trained.rows)
    first, overhead = {}, {}
    for arm in cfg.arms:
        hosts = placement.layout(cpus, len(cfg.arms), arm.agents, arm.shards).hosts
        mine = rows[rows.arm == arm.name]
        host = mine.agent.str.split("/").str[1].astype(int) % hosts
        busiest = mine.groupby([mine["round"], host])["seconds"].sum().groupby(level=0).max()
        driver = np.diff(ends[arm.name])
        first[arm.name] = ends[arm.name][0] - start
        overhead[arm.name] = (len(driver), float(driver.sum()), float(busiest.iloc[1:].sum()))
    return OnRay(steps / wall, cpus, wall, first, overhead)


# Memory of one 16-agent arm on Ray.


def ray_processes() -> dict[str, list[psutil.Process]]:
    """This driver's Ray processes by kind: workers (`ray::` titles: idle workers and actors) and system
    (GCS, raylet, dashboard and runtime-env agents, log monitor); all descend from the driver."""
    kinds: dict[str, list[psutil.Process]] = {"workers": [], "system": []}
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            title = " ".join(proc.cmdline())
            agent = title.startswith(("ray::DashboardAgent", "ray::RuntimeEnvAgent"))
            kinds["workers" if title.startswith("ray::") and not agent else "system"].append(proc)
    return kinds


def rss(procs: list[psutil.Process]) -> int:
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def arm_memory(cfg: config.Experiment, agents: int) -> tuple[dict[str, int], float]:
    """Peak resident memory (bytes) while `engine.train` trains one arm of `agents` agents: the driver,
    Ray's workers and Ray's system processes, sampled every 0.2 s; the peak is that of driver + workers."""
    arm = next(a for a in cfg.arms if a.agents == agents)
    alone = cfg.model_copy(update={"arms": [arm]})
    peak = {"driver": 0, "workers": 0, "system": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            kinds = ray_processes()
            now = {"driver": rss([psutil.Process()]), **{k: rss(v) for k, v in kinds.items()}}
            if now["driver"] + now["workers"] > peak["driver"] + peak["workers"]:
                peak.update(now)

    with engine.session(None, cfg.resources.cpus) as cpus:
        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        start = time.perf_counter()
        engine.train(alone, cpus)
        wall = time.perf_counter() - start
        done.set()
        watcher.join()
    return peak, wall


# (e): RLlib's PPO, in its own venv.


def rllib(python: str, cfg: config.Experiment, cpus: int, iterations: int) -> dict[str, Any] | None:
    """Run benchmarks/rllib_ppo.py with `python` on `cpus` CPUs; its last stdout line is a JSON result."""
    ppo = cfg.ppo
    command = [
        python,
        str(RLLIB_SCRIPT),
        f"--cpus={cpus}",
        f"--iterations={iterations}",
        f"--envs={ppo.envs}",
        f"--rollout-steps={ppo.rollout_steps}",
        f"--epochs={ppo.epochs}",
        f"--minibatches={ppo.minibatches}",
        f"--lr={ppo.lr}",
        f"--gamma={ppo.gamma}",
        f"--gae-lambda={ppo.gae_lambda}",
        f"--clip={ppo.clip}",
        f"--value-coef={ppo.value_coef}",
        f"--entropy-coef={ppo.entropy_coef}",
        f"--max-grad-norm={ppo.max_grad_norm}",
        f"--hidden={','.join(map(str, cfg.network.hidden))}",
    ]
    quiet = {**os.environ, "PYGAME_HIDE_SUPPORT_PROMPT": "1"}  # pettingzoo's classic games import pygame
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=quiet)
    if done.returncode != 0:
        tail = "\n      ".join((done.stderr or done.stdout).strip().splitlines()[-6:])
        print(f"    RLlib on {cpus} CPU(s) failed (exit {done.returncode}):\n      {tail}")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# The profile.

GROUPS = {  # callee of rollout.py's functions -> group, by where its code lives
    "env": ("swarm/envs/", "pettingzoo", "rlcard"),
    "policy": ("swarm/players/", "torch", "<built-in method torch.", "of 'torch._C"),
}
LABELS = {
    "env": "env stepping (the game batch's step, reset_many)",
    "policy": "policy forward + sampling (learner and opponents)",
    "bookkeeping": "rollout bookkeeping (rollout.py's own NumPy indexing)",
    "gae": "GAE (ppo.gae)",
    "update": "PPO update (minibatch forwards, backward, Adam)",
    "other": "other (seeding, metrics)",
}


def _where(func: tuple[str, int, str]) -> str:
    text = f"{func[0]}:{func[2]}"
    return next((group for group, marks in GROUPS.items() if any(m in text for m in marks)), "bookkeeping")


def grouped(stats: pstats.Stats) -> dict[str, float]:
    """Seconds of one training round by group: the callees outside rollout.py of rollout.py's functions
    (whose own time is bookkeeping), and ppo.update split into gae and the rest."""
    table = stats.stats  # type: ignore[attr-defined]  # func -> (calls, prim calls, own, cumulative, callers)
    find = {(Path(f).name, name): (f, line, name) for f, line, name in table}
    collectors = {func for func in table if Path(func[0]).name == "rollout.py"}
    update, gae = find["ppo.py", "update"], find["ppo.py", "gae"]
    seconds = dict.fromkeys(LABELS, 0.0)
    for func, (*_, callers) in table.items():
        for caller, (*_, cumulative) in callers.items():
            if caller in collectors and func not in collectors:
                seconds[_where(func)] += cumulative
    seconds["bookkeeping"] += sum(table[c][2] for c in collectors)
    seconds["gae"] = table[gae][3]
    seconds["update"] = table[update][3] - table[gae][3]
    total = table[find["agent.py", "train_round"]][3]
    seconds["other"] = total - sum(seconds.values())
    return seconds


def profile(cfg: config.Experiment) -> list[str]:
    """cProfile of one training round of one agent, after 5 rounds unprofiled (so nothing is first) that
    say how long a round takes without the profiler."""
    torch.set_num_threads(1)
    spec = envs.describe(cfg.env, cfg.env_kwargs)
    agent = Agent(spec, cfg, arm_index=0, index=0)
    slots, steps = np.zeros((cfg.ppo.envs, spec.seats - 1), np.int64), cfg.ppo.rollout_steps
    frozen = opponent(agent.net.weights())
    start, timed = time.perf_counter(), 5
    for round_ in range(timed):
        agent.train_round(round_, [frozen], slots, steps)
    plain = (time.perf_counter() - start) / timed
    profiler = cProfile.Profile()
    profiler.runcall(agent.train_round, timed, [frozen], slots, steps)
    stats = pstats.Stats(profiler)
    seconds = grouped(stats)
    total = sum(seconds.values())
    lines = [
        f"profile of one training round of one agent ({steps:,} agent-steps, {cfg.ppo.envs} games, "
        f"{type(agent.shards.games[0].games).__name__}, cProfile):",
        f"  {total:.3f} s profiled, {plain:.3f} s a round without the profiler",
        *(f"  {LABELS[g]:<60} {s / total:6.1%}  {s:5.3f} s" for g, s in seconds.items()),
        "  top functions by own time:",
    ]
    table = stats.stats  # type: ignore[attr-defined]
    for func in sorted(table, key=lambda f: -table[f][2])[:10]:
        calls, own = table[func][1], table[func][2]
        where = f"{Path(func[0]).name}:{func[2]}" if func[0] != "~" else func[2]
        lines.append(f"    {own / total:6.1%}  {calls:7,d} calls  {where}")
    return lines


# Report: each section measures, prints its rows as it goes and returns its figures.

Pair = tuple[float, float]  # (one core, all cores)


def row(label: str, one: float | None, every: float | None, unit: str) -> str:
    cells = [f"{v:12,.0f}" if v is not None else f"{'-':>12}" for v in (one, every)]
    return f"{label:<52}{cells[0]}{cells[1]}  {unit}"


def both(cpus: int, measure: Callable[..., float], *args: Any) -> Pair:
    return measure(*args), on_cores(measure, args, cpus)


def env_and_network(cfg: config.Experiment, cpus: int, seconds: float) -> tuple[dict, dict]:
    """(a), (b), (c): env steps/s by backend and batch size ("pettingzoo" at ppo.envs, else native sizes)
    and policy moves/s by batch size."""
    spec, n, hidden = envs.describe(cfg.env, cfg.env_kwargs), cfg.ppo.envs, cfg.network.hidden
    pettingzoo = both(cpus, random_moves, spec, n, "pettingzoo", seconds)
    print(row(f"(a) PettingZoo env, {n} games, random moves", *pettingzoo, "env steps/s"))
    native, forward = {"pettingzoo": pettingzoo}, {}
    for size in (n, BIG) if cfg.env in envs.BACKENDS else ():
        native[size] = both(cpus, random_moves, spec, size, "native", seconds)
        print(row(f"(b) native env, {size:,} games, random moves", *native[size], "env steps/s"))
    for size in (n, BIG):
        forward[size] = both(cpus, inference, spec, hidden, size, seconds)
        print(row(f"(c) policy value+sample+logp, batch {size:,}", *forward[size], "moves/s"))
    return native, forward


def training(cfg: config.Experiment, cpus: int, seconds: float, fraction: float) -> dict[str, Pair]:
    """(d): one agent per core without Ray on each backend, and every arm on Ray."""
    rates = {}
    for backend in ("native", "pettingzoo") if cfg.env in envs.BACKENDS else ("pettingzoo",):
        backend_cfg = cfg.model_copy(update={"env_backend": backend})
        rates[backend] = both(cpus, one_agent, backend_cfg, seconds)
        name = {"native": "native", "pettingzoo": "PettingZoo"}[backend]
        print(row(f"(d) swarm, one agent per core, {name} env, no Ray", *rates[backend], "agent-steps/s"))
    scaled = scale(cfg, fraction)
    ray_run = on_ray(scaled)
    rates["ray"] = (float("nan"), ray_run.rate)
    print(row("(d) swarm run training (engine.train, Ray)", None, ray_run.rate, "agent-steps/s"))
    arms, total = len(cfg.arms), scaled.budget.total
    print(f"      {arms} arms x {total:,} agent-steps in {ray_run.wall:.1f} s on {ray_run.cpus} CPUs")
    print("      Ray's share of a round (driver's round time minus the busiest host's time in train_round):")
    for arm, (rounds, driver, hosts) in ray_run.overhead.items():
        print(
            f"        {arm:<12} first round {ray_run.first[arm]:5.1f} s, then {rounds:5,d} rounds of "
            f"{driver / max(rounds, 1) * 1e3:7.1f} ms, {(driver - hosts) / max(rounds, 1) * 1e3:6.1f} ms "
            f"of them Ray's: {1 - hosts / driver if driver else float('nan'):5.1%}"
        )
    return rates


def scale(cfg: config.Experiment, fraction: float) -> config.Experiment:
    """`cfg` with `fraction` of its budget, and at least one batch per agent."""
    smallest = max(arm.agents for arm in cfg.arms) * cfg.ppo.rollout_steps
    total = max(int(cfg.budget.total * fraction), smallest)
    return cfg.model_copy(update={"budget": cfg.budget.model_copy(update={"total": total})})


def memory(cfg: config.Experiment, fraction: float) -> None:
    """Resident memory of the largest arm trained alone by engine.train."""
    agents = max(arm.agents for arm in cfg.arms)
    peak, wall = arm_memory(scale(cfg, fraction), agents)
    gib = 2**30
    print(
        f"memory of one {agents}-agent arm on Ray ({wall:.1f} s of engine.train), peak RSS: driver + "
        f"workers {(peak['driver'] + peak['workers']) / gib:.2f} GiB (driver {peak['driver'] / gib:.2f}, "
        f"workers {peak['workers'] / gib:.2f}); Ray's system processes {peak['system'] / gib:.2f} more"
    )


def against_rllib(cfg: config.Experiment, cpus: int, python: str | None, iterations: int) -> dict:
    """(e): RLlib's learner steps/s by CPUs, where it ran."""
    if cfg.env not in CONNECT_FOUR:
        print(f"(e) RLlib PPO: skipped, benchmarks/rllib_ppo.py only knows Connect Four, not {cfg.env}")
        return {}
    if not python:
        print("(e) RLlib PPO: skipped, give --rllib-python PATH (a venv with ray[rllib]; see How to run)")
        return {}
    results = {c: rllib(python, cfg, c, iterations) for c in (1, cpus)}
    for key, label, unit in (
        ("learner_steps_per_s", "(e) RLlib PPO, PettingZoo env, learner's steps", "agent-steps/s"),
        ("env_steps_per_s", "    the same, counting both players' moves", "env steps/s"),
    ):
        print(row(label, *(results[c][key] if results[c] else None for c in (1, cpus)), unit))
    for c, result in results.items():
        if result:
            print(f"      {c} CPU(s): {result['setup']}")
            print(
                f"        an iteration samples for {result['sampling_s']:.2f} s, learns for "
                f"{result['learning_s']:.2f} s"
            )
    return {c: r["learner_steps_per_s"] for c, r in results.items() if r}


def ratios(cpus: int, seats: int, native: dict, forward: dict, swarm: dict[str, Pair], theirs: dict) -> None:
    print("ratios:")
    for c, label, key, column in (
        (1, "one agent, native env", "native", 0),
        (1, "one agent, PettingZoo env", "pettingzoo", 0),
        (cpus, "engine.train on Ray", "ray", 1),
        (cpus, "one agent per core, no Ray, native env", "native", 1),
        (cpus, "one agent per core, no Ray, PettingZoo env", "pettingzoo", 1),
    ):
        if c in theirs and key in swarm:
            ours = swarm[key][column]
            print(f"  (d) / (e) on {c} core(s), swarm's {label}: {ours / theirs[c]:.2f}")
    pettingzoo = native.pop("pettingzoo")
    n = min(forward)
    limit = 1 / (1 / pettingzoo[0] + 1 / forward[n][0])
    print(
        f"  limit with the PettingZoo env at batch {n:,}, 1 core: 1/(1/a + 1/c) = {limit:,.0f} moves/s = "
        f"{limit / seats:,.0f} agent-steps/s ({seats} moves an agent-step); (d) one agent: "
        f"{swarm['pettingzoo'][0] / (limit / seats):.0%}"
    )
    for size in sorted(native):
        limit = 1 / (1 / native[size][0] + 1 / forward[size][0])
        print(
            f"  limit at batch {size:,}, 1 core: 1/(1/b + 1/c) = {limit:,.0f} moves/s = "
            f"{limit / seats:,.0f} agent-steps/s; (d) one agent: {swarm['native'][0] / (limit / seats):.0%}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", default="budgets/default.yaml")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the budget trained on Ray")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds per env / inference figure")
    parser.add_argument("--train-seconds", type=float, default=20.0, help="seconds per one-agent figure")
    parser.add_argument("--rllib-python", help="python of a venv with ray[rllib], torch and pettingzoo")
    parser.add_argument("--rllib-iterations", type=int, default=10, help="RLlib iterations timed, after 2")
    args = parser.parse_args()

    cfg = config.load(args.file)
    cpus = cfg.resources.cpus or os.cpu_count() or 1
    load = os.getloadavg()
    print(
        f"{args.file}: {cfg.env}, ppo.envs {cfg.ppo.envs}, rollout_steps {cfg.ppo.rollout_steps}, "
        f"network {cfg.network.hidden}\n{cpus} CPUs, load average {load[0]:.2f} {load[1]:.2f} "
        f"{load[2]:.2f} at the start"
    )
    print(f"{'':<52}{'1 core':>12}{f'{cpus} cores':>12}")
    native, forward = env_and_network(cfg, cpus, args.seconds)
    swarm = training(cfg, cpus, args.train_seconds, args.fraction)
    memory(cfg, args.fraction)
    theirs = against_rllib(cfg, cpus, args.rllib_python, args.rllib_iterations)
    ratios(cpus, envs.describe(cfg.env, cfg.env_kwargs).seats, native, forward, swarm, theirs)
    print()
    print("\n".join(profile(cfg)))


if __name__ == "__main__":
    main()
