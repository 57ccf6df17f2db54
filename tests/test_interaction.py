import numpy as np
import pytest

from swarm import interaction
from swarm.interaction import CURRENT


def draw(mode, pools, seed, slots=64, per_round=8, latest_share=0.5):
    return interaction.pairings(mode, pools, slots, per_round, latest_share, np.random.default_rng(seed))


@pytest.mark.parametrize("mode", ["self_play", "population"])
def test_reproducible_from_seed(mode):
    pools = [[4, 9], [], [9]]
    assert draw(mode, pools, 3) == draw(mode, pools, 3)
    assert draw(mode, pools, 3) != draw(mode, pools, 4)


@pytest.mark.parametrize("mode", ["self_play", "population"])
def test_slots_are_dealt_evenly_among_the_round_opponents(mode):
    for opponents in draw(mode, [[0, 5, 10], [0, 5], [0]], 1, slots=32, per_round=4):
        assert opponents[:4] * 8 == opponents  # slot s plays draw s % 4: 8 slots each, 4 of each seat parity


def test_self_play_meets_only_itself():
    pools = [[4, 9], [9], []]
    for agent, opponents in enumerate(draw("self_play", pools, 0)):
        assert {member for member, _ in opponents} == {agent}
        assert {version for _, version in opponents} <= {CURRENT, *pools[agent]}
    assert {v for _, v in draw("self_play", pools, 0)[2]} == {CURRENT}  # no snapshots yet: only itself


def test_self_play_latest_share():
    opponents = interaction.self_play(0, list(range(10)), 4000, 0.8, np.random.default_rng(0))
    share = np.mean([v == CURRENT for _, v in opponents])
    assert 0.77 < share < 0.83


def test_population_meets_others_uniformly():
    pools = [[], [4], [4, 9]]
    for agent, opponents in enumerate(draw("population", pools, 0)):
        assert all(member != agent for member, _ in opponents)
    # agent 0's candidates: (1,current), (1,4), (2,current), (2,4), (2,9): five, each about 1/5
    drawn = interaction.population(0, pools, 6000, np.random.default_rng(0))
    counts = {key: drawn.count(key) for key in set(drawn)}
    assert set(counts) == {(1, CURRENT), (1, 4), (2, CURRENT), (2, 4), (2, 9)}
    assert all(abs(c / 6000 - 0.2) < 0.03 for c in counts.values())


def test_population_needs_two():
    with pytest.raises(ValueError):
        draw("population", [[]], 0)
