"""Players: whatever picks moves in a game, each declaring what it sees.

A player with `sees = "observation"` (a `Policy`: the trained network, the uniform random player, a game's
script, `swarm.players.scripted`) acts on a batch of observations and action masks in one call: action
indices, or points inside a game's Box of continuous actions (whose masks are empty). A player with
`sees = "game"` (a `Searcher`: the ladder's heuristic and MCTS, `swarm.players.search`, and Connect Four's
alpha-beta, `swarm.players.alphabeta`) reads the games' PettingZoo envs, so the games it plays need a
backend that keeps them (`GameBatch.envs`). Rollouts and evaluation dispatch on what a player declares,
never on its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

from swarm.envs.spec import Box

OBSERVATION, GAME = "observation", "game"


class Policy(Protocol):
    sees: ClassVar[str]  # OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...

    def act_flops(self, batch: int) -> int: ...


class Searcher(Protocol):
    sees: ClassVar[str]  # GAME

    def search(self, envs: Sequence[Any], generator: torch.Generator) -> np.ndarray: ...


Player = Policy | Searcher


@dataclass(frozen=True)
class RandomPlayer:
    """Uniform over legal moves, or over the Box of a game with continuous actions (`box`, its spec's);
    the floor of every rating scale."""

    box: Box | None = None
    sees: ClassVar[str] = OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        if self.box is None:
            return torch.multinomial(mask.float(), 1, generator=generator).squeeze(-1)
        low, high = torch.tensor(self.box.low), torch.tensor(self.box.high)
        return (low + (high - low) * torch.rand((len(obs), len(low)), generator=generator)).clamp_(low, high)

    def act_flops(self, batch: int) -> int:
        return 0
