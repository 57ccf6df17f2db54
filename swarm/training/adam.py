"""Adam as swarm's learners step it: torch.optim.Adam(fused=True)'s numbers and state dict, bit for bit.

torch.optim's Optimizer imports torch._dynamo the first time a process builds one (its bookkeeping methods
are wrapped to keep torch.compile out of them): 2.7 s on the slower 2-core VM, as long as importing torch
itself, paid again by every Ray worker that learns. This is the part of it swarm uses -- one parameter
group, `step`, `zero_grad`, the state dict -- stepping with torch's own functional Adam, fused, which
imports nothing. Its state dict is the one torch.optim.Adam saves and loads, so a checkpoint written with
either resumes with the other.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch.optim.adam import adam


class Adam:
    """Adam over `params` in one group, laid out as torch's: `param_groups[0]` holds the parameters and the
    settings, and its "lr" may change between steps (annealing, PBT)."""

    def __init__(
        self, params: Iterable[torch.Tensor], lr: float, eps: float, betas: tuple[float, float] = (0.9, 0.999)
    ):
        self.param_groups = [
            {
                "params": list(params),
                "lr": lr,
                "betas": betas,
                "eps": eps,
                "weight_decay": 0,
                "amsgrad": False,
                "maximize": False,
                "foreach": None,
                "capturable": False,
                "differentiable": False,
                "fused": True,
                "decoupled_weight_decay": False,
            }
        ]
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    @property
    def params(self) -> list[torch.Tensor]:
        return self.param_groups[0]["params"]

    @torch.no_grad()
    def step(self) -> None:
        """One step for the parameters that have a gradient; a parameter's moments start at its first."""
        params = [p for p in self.params if p.grad is not None]
        for p in params:
            if p not in self.state:
                self.state[p] = {
                    "step": torch.zeros((), dtype=torch.float32, device=p.device),  # fused: a float tensor
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
        states = [self.state[p] for p in params]
        group = self.param_groups[0]
        beta1, beta2 = group["betas"]
        adam(
            params,
            [p.grad for p in params],
            [s["exp_avg"] for s in states],
            [s["exp_avg_sq"] for s in states],
            [],
            [s["step"] for s in states],
            fused=True,
            amsgrad=False,
            beta1=beta1,
            beta2=beta2,
            lr=group["lr"],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
        )

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    def state_dict(self) -> dict:
        """torch's layout: each parameter's state under its index, the group's settings with the indices.
        The tensors are the live ones, as torch's are: copy before changing them elsewhere."""
        index = {p: i for i, p in enumerate(self.params)}
        return {
            "state": {index[p]: s for p, s in self.state.items()},
            "param_groups": [{**self.param_groups[0], "params": list(range(len(self.params)))}],
        }

    def load_state_dict(self, saved: dict) -> None:
        """Takes this class's or torch.optim.Adam's state dict, as torch takes it: each tensor onto its
        parameter's device and dtype (the fused step count stays float32), the group's settings as saved."""
        (group,) = saved["param_groups"]
        if len(group["params"]) != len(self.params):
            raise ValueError(
                f"the saved optimizer state has {len(group['params'])} parameters; this network has "
                f"{len(self.params)}"
            )
        param = dict(zip(group["params"], self.params, strict=True))
        self.state = {
            param[i]: {
                key: value.to(param[i].device, torch.float32 if key == "step" else param[i].dtype)
                for key, value in s.items()
            }
            for i, s in saved["state"].items()
        }
        self.param_groups = [{**group, "params": self.params}]
