"""The engine: the only package that talks to Ray.

`session` starts or joins Ray (`session`), `train` trains every arm (`arms`: each arm's core,
`swarm.training.arm`, driven round by round on `Host` and `RolloutWorker` actors, `actors`, laid out on its
wave's placement group, `placement`, the waves planned against the nodes, `packing`), `play_games` and
`play_free_for_all` play evaluation games as Ray tasks (`play`), and `exploit_bests` trains an exploiter
against each arm's best (`exploiters`).

The names below load their module when first used. Every Ray worker imports this package to reach the
actor or task it runs (`swarm.engine.actors`, `swarm.engine.play`, `swarm.engine.exploiters`); an eager
package would also load the driver's modules (the ledger's pandas, the placement planner) into each of
them: a second or more of each worker's start, which a run of many short-lived actors pays many times.
"""

import importlib

from swarm.engine.session import session  # eager: the submodule's name is the function's

HOMES = {
    "CurvePoint": "swarm.engine.arms",
    "Trained": "swarm.engine.arms",
    "train": "swarm.engine.arms",
    "exploit_bests": "swarm.engine.exploiters",
    "play_free_for_all": "swarm.engine.play",
    "play_free_for_all_local": "swarm.engine.play",
    "play_games": "swarm.engine.play",
    "play_local": "swarm.engine.play",
    "Weights": "swarm.training.agent",
}
__all__ = [
    "CurvePoint",
    "Trained",
    "Weights",
    "exploit_bests",
    "play_free_for_all",
    "play_free_for_all_local",
    "play_games",
    "play_local",
    "session",
    "train",
]


def __getattr__(name: str) -> object:
    if name not in HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(HOMES[name]), name)
