"""Only until swarm/training/checkpoint.py imports `swarm.results.rundir` and `swarm.weights` itself (at the
merge of the results branch): delete this file then."""

from swarm.results.rundir import atomic
from swarm.weights import load_weights, save_weights

__all__ = ["atomic", "load_weights", "save_weights"]
