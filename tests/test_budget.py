import pytest

from swarm import budget


@pytest.mark.parametrize("total,agents", [(100, 1), (100, 16), (1000003, 16), (15, 16), (0, 3)])
def test_split_is_exact_and_fair(total, agents):
    shares = budget.split(total, agents)
    assert len(shares) == agents
    assert sum(shares) == total
    assert max(shares) - min(shares) <= 1


def test_remainder_goes_to_lowest_indices():
    assert budget.split(10, 4) == [3, 3, 2, 2]
    assert budget.split(7, 7) == [1] * 7


def test_split_rejects_nonsense():
    with pytest.raises(ValueError):
        budget.split(10, 0)
    with pytest.raises(ValueError):
        budget.split(-1, 2)


def test_next_batch_never_exceeds_remaining():
    assert budget.next_batch(5000, 1024) == 1024
    assert budget.next_batch(1024, 1024) == 1024
    assert budget.next_batch(700, 1024) == 700  # the exact remainder, not a full batch
    assert budget.next_batch(0, 1024) == 0


def test_an_agent_spends_exactly_its_share():
    for share in (1024, 25_000, 400_000):
        spent, rounds = 0, 0
        while batch := budget.next_batch(share - spent, 2048):
            spent, rounds = spent + batch, rounds + 1
        assert spent == share
        assert rounds == budget.rounds(share, 2048)
