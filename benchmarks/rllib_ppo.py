"""RLlib's PPO on PettingZoo Connect Four, set up as swarm's self-play agent: agent-steps per second.

benchmarks/throughput.py runs this with the python of a separate venv (RLlib is no dependency of swarm, and
this file imports nothing of swarm); its last stdout line is a JSON result.

Setup (RLlib's new API stack: RLModule, Learner, EnvRunner, ConnectorV2):
  - env: PettingZoo's connect_four_v3 raw env (unwrapped, as swarm's PettingZoo backend steps it) as a
    turn-based MultiAgentEnv; each observation is {"observations": the flat (6, 7, 2) board,
    "action_mask": legal columns}, the layout RLlib's example ActionMaskingTorchRLModule (a
    PPOTorchRLModule that sets illegal logits to FLOAT_MIN) expects. Each EnvRunner steps --envs games
    (RLlib's vectorized multi-agent env), as swarm's agent steps ppo.envs games in lockstep.
  - modules: "learner" (trained) and "opponent" (never trained, only sampled), each separate actor and
    critic MLPs of the given hidden sizes with tanh and linear heads: the shape of
    swarm.players.network.ActorCritic.
    The learner takes seat 0 or 1 by the parity of the episode id's hash, so half its games it moves first.
  - PPO: a train batch of 2 x rollout_steps env steps (about rollout_steps of the learner's, swarm's batch),
    minibatches of rollout_steps / minibatches, the given epochs, lr, gamma, lambda, clip, value and entropy
    coefficients and gradient clip; no KL penalty (swarm has none).
  - cores: 1 CPU: sampling and learning in this process (num_env_runners=0); N CPUs: N EnvRunner actors
    sample, the learner runs in this process (PPO alternates sampling and learning either way).
Agent-steps/s are the learner module's steps sampled (and trained on) per second; env steps count both
players' moves. Over --iterations training iterations after 2 of warm-up. RLlib's learners also report
num_module_steps_trained, but that counts every minibatch of every epoch, so it is not used.

How to run:   /tmp/rllib-venv/bin/python benchmarks/rllib_ppo.py --cpus 2
What to expect: see benchmarks/throughput.py.
"""

from __future__ import annotations

import argparse
import json
import logging
import time

import gymnasium as gym
import numpy as np
import ray
import torch
from pettingzoo.classic import connect_four_v3
from ray._private import ray_constants  # private: the switch that keeps a local Ray on loopback
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.default_model_config import DefaultModelConfig
from ray.rllib.core.rl_module.multi_rl_module import MultiRLModuleSpec
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.rllib.env.multi_agent_env import MultiAgentEnv
from ray.rllib.examples.rl_modules.classes.action_masking_rlm import (
    ActionMaskingTorchRLModule,
)

WARMUP_ITERATIONS = 2


class ConnectFour(MultiAgentEnv):
    """Turn-based: only the player to move gets an observation; both get the final rewards."""

    def __init__(self, config: dict | None = None):
        super().__init__()
        self.game = connect_four_v3.raw_env()
        self.agents = self.possible_agents = list(self.game.possible_agents)
        space = gym.spaces.Dict(
            {
                "observations": gym.spaces.Box(0.0, 1.0, (6 * 7 * 2,), np.float32),
                "action_mask": gym.spaces.Box(0.0, 1.0, (7,), np.float32),
            }
        )
        self.observation_spaces = dict.fromkeys(self.agents, space)
        self.action_spaces = dict.fromkeys(self.agents, gym.spaces.Discrete(7))

    def _observe(self, agent: str) -> dict[str, np.ndarray]:
        seen = self.game.observe(agent)
        return {
            "observations": seen["observation"].reshape(-1).astype(np.float32),
            "action_mask": seen["action_mask"].astype(np.float32),
        }

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        self.game.reset(seed=seed)
        mover = self.game.agent_selection
        return {mover: self._observe(mover)}, {}

    def step(self, action_dict: dict[str, int]):
        mover = self.game.agent_selection
        self.game.step(int(action_dict[mover]))
        over = any(self.game.terminations.values()) or any(self.game.truncations.values())
        if over:  # both players see the final board and their outcome
            obs = {agent: self._observe(agent) for agent in self.agents}
            rewards = {agent: float(self.game.rewards[agent]) for agent in self.agents}
        else:
            nxt = self.game.agent_selection
            obs, rewards = {nxt: self._observe(nxt)}, {mover: 0.0}
        return obs, rewards, {"__all__": over}, {"__all__": False}, {}


def to_module(agent_id: str, episode, **kwargs) -> str:
    """The learner takes seat 0 in half the games and seat 1 in the other half."""
    seat = int(agent_id.rsplit("_", 1)[1])
    return "learner" if hash(episode.id_) % 2 == seat else "opponent"


def build(args: argparse.Namespace) -> PPOConfig:
    hidden = [int(h) for h in args.hidden.split(",")]
    model = DefaultModelConfig(
        fcnet_hiddens=hidden, fcnet_activation="tanh", head_fcnet_hiddens=[], vf_share_layers=False
    )
    module = RLModuleSpec(module_class=ActionMaskingTorchRLModule, model_config=model)
    batch = 2 * args.rollout_steps
    return (
        PPOConfig()
        .environment(ConnectFour)
        .env_runners(num_env_runners=0 if args.cpus == 1 else args.cpus, num_envs_per_env_runner=args.envs)
        .learners(num_learners=0)
        .multi_agent(
            policies={"learner", "opponent"}, policy_mapping_fn=to_module, policies_to_train=["learner"]
        )
        .rl_module(rl_module_spec=MultiRLModuleSpec(rl_module_specs={"learner": module, "opponent": module}))
        .training(
            train_batch_size_per_learner=batch,
            minibatch_size=args.rollout_steps // args.minibatches,
            num_epochs=args.epochs,
            lr=args.lr,
            gamma=args.gamma,
            lambda_=args.gae_lambda,
            clip_param=args.clip,
            vf_loss_coeff=args.value_coef,
            entropy_coeff=args.entropy_coef,
            grad_clip=args.max_grad_norm,
            use_kl_loss=False,
        )
        .debugging(seed=0, log_level="ERROR")
    )


def counts(result: dict) -> tuple[int, int]:
    """(env steps, learner module steps) sampled, and so trained on, by one training iteration."""
    sampled = result["env_runners"]
    return int(sampled["num_env_steps_sampled"]), int(sampled["num_module_steps_sampled"]["learner"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cpus", type=int, default=1)
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--envs", type=int, default=32, help="games each EnvRunner steps in lockstep")
    parser.add_argument("--rollout-steps", type=int, default=2048)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--minibatches", type=int, default=4)
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--gamma", type=float, default=0.99)
    parser.add_argument("--gae-lambda", type=float, default=0.95)
    parser.add_argument("--clip", type=float, default=0.2)
    parser.add_argument("--value-coef", type=float, default=0.5)
    parser.add_argument("--entropy-coef", type=float, default=0.01)
    parser.add_argument("--max-grad-norm", type=float, default=0.5)
    parser.add_argument("--hidden", default="128,128")
    args = parser.parse_args()

    torch.set_num_threads(1)
    ray_constants.ENABLE_RAY_CLUSTER = False  # every port on 127.0.0.1, as swarm.engine.session does
    ray.init(
        num_cpus=args.cpus,
        include_dashboard=False,
        logging_level=logging.ERROR,
        runtime_env={"env_vars": {"OMP_NUM_THREADS": "1"}},
        _node_ip_address="127.0.0.1",
    )
    try:
        algo = build(args).build_algo()
        for _ in range(WARMUP_ITERATIONS):
            algo.train()
        env_steps = learner_steps = 0
        start = time.perf_counter()
        for _ in range(args.iterations):
            result = algo.train()
            env, learner = counts(result)
            env_steps, learner_steps = env_steps + env, learner_steps + learner
        seconds = time.perf_counter() - start
        timers = result["timers"]  # smoothed over iterations
        algo.stop()
    finally:
        ray.shutdown()
    runners = f"num_env_runners={0 if args.cpus == 1 else args.cpus} x {args.envs} envs"
    print(
        json.dumps(
            {
                "cpus": args.cpus,
                "seconds": seconds,
                "env_steps_per_s": env_steps / seconds,
                "learner_steps_per_s": learner_steps / seconds,
                "sampling_s": timers["env_runner_sampling_timer"],
                "learning_s": timers["learner_update_timer"],
                "setup": f"RLlib {ray.__version__}, new API stack, {runners}, local learner",
            }
        )
    )


if __name__ == "__main__":
    main()
