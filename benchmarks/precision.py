"""The PPO update in float32 and in bfloat16 autocast (`ppo.precision`), timed in turn on one core.

One batch of the file's size (ppo.rollout_steps transitions of its game, played by its network against
random), one update of the file's epochs and minibatches from the same weights and Adam state, repeated in
alternation so both see the same machine; the ratio of the medians is the speed-up. The update's result is
not compared here: whether a bfloat16-trained agent is as strong needs agents trained over seeds and played
against each other (an arm with `ppo: {precision: bfloat16}` beside one without, in a budget file).

How to run:
  python benchmarks/precision.py [budgets/default.yaml] [--repeats 5]
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import time

import numpy as np
import torch

from swarm import config, envs
from swarm.players import RandomPlayer
from swarm.players.network import ActorCritic
from swarm.training import ppo
from swarm.training.rollout import Slots


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("file", nargs="?", default="budgets/default.yaml")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    cfg = config.load(args.file)
    spec = envs.describe(cfg.env, cfg.env_kwargs)
    torch.manual_seed(0)
    net = ActorCritic(spec.obs_dim, spec.actions, cfg.network.hidden)
    rng = np.random.default_rng(0)
    slots = Slots(envs.games(spec, cfg.ppo.envs, cfg.env_backend), cfg.ppo.rollout_steps)
    places = np.zeros((cfg.ppo.envs, spec.seats - 1), np.int64)
    batch, _ = slots.collect(
        net,
        [RandomPlayer()],
        places,
        cfg.ppo.rollout_steps,
        torch.Generator().manual_seed(0),
        lambda k: rng.integers(1 << 30, size=k),
    )
    start = ppo.optimizer(net, cfg.ppo)
    times: dict[str, list[float]] = {"float32": [], "bfloat16": []}
    for repeat in range(args.repeats + 1):  # the first round warms up
        for precision in times:
            trained = copy.deepcopy(net)
            optimizer = ppo.optimizer(trained, cfg.ppo)
            optimizer.load_state_dict(start.state_dict())
            settings = cfg.ppo.model_copy(update={"precision": precision})
            began = time.perf_counter()
            ppo.update(trained, optimizer, batch, settings, torch.Generator().manual_seed(repeat))
            if repeat:
                times[precision].append(time.perf_counter() - began)
    load = os.getloadavg()
    fp32, bf16 = (statistics.median(times[p]) for p in times)
    print(
        f"{args.file}: network {cfg.network.hidden}, batch {cfg.ppo.rollout_steps:,}, "
        f"{cfg.ppo.epochs} epochs x {cfg.ppo.minibatches} minibatches, 1 thread; "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(f"  update, float32   {fp32 * 1e3:8.1f} ms (median of {args.repeats})")
    print(f"  update, bfloat16  {bf16 * 1e3:8.1f} ms")
    print(f"  speed-up          {fp32 / bf16:8.2f}x")


if __name__ == "__main__":
    main()
