"""The actor-critic MLP an agent trains: a player that sees observations.

A player maps a batch of observations and action masks to legal actions. The actor's outputs feed a head
picked from the action space: `Categorical` for Discrete actions, `Gaussian` for a Box.

Categorical: illegal actions get a logit of the dtype's most negative value, so their probability is
exactly zero and sampling can never pick them. Actions are sampled by Gumbel-max (Gumbel 1954; Maddison et
al. 2014, "A* sampling"): the argmax of the logits plus independent Gumbel noise is a draw from their
softmax, in one pass and with no distribution object, which at a rollout's batch sizes costs less than
torch's Categorical or multinomial.

Gaussian: a diagonal Gaussian whose mean is the actor's output and whose log standard deviation is a
learned parameter, the same in every state (CleanRL's ppo_continuous_action). Its densities are written out,
equal to `torch.distributions.Normal`'s without building one per call. The actor's last layer starts
orthogonal with gain 0.01 and no bias, CleanRL's init for a policy's last layer, so a fresh agent's mean is
near the Box's centre in every state: on budgets/tag-continuous.yaml, with PyTorch's default init instead,
the prey's state-dependent drift carried it off the field and learned prey scored below random.

FLOPs are counted analytically from the layer shapes, the way `torch.utils.flop_counter` counts them: a
linear layer costs 2*batch*in*out forward; backward costs the same again for the weight gradient and again
for the input gradient, except in the first layer, whose input (the observation) needs no gradient. Either
head's own work (a softmax, Gumbel noise; a Gaussian's noise, density and its log-std's gradient) is
elementwise, which the counter counts as 0; the Gaussian's mean is the actor's last layer, counted with it.
"""

from __future__ import annotations

import itertools
import math
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from swarm.envs.spec import Box
from swarm.players import OBSERVATION

TINY = torch.finfo(torch.float32).tiny
LOG_SQRT_2PI = math.log(math.sqrt(2 * math.pi))


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


class Categorical(nn.Module):
    """Discrete actions: masked logits, drawn by Gumbel-max. It holds no weights."""

    def outputs(self, out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return out.masked_fill(~mask, torch.finfo(out.dtype).min)  # bfloat16 under autocast: its own minimum

    def sample(self, logits: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return sample(logits, generator)

    def log_prob(self, logits: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        return logits.log_softmax(-1).gather(-1, action[:, None]).squeeze(-1)

    def evaluate(self, logits: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of `action` and entropies, row by row, from one log-softmax."""
        logp = logits.log_softmax(-1)
        return logp.gather(-1, action[:, None]).squeeze(-1), entropy(logp)

    def to_env(self, action: torch.Tensor) -> torch.Tensor:
        return action


class Gaussian(nn.Module):
    """Box actions: a diagonal Gaussian of mean the actor's output and a state-independent learned log-std
    (starting at `log_std`: CleanRL's ppo_continuous_action starts at 0, std 1), as in CleanRL.

    The policy acts in [-1, 1] in every dimension, the normalised action space Stable-Baselines3 and CleanRL
    train in, which `to_env` maps onto the Box (-1 its low edge, 1 its high): a fresh network's mean, near
    0, is then the Box's centre, not an edge where half of every draw would be clipped (MPE2's Box is [0,
    1]). A sample goes to the env clipped to [-1, 1], but its log-probability is the unclipped sample's,
    CleanRL's convention: PPO's ratio compares two densities of the same draw, so nothing it computes is
    biased by the clip, which only decides what the env sees at the Box's edges. The Box is held in
    buffers, so it travels with the weights and a player is rebuilt from them alone.
    """

    def __init__(self, box: Box, log_std: float = 0.0):
        super().__init__()
        self.log_std = nn.Parameter(torch.full((len(box.low),), log_std))
        self.register_buffer("low", torch.tensor(box.low, dtype=torch.float32))
        self.register_buffer("high", torch.tensor(box.high, dtype=torch.float32))

    def outputs(self, out: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return out  # a Box has no masks

    def sample(self, mean: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return mean + self.log_std.exp() * torch.randn(mean.shape, generator=generator)

    def log_prob(self, mean: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """log N(action; mean, std^2), summed over the Box's dimensions: `Normal.log_prob` written out."""
        var = (2 * self.log_std).exp()
        return (-((action - mean) ** 2) / (2 * var) - self.log_std - LOG_SQRT_2PI).sum(-1)

    def evaluate(self, mean: torch.Tensor, action: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Log-probabilities of `action` and entropies, row by row (the entropy is the same in every row)."""
        each = (0.5 + LOG_SQRT_2PI + self.log_std).sum()
        return self.log_prob(mean, action), each.expand(len(mean))

    def to_env(self, action: torch.Tensor) -> torch.Tensor:
        return self.low + (self.high - self.low) * (action.clamp(-1, 1) + 1) / 2


class ActorCritic(nn.Module):
    """Separate actor and critic MLPs (as in CleanRL's PPO), the actor's head sized from the action space:
    masked logits over `actions` Discrete actions, or a Gaussian over a Box of dimension `actions` starting
    at `log_std`, its mean's layer at CleanRL's small init (module docstring)."""

    sees: ClassVar[str] = OBSERVATION

    def __init__(
        self, obs_dim: int, actions: int, hidden: list[int], box: Box | None = None, log_std: float = 0.0
    ):
        super().__init__()
        self.actor_sizes = [obs_dim, *hidden, actions]
        self.critic_sizes = [obs_dim, *hidden, 1]
        self.actor = mlp(self.actor_sizes)
        self.critic = mlp(self.critic_sizes)
        self.head = Categorical() if box is None else Gaussian(box, log_std)
        if box is not None:
            nn.init.orthogonal_(self.actor[-1].weight, 0.01)
            nn.init.zeros_(self.actor[-1].bias)

    def outputs(self, obs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """What the head reads: masked logits, or the Gaussian's mean."""
        return self.head.outputs(self.actor(obs), mask)

    def value(self, obs: torch.Tensor) -> torch.Tensor:
        return self.critic(obs).squeeze(-1)

    def draw(
        self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A learner's actions as its head samples them (a Box's unclipped) and their log-probabilities."""
        out = self.outputs(obs, mask)
        action = self.head.sample(out, generator)
        return action, self.head.log_prob(out, action)

    @torch.inference_mode()
    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.head.to_env(self.head.sample(self.outputs(obs, mask), generator))

    def act_flops(self, batch: int) -> int:
        return forward_flops(self.actor_sizes, batch)

    @classmethod
    def from_weights(cls, weights: dict[str, np.ndarray]) -> ActorCritic:
        """The network these weights belong to, its layer sizes read off their shapes (arms may differ in
        width and depth) and a Gaussian's Box off its buffers, with the weights loaded."""
        layers = sorted((k for k in weights if k.startswith("actor.") and k.endswith(".weight")), key=_index)
        shapes = [weights[k].shape for k in layers]
        box = None
        if "head.low" in weights:
            box = Box(tuple(weights["head.low"].tolist()), tuple(weights["head.high"].tolist()))
        net = cls(shapes[0][1], shapes[-1][0], [shape[0] for shape in shapes[:-1]], box)
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
