"""Nash averaging over the held-out meta-game (Balduzzi, Tuyls, Perolat & Graepel, "Re-evaluating
evaluation", NeurIPS 2018).

The meta-game's payoff is A[i, j] = i's score against j minus 1/2: antisymmetric, so the symmetric
zero-sum game it defines has value 0. A mixture p over players is a Nash equilibrium when no player scores
above even against it: (A p)_i <= 0 for every i. Among equilibria, Balduzzi et al. take the one of maximum
entropy, which is unique and gives k exact copies of one player the mass one copy would get, split evenly,
leaving every other player's rating where it was. A player's Nash rating is (A p)_i, its expected score
above 1/2 against that mixture: 0 on the support, below 0 off it. Unlike a Bradley-Terry fit, which
`ratings.fit_matches` makes, it is invariant to redundant players, and it does not assume the games are
transitive; what it gives up is a scale of strength (a rating says how far a player falls short of the
best mixture, not how far apart two players are).

Computing it: in a symmetric zero-sum game every player that some equilibrium plays scores exactly even
against every equilibrium (exchangeability), so the equilibria are the mixtures on that support S with
A[S, S] p = 0, off-support players scoring at most even. One linear program (HiGHS, through `linprog`) finds
S and a point with mass on all of it: it maximises sum_i min(y_i, 1) over the cone of unnormalised
equilibria y, which sums any equilibria that give i mass. The maximum-entropy point gives mass to all of S
(entropy's slope is infinite at 0), so it is found on the affine set {A[S, S] p = 0, sum p = 1} by SLSQP
over that set's null space: for a game with a unique equilibrium there is nothing left to search, and for
exact copies of one player there are (copies - 1) directions. The result states `epsilon`, the most any
player scores above even against the mixture: 0 at an exact equilibrium, 1e-15 or so in practice.

There is no relaxation to an epsilon-equilibrium: it would let near-copies share mass, but it breaks the
exact invariance to copies that is the reason to read this rating.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.linalg import lstsq, null_space
from scipy.optimize import linprog, minimize
from scipy.special import xlogy

from swarm.evaluation.ratings import crossplay


@dataclass(frozen=True)
class NashAverage:
    players: list[str]  # sorted
    mixture: np.ndarray  # [P] the maximum-entropy equilibrium
    rating: np.ndarray  # [P] (A p)_i: expected score above 1/2 against the mixture, <= epsilon
    epsilon: float  # max_i (A p)_i: the mixture is an epsilon-equilibrium (0 when exact)


def payoff(matches: pd.DataFrame) -> tuple[list[str], np.ndarray]:
    """Players (sorted) and A[i, j] = i's score against j minus 1/2; every pair must have met."""
    pairs = crossplay(matches)
    players = sorted(set(pairs.player))
    table = pairs.pivot(index="player", columns="opponent", values="score").reindex(
        index=players, columns=players
    )
    missing = [
        f"{a}-{b}" for k, a in enumerate(players) for b in players[k + 1 :] if np.isnan(table.at[a, b])
    ]
    if missing:
        raise ValueError(
            f"Nash averaging needs every pair to have met; these never did: {', '.join(missing)} "
            "(rate a complete round-robin, such as the cross-play stage)"
        )
    A = table.to_numpy() - 0.5
    np.fill_diagonal(A, 0.0)
    return players, A


def equilibrium(A: np.ndarray) -> np.ndarray:
    """The maximum-entropy mixture p with (A p)_i <= 0 for every i, A antisymmetric."""
    n = len(A)
    # Variables (y, s): maximise sum s subject to s <= y, 0 <= s <= 1, y >= 0 and A y <= 0.
    found = linprog(
        np.concatenate([np.zeros(n), -np.ones(n)]),
        A_ub=np.block([[A, np.zeros((n, n))], [-np.eye(n), np.eye(n)]]),
        b_ub=np.zeros(2 * n),
        bounds=[(0, None)] * n + [(0, 1)] * n,
    )
    if found.status != 0:
        raise ValueError(f"no equilibrium found: {found.message}")
    y, support = found.x[:n], found.x[n:] > 0.5
    on = np.vstack([A[np.ix_(support, support)], np.ones((1, support.sum()))])
    target = np.zeros(len(on))
    target[-1] = 1
    start = y[support] / y[support].sum()
    start -= lstsq(on, on @ start - target)[0]  # onto the affine set, past the LP's tolerance
    directions = null_space(on)
    off = A[np.ix_(~support, support)]

    def mixture(z: np.ndarray) -> np.ndarray:
        return start + directions @ z

    free = np.zeros(directions.shape[1])
    if len(free):
        free = minimize(
            lambda z: xlogy(mixture(z), mixture(z)).sum(),
            free,
            jac=lambda z: directions.T @ (np.log(np.maximum(mixture(z), 1e-300)) + 1),
            constraints=[
                {
                    "type": "ineq",
                    "fun": lambda z: np.concatenate([mixture(z), -off @ mixture(z)]),
                    "jac": lambda z: np.vstack([directions, -off @ directions]),
                }
            ],
            method="SLSQP",
            options={"ftol": 1e-15, "maxiter": 1000},
        ).x
    p = np.zeros(n)
    p[support] = np.maximum(mixture(free), 0)
    return p / p.sum()


def average(matches: pd.DataFrame) -> NashAverage:
    """Nash averaging of every player in `matches` (a complete round-robin)."""
    players, A = payoff(matches)
    mixture = equilibrium(A)
    rating = A @ mixture
    return NashAverage(players, mixture, rating, float(rating.max()))
