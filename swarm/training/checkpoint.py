"""Training checkpoints: all an arm needs to go on training exactly where it stopped.

An arm's state -- its core's (`swarm.training.arm`: the next round, the rounds whose weights sit in each
agent's opponent pool, its learning-curve points, each agent's record against each opponent and its
hyperparameters where its mode sets them); every agent's weights, Adam state and games in progress, shard
by shard (each game's seed and moves so far, `rollout.Slots`, `shards`); its ledger charges and lineage and
its training rows -- goes to `<dir>/<arm>.pt` in one atomic
write, so a kill leaves the previous checkpoint or the new one, never half of each. Pool and curve weights
never change once taken, so each is written once, to `<dir>/<arm>/<agent>-r<round>.pt` (the agent's weights
at the start of that round), before the state that names it. RNGs need no saving: every round's RNGs derive
from (seed, arm, agent, round) (`swarm.seeds`), so a round replayed from a checkpoint draws what it drew the
first time. Everything loads with weights_only=True.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from swarm.config import ConfigError
from swarm.interaction import Key, Tally
from swarm.results import rundir
from swarm.training.agent import AgentState, Weights
from swarm.training.arm import Point, State, wanted
from swarm.weights import load_weights, save_weights


@dataclass(frozen=True)
class ArmState:
    core: State  # the round, pools, curve and results (`swarm.training.arm`)
    agents: list[AgentState]  # every agent's, by index
    charges: list[dict]  # the arm's ledger rows, in the order they were charged
    lineage: list[dict]  # the arm's copies of weights (`Ledger.lineage` rows), in order
    rows: list[dict]  # the arm's training rows
    wall_seconds: float  # training wall time so far
    finished: bool


def kept_path(directory: Path, arm: str, key: Key) -> Path:
    return directory / arm / f"{key.agent}-r{key.round}.pt"


def save(directory: Path, arm: str, state: ArmState, kept: dict[Key, Weights]) -> None:
    """Write the weights in `kept` (those taken since the last save), then the arm's state naming them."""
    for key, weights in kept.items():
        save_weights(weights, kept_path(directory, arm, key))
    core = state.core
    payload = {
        "round": core.round,
        "pools": [list(pool) for pool in core.pools],
        "curve": [[p.agent, p.agent_steps, p.arm_agent_steps, p.round] for p in core.curve],
        "next_point": list(core.next_point),
        "results": [[i, *key, r.games, r.score] for (i, key), r in core.results.items()],
        "hypers": json.dumps(core.hypers),
        "weights": [_tensors(a.weights) for a in state.agents],
        "optimizers": [a.optimizer for a in state.agents],
        "games": [[_tensors(g) for g in a.games] for a in state.agents],
        "charges": json.dumps(state.charges),
        "lineage": json.dumps(state.lineage),
        "rows": json.dumps(state.rows),
        "wall_seconds": state.wall_seconds,
        "finished": state.finished,
    }
    rundir.atomic(directory / f"{arm}.pt", lambda tmp: torch.save(payload, tmp))


def load(directory: Path, arm: str, shards: int = 1) -> tuple[ArmState, dict[Key, Weights]] | None:
    """The arm's last checkpoint and the pool and curve weights it names; None if it has none. `shards`:
    the arm's shards now, which must be what its games were saved in."""
    path = directory / f"{arm}.pt"
    if not path.is_file():
        return None
    payload = torch.load(path, weights_only=True)
    core = State(
        round=payload["round"],
        pools=tuple(tuple(pool) for pool in payload["pools"]),
        curve=tuple(Point(*point) for point in payload["curve"]),
        next_point=tuple(payload["next_point"]),
        results={(i, Key(m, v)): Tally(games, score) for i, m, v, games, score in payload["results"]},
        hypers=tuple(json.loads(payload["hypers"])),
    )
    agents = [
        AgentState(_arrays(w), optimizer, [_arrays(g) for g in games])
        for w, optimizer, games in zip(
            payload["weights"], payload["optimizers"], payload["games"], strict=True
        )
    ]
    saved = len(agents[0].games)
    if any(len(a.games) != shards for a in agents):
        raise ConfigError(
            f"{path}: arm {arm!r} saved each agent's games in {saved} shard(s), but its shards is "
            f"{shards} now; set it back to {saved} to resume this run"
        )
    state = ArmState(
        core,
        agents,
        charges=json.loads(payload["charges"]),
        lineage=json.loads(payload["lineage"]),
        rows=json.loads(payload["rows"]),
        wall_seconds=payload["wall_seconds"],
        finished=payload["finished"],
    )
    kept = {key: _arrays(load_weights(kept_path(directory, arm, key))) for key in sorted(wanted(core))}
    return state, kept


def _tensors(arrays: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    return {k: torch.tensor(v) for k, v in arrays.items()}


def _arrays(tensors: dict[str, torch.Tensor]) -> Weights:
    return {k: v.numpy() for k, v in tensors.items()}
