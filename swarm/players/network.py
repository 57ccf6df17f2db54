"""The actor-critic MLP an agent trains: a player that sees observations.

A player maps a batch of observations and action masks to legal actions. Illegal actions get a logit of
the dtype's most negative value, so their probability is exactly zero and sampling can never pick them.
Actions are sampled by Gumbel-max (Gumbel 1954; Maddison et al. 2014, "A* sampling"): the argmax of the
logits plus independent Gumbel noise is a draw from their softmax, in one pass and with no distribution
object, which at a rollout's batch sizes costs less than torch's Categorical or multinomial.

FLOPs are counted analytically from the layer shapes, the way `torch.utils.flop_counter` counts them: a
linear layer costs 2*batch*in*out forward; backward costs the same again for the weight gradient and again
for the input gradient, except in the first layer, whose input (the observation) needs no gradient.
"""

from __future__ import annotations

import itertools
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from swarm.players import OBSERVATION

TINY = torch.finfo(torch.float32).tiny


def tanh(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(2 * x).mul_(2).sub_(1)


class _Tanh(torch.autograd.Function):
    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, x: torch.Tensor) -> torch.Tensor:
        y = tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (y,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return torch.ops.aten.tanh_backward(grad, y)


class Tanh(nn.Module):
    """tanh(x) as 2 sigmoid(2x) - 1, equal to float rounding (2e-7): torch's CPU tanh (SLEEF's, exact to
    1 ulp) costs 5x a sigmoid, and made a quarter of a PPO update on [128, 128] networks. Its gradient
    is tanh's own kernel; where no gradient is wanted (rollouts) it skips autograd's per-call cost."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _Tanh.apply(x) if torch.is_grad_enabled() else tanh(x)


def mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(Tanh())
    return nn.Sequential(*layers)


def sample(logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One action per row, distributed as softmax(logits): argmax(logits + Gumbel noise).

    The uniform draw is kept above 0, so the noise is finite and a logit at the dtype's minimum (an illegal
    action) stays below every finite one.
    """
    uniform = torch.rand(logits.shape, generator=generator).clamp_(min=TINY)
    return (logits - uniform.log_().neg_().log_()).argmax(-1)


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (as in CleanRL's PPO) with masked logits."""

    sees: ClassVar[str] = OBSERVATION

    def __init__(self, obs_dim: int, actions: int, hidden: list[int]):
        super().__init__()
        self.actor_sizes = [obs_dim, *hidden, actions]
        self.critic_sizes = [obs_dim, *hidden, 1]
        self.actor = mlp(self.actor_sizes)
        self.critic = mlp(self.critic_sizes)

    def logits(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        out = self.actor(obs)  # bfloat16 under autocast: its own most negative number masks
        return out.masked_fill(~mask, torch.finfo(out.dtype).min)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    @torch.inference_mode()
    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return sample(self.logits(obs, mask), generator)

    def act_flops(self, batch: int) -> int:
        return forward_flops(self.actor_sizes, batch)

    @classmethod
    def from_weights(cls, weights: dict[str, np.ndarray]) -> ActorCritic:
        """The network these weights belong to, its layer sizes read off their shapes (arms may differ in
        width and depth), with the weights loaded."""
        layers = sorted((k for k in weights if k.startswith("actor.") and k.endswith(".weight")), key=_index)
        shapes = [weights[k].shape for k in layers]
        net = cls(shapes[0][1], shapes[-1][0], [shape[0] for shape in shapes[:-1]])
        net.load_weights(weights)
        return net

    def weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.state_dict().items()}

    def load_weights(self, weights: dict[str, np.ndarray]) -> None:
        self.load_state_dict(
            {k: torch.tensor(v) for k, v in weights.items()}
        )  # copies: Ray arrays are read-only


def _index(key: str) -> int:
    """A layer's place in its MLP, from its state-dict key (actor.<i>.weight)."""
    return int(key.split(".")[1])


def entropy(logp: torch.Tensor) -> torch.Tensor:
    """Entropy from the log-probabilities of masked logits: an illegal action's log-probability is finite
    (the dtype's minimum) and its probability exactly 0, so it adds nothing."""
    return -(logp.exp() * logp).sum(-1)


def forward_flops(sizes: list[int], batch: int) -> int:
    return sum(2 * batch * n_in * n_out for n_in, n_out in itertools.pairwise(sizes))


def backward_flops(sizes: list[int], batch: int) -> int:
    weight_grads = forward_flops(sizes, batch)
    input_grads = forward_flops(sizes[1:], batch)  # every layer but the first passes a gradient down
    return weight_grads + input_grads
