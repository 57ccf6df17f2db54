"""The ladder's registry: members by name, every name checked with the fix in its message."""

import pytest

from swarm.evaluation import ladder
from swarm.players import RandomPlayer
from swarm.players.search import MCTS, Heuristic


def test_registry_builds_members_by_name():
    assert isinstance(ladder.build("random"), RandomPlayer)
    assert isinstance(ladder.build("heuristic"), Heuristic)
    assert ladder.build("heuristic").sees == ladder.build("mcts-4").sees == "game"
    assert ladder.build("random").sees == "observation"
    mcts = ladder.build("mcts-64")
    assert isinstance(mcts, MCTS) and mcts.simulations == 64
    for name in ("random", "heuristic", "mcts-1", "mcts-100000"):
        ladder.check(name)


@pytest.mark.parametrize("name", ["mcts", "mcts-0", "mcts-100001", "mcts-x", "MCTS-64", "alphazero-64", ""])
def test_registry_rejects_bad_names_with_the_fix(name):
    message = (
        rf"unknown ladder member '{name}'; use random, heuristic, mcts-<simulations> such as mcts-64 "
        r"\(1 to 100000\) or alphabeta-<depth> such as alphabeta-4 \(1 to 10\)"
    )
    for call in (ladder.check, ladder.build):
        with pytest.raises(ValueError, match=message):
            call(name)
