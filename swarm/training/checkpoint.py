"""Training checkpoints: all an arm needs to go on training exactly where it stopped.

An arm's state -- the next round; every agent's weights, Adam state and games in progress, shard by shard
(each game's seed and moves so far, `rollout.Slots`, `shards`); the rounds whose weights sit in
each agent's opponent pool; its learning-curve points; its ledger charges and training rows -- goes to
`<dir>/<arm>.pt` in one atomic write, so a kill leaves the previous checkpoint or the new one, never half of
each. Pool and curve weights never change once taken, so each is written once, to
`<dir>/<arm>/<agent>-r<round>.pt` (the agent's weights at the start of that round), before the state that
names it. RNGs need no saving: every round's RNGs derive from (seed, arm, agent, round) (`swarm.seeds`), so
a round replayed from a checkpoint draws what it drew the first time. Everything loads with
weights_only=True.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from swarm import rundir
from swarm.config import ConfigError

Weights = dict[str, np.ndarray]
Key = tuple[int, int]  # (agent index, round): that agent's weights at the start of that round


@dataclass
class ArmState:
    round: int  # the next round to play
    weights: list[Weights]  # every agent's current weights
    optimizers: list[dict]  # every agent's optimizer.state_dict()
    games: list[list[dict[str, np.ndarray]]]  # every agent's games in progress, by shard (Slots.state())
    pools: list[list[int]]  # rounds whose start weights are in each agent's opponent pool
    curve: list[tuple[int, int, int, int]]  # agent index, its agent-steps, the arm's, round of the weights
    next_point: list[int]  # each agent's next learning-curve point
    charges: list[dict]  # the arm's ledger rows, in the order they were charged
    rows: list[dict]  # the arm's training rows
    wall_seconds: float  # training wall time so far
    finished: bool


def kept_path(directory: Path, arm: str, key: Key) -> Path:
    return directory / arm / f"{key[0]}-r{key[1]}.pt"


def save(directory: Path, arm: str, state: ArmState, kept: dict[Key, Weights]) -> None:
    """Write the weights in `kept` (those taken since the last save), then the arm's state naming them."""
    for key, weights in kept.items():
        rundir.save_weights(weights, kept_path(directory, arm, key))
    payload = {
        "round": state.round,
        "weights": [_tensors(w) for w in state.weights],
        "optimizers": state.optimizers,
        "games": [[_tensors(g) for g in shards] for shards in state.games],
        "pools": state.pools,
        "curve": [list(point) for point in state.curve],
        "next_point": state.next_point,
        "charges": json.dumps(state.charges),
        "rows": json.dumps(state.rows),
        "wall_seconds": state.wall_seconds,
        "finished": state.finished,
    }
    rundir.atomic(directory / f"{arm}.pt", lambda tmp: torch.save(payload, tmp))


def load(directory: Path, arm: str, shards: int = 1) -> tuple[ArmState, dict[Key, Weights]] | None:
    """The arm's last checkpoint and the pool and curve weights it names; None if it has none. `shards`:
    the arm's rollout_workers now, which must be what its games were saved in."""
    path = directory / f"{arm}.pt"
    if not path.is_file():
        return None
    payload = torch.load(path, weights_only=True)
    state = ArmState(
        round=payload["round"],
        weights=[_arrays(w) for w in payload["weights"]],
        optimizers=payload["optimizers"],
        # before shards (swarm.training.shards) an agent's games were one Slots.state(): its only shard
        games=[[_arrays(g) for g in (s if isinstance(s, list) else [s])] for s in payload["games"]],
        pools=payload["pools"],
        curve=[tuple(point) for point in payload["curve"]],
        next_point=payload["next_point"],
        charges=json.loads(payload["charges"]),
        rows=json.loads(payload["rows"]),
        wall_seconds=payload["wall_seconds"],
        finished=payload["finished"],
    )
    if any(len(games) != shards for games in state.games):
        raise ConfigError(
            f"{path}: arm {arm!r} saved each agent's games in {len(state.games[0])} shard(s), but its "
            f"rollout_workers is {shards} now; set it back to {len(state.games[0])} to resume this run"
        )
    keys = {(i, r) for i, pool in enumerate(state.pools) for r in pool}
    keys |= {(i, r) for i, _, _, r in state.curve}
    kept = {key: _arrays(rundir.load_weights(kept_path(directory, arm, key))) for key in sorted(keys)}
    return state, kept


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v) for k, v in arrays.items()}


def _arrays(tensors: dict[str, torch.Tensor]) -> Weights:
    return {k: v.numpy() for k, v in tensors.items()}
