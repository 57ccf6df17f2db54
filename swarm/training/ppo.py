"""Proximal Policy Optimization (Schulman et al. 2017) on one batch of a learner's transitions.

Reads top to bottom as in CleanRL's ppo.py: generalized advantage estimates (Schulman et al. 2016), then
several epochs of shuffled minibatches of the clipped surrogate objective, a value loss and an entropy
bonus. Plain torch: no Ray, no files. Diagnostics stay tensors until the update ends, so a minibatch never
waits on a `.item()`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, fields

import numpy as np
import torch
from torch import nn

from swarm.config import PPO
from swarm.players.network import ActorCritic, backward_flops, forward_flops
from swarm.training.adam import Adam
from swarm.training.rollout import Batch


def gae(batch: Batch, gamma: float, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Advantages and returns. A transition's successor is `next_index` (its seat's next move in its game).

    The recursion runs backwards along every game's chain of transitions at once: first each chain's last
    transition, then the ones before them, and so on; the same float32 arithmetic as a loop over the batch
    in reverse, so the same numbers to the bit.
    """
    n = len(batch.reward)
    advantages = np.zeros(n, np.float32)
    has_next = batch.next_index >= 0
    previous = np.full(n, -1)
    previous[batch.next_index[has_next]] = np.flatnonzero(has_next)
    level = np.flatnonzero(~has_next)  # the chains' last transitions: an outcome or a cut
    while len(level):
        done = batch.done[level]
        nxt = batch.next_index[level]
        follow = ~done & (nxt >= 0)
        successor = np.where(follow, nxt, 0)
        zero = np.float32(0)
        next_value = np.where(done, zero, np.where(follow, batch.value[successor], batch.bootstrap[level]))
        next_advantage = np.where(follow, advantages[successor], zero)
        delta = batch.reward[level] + gamma * next_value - batch.value[level]
        advantages[level] = delta + gamma * lam * next_advantage
        level = previous[level]
        level = level[level >= 0]
    return advantages, advantages + batch.value


def optimizer(net: ActorCritic, cfg: PPO) -> Adam:
    """Adam as CleanRL sets it up for PPO (eps 1e-5); fused: one kernel for all parameters, a third of the
    for-each step's time on CPU."""
    return Adam(net.parameters(), lr=cfg.lr, eps=1e-5)


@dataclass(frozen=True)
class Minibatch:
    """A minibatch's rows, its advantages already normalized over the whole minibatch."""

    obs: torch.Tensor
    mask: torch.Tensor
    action: torch.Tensor
    old_logp: torch.Tensor
    advantage: torch.Tensor
    ret: torch.Tensor

    def rows(self, start: int, end: int) -> Minibatch:
        return Minibatch(*(getattr(self, f.name)[start:end] for f in fields(self)))


# a minibatch's (or a part of it's) per-row loss terms -> its share of the minibatch's mean
Reduce = Callable[[torch.Tensor], torch.Tensor]
# net, optimizer, minibatch, settings -> the step's diagnostics (policy and value loss, entropy, approx KL,
# clip fraction), having stepped the optimizer
Descend = Callable[[ActorCritic, Adam, Minibatch, PPO], torch.Tensor]


def objective(net: ActorCritic, mb: Minibatch, cfg: PPO, reduce: Reduce) -> tuple[torch.Tensor, torch.Tensor]:
    """The loss and the diagnostics of `mb`, each per-row term reduced by `reduce` (the mean, for a whole
    minibatch): clipped surrogate, value regression, entropy bonus. With `ppo.precision: bfloat16` the
    networks' forward passes run under torch's autocast on the minibatch's device; their outputs, and all
    that follows, are float32."""
    with torch.autocast(mb.obs.device.type, torch.bfloat16, enabled=cfg.precision == "bfloat16"):
        out, value = net.outputs(mb.obs, mb.mask), net.value(mb.obs)
    logp, entropies = net.head.evaluate(out.float(), mb.action)  # a Box's actions as sampled, unclipped
    value = value.float()
    log_ratio = logp - mb.old_logp
    ratio = log_ratio.exp()
    policy_loss = reduce(
        torch.max(-mb.advantage * ratio, -mb.advantage * ratio.clamp(1 - cfg.clip, 1 + cfg.clip))
    )
    value_loss = 0.5 * reduce((value - mb.ret).pow(2))
    mean_entropy = reduce(entropies)
    loss = policy_loss + cfg.value_coef * value_loss - cfg.entropy_coef * mean_entropy
    with torch.no_grad():
        approx_kl = reduce((ratio - 1) - log_ratio)
        clip_fraction = reduce(((ratio - 1).abs() > cfg.clip).float())
        diagnostics = torch.stack([policy_loss, value_loss, mean_entropy, approx_kl, clip_fraction])
    return loss, diagnostics


def descend(net: ActorCritic, optimizer: Adam, mb: Minibatch, cfg: PPO) -> torch.Tensor:
    """One gradient step on the minibatch's mean loss, its gradient norm clipped."""
    loss, diagnostics = objective(net, mb, cfg, torch.mean)
    optimizer.zero_grad()
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), cfg.max_grad_norm)
    optimizer.step()
    return diagnostics


def update(
    net: ActorCritic,
    optimizer: Adam,
    batch: Batch,
    cfg: PPO,
    generator: torch.Generator,
    step: Descend = descend,
) -> dict[str, float]:
    """One PPO update; returns the last epoch's mean losses and diagnostics, and the FLOPs it cost. `step`
    takes each minibatch's gradient step (`swarm.training.parallel` splits it over processes). Its tensors
    are made on the network's device (`swarm.training.device`); GAE and the minibatches' draw stay on the
    CPU, so they are the same on any device."""
    advantages, returns = gae(batch, cfg.gamma, cfg.gae_lambda)
    device = next(net.parameters()).device
    obs, mask, actions, old_logp, advantages_t, returns_t = (
        torch.from_numpy(a).to(device)
        for a in (batch.obs, batch.mask, batch.action, batch.logp, advantages, returns)
    )

    size = len(batch.reward)
    bounds = np.linspace(0, size, min(cfg.minibatches, size) + 1).astype(int)  # a last, short batch too
    flops = 0
    for _epoch in range(cfg.epochs):
        order = torch.randperm(size, generator=generator)
        history = []
        for start, end in itertools.pairwise(bounds):
            idx = order[start:end].to(device)
            # Advantages normalized over the whole minibatch, whoever computes which of its rows.
            adv = advantages_t.index_select(0, idx)
            if len(idx) > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            mb = Minibatch(
                obs.index_select(0, idx),  # index_select: a third of the time of obs[idx] on CPU
                mask.index_select(0, idx),
                actions.index_select(0, idx),
                old_logp.index_select(0, idx),
                adv,
                returns_t.index_select(0, idx),
            )
            history.append(step(net, optimizer, mb, cfg))
            b = len(idx)
            flops += forward_flops(net.actor_sizes, b) + forward_flops(net.critic_sizes, b)
            flops += backward_flops(net.actor_sizes, b) + backward_flops(net.critic_sizes, b)

    policy_loss, value_loss, mean_entropy, approx_kl, clip_fraction = torch.stack(history).mean(0).tolist()
    return {
        "policy_loss": policy_loss,
        "value_loss": value_loss,
        "entropy": mean_entropy,
        "approx_kl": approx_kl,
        "clip_fraction": clip_fraction,
        "update_flops": flops,
    }
