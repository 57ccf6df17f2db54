"""How strong, and how slow, ladder members are: real games of each player against each opponent.

A yardstick must reach above the best trained agent, or the ladder's top rates level with it and says
nothing about how far the agents are from good play. This plays every --players member against every
--opponents one (ladder members by name, or trained agents by checkpoint name in --run's final weights,
e.g. single-0), --games games a pair with the seats alternating, in this process and without Ray, as
`swarm.engine.play.play_local` does; it prints each pair's record (W-D-L from the player's side), its score
with a 95% Wilson interval, and the seconds each side spent per move and per game.

How to run:
  python benchmarks/ladder_strength.py --players alphabeta-2 alphabeta-4 alphabeta-6 \
      --opponents heuristic mcts-64 single-0 --games 40 --run runs/<a default run>

What to expect (2-core AMD EPYC VM, 24 GiB, no GPU, revision 6dce5e1, 2026-11-30 03:42-04:05 UTC, SHARED
with four other sessions' tests: load average 2 to 12, so every time here is an upper bound, and two
commands ran side by side). The trained agents are those of the default run default-20261130-002825 (its
held-out ratings: single/0 +684, the best; swarm/5 +524; swarm/8 +501, swarm's best; independent/2 +444,
independent's best; mcts-64 +675, heuristic +640, mcts-16 +387):

  --players alphabeta-1 alphabeta-2 alphabeta-4 alphabeta-6 --opponents single-0 swarm-5 swarm-8
  independent-2 --games 100 --run <that run>  (then alphabeta-8 against single-0 alone)
  player        opponent          W-D-L  score  95% interval  moves  ms/move opp ms/move  s/game
  alphabeta-1   single-0        76-0-24   0.76  [0.67, 0.83]   25.6      0.1         0.0    0.00
  alphabeta-1   swarm-5          96-1-3   0.96  [0.91, 0.99]   17.9      0.1         0.0    0.00
  alphabeta-1   swarm-8          94-0-6   0.94  [0.88, 0.97]   18.1      0.1         0.0    0.00
  alphabeta-1   independent-2    92-0-8   0.92  [0.85, 0.96]   19.9      0.2         0.0    0.00
  alphabeta-2   single-0        100-0-0   1.00  [0.96, 1.00]   27.7      0.3         0.0    0.01
  alphabeta-2   swarm-5         100-0-0   1.00  [0.96, 1.00]   14.9      0.4         0.0    0.01
  alphabeta-2   swarm-8          98-0-2   0.98  [0.93, 0.99]   18.4      0.4         0.1    0.01
  alphabeta-2   independent-2   100-0-0   1.00  [0.96, 1.00]   18.7      0.5         0.1    0.01
  alphabeta-4   single-0         98-0-2   0.98  [0.93, 0.99]   19.0      3.8         0.0    0.04
  alphabeta-4   swarm-5         100-0-0   1.00  [0.96, 1.00]   12.1      3.6         0.1    0.03
  alphabeta-4   swarm-8          99-1-0   0.99  [0.95, 1.00]   13.7      2.3         0.0    0.02
  alphabeta-4   independent-2   100-0-0   1.00  [0.96, 1.00]   13.9      2.2         0.0    0.02
  alphabeta-6   single-0         94-0-6   0.94  [0.88, 0.97]   21.6      9.5         0.0    0.11
  alphabeta-6   swarm-5         100-0-0   1.00  [0.96, 1.00]   12.6      9.8         0.0    0.07
  alphabeta-6   swarm-8         100-0-0   1.00  [0.96, 1.00]   13.8     16.8         0.0    0.12
  alphabeta-6   independent-2   100-0-0   1.00  [0.96, 1.00]   13.4     15.6         0.0    0.11
  alphabeta-8   single-0         99-1-0   0.99  [0.95, 1.00]   18.1     44.7         0.0    0.42

  --players alphabeta-1 alphabeta-2 alphabeta-4 alphabeta-6 --opponents heuristic mcts-64 --games 40,
  alphabeta-2/4/6 against mcts-256, and MCTS and the heuristic against single-0 (all but mcts-256 there
  at 03:34 UTC, under load 10, from code they share unchanged with 6dce5e1):
  player        opponent          W-D-L  score  95% interval  moves  ms/move opp ms/move  s/game
  alphabeta-1   heuristic        36-1-3   0.91  [0.79, 0.97]   25.1      0.1         5.0    0.07
  alphabeta-1   mcts-64          31-1-8   0.79  [0.64, 0.89]   22.3      0.1        54.5    0.60
  alphabeta-2   heuristic        38-2-0   0.97  [0.87, 1.00]   25.6      0.2         6.6    0.09
  alphabeta-2   mcts-64          37-1-2   0.94  [0.82, 0.98]   22.4      0.3        63.8    0.71
  alphabeta-4   heuristic        39-1-0   0.99  [0.89, 1.00]   21.4      1.7         4.9    0.07
  alphabeta-4   mcts-64          38-1-1   0.96  [0.85, 0.99]   18.1      1.8        59.2    0.54
  alphabeta-6   heuristic        40-0-0   1.00  [0.91, 1.00]   17.0     10.5         5.4    0.14
  alphabeta-6   mcts-64          38-0-2   0.95  [0.83, 0.99]   19.2     15.8        81.5    0.92
  alphabeta-2   mcts-256         30-1-9   0.76  [0.61, 0.87]   31.4      0.2       207.1    3.23
  alphabeta-4   mcts-256         32-2-6   0.82  [0.68, 0.91]   29.5      2.2       194.2    2.87
  alphabeta-6   mcts-256        27-2-11   0.70  [0.55, 0.82]   31.6      7.7       134.3    2.24
  mcts-64       single-0        22-0-18   0.55  [0.40, 0.69]   15.3    248.3         0.1    1.93
  mcts-100      single-0        25-0-15   0.62  [0.47, 0.76]   16.5    148.2         0.1    1.23
  heuristic     single-0        21-0-19   0.53  [0.37, 0.67]   20.8      2.8         0.1    0.03
  mcts-256      single-0         39-1-0   0.99  [0.89, 1.00]   19.9    226.3         0.1    2.32

  --players alphabeta-4 alphabeta-6 --opponents alphabeta-2 alphabeta-4 --games 40 (from the empty board),
  and alphabeta-2 and alphabeta-4 against alphabeta-1
  player        opponent          W-D-L  score  95% interval  moves  ms/move opp ms/move  s/game
  alphabeta-4   alphabeta-2    12-16-12   0.50  [0.35, 0.65]   36.9      1.5         0.2    0.03
  alphabeta-4   alphabeta-4     19-5-16   0.54  [0.39, 0.68]   36.1      1.2         1.2    0.05
  alphabeta-6   alphabeta-2     16-7-17   0.49  [0.34, 0.64]   36.9     10.3         0.2    0.20
  alphabeta-6   alphabeta-4     23-6-11   0.65  [0.50, 0.78]   35.5      7.7         1.4    0.16
  alphabeta-2   alphabeta-1      35-1-4   0.89  [0.75, 0.95]   26.8      0.3         0.1    0.01
  alphabeta-4   alphabeta-1      32-5-3   0.86  [0.72, 0.94]   22.1      2.4         0.1    0.03

Read it as: one ply of alpha-beta already scores 0.76 against single/0, and two plies or more beat every
trained agent at 0.94 or better while spending under 1 ms (depth 2), 2-4 ms (depth 4) or 10-17 ms (depth 6)
a move: each is a rung above the best agent, where mcts-64 and mcts-100 are level with it. mcts-256 is
above it too (0.99), at 2.3 s a game against it, 100 to 200 times alphabeta-2's or -4's. Against each
other the depths are closer than against the agents (depth 6 scores 0.49 against depth 2 and 0.65 against
depth 4 from the empty board): the leaf score, threats and their parity, not the depth, is what limits
the deeper searches, which lose long games to a zugzwang they see too late.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from swarm import config
from swarm.envs import describe, games
from swarm.evaluation import ladder
from swarm.evaluation.verdict import wilson
from swarm.players import GAME, Player
from swarm.players.network import ActorCritic
from swarm.training.rollout import play
from swarm.weights import load_weights


class Timed:
    """A player that keeps the seconds it spent choosing moves and the moves it chose."""

    def __init__(self, player: Player):
        self.player, self.sees = player, player.sees
        self.seconds, self.moves = 0.0, 0

    def timed(self, call: Any, batch: int) -> Any:
        start = time.perf_counter()
        result = call()
        self.seconds += time.perf_counter() - start
        self.moves += batch
        return result

    def search(self, envs: Sequence[Any], generator: torch.Generator) -> np.ndarray:
        return self.timed(lambda: self.player.search(envs, generator), len(envs))

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return self.timed(lambda: self.player.act(obs, mask, generator), len(obs))

    def act_flops(self, batch: int) -> int:
        return self.player.act_flops(batch)


def build(name: str, run: Path | None) -> Player:
    """A ladder member by name, else the trained agent `run`/checkpoints/final/<name>.pt."""
    try:
        return ladder.build(name)
    except ValueError:
        if run is None:
            raise
    # the network's shape alone, not config.load: a run's file may predate fields renamed since
    cfg = config.read_mapping(run / "config.yaml", "a run's config.yaml")
    spec = describe(cfg["env"], cfg.get("env_kwargs"))
    net = ActorCritic(spec.obs_dim, spec.actions, cfg["network"]["hidden"])
    weights = load_weights(run / "checkpoints" / "final" / f"{name}.pt")
    net.load_weights({k: v.numpy() for k, v in weights.items()})
    return net


def match(player: str, other: str, n: int, run: Path | None, env: str, seed: int) -> dict[str, Any]:
    """`n` games of `player` against `other`, `player` opening the even ones; the record from its side."""
    sides = [Timed(build(player, run)), Timed(build(other, run))]
    seating = np.array([[0, 1] if g % 2 == 0 else [1, 0] for g in range(n)])
    searching = any(p.sees == GAME for p in sides)
    batch = games(describe(env), n, "pettingzoo" if searching else "auto")
    start = time.perf_counter()
    rewards, lengths = play(
        batch, sides, seating, list(range(seed, seed + n)), torch.Generator().manual_seed(seed)
    )
    wall = time.perf_counter() - start
    own = rewards[np.arange(n), (seating == 0).argmax(1)]  # the reward of the seat `player` sat in
    wins, draws = int((own > 0).sum()), int((own == 0).sum())
    low, high = wilson(wins + draws / 2, n, 0.95)
    return {
        "player": player,
        "opponent": other,
        "record": f"{wins}-{draws}-{n - wins - draws}",
        "score": (wins + draws / 2) / n,
        "interval": f"[{low:.2f}, {high:.2f}]",
        "moves": float(lengths.mean()),
        "ms/move": 1000 * sides[0].seconds / max(sides[0].moves, 1),
        "opp ms/move": 1000 * sides[1].seconds / max(sides[1].moves, 1),
        "s/game": wall / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--players", nargs="+", default=["alphabeta-2", "alphabeta-4", "alphabeta-6"])
    parser.add_argument("--opponents", nargs="+", default=["heuristic", "mcts-64"])
    parser.add_argument("--games", type=int, default=40, help="games per pair, seats alternated")
    parser.add_argument("--run", type=Path, help="a run directory whose final weights --opponents may name")
    parser.add_argument("--env", default="classic/connect_four-v3")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f"{os.cpu_count()} CPUs here, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        f"{'player':<13} {'opponent':<13} {'W-D-L':>9} {'score':>6} {'95% interval':>13} {'moves':>6} "
        f"{'ms/move':>8} {'opp ms/move':>11} {'s/game':>7}",
        flush=True,
    )
    for player in args.players:
        for other in args.opponents:
            r = match(player, other, args.games, args.run, args.env, args.seed)
            print(
                f"{r['player']:<13} {r['opponent']:<13} {r['record']:>9} {r['score']:>6.2f} "
                f"{r['interval']:>13} {r['moves']:>6.1f} {r['ms/move']:>8.1f} {r['opp ms/move']:>11.1f} "
                f"{r['s/game']:>7.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
