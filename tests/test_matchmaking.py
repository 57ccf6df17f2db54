import numpy as np
import pytest

from swarm import matchmaking
from swarm.matchmaking import CURRENT


def draw(mode, pools, seed, slots=64, latest_share=0.5):
    return matchmaking.pairings(mode, pools, slots, latest_share, np.random.default_rng(seed))


@pytest.mark.parametrize("mode", ["self_play", "population"])
def test_reproducible_from_seed(mode):
    pools = [[4, 9], [], [9]]
    assert draw(mode, pools, 3) == draw(mode, pools, 3)
    assert draw(mode, pools, 3) != draw(mode, pools, 4)


def test_self_play_meets_only_itself():
    pools = [[4, 9], [9], []]
    for agent, opponents in enumerate(draw("self_play", pools, 0)):
        assert {member for member, _ in opponents} == {agent}
        assert {version for _, version in opponents} <= {CURRENT, *pools[agent]}
    assert {v for _, v in draw("self_play", pools, 0)[2]} == {CURRENT}  # no snapshots yet: only itself


def test_self_play_latest_share():
    opponents = draw("self_play", [list(range(10))], 0, slots=4000, latest_share=0.8)[0]
    share = np.mean([v == CURRENT for _, v in opponents])
    assert 0.77 < share < 0.83


def test_population_meets_others_uniformly():
    pools = [[], [4], [4, 9]]
    drawn = draw("population", pools, 0, slots=6000)
    for agent, opponents in enumerate(drawn):
        assert all(member != agent for member, _ in opponents)
    # agent 0's candidates: (1,current), (1,4), (2,current), (2,4), (2,9): five, each about 1/5
    counts = {key: drawn[0].count(key) for key in set(drawn[0])}
    assert set(counts) == {(1, CURRENT), (1, 4), (2, CURRENT), (2, 4), (2, 9)}
    assert all(abs(c / 6000 - 0.2) < 0.03 for c in counts.values())


def test_population_needs_two():
    with pytest.raises(ValueError):
        draw("population", [[]], 0)
