"""Players: whatever picks moves in a game, each declaring what it sees.

A player with `sees = "observation"` (a `Policy`: the trained network, the uniform random player) acts on
a batch of observations and action masks in one call. A player with `sees = "game"` (a `Searcher`: the
ladder's heuristic and MCTS, `swarm.players.search`, and Connect Four's alpha-beta, `swarm.players.alphabeta`)
reads the games' PettingZoo envs, so the games it plays need a backend that keeps them (`GameBatch.envs`).
Rollouts and evaluation dispatch on what a player declares, never on its class.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Protocol

import numpy as np
import torch

OBSERVATION, GAME = "observation", "game"


class Policy(Protocol):
    sees: ClassVar[str]  # OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...

    def act_flops(self, batch: int) -> int: ...


class Searcher(Protocol):
    sees: ClassVar[str]  # GAME

    def search(self, envs: Sequence[Any], generator: torch.Generator) -> np.ndarray: ...


Player = Policy | Searcher


class RandomPlayer:
    """Uniform over legal moves; the floor of every rating scale."""

    sees: ClassVar[str] = OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return torch.multinomial(mask.float(), 1, generator=generator).squeeze(-1)

    def act_flops(self, batch: int) -> int:
        return 0
