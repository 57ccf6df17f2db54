import numpy as np
import pytest
import torch

from swarm import config, envs
from swarm.envs.connect_four import ConnectFourGames
from swarm.players import RandomPlayer
from swarm.training.agent import Agent, opponent

# A full board with no line of four: columns alternate colours bottom-up, and each row reads x x o o x x o.
DRAW = [5, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5, 4, 4, 4, 4, 4, 4, 1, 3, 3, 3, 3, 3, 3]
DRAW += [2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0]


def assert_same(native: ConnectFourGames, reference: envs.Games) -> None:
    for name in ("to_move", "obs", "mask", "length"):
        np.testing.assert_array_equal(getattr(native, name), getattr(reference, name), err_msg=name)


def random_legal(mask: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One action per row, uniform over the row's legal actions."""
    return np.where(mask, rng.random(mask.shape), -1).argmax(axis=1)


def test_random_games_match_pettingzoo_move_for_move(spec):
    rng = np.random.default_rng(0)
    n, wanted = 128, 2500
    native, reference = ConnectFourGames(spec, n), envs.Games(spec, n)
    assert_same(native, reference)
    finished, wins = 0, np.zeros(2, np.int64)
    while finished < wanted:
        # Finished games restart at different times: some together, some one by one, some later.
        over = np.flatnonzero(native.to_move < 0)
        how = rng.integers(3, size=len(over))
        together, seeds = over[how == 0], rng.integers(1 << 30, size=len(over))
        native.reset_many(together, seeds[how == 0])
        reference.reset_many(together, seeds[how == 0])
        for i, seed in zip(over[how == 1], seeds[how == 1], strict=True):
            native.reset(i, seed)
            reference.reset(i, seed)
        assert_same(native, reference)

        # A random subset of the running games moves, in random order.
        live = np.flatnonzero(native.to_move >= 0)
        movers = rng.permutation(live[rng.random(len(live)) < 0.8])
        actions = random_legal(native.mask[movers], rng)
        rewards, done = native.step(movers, actions)
        expected_rewards, expected_done = reference.step(movers, actions)
        np.testing.assert_array_equal(rewards, expected_rewards)
        np.testing.assert_array_equal(done, expected_done)
        assert_same(native, reference)
        finished += done.sum()
        wins += (rewards == 1).sum(axis=0)
    assert (wins > 0.3 * finished).all()  # both seats win: the seats are not mixed up


def test_a_full_board_without_a_line_is_a_draw(spec):
    native, reference = ConnectFourGames(spec, 1), envs.Games(spec, 1)
    native.reset(0, seed=0)
    reference.reset(0, seed=0)
    for move, column in enumerate(DRAW, start=1):
        rewards, done = native.step(np.array([0]), np.array([column]))
        expected_rewards, expected_done = reference.step(np.array([0]), np.array([column]))
        np.testing.assert_array_equal(rewards, expected_rewards)
        assert done[0] == expected_done[0] == (move == 42)
        assert_same(native, reference)
    assert rewards.tolist() == [[0.0, 0.0]] and native.to_move[0] == -1


def test_illegal_moves_raise_and_change_nothing(spec):
    games = ConnectFourGames(spec, 2)
    games.reset_many(np.arange(2), [0, 1])
    for _ in range(6):
        games.step(np.array([0]), np.array([3]))  # fill column 3 of game 0
    before = {name: getattr(games, name).copy() for name in ("to_move", "obs", "mask", "length", "boards")}
    for action in (3, 7, -1):
        with pytest.raises(envs.IllegalMove, match=f"game 0: action {action} is not legal"):
            games.step(np.array([1, 0]), np.array([0, action]))
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(games, name), value)
    for _ in range(7):
        _, done = games.step(np.array([1]), np.array([games.length[1] % 2]))  # x in column 0, o in 1
        if done[0]:
            break
    with pytest.raises(envs.IllegalMove, match="game 1"):  # a finished game takes no more moves
        games.step(np.array([1]), np.array([2]))


def test_factory_picks_native_where_registered(spec):
    assert isinstance(envs.games(spec, 2), ConnectFourGames)
    assert isinstance(envs.games(envs.describe("pettingzoo.classic.connect_four_v3"), 2), ConnectFourGames)
    assert isinstance(envs.games(spec, 2, "pettingzoo"), envs.Games)
    tictactoe = envs.describe("classic/tictactoe-v3")
    assert isinstance(envs.games(tictactoe, 2), envs.Games)
    with pytest.raises(envs.EnvError, match=r"no native backend.*use backend auto or pettingzoo"):
        envs.games(tictactoe, 2, "native")


def test_native_backend_for_a_game_without_one_is_refused_at_the_door(make_config):
    with pytest.raises(config.ConfigError, match=r"env_backend: native.*set env_backend: auto or pettingzoo"):
        config.parse(make_config(env="classic/tictactoe-v3", env_backend="native"))


@pytest.fixture
def one_thread():
    """One torch thread, as on a population host: more only contend on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_a_training_round_is_the_same_on_either_backend(spec, one_thread, make_config):
    results = {}
    for backend in ("native", "pettingzoo"):
        cfg = config.Experiment.model_validate(make_config(env_backend=backend))
        agent = Agent(spec, cfg, arm_index=0, index=0)
        rival = opponent(agent.net.weights())
        report = agent.train_round(0, [RandomPlayer(), rival], np.arange(8) % 2, target=256)
        results[backend] = report, agent.net.weights(), type(agent.shards.games[0].games)
    (native, weights, kind), (reference, expected_weights, expected_kind) = results.values()
    assert (kind, expected_kind) == (ConnectFourGames, envs.Games)
    assert native.agent_steps == 256 and native.metrics["games"] > 0 and 0 <= native.metrics["score"] <= 1
    assert all(np.isfinite(value) for value in native.metrics.values())
    assert (native.agent_steps, native.flops) == (reference.agent_steps, reference.flops)
    timing = {"seconds"}  # wall time, the one metric a backend may change
    assert native.metrics.keys() == reference.metrics.keys() >= timing
    np.testing.assert_equal(
        {k: v for k, v in native.metrics.items() if k not in timing},
        {k: v for k, v in reference.metrics.items() if k not in timing},
    )
    np.testing.assert_equal(weights, expected_weights)
