"""Training throughput of a budget file: agent-steps per second, per core and in total.

How to run:   python benchmarks/throughput.py [budgets/default.yaml] [--fraction 0.1]
What to expect: two numbers, measured here on a 2-core machine and quoted in the README.
  1. one agent training in a plain process on one core (rollouts + PPO updates, no Ray);
  2. the real `swarm run` training path on local Ray, every arm side by side on all cores, with the
     budget scaled by --fraction so it takes a minute or two.
Timings live here, never in the tests.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from swarm import config, envs, population
from swarm.agent import Agent, opponent


def single_core(cfg: config.Experiment, seconds: float) -> float:
    torch.set_num_threads(1)
    spec = envs.describe(cfg.env)
    agent = Agent(spec, cfg, arm=0, index=0)
    steps, start, round_ = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        frozen = opponent(spec, cfg, agent.net.weights())
        report = agent.train_round(round_, [frozen], np.zeros(cfg.ppo.envs, np.int64), cfg.ppo.rollout_steps)
        steps, round_ = steps + report.agent_steps, round_ + 1
    return steps / (time.perf_counter() - start)


def on_ray(cfg: config.Experiment) -> tuple[float, int, float]:
    with population.session(None, cfg.resources.cpus) as cpus:
        start = time.perf_counter()
        trained = population.train(cfg, cpus)
        wall = time.perf_counter() - start
    steps = sum(trained.ledger.totals_by_arm()[arm.name]["agent_steps"] for arm in cfg.arms)
    return steps / wall, cpus, wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", default="budgets/default.yaml")
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the file's budget to train")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of the single-core measurement")
    args = parser.parse_args()

    cfg = config.load(args.file)
    smallest = max(arm.agents for arm in cfg.arms) * cfg.ppo.rollout_steps  # one batch per agent
    total = max(int(cfg.budget.total * args.fraction), smallest)
    scaled = cfg.model_copy(update={"budget": cfg.budget.model_copy(update={"total": total})})

    rate = single_core(cfg, args.seconds)
    print(f"one agent, one core, no Ray:   {rate:8,.0f} agent-steps/s")
    rate, cpus, wall = on_ray(scaled)
    print(
        f"swarm run training on {cpus} CPUs: {rate:8,.0f} agent-steps/s in total, {rate / cpus:,.0f} per core"
        f" ({len(cfg.arms)} arms x {total:,} agent-steps in {wall:.1f} s, Ray start-up excluded)"
    )


if __name__ == "__main__":
    main()
