"""Players: the actor-critic MLP an agent trains, and the uniform random player.

A player maps a batch of observations and action masks to legal actions. Illegal actions get a logit of
the dtype's most negative value, so their probability is exactly zero and sampling can never pick them.

FLOPs are counted analytically from the layer shapes, the way `torch.utils.flop_counter` counts them: a
linear layer costs 2*batch*in*out forward; backward costs the same again for the weight gradient and again
for the input gradient, except in the first layer, whose input (the observation) needs no gradient.
"""

from __future__ import annotations

import itertools
from typing import Protocol

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical


class Player(Protocol):
    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...

    def act_flops(self, batch: int) -> int: ...


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    return nn.Sequential(*layers)


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (as in CleanRL's PPO) with masked logits."""

    def __init__(self, obs_dim: int, actions: int, hidden: list[int]):
        super().__init__()
        self.actor_sizes = [obs_dim, *hidden, actions]
        self.critic_sizes = [obs_dim, *hidden, 1]
        self.actor = mlp(self.actor_sizes)
        self.critic = mlp(self.critic_sizes)

    def dist(self, obs: torch.Tensor, mask: torch.Tensor) -> Categorical:
        logits = self.actor(obs).masked_fill(~mask, torch.finfo(obs.dtype).min)
        return Categorical(logits=logits)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    @torch.no_grad()
    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        probs = self.dist(obs, mask).probs
        return torch.multinomial(probs, 1, generator=generator).squeeze(-1)

    def act_flops(self, batch: int) -> int:
        return forward_flops(self.actor_sizes, batch)

    def weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.state_dict().items()}

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.load_state_dict(
            {k: torch.tensor(v) for k, v in weights.items()}
        )  # copies: Ray arrays are read-only


class RandomPlayer:
    """Uniform over legal moves; the floor of every rating scale."""

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.multinomial(mask.float(), 1, generator=generator).squeeze(-1)

    def act_flops(self, batch: int) -> int:
        return 0


def forward_flops(sizes: list[int], batch: int) -> int:
    return sum(2 * batch * n_in * n_out for n_in, n_out in itertools.pairwise(sizes))


def backward_flops(sizes: list[int], batch: int) -> int:
    weight_grads = forward_flops(sizes, batch)
    input_grads = forward_flops(sizes[1:], batch)  # every layer but the first passes a gradient down
    return weight_grads + input_grads
