import numpy as np
import torch

from swarm import rollout
from swarm.envs import Games
from swarm.policy import ActorCritic, RandomPlayer
from tests.test_policy import counted


def collect(spec, generator, target, slots=8, opponents=None, slot_opponent=None):
    torch.manual_seed(0)
    learner = ActorCritic(spec.obs_dim, spec.actions, [32])
    rng = np.random.default_rng(1)
    opponents = opponents or [RandomPlayer()]
    slot_opponent = np.zeros(slots, np.int64) if slot_opponent is None else slot_opponent
    return learner, *rollout.collect(
        Games(spec, slots),
        learner,
        opponents,
        slot_opponent,
        target,
        generator,
        lambda: int(rng.integers(1 << 30)),
    )


def test_collects_exactly_the_target_and_every_transition_is_closed(spec, generator):
    _, batch, stats = collect(spec, generator, target=333)
    n = len(batch.reward)
    assert n == 333
    has_next = batch.next_index >= 0
    cut = ~batch.done & ~has_next
    assert not (batch.done & has_next).any()
    assert (batch.next_index[has_next] > np.flatnonzero(has_next)).all()
    assert cut.sum() <= 8  # at most one open game per slot at the round's end
    assert batch.mask[np.arange(n), batch.action].all()  # only legal moves
    assert set(np.unique(batch.reward)) <= {-1.0, 0.0, 1.0}
    assert batch.reward[~batch.done].sum() == 0  # connect four pays only at the end
    assert stats.games == batch.done.sum()
    assert 0 <= stats.score <= 1


def test_learner_seat_alternates(spec, generator):
    _, batch, _ = collect(spec, generator, target=2000, slots=4)
    first_moves = np.flatnonzero(batch.obs.reshape(-1, 6, 7, 2).sum(axis=(1, 2, 3)) == 0)
    games_started = (~batch.done).sum() - (batch.next_index >= 0).sum() + batch.done.sum()
    # The learner moves first (empty board) in about half of its games.
    assert 0.35 < len(first_moves) / games_started < 0.65


def test_collect_flops_match_flop_counter(spec, generator):
    opponents = [RandomPlayer(), ActorCritic(spec.obs_dim, spec.actions, [16, 16])]
    stats = {}

    def run():
        stats["s"] = collect(
            spec, generator, 200, slots=6, opponents=opponents, slot_opponent=np.array([0, 1, 0, 1, 1, 1])
        )[2]

    assert counted(run) == stats["s"].flops > 0


def test_play_finishes_every_game_zero_sum(spec, generator):
    seating = np.array([[0, 1], [1, 0]] * 10)
    rewards, lengths = rollout.play(
        Games(spec, 7), [RandomPlayer(), RandomPlayer()], seating, list(range(20)), generator
    )
    assert (rewards.sum(axis=1) == 0).all()
    assert ((lengths >= 7) & (lengths <= 42)).all()
