import numpy as np
import pytest

from swarm import interaction
from swarm.interaction import CURRENT, MODES, Key, Population, Settings


def draw(mode, pools, seed, slots=64, per_round=8, latest_share=0.5):
    population = Population(pools, {})
    return interaction.pairings(
        mode, population, Settings(slots, per_round, latest_share), np.random.default_rng(seed)
    )


@pytest.mark.parametrize("mode", list(MODES))
def test_reproducible_from_seed(mode):
    pools = [[4, 9], [], [9]]
    assert draw(mode, pools, 3) == draw(mode, pools, 3)
    assert draw(mode, pools, 3) != draw(mode, pools, 4)


@pytest.mark.parametrize("mode", list(MODES))
def test_slots_are_dealt_evenly_among_the_round_opponents(mode):
    for opponents in draw(mode, [[0, 5, 10], [0, 5], [0]], 1, slots=32, per_round=4):
        assert opponents[:4] * 8 == opponents  # slot s plays draw s % 4: 8 slots each, 4 of each seat parity


@pytest.mark.parametrize("mode", list(MODES))
def test_modes_keep_to_what_they_declare(mode):
    pools = [[4, 9], [9], [], [1]]
    for agent, opponents in enumerate(draw(mode, pools, 0)):
        assert all((key.agent != agent) == MODES[mode].meets_others for key in opponents)
        assert all(key.round == CURRENT or key.round in pools[key.agent] for key in opponents)
    with pytest.raises(ValueError, match=f"needs at least {MODES[mode].min_agents} agents"):
        draw(mode, [[]] * (MODES[mode].min_agents - 1), 0)


def test_self_play_meets_only_itself():
    pools = [[4, 9], [9], []]
    for agent, opponents in enumerate(draw("self_play", pools, 0)):
        assert {key.agent for key in opponents} == {agent}
        assert {key.round for key in opponents} <= {CURRENT, *pools[agent]}
    assert {key.round for key in draw("self_play", pools, 0)[2]} == {CURRENT}  # no snapshots: only itself


def test_self_play_latest_share():
    (opponents,) = draw("self_play", [list(range(10))], 0, slots=4000, per_round=4000, latest_share=0.8)
    share = np.mean([key.round == CURRENT for key in opponents])
    assert 0.77 < share < 0.83


def test_population_meets_others_uniformly():
    # agent 0's candidates: (1,current), (1,4), (2,current), (2,4), (2,9): five, each about 1/5
    drawn = draw("population", [[], [4], [4, 9]], 0, slots=6000, per_round=6000)[0]
    counts = {key: drawn.count(key) for key in set(drawn)}
    assert set(counts) == {Key(1, CURRENT), Key(1, 4), Key(2, CURRENT), Key(2, 4), Key(2, 9)}
    assert all(abs(c / 6000 - 0.2) < 0.03 for c in counts.values())


def test_population_needs_two():
    assert MODES["population"].min_agents == 2 and MODES["self_play"].min_agents == 1
    with pytest.raises(ValueError):
        draw("population", [[]], 0)


def test_records_add_up():
    assert interaction.Tally(2, 1.5) + interaction.Tally(1, 0.5) == interaction.Tally(3, 2.0)
