"""Plackett-Luce ratings of free-for-all games from their finishing orders, on the Elo scale.

A game's finishing order ranks its k players by return, highest first. Plackett-Luce (Luce 1959; Plackett
1975) reads it as k - 1 choices: the first is chosen from all k with probability exp(theta_i) / sum
exp(theta), second from the rest, and so on. For two players that is Bradley-Terry, so strengths here are on
`ratings`' Elo scale (`ELO` theta) with its weak prior (`PRIOR`), and a fit of two-player games is
`ratings.fit` exactly.

Ties: players with equal returns share their positions, and the game's log-likelihood is the mean of the
log-likelihoods of the m! orders that would break a tie of m. For two players that is a draw counted as half
a win to each side, as `ratings` counts it. Expanded, a tied block B above the players R below it is,
for every subset S of B (those of it not yet ordered) and each c in S, the choice of c from S and R, weighted
1 / (C(m, |S|) |S|): m 2^(m - 1) choices, few for the seats a game has. The Davidson-Luce model (Firth,
Kosmidis & Turner 2019) would fit a tie parameter instead, and not reduce to `ratings`' draws.

Each choice's log-likelihood is concave in theta (a multinomial logit), so Newton's method on the choices,
grouped by choice set, converges as `ratings.fit` does; Hunter's (2004) MM algorithm fits the same model
without a prior.

Intervals come from the bootstrap, stratified by lineup (the players seated together): each lineup's games
are redrawn as a multinomial over its finishing orders, so every replicate keeps the schedule, as `ratings`
redraws each pair's. Seats are pooled, so a free-for-all schedule seats each player in each seat equally.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd

from swarm.evaluation.ratings import ELO, MAX_ITERATIONS, PRIOR, TOLERANCE, Ratings, backtrack

Outcomes = Counter[tuple[tuple[str, ...], tuple[float, ...]]]  # (lineup, sorted; positions) -> games


def positions(returns: np.ndarray) -> np.ndarray:
    """[G, k] finishing positions, 1 the highest return; tied players share the mean of their positions."""
    return pd.DataFrame(returns).rank(axis=1, ascending=False, method="average").to_numpy()


def choices(position: Sequence[float]) -> Iterator[tuple[tuple[int, ...], int, float]]:
    """One finishing order (a position per player, equal positions tied) as weighted Plackett-Luce choices
    (choice set, chosen, weight), each order that breaks a tie weighted 1/m!; sets of one carry nothing."""
    position = np.asarray(position)
    for level in np.unique(position):
        block = np.flatnonzero(position == level).tolist()
        below = np.flatnonzero(position > level).tolist()
        for size in range(1, len(block) + 1):
            weight = 1 / (math.comb(len(block), size) * size)
            for left in itertools.combinations(block, size):
                if size + len(below) > 1:
                    for chosen in left:
                        yield tuple(sorted(left + tuple(below))), chosen, weight


def _log_posterior(theta: np.ndarray, chosen: np.ndarray, sets: np.ndarray, prior: float) -> np.ndarray:
    logits = np.where(sets, theta[..., None, :], -np.inf)
    top = logits.max(-1, keepdims=True)
    normaliser = top[..., 0] + np.log(np.exp(logits - top).sum(-1))
    return (
        (chosen * theta[..., None, :]).sum((-2, -1))
        - (chosen.sum(-1) * normaliser).sum(-1)
        - prior / 2 * (theta**2).sum(-1)
    )


def fit(chosen: np.ndarray, sets: np.ndarray, anchor: int | None, prior: float = PRIOR) -> np.ndarray:
    """Elo ratings from Plackett-Luce choices; leading batch dimensions are fitted independently.

    chosen[..., u, i]: the weight of games in which player i was chosen from choice set u; sets[u, i] whether
    i is in set u (every set holds two players or more). ratings[..., anchor] == 0, or mean 0 when None.
    """
    theta = np.zeros(chosen.shape[:-2] + sets.shape[-1:])
    made = chosen.sum(-1)
    value = _log_posterior(theta, chosen, sets, prior)
    diagonal = np.arange(theta.shape[-1])
    for _ in range(MAX_ITERATIONS):
        logits = np.where(sets, theta[..., None, :], -np.inf)
        p = np.exp(logits - logits.max(-1, keepdims=True))
        p /= p.sum(-1, keepdims=True)
        expected = made[..., None] * p
        gradient = (chosen - expected).sum(-2) - prior * theta
        hessian = -np.einsum("...u,...ui,...uj->...ij", made, p, p)  # negative Hessian of the posterior
        hessian[..., diagonal, diagonal] += expected.sum(-2) + prior
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        scale, trial = backtrack(
            lambda t: _log_posterior(t, chosen, sets, prior),
            theta,
            step,
            value,
            np.ones((*theta.shape[:-1], 1)),
        )
        theta, value = theta + scale * step, trial
        if np.abs(scale * step).max(initial=0.0) < TOLERANCE:
            break
    origin = theta.mean(-1, keepdims=True) if anchor is None else theta[..., anchor : anchor + 1]
    return ELO * (theta - origin)


def fit_games(
    players: Sequence[Sequence[str]],
    returns: np.ndarray,
    anchor: str | None = "random",
    confidence: float = 0.95,
    samples: int = 1000,
    *,
    rng: np.random.Generator,
) -> Ratings:
    """Plackett-Luce ratings from games of distinct players: players[g] in seat order, returns[g] per seat.

    The table's `position` is each player's mean finishing position (1 is first); `anchor` = 0 when it
    played, else the mean is.
    """
    position = positions(np.asarray(returns, dtype=float))
    outcomes: Outcomes = Counter()
    for seated, finish in zip(players, position, strict=True):
        if len(set(seated)) < len(seated):
            raise ValueError(f"a free-for-all game seats distinct players, not {list(seated)}")
        order = np.argsort(seated)
        outcomes[tuple(seated[o] for o in order), tuple(finish[order])] += 1
    names = sorted({name for seated, _ in outcomes for name in seated})
    index = names.index(anchor) if anchor in names else None
    outcome, cell, weight, sets = _choice_table(outcomes, names)

    def chosen(drawn: np.ndarray) -> np.ndarray:
        """[S, sets, players] choice weights of S replicates' game counts drawn[S, outcomes], summed."""
        unique, start = np.unique(cell, return_index=True)
        summed = np.zeros((len(drawn), sets.size))
        summed[:, unique] = np.add.reduceat(drawn[:, outcome] * weight, start, axis=1)
        return summed.reshape(len(drawn), *sets.shape)

    rating = fit(chosen(np.array([list(outcomes.values())]))[0], sets, index)
    replicates = fit(chosen(_resample(outcomes, samples, rng)), sets, index)

    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    seats = pd.DataFrame({"player": np.ravel(players), "position": np.ravel(position)})
    per_player = seats.groupby("player").position.agg(["size", "mean"]).reindex(names)
    table = pd.DataFrame(
        {
            "player": names,
            "rating": rating,
            "ci_low": low,
            "ci_high": high,
            "games": per_player["size"].to_numpy(),
            "position": per_player["mean"].to_numpy(),
        }
    )
    return Ratings(names, rating, replicates, table)


def fit_table(
    games: pd.DataFrame,
    anchor: str | None = "random",
    confidence: float = 0.95,
    samples: int = 1000,
    *,
    rng: np.random.Generator,
) -> Ratings:
    """`fit_games` of a free-for-all table: one row per game and seat (seed, seat, player, reward), as
    `evaluate.play_free_for_all_schedule` gives it."""
    ordered = games.sort_values(["seed", "seat"])
    seats = int(ordered.seat.max()) + 1
    players = ordered.player.to_numpy().reshape(-1, seats).tolist()
    returns = ordered.reward.to_numpy(float).reshape(-1, seats)
    return fit_games(players, returns, anchor, confidence, samples, rng=rng)


def _choice_table(
    outcomes: Outcomes, names: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every distinct finishing order's choices, sparse: its outcome index, its cell (choice set u, chosen
    player i) as u * players + i, and its weight, sorted by cell; and the choice sets' membership
    [sets, players]."""
    sets: dict[tuple[int, ...], int] = {}
    entries = []
    for o, (seated, finish) in enumerate(outcomes):
        index = [names.index(name) for name in seated]
        for local, chosen, weight in choices(finish):
            u = sets.setdefault(tuple(index[i] for i in local), len(sets))
            entries.append((o, u * len(names) + index[chosen], weight))
    outcome, cell, weight = (
        np.array(column) for column in zip(*sorted(entries, key=lambda e: e[1]), strict=True)
    )
    membership = np.zeros((len(sets), len(names)), bool)
    for members, u in sets.items():
        membership[u, list(members)] = True
    return outcome, cell, weight, membership


def _resample(outcomes: Outcomes, samples: int, rng: np.random.Generator) -> np.ndarray:
    """[samples, outcomes]: each lineup's games redrawn as a multinomial over its own finishing orders."""
    lineups: dict[tuple[str, ...], list[int]] = {}
    for o, (seated, _) in enumerate(outcomes):
        lineups.setdefault(seated, []).append(o)
    counts = np.array(list(outcomes.values()))
    drawn = np.zeros((samples, len(counts)))
    for mine in lineups.values():
        n = counts[mine].sum()
        drawn[:, mine] = rng.multinomial(n, counts[mine] / n, size=samples)
    return drawn
