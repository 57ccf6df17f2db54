"""The engine: the only package that talks to Ray.

`session` starts or joins Ray (`session`), `train` trains every arm (`arms`: each arm's core,
`swarm.training.arm`, driven round by round on `Host` and `RolloutWorker` actors, `actors`, laid out on its
wave's placement group, `placement`, the waves planned against the nodes, `packing`), `play_games` and
`play_free_for_all` play evaluation games as Ray tasks (`play`), and `exploit_bests` trains an exploiter
against each arm's best (`exploiters`).
"""

from swarm.engine.arms import CurvePoint, Trained, train
from swarm.engine.exploiters import exploit_bests
from swarm.engine.play import play_free_for_all, play_free_for_all_local, play_games, play_local
from swarm.engine.session import session
from swarm.training.agent import Weights

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
