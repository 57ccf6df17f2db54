"""The alpha-beta ladder member: its bitboards agree with the env, its pruning with plain negamax, and the
door refuses it on another game."""

import random
from collections.abc import Iterator
from typing import Any

import pytest
import torch

from swarm import config, envs
from swarm.evaluation import ladder
from swarm.players import alphabeta as ab
from swarm.players import search
from swarm.players.alphabeta import AlphaBeta

CONNECT_FOUR = "classic/connect_four-v3"
# After these columns the player to move (player_0) wins by force in 5 plies by playing column 4; one ply
# deep, the search cannot see it and plays column 3 (found by searching random positions at depths 1 and 5).
TACTIC, TACTIC_WIN = [1, 2, 2, 2, 6, 0, 1, 1, 2, 1, 5, 0], 4


def fresh(moves: list[int] = ()) -> Any:
    env = envs.make(CONNECT_FOUR).unwrapped
    env.reset(seed=0)
    for column in moves:
        env.step(column)
    return env


def over(env: Any) -> bool:
    return any(env.terminations.values())


def legal(env: Any) -> list[int]:
    return [c for c in range(7) if env.board[c] == 0]


def positions(games: int, seed: int) -> Iterator[Any]:
    """Every position of `games` uniformly random games, stepped on after each yield."""
    rnd = random.Random(seed)
    for _ in range(games):
        env = fresh()
        while not over(env):
            yield env
            env.step(rnd.choice(legal(env)))


def winning(env: Any) -> set[int]:
    """The columns that win at once for the player to move, by the env's own rules."""
    return {c for c in legal(env) if search.won(search.after(env, c), env.agent_selection)}


def minimax(mine: int, mask: int, played: int, depth: int) -> int:
    """`Search.negamax`'s rules with every move searched: no pruning, no table."""
    moves = ab.playable(mask)
    if moves & ab.threats(mine, mask):
        return ab.WIN + ab.CELLS - played
    if played >= ab.CELLS - 1:
        return 0
    against = ab.threats(mine ^ mask, mask)
    forced = moves & against
    if forced & (forced - 1):
        return -(ab.WIN + ab.CELLS - played - 1)
    if depth == 0:
        return ab.Search().negamax(mine, mask, played, 0, -ab.INF, ab.INF)  # the leaf score
    moves = (forced or moves) & ~(against >> 1)
    children = [moves & column for column in ab.COLUMN if moves & column]
    if not children:
        return -(ab.WIN + ab.CELLS - played - 1)
    return max(-minimax(mine ^ mask, mask | move, played + 1, depth - 1) for move in children)


def test_bitboard_wins_match_the_envs_termination():
    rnd, moves = random.Random(0), 0
    for _ in range(60):
        env = fresh()
        while not over(env):
            mover = env.agent_selection
            env.step(rnd.choice(legal(env)))
            mine, mask, played = ab.from_env(env)  # `mine` is now the opponent's: the mover's are the rest
            assert played == sum(1 for cell in env.board if cell)
            assert ab.wins(mine ^ mask) == (over(env) and env.rewards[mover] > 0)
            assert not ab.wins(mine)
            moves += 1
    assert moves > 60 * 7


def test_threats_are_the_cells_that_complete_a_four():
    for env in positions(20, seed=1):
        mine, mask, _ = ab.from_env(env)
        empty = [1 << (7 * c + r) for c in range(7) for r in range(6) if not mask & (1 << (7 * c + r))]
        assert ab.threats(mine, mask) == sum(cell for cell in empty if ab.wins(mine | cell))


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_pruning_and_the_table_change_no_value(depth):
    for k, env in enumerate(positions(6, seed=2)):
        if k % 4 == 0:
            mine, mask, played = ab.from_env(env)
            exact = minimax(mine, mask, played, depth)
            assert ab.Search().negamax(mine, mask, played, depth, -ab.INF, ab.INF) == exact


def test_moves_are_legal_and_the_game_untouched():
    player, generator, rnd = AlphaBeta(3), torch.Generator().manual_seed(0), random.Random(3)
    for _ in range(10):
        env = fresh()
        while not over(env):
            board, agent = list(env.board), env.agent_selection
            column = int(player.search([env], generator)[0])
            assert column in legal(env) and env.board == board and env.agent_selection == agent
            env.step(column if agent == "player_0" else rnd.choice(legal(env)))


def test_takes_an_immediate_win_and_blocks_an_immediate_loss():
    player, generator = AlphaBeta(2), torch.Generator().manual_seed(0)
    won = blocked = 0
    for env in positions(25, seed=4):
        mine = winning(env)
        if mine:
            won += 1
            assert int(player.search([env], generator)[0]) in mine
            continue
        stones, mask, _ = ab.from_env(env)
        theirs = ab.playable(mask) & ab.threats(stones ^ mask, mask)
        if theirs and not theirs & (theirs - 1):  # one cell that would win for the opponent: block it
            blocked += 1
            assert ab.COLUMN[int(player.search([env], generator)[0])] & theirs
    assert won >= 80 and blocked >= 40


def test_deeper_search_finds_a_win_a_shallow_one_misses():
    env = fresh(TACTIC)
    for seed in range(5):
        generator = torch.Generator().manual_seed(seed)
        assert int(AlphaBeta(5).search([env], generator)[0]) == TACTIC_WIN
        assert int(AlphaBeta(1).search([env], generator)[0]) != TACTIC_WIN


def test_ties_go_at_random_by_the_generator():
    player = AlphaBeta(2)

    def game(seed: int) -> list[int]:
        env, generator, moves = fresh(), torch.Generator().manual_seed(seed), []
        while not over(env):
            moves.append(int(player.search([env], generator)[0]))
            env.step(moves[-1])
        return moves

    assert game(7) == game(7)
    assert len({tuple(game(seed)) for seed in range(4)}) > 1


def test_refuses_another_game():
    tictactoe = envs.make("classic/tictactoe-v3").unwrapped
    tictactoe.reset(seed=0)
    with pytest.raises(ValueError, match="Connect Four"):
        AlphaBeta(2).search([tictactoe], torch.Generator())


def test_registry_parses_depths_and_names_the_fix():
    member = ladder.build("alphabeta-4")
    assert isinstance(member, AlphaBeta) and member.depth == 4 and member.sees == "game"
    ladder.check("alphabeta-10", CONNECT_FOUR)
    for bad in ("alphabeta", "alphabeta-0", "alphabeta-11", "alphabeta-x", "alpha-beta-4"):
        with pytest.raises(ValueError, match=r"alphabeta-<depth> such as alphabeta-4 \(1 to 10\)"):
            ladder.check(bad)


def test_the_door_refuses_alphabeta_on_another_game(make_config):
    data = make_config(env="classic/tictactoe-v3")
    data["evaluation"]["ladder"] = ["random", "alphabeta-4"]
    with pytest.raises(config.ConfigError, match=r"evaluation\.ladder: alphabeta-4 plays only .*remove it"):
        config.parse(data)
    data["evaluation"]["ladder"] = ["random", "mcts-4"]
    config.parse(data)
    data = make_config()
    data["evaluation"]["ladder"] = ["random", "alphabeta-4"]
    assert config.parse(data).evaluation.ladder == ["random", "alphabeta-4"]
