"""Players that search the game itself instead of reading an observation.

`Heuristic` looks one move ahead each way (it wins at once when it can, else avoids moves that give the
opponent an immediate win); `MCTS` runs UCT, Monte-Carlo tree search with the UCB1 selection rule (Kocsis &
Szepesvari 2006, "Bandit based Monte-Carlo planning"; survey: Browne et al. 2012, "A survey of Monte Carlo
tree search methods"), with uniformly random playouts.

Both search copies of the PettingZoo env (`sees = "game"`), so they play any deterministic two-player
zero-sum turn-based AEC game whose env can be copied, with no game-specific code. A simulation's value to a
player is the sum of that player's `env.rewards` over its steps, from the searched position to the end of
the game.
"""

from __future__ import annotations

import copy
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import torch

from swarm.players import GAME

EXPLORATION = 1.4  # UCB1 constant for returns in [-1, 1]: 0.7 to 1.4 played alike against heuristic, 2 worse
SHARED = ("action_spaces", "observation_spaces", "_ezpickle_args", "_ezpickle_kwargs")  # never mutated


def clone(env: Any) -> Any:
    """An independent copy of an unwrapped PettingZoo env, mid-game.

    `copy.deepcopy` and pickle go through EzPickle's `__reduce__`, which rebuilds a fresh, un-reset env and
    loses the position; copying the instance dict keeps it. Spaces are shared, not copied: they never
    change, and copying them costs more than the rest of the state.
    """
    twin = object.__new__(type(env))
    state = vars(env)
    shared = {id(state[k]): state[k] for k in SHARED if k in state}
    twin.__dict__.update(copy.deepcopy(state, shared))
    return twin


def over(env: Any) -> bool:
    return any(env.terminations.values()) or any(env.truncations.values())


def legal(env: Any) -> list[int]:
    return np.asarray(env.observe(env.agent_selection)["action_mask"]).nonzero()[0].tolist()


def seeded(generator: torch.Generator) -> random.Random:
    """One seed drawn from `generator` per call: a search is reproducible from the generator's state."""
    return random.Random(int(torch.randint(0, 2**62, (1,), generator=generator)))


def after(env: Any, action: int) -> Any:
    child = clone(env)
    child.step(action)
    return child


def won(env: Any, player: str) -> bool:
    """Whether the game is over and `player` was paid for it: a win, in a zero-sum game."""
    return over(env) and env.rewards[player] > 0


class Heuristic:
    """One move of lookahead each way: the bar a trained agent must clear before search is worth facing.

    Plays a winning move if there is one; otherwise a move after which the opponent cannot win at once (in
    Connect Four this blocks a threat); otherwise (every move loses) any legal move. Ties go at random.
    """

    sees: ClassVar[str] = GAME

    def search(self, envs: Sequence[Any], generator: torch.Generator) -> np.ndarray:
        rnd = seeded(generator)
        return np.array([self.move(env, rnd) for env in envs], np.int64)

    def move(self, env: Any, rnd: random.Random) -> int:
        me = env.agent_selection
        moves = legal(env)
        children = {a: after(env, a) for a in moves}
        wins = [a for a, child in children.items() if won(child, me)]
        if wins:
            return rnd.choice(wins)
        safe = [a for a, child in children.items() if not self.loses(child, me)]
        return rnd.choice(safe or moves)

    def loses(self, env: Any, player: str) -> bool:
        """Whether `player`, who just moved, has lost or lets the opponent win with its next move."""
        if over(env):
            return env.rewards[player] < 0
        them = env.agent_selection
        return any(won(after(env, a), them) for a in legal(env))


class Node:
    """A position in the search tree; `total` sums, over the simulations through it, the returns to the
    player who chose it (the parent's player to move)."""

    __slots__ = ("children", "player", "total", "untried", "visits")

    def __init__(self, player: str | None, untried: list[int]):
        self.player = player  # the agent to move here; None once the game is over
        self.untried = untried  # legal moves not yet expanded, popped from the end
        self.children: dict[int, Node] = {}
        self.visits = 0
        self.total = 0.0


@dataclass(frozen=True)
class MCTS:
    """UCT with `simulations` simulations per move, each: select, expand one node, random playout, back up.

    An immediate win at the root is played without searching, and a lone legal move is played at once. The
    move played is the root child with the most visits, ties going to the lowest action; the search stops
    early once no other child can catch up.
    """

    simulations: int
    sees: ClassVar[str] = GAME

    def search(self, envs: Sequence[Any], generator: torch.Generator) -> np.ndarray:
        rnd = seeded(generator)
        return np.array([self.move(env, rnd) for env in envs], np.int64)

    def move(self, env: Any, rnd: random.Random) -> int:
        moves = legal(env)
        me = env.agent_selection
        if len(moves) == 1:
            return moves[0]
        wins = [a for a in moves if won(after(env, a), me)]
        if wins:
            return wins[0]
        root = Node(me, shuffled(moves, rnd))
        for left in reversed(range(self.simulations)):
            self.simulate(root, env, rnd)
            if decided(root, left):
                break
        return max(root.children.items(), key=lambda item: (item[1].visits, -item[0]))[0]

    def simulate(self, root: Node, root_env: Any, rnd: random.Random) -> None:
        env = clone(root_env)
        returns = dict.fromkeys(env.possible_agents, 0.0)
        node, path = root, [root]
        while not node.untried and node.children:
            action, node = self.select(node)
            step(env, action, returns)
            path.append(node)
        if node.untried:
            action = node.untried.pop()
            step(env, action, returns)
            child = Node(None, []) if over(env) else Node(env.agent_selection, shuffled(legal(env), rnd))
            node.children[action] = child
            path.append(child)
        while not over(env):
            step(env, rnd.choice(legal(env)), returns)
        root.visits += 1
        for parent, child in itertools.pairwise(path):
            child.visits += 1
            child.total += returns[parent.player]

    def select(self, node: Node) -> tuple[int, Node]:
        """UCB1: the child with the best mean return plus an exploration bonus that shrinks with visits."""
        scale = EXPLORATION * math.sqrt(math.log(node.visits))
        return max(
            node.children.items(),
            key=lambda item: item[1].total / item[1].visits + scale / math.sqrt(item[1].visits),
        )


def decided(root: Node, left: int) -> bool:
    """Whether no other move can catch the most visited in `left` more simulations: stopping then plays
    the move the full search would have played."""
    visits = sorted([0, 0, *(child.visits for child in root.children.values())], reverse=True)
    return visits[0] > visits[1] + left


def step(env: Any, action: int, returns: dict[str, float]) -> None:
    env.step(action)
    for agent, reward in env.rewards.items():
        returns[agent] += reward


def shuffled(moves: list[int], rnd: random.Random) -> list[int]:
    rnd.shuffle(moves)
    return moves
