from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
import torch

from swarm import envs
from swarm.evaluation import ladder
from swarm.players import GAME, Player, search
from swarm.players.search import MCTS, Heuristic

CONNECT_FOUR, TICTACTOE = "classic/connect_four-v3", "classic/tictactoe-v3"
RANDOM_GAMES = {CONNECT_FOUR: 50, TICTACTOE: 150}  # each gives 100+ positions of every kind tested


def fresh(env_id: str, seed: int) -> Any:
    env = envs.make(env_id).unwrapped
    env.reset(seed=seed)
    return env


def act(player: Player, env: Any, generator: torch.Generator) -> int:
    if player.sees == GAME:
        return int(player.search([env], generator)[0])
    seen = env.observe(env.agent_selection)
    obs = torch.as_tensor(seen["observation"], dtype=torch.float32).reshape(1, -1)
    mask = torch.as_tensor(seen["action_mask"], dtype=torch.bool).reshape(1, -1)
    return int(player.act(obs, mask, generator)[0])


def play(
    env_id: str,
    players: list[Player],
    seed: int,
    generator: torch.Generator,
    choose: Callable[[Player, Any, torch.Generator], int] = act,
) -> list[float]:
    """One game with players[i] in seat i, each move from `choose`; each seat's total reward."""
    env = fresh(env_id, seed)
    seats = list(env.possible_agents)
    total = dict.fromkeys(seats, 0.0)
    while not search.over(env):
        env.step(choose(players[seats.index(env.agent_selection)], env, generator))
        for agent, reward in env.rewards.items():
            total[agent] += reward
    return [total[agent] for agent in seats]


def state(env: Any) -> tuple:
    """Everything a player can see of a position, for both players."""
    views = [env.observe(agent) for agent in env.possible_agents]
    return (
        env.agent_selection,
        [(v["observation"].tobytes(), v["action_mask"].tobytes()) for v in views],
        dict(env.rewards),
        dict(env._cumulative_rewards),
        dict(env.terminations),
        dict(env.truncations),
    )


def winning(env: Any) -> set[int]:
    me = env.agent_selection
    return {a for a in search.legal(env) if search.won(search.after(env, a), me)}


def positions(env_id: str, games: int, seed: int) -> Iterator[Any]:
    """Every position of `games` uniformly random games (one env per game, stepped on after each yield)."""
    rng = np.random.default_rng(seed)
    for game in range(games):
        env = fresh(env_id, game)
        while not search.over(env):
            yield env
            env.step(int(rng.choice(search.legal(env))))


def test_clone_is_independent_and_plays_on_identically():
    env = fresh(CONNECT_FOUR, 0)
    for action in (3, 3, 4):
        env.step(action)
    twin = search.clone(env)
    assert state(twin) == state(env)
    twin.step(5)
    assert state(twin) != state(env)
    env.step(5)
    assert state(twin) == state(env)


@pytest.mark.parametrize("env_id", [CONNECT_FOUR, TICTACTOE])
@pytest.mark.parametrize("name", ["random", "heuristic", "mcts-16"])
def test_members_play_legal_moves_and_leave_the_game_untouched(env_id, name, generator):
    member = ladder.build(name)
    moves = []

    def checked(player, env, generator):
        seen = state(env)
        action = act(player, env, generator)
        assert state(env) == seen
        assert env.observe(env.agent_selection)["action_mask"][action] == 1
        moves.append(action)
        return action

    for game in range(30):
        play(env_id, [member, member], game, generator, choose=checked)
    assert len(moves) >= 30 * 5  # five is the shortest game of either


@pytest.mark.parametrize("env_id", [CONNECT_FOUR, TICTACTOE])
@pytest.mark.parametrize("searcher", [Heuristic(), MCTS(16)])
def test_searchers_never_miss_an_immediate_win(env_id, searcher, generator):
    found = 0
    for env in positions(env_id, RANDOM_GAMES[env_id], seed=1):
        wins_now = winning(env)
        if wins_now:
            found += 1
            assert int(searcher.search([env], generator)[0]) in wins_now
    assert found >= 100


@pytest.mark.parametrize("env_id", [CONNECT_FOUR, TICTACTOE])
def test_heuristic_blocks_when_it_can(env_id, generator):
    heuristic = Heuristic()
    found = 0
    for env in positions(env_id, RANDOM_GAMES[env_id], seed=2):
        if winning(env):
            continue
        gives = {a: bool(winning(search.after(env, a))) for a in search.legal(env)}
        if any(gives.values()) and not all(gives.values()):
            found += 1
            assert not gives[int(heuristic.search([env], generator)[0])]
    assert found >= 100


def wins(first: str, second: str, games: int, generator: torch.Generator) -> int:
    """Games of Connect Four `first` wins against `second`, taking turns to move first; draws win nothing."""
    players = [ladder.build(first), ladder.build(second)]
    won = 0
    for game in range(games):
        seat = game % 2
        total = play(CONNECT_FOUR, players if seat == 0 else players[::-1], game, generator)
        won += total[seat] > total[1 - seat]
    return won


def test_mcts_256_beats_random(generator):
    assert wins("mcts-256", "random", 16, generator) >= 15  # measured: 50 of 50, and 16 of 16


def test_heuristic_beats_random(generator):
    assert wins("heuristic", "random", 40, generator) >= 30  # measured: 38 of 40


def test_mcts_64_beats_heuristic(generator):
    assert wins("mcts-64", "heuristic", 20, generator) > 10  # measured: 35, 34 and 33 of 40 on three seeds


@pytest.mark.parametrize("name", ["heuristic", "mcts-16"])
def test_same_generator_state_same_moves(name):
    member = ladder.build(name)
    envs_now = [search.clone(env) for env in positions(CONNECT_FOUR, 2, seed=3)]
    first = member.search(envs_now, torch.Generator().manual_seed(7))
    again = member.search(envs_now, torch.Generator().manual_seed(7))
    assert first.dtype == np.int64 and first.shape == (len(envs_now),)
    np.testing.assert_array_equal(first, again)
