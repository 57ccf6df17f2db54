import numpy as np
import pytest
import torch

from swarm import envs
from swarm.config import PPO
from swarm.envs import Games
from swarm.players import RandomPlayer
from swarm.players.network import ActorCritic
from swarm.training import ppo, rollout


def slots_of(spec, n=8, capacity=2000, backend="pettingzoo"):
    return rollout.Slots(envs.games(spec, n, backend), capacity)


def seeds_from(rng):
    return lambda k: rng.integers(1 << 30, size=k)


def collect(spec, generator, target, slots=8, opponents=None, slot_opponent=None):
    torch.manual_seed(0)
    learner = ActorCritic(spec.obs_dim, spec.actions, [32])
    opponents = opponents or [RandomPlayer()]
    slot_opponent = np.zeros(slots, np.int64) if slot_opponent is None else slot_opponent
    batch, stats = slots_of(spec, slots).collect(
        learner, opponents, slot_opponent, target, generator, seeds_from(np.random.default_rng(1))
    )
    return learner, batch, stats


def check_closed(batch, slots):
    """Every transition has exactly one of a successor, an outcome or a bootstrap; one open per slot."""
    n = len(batch.reward)
    has_next = batch.next_index >= 0
    cut = ~batch.done & ~has_next
    assert not (batch.done & has_next).any()
    assert (batch.next_index[has_next] > np.flatnonzero(has_next)).all()
    assert len(np.unique(batch.next_index[has_next])) == has_next.sum()  # chains never merge
    assert cut.sum() <= slots  # at most one open game per slot at the round's end
    assert batch.mask[np.arange(n), batch.action].all()  # only legal moves
    assert set(np.unique(batch.reward)) <= {-1.0, 0.0, 1.0}
    assert batch.reward[~batch.done].sum() == 0  # connect four pays only at the end
    return cut


def test_collects_exactly_the_target_and_every_transition_is_closed(spec, generator):
    learner, batch, stats = collect(spec, generator, target=333)
    assert len(batch.reward) == 333
    cut = check_closed(batch, 8)
    assert stats.games == batch.done.sum()
    assert 0 <= stats.score <= 1
    with torch.no_grad():
        expected = learner.value(torch.from_numpy(batch.obs)).numpy()
    np.testing.assert_allclose(batch.value, expected, atol=1e-6)  # one batched forward, the same values
    assert (batch.bootstrap[~cut] == 0).all() and (batch.bootstrap[cut] != 0).all()


def test_learner_seat_alternates(spec, generator):
    _, batch, _ = collect(spec, generator, target=2000, slots=4)
    first_moves = np.flatnonzero(batch.obs.reshape(-1, 6, 7, 2).sum(axis=(1, 2, 3)) == 0)
    games_started = (~batch.done).sum() - (batch.next_index >= 0).sum() + batch.done.sum()
    # The learner moves first (empty board) in about half of its games.
    assert 0.35 < len(first_moves) / games_started < 0.65


def copied(batch):
    """A round's batch outlives the next round only as a copy: the buffer is reused."""
    return rollout.Batch(**{name: value.copy() for name, value in vars(batch).items()})


def test_games_go_on_across_rounds(spec):
    """A round's open games are taken up where they stood, and their bootstrap is the value there."""
    learner = ActorCritic(spec.obs_dim, spec.actions, [16])
    slots, rng = slots_of(spec, 4, capacity=64, backend="native"), np.random.default_rng(0)
    generator = torch.Generator().manual_seed(0)
    batch, _ = slots.collect(learner, [RandomPlayer()], np.zeros(4, np.int64), 6, generator, seeds_from(rng))
    first = copied(batch)
    cut = ~first.done & (first.next_index < 0)
    assert cut.sum() == 4  # no game can end in three moves
    assert (slots.games.to_move == slots.learner_seat).all()  # every game stands at the learner's turn
    stands = slots.games.obs.copy()
    second, _ = slots.collect(learner, [RandomPlayer()], np.zeros(4, np.int64), 8, generator, seeds_from(rng))
    assert (stands.sum(axis=1) > 0).all()  # mid-game positions, not fresh boards
    np.testing.assert_array_equal(second.obs[:4], stands)  # the second round starts where the first stopped
    np.testing.assert_allclose(np.sort(second.value[:4]), np.sort(first.bootstrap[cut]), atol=1e-6)
    check_closed(second, 4)


def test_collect_is_reproducible(spec):
    def run():
        torch.manual_seed(3)
        learner = ActorCritic(spec.obs_dim, spec.actions, [16])
        slots, rng = slots_of(spec, 6, capacity=300, backend="native"), np.random.default_rng(2)
        generator = torch.Generator().manual_seed(4)
        rounds = []
        for _ in range(3):
            batch, stats = slots.collect(
                learner, [RandomPlayer(), learner], np.arange(6) % 2, 300, generator, seeds_from(rng)
            )
            rounds.append((copied(batch), stats))
        return rounds

    for (a, a_stats), (b, b_stats) in zip(run(), run(), strict=True):
        for name, value in vars(a).items():
            np.testing.assert_array_equal(value, getattr(b, name))
        np.testing.assert_equal(vars(a_stats), vars(b_stats))


def test_target_beyond_the_buffer_is_refused(spec, generator):
    with pytest.raises(ValueError, match="capacity"):
        slots_of(spec, 2, capacity=10).collect(
            ActorCritic(spec.obs_dim, spec.actions, [8]),
            [RandomPlayer()],
            np.zeros(2, np.int64),
            11,
            generator,
            seeds_from(np.random.default_rng(0)),
        )


def test_collect_flops_match_flop_counter(spec, generator, flops_of):
    opponents = [RandomPlayer(), ActorCritic(spec.obs_dim, spec.actions, [16, 16])]
    stats = {}

    def run():
        stats["s"] = collect(
            spec, generator, 200, slots=6, opponents=opponents, slot_opponent=np.array([0, 1, 0, 1, 1, 1])
        )[2]

    assert flops_of(run) == stats["s"].flops > 0


def test_results_by_opponent_add_up_to_the_rounds(spec, generator):
    """Games and scores are recorded against the opponent of the slot where each game ended."""
    opponents = [RandomPlayer(), RandomPlayer(), RandomPlayer()]  # the third is dealt no slot
    _, _, stats = collect(
        spec, generator, 400, slots=6, opponents=opponents, slot_opponent=np.array([0, 1, 0, 1, 1, 1])
    )
    assert stats.opponent_games[2] == 0 and stats.opponent_games[:2].min() > 0
    assert stats.opponent_games.sum() == stats.games
    assert stats.opponent_score.sum() == pytest.approx(stats.score * stats.games)
    assert (stats.opponent_score <= stats.opponent_games).all()


def test_play_finishes_every_game_zero_sum(spec, generator):
    seating = np.array([[0, 1], [1, 0]] * 10)
    rewards, lengths = rollout.play(
        Games(spec, 7), [RandomPlayer(), RandomPlayer()], seating, list(range(20)), generator
    )
    assert (rewards.sum(axis=1) == 0).all()
    assert ((lengths >= 7) & (lengths <= 42)).all()


@pytest.mark.parametrize("backend", ["native", "pettingzoo"])
def test_restored_slots_play_the_next_round_exactly(spec, backend):
    """A round's end state (each game's seed and moves) rebuilds the games on fresh slots: the next round
    from there is move for move the next round of the slots it came from."""
    torch.manual_seed(0)
    learner = ActorCritic(spec.obs_dim, spec.actions, [32])
    original = slots_of(spec, 8, backend=backend)
    rng = np.random.default_rng(1)
    for _ in range(3):  # rounds that end mid-game
        original.collect(
            learner, [RandomPlayer()], np.zeros(8, np.int64), 77, torch.Generator(), seeds_from(rng)
        )
    state = original.state()
    assert state["moves"].shape[1] > 0  # games in progress
    restored = slots_of(spec, 8, backend=backend)
    restored.restore(state)
    results = []
    for slots in (original, restored):
        batch, stats = slots.collect(
            learner,
            [RandomPlayer()],
            np.zeros(8, np.int64),
            200,
            torch.Generator().manual_seed(5),
            seeds_from(np.random.default_rng(2)),
        )
        results.append((batch.obs.copy(), batch.action.copy(), batch.reward.copy(), stats.games))
    for a, b in zip(*results, strict=True):
        assert np.array_equal(a, b)


def test_concatenated_batches_keep_each_games_chain(spec):
    """Parts end to end (a sharded agent's round): every transition's successor is the same transition as
    in its part, so advantages over the whole are the parts' advantages end to end; stats add up by game, and
    the score by the places opponents filled: a part whose every place the learner filled itself (`SELF`)
    adds its games but no score."""
    parts = [
        collect(spec, torch.Generator().manual_seed(s), target, slots=n)[1:]
        for s, target, n in ((0, 90, 3), (1, 70, 5))
    ]
    merged = rollout.Batch.concat([batch for batch, _ in parts])
    assert len(merged.reward) == 160 and (merged.next_index[90:][merged.next_index[90:] >= 0] >= 90).all()
    expected = np.concatenate([ppo.gae(batch, 0.99, 0.95)[0] for batch, _ in parts])
    np.testing.assert_array_equal(ppo.gae(merged, 0.99, 0.95)[0], expected)
    stats = rollout.RolloutStats.combine([s for _, s in parts])
    assert stats.games == sum(s.games for _, s in parts) > 0
    assert stats.score == pytest.approx(sum(s.score * s.games for _, s in parts) / stats.games)
    np.testing.assert_array_equal(stats.opponent_games, sum(s.opponent_games for _, s in parts))
    _, itself = collect(
        spec, torch.Generator().manual_seed(2), 60, slots=3, slot_opponent=np.full(3, rollout.SELF)
    )[1:]
    assert itself.games > 0 and np.isnan(itself.score)
    with_itself = rollout.RolloutStats.combine([*(s for _, s in parts), itself])
    assert with_itself.games == stats.games + itself.games and with_itself.score == stats.score


class Seated:
    """A player that always chooses `action` and writes down the seat of every move it makes."""

    sees = "observation"

    def __init__(self, action: int):
        self.action, self.seats = action, []

    def act(self, obs, mask, generator):
        self.seats += obs.argmax(-1).tolist()
        return torch.full((len(obs),), self.action)

    def act_flops(self, batch):
        return 0


@pytest.mark.parametrize("players", [3, 4])
def test_k_seats_are_filled_place_by_place_and_the_learner_moves_on(seat_game, generator, players):
    """One slot, one move each a game: the learner sits in seat g % k in its g-th game, and the opponent of
    place j in seat (learner's + 1 + j) % k, every game."""
    spec = envs.describe(seat_game, {"players": players})
    assert spec.seats == players
    opponents = [Seated(0) for _ in range(players - 1)]
    slots = rollout.Slots(envs.games(spec, 1), 64)
    learner = ActorCritic(spec.obs_dim, spec.actions, [8])
    batch, stats = slots.collect(
        learner, opponents, np.arange(players - 1)[None], 20, generator, seeds_from(np.random.default_rng(0))
    )
    learner_seats = batch.obs.argmax(-1)
    np.testing.assert_array_equal(learner_seats, np.arange(20) % players)
    for j, opponent in enumerate(opponents):
        np.testing.assert_array_equal(
            opponent.seats, (learner_seats[: len(opponent.seats)] + 1 + j) % players
        )
    assert stats.games == batch.done.sum() and (stats.opponent_games == stats.games).all()


def test_k_seat_scores_compare_the_learners_return_with_every_other_seat(seat_game, generator):
    """Returns are the seats' choices: against an opponent that always plays 2 the learner scores 0.5 when it
    plays 2 and 0 otherwise; against one that plays 0 it scores 1, or 0.5 when it plays 0."""
    spec = envs.describe(seat_game, {"players": 3})
    high, low = Seated(2), Seated(0)
    learner = ActorCritic(spec.obs_dim, spec.actions, [8])
    batch, stats = rollout.Slots(envs.games(spec, 5), 300).collect(
        learner, [high, low], np.tile([0, 1], (5, 1)), 300, generator, seeds_from(np.random.default_rng(0))
    )
    chosen = batch.action[batch.done]
    assert stats.games == len(chosen) and (stats.opponent_games == len(chosen)).all()
    assert stats.opponent_score[0] == 0.5 * (chosen == 2).sum()
    assert stats.opponent_score[1] == (chosen > 0).sum() + 0.5 * (chosen == 0).sum()
    assert stats.score == pytest.approx(stats.opponent_score.sum() / (2 * len(chosen)))


def test_play_fills_k_seats_and_sides_average_their_seats(seat_game, generator):
    spec = envs.describe(seat_game, {"players": 3, "rounds": 2})
    players = [Seated(0), Seated(1), Seated(2)]
    seating = np.array([[0, 1, 2], [2, 0, 1]])
    rewards, lengths = rollout.play(envs.games(spec, 2), players, seating, [0, 1], generator)
    np.testing.assert_array_equal(rewards, [[0, 2, 4], [4, 0, 2]])  # two moves each: twice the choice
    np.testing.assert_array_equal(lengths, [6, 6])
    np.testing.assert_array_equal(rollout.sides(rewards), [[2, 2], [3, 0]])  # seats 0, 2 against seat 1


def test_a_truncated_game_bootstraps_the_learners_last_transition_from_its_last_view(generator):
    """MPE2's simple_spread ends by its time limit: the learner's last transition in each game is not an
    outcome (done stays false) but bootstraps from the value of its own seat's last view."""
    pytest.importorskip("mpe2")
    spec = envs.describe("mpe2.simple_spread_v3", {"max_cycles": 3})
    torch.manual_seed(0)
    learner = ActorCritic(spec.obs_dim, spec.actions, [32])
    slots = rollout.Slots(envs.games(spec, 6), 100)
    # three moves a game for the learner: the round ends as each of the six games does
    batch, stats = slots.collect(
        learner,
        [RandomPlayer()],
        np.zeros((6, 2), np.int64),
        18,
        generator,
        seeds_from(np.random.default_rng(0)),
    )
    assert stats.games == 6 and not batch.done.any()
    last = np.flatnonzero(batch.next_index < 0)
    assert len(last) == 6 and slots.games.truncated.all()
    seat = np.arange(6) % 3  # each slot's learner seat in the round's games
    with torch.no_grad():
        views = torch.from_numpy(slots.games.final_obs[np.arange(6), seat])
        expected = learner.value(views).numpy()
    np.testing.assert_allclose(np.sort(batch.bootstrap[last]), np.sort(expected), atol=1e-6)
    assert (batch.reward < 0).all()  # every cycle's distance penalty lands on the learner's move before it


def test_a_learner_filling_both_seats_learns_each_seats_moves_as_its_own_chain(generator):
    """Tic-tac-toe with the learner's current self in the other seat (`SELF`): every move is a transition,
    each finished game closes both seats' chains with opposite outcomes (but a game that ends after the
    round's last transition, where a seat's chain was closed at its turn before), and a chain goes on at its
    seat's next move (one more stone of each side on the board it sees)."""
    spec = envs.describe("classic/tictactoe-v3")
    _, batch, stats = collect(spec, generator, 150, slots=4, slot_opponent=np.full(4, rollout.SELF))
    one_sided = 2 * stats.games - batch.done.sum()  # games with one chain closed before their outcome
    assert stats.games > 0 and 0 <= one_sided <= 4
    assert np.isin(batch.reward[batch.done], [-1, 0, 1]).all() and abs(batch.reward.sum()) <= one_sided
    assert not batch.reward[~batch.done].any()  # tic-tac-toe pays only at the end, to both seats
    link = np.flatnonzero(batch.next_index >= 0)
    stones = batch.obs.reshape(-1, 3, 3, 2).sum(axis=(1, 2))  # the mover's stones, the other side's
    np.testing.assert_array_equal(stones[batch.next_index[link]] - stones[link], 1)
    check_closed(batch, 2 * 4)  # at most one open chain per seat of a slot at the round's end
    assert np.isnan(stats.score) and stats.opponent_games.tolist() == [0]  # the listed random never sat


def test_a_learner_filling_some_seats_of_a_team_learns_from_those_seats_alone(generator):
    """simple_spread's three seats, the learner's own and its current self's (`SELF`) in each slot, random
    in the third: two chains of three transitions a game, each cut by the time limit and bootstrapped from
    its own seat's last view."""
    pytest.importorskip("mpe2")
    spec = envs.describe("mpe2.simple_spread_v3", {"max_cycles": 3})
    slot_opponent = np.tile([rollout.SELF, 0], (6, 1))
    _, batch, stats = collect(spec, generator, 36, slots=6, slot_opponent=slot_opponent)
    assert stats.games == 6 and not batch.done.any() and (batch.reward < 0).all()
    heads = np.setdiff1d(np.arange(36), batch.next_index)
    lengths = []
    for t in heads:
        lengths.append(1)
        while batch.next_index[t] >= 0:
            t, lengths[-1] = batch.next_index[t], lengths[-1] + 1
    assert lengths == [3] * 12
    assert stats.opponent_games.tolist() == [6]  # the random player's seat, once a game


def continuous_spread():
    """MPE2's simple_spread with continuous actions: Box(0, 1, (5,)), three seats, three cycles a game."""
    pytest.importorskip("mpe2")
    return envs.describe("mpe2.simple_spread_v3", {"continuous_actions": True, "max_cycles": 3})


def gaussian_round(spec, slots, target, generator):
    torch.manual_seed(0)
    learner = ActorCritic(spec.obs_dim, spec.actions, [32], spec.box)
    opponents = [RandomPlayer(spec.box), learner]
    slot_opponent = np.arange(2 * len(slots.games)) % 2
    batch, stats = slots.collect(
        learner, opponents, slot_opponent, target, generator, seeds_from(np.random.default_rng(0))
    )
    return learner, batch, stats


def test_a_continuous_game_moves_inside_its_box_and_learns_from_the_unclipped_samples(generator):
    spec = continuous_spread()
    slots = rollout.Slots(envs.games(spec, 4), 64)
    learner, batch, _ = gaussian_round(spec, slots, 22, generator)  # the round ends mid-game
    assert batch.action.shape == (22, 5) and batch.action.dtype == np.float32 and batch.mask.shape == (22, 0)
    assert (np.abs(batch.action) > 1).any()  # std 1: samples leave [-1, 1], moves mapped onto the Box don't
    moves = slots.moves[:, : slots.games.length.max()]
    assert slots.games.length.max() > 0 and ((moves >= 0) & (moves <= 1)).all()
    with torch.no_grad():
        mean = learner.outputs(torch.from_numpy(batch.obs), torch.from_numpy(batch.mask))
        normal = torch.distributions.Normal(mean, learner.head.log_std.exp())
        expected = normal.log_prob(torch.from_numpy(batch.action)).sum(-1)
    np.testing.assert_allclose(batch.logp, expected.numpy(), atol=1e-6, rtol=0)
    log_std = learner.head.log_std.detach().clone()
    cfg = PPO(rollout_steps=22, epochs=2, minibatches=2)
    ppo.update(learner, ppo.optimizer(learner, cfg), batch, cfg, generator)
    assert not torch.equal(learner.head.log_std, log_std)


def test_continuous_collect_and_update_flops_match_flop_counter(generator, flops_of):
    spec = continuous_spread()
    slots = rollout.Slots(envs.games(spec, 4), 64)
    out = {}

    def run():
        out["round"] = gaussian_round(spec, slots, 40, generator)

    assert flops_of(run) == out["round"][2].flops > 0
    learner, batch, _ = out["round"]
    cfg = PPO(rollout_steps=40, epochs=2, minibatches=3)
    optimizer = ppo.optimizer(learner, cfg)
    total = flops_of(lambda: out.update(ppo.update(learner, optimizer, batch, cfg, generator)))
    assert total == out["update_flops"]


def test_restored_continuous_slots_replay_their_float_moves_exactly(generator):
    """Box moves are floats: a checkpoint's moves replayed from each game's seed stand every game exactly
    where it was, and the next round is the same move for move."""
    spec = continuous_spread()
    original = rollout.Slots(envs.games(spec, 4), 64)
    gaussian_round(spec, original, 22, generator)
    state = original.state()
    assert state["moves"].dtype == np.float32 and state["moves"].shape[2] == 5 and state["moves"].shape[1] > 0
    restored = rollout.Slots(envs.games(spec, 4), 64)
    restored.restore(state)
    assert np.array_equal(restored.games.obs, original.games.obs)
    assert np.array_equal(restored.games.to_move, original.games.to_move)
    results = [
        gaussian_round(spec, s, 30, torch.Generator().manual_seed(5))[1:] for s in (original, restored)
    ]
    (first, first_stats), (second, second_stats) = results
    for name in ("obs", "action", "logp", "reward", "bootstrap"):
        assert np.array_equal(getattr(first, name), getattr(second, name))
    assert first_stats.games == second_stats.games
