"""Bradley-Terry ratings on the Elo scale, with bootstrap intervals.

Player i beats j with probability sigmoid(theta_i - theta_j) (Bradley & Terry 1952); Elo points are
`ELO * theta`, so 400 points is 10:1 odds (Elo 1978). A draw counts as half a win to each side, the usual
Elo convention. The maximum-likelihood strengths are found by Newton's method on the pair counts.

An agent that wins every game has an infinite MLE, and a comparison graph in two pieces has no common
scale. A weak Gaussian prior N(0, (1000 Elo)^2) on every strength (an L2 penalty `prior / 2 * theta^2`)
keeps both finite and the Hessian invertible. Its precision, `PRIOR` = 0.03, is the Fisher information of
0.12 games at even odds: a 14-6 record rates 0.5 Elo below its unpenalised MLE of 147 Elo, a perfect 20-0
record 950 Elo above its opponent.

Intervals come from Efron's (1979) bootstrap, stratified by pairing: each pair's games are resampled
with replacement (a multinomial over its win/draw/loss counts), so every replicate keeps the schedule. A
pair whose games all went one way resamples to the same record, so there the interval understates the
uncertainty.

A joint fit is not pool-invariant: every game moves every rating. `against_ladder` rates the fixed ladder on
its own round-robin and every other player alone against it, so a player's rating depends on its own ladder
games and nothing else; `saturation` says when the ladder has no member above a player to pin it from above.

OpenSpiel's `elo` module fits the same model by Hunter's (2004) MM algorithm with 0.01 pseudo-wins per
pair in place of a prior, and reports no intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from swarm.results.records import Estimate

ELO = 400 / math.log(10)  # natural log-odds unit -> Elo points
PRIOR = (ELO / 1000) ** 2  # precision of the N(0, (1000 Elo)^2) prior on natural-scale strengths
TOLERANCE = 1e-10  # Newton stops when no strength moves by more than this (natural units)
MAX_ITERATIONS = 100


@dataclass
class Ratings:
    players: list[str]  # sorted
    rating: np.ndarray  # [P] Elo, anchor at 0
    samples: np.ndarray  # [samples, P] bootstrap replicates, same anchoring
    table: pd.DataFrame  # player, rating, ci_low, ci_high, games, score (plackett_luce: position)


def _log_posterior(theta: np.ndarray, wins: np.ndarray, prior: float) -> np.ndarray:
    diff = theta[..., :, None] - theta[..., None, :]
    return -(wins * np.logaddexp(0, -diff)).sum((-2, -1)) - prior / 2 * (theta**2).sum(-1)


def fit(wins: np.ndarray, games: np.ndarray, anchor: int | None, prior: float = PRIOR) -> np.ndarray:
    """Elo ratings from pair counts; leading batch dimensions are fitted independently.

    wins[..., i, j]: i's score against j summed over their games (win 1, draw 1/2); games[..., i, j] the
    symmetric game counts, zero on the diagonal. ratings[..., anchor] == 0, or mean 0 when anchor is None.
    """
    theta = np.zeros(wins.shape[:-1])
    value = _log_posterior(theta, wins, prior)
    diagonal = np.arange(theta.shape[-1])
    for _ in range(MAX_ITERATIONS):
        p = 0.5 + 0.5 * np.tanh((theta[..., :, None] - theta[..., None, :]) / 2)
        gradient = (wins - games * p).sum(-1) - prior * theta
        curvature = games * p * (1 - p)
        hessian = -curvature  # negative Hessian: graph Laplacian of the curvatures plus the prior
        hessian[..., diagonal, diagonal] += curvature.sum(-1) + prior
        step = np.linalg.solve(hessian, gradient[..., None])[..., 0]
        scale, trial = backtrack(
            lambda t: _log_posterior(t, wins, prior), theta, step, value, np.ones((*theta.shape[:-1], 1))
        )
        theta, value = theta + scale * step, trial
        if np.abs(scale * step).max(initial=0.0) < TOLERANCE:
            break
    origin = theta.mean(-1, keepdims=True) if anchor is None else theta[..., anchor : anchor + 1]
    return ELO * (theta - origin)


def backtrack(
    objective: Callable[[np.ndarray], np.ndarray],
    theta: np.ndarray,
    step: np.ndarray,
    value: np.ndarray,
    scale: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Halve the Newton step of any replicate whose full step lowers the posterior (rarely needed: it is
    concave); returns the step scales and the posterior there."""
    while True:
        trial = objective(theta + scale * step)
        worse = trial < value - 1e-12 * np.abs(value)
        if not worse.any() or scale.min() < 1e-6:
            return scale, trial
        scale[worse] /= 2


def crossplay(matches: pd.DataFrame) -> pd.DataFrame:
    """Each ordered pair's record (both orientations, seats pooled); games against itself are left out."""
    matches = matches[matches.player_0 != matches.player_1]
    won, lost = matches.outcome == "player_0", matches.outcome == "player_1"
    long = pd.concat(
        [
            pd.DataFrame(
                {"player": matches.player_0, "opponent": matches.player_1, "wins": won, "losses": lost}
            ),
            pd.DataFrame(
                {"player": matches.player_1, "opponent": matches.player_0, "wins": lost, "losses": won}
            ),
        ]
    )
    long["draws"] = ~(long.wins | long.losses)
    table = long.groupby(["player", "opponent"])[["wins", "draws", "losses"]].sum().astype(int).reset_index()
    table.insert(2, "games", table.wins + table.draws + table.losses)
    table["score"] = (table.wins + table.draws / 2) / table.games
    return table


def _matrices(pairs: pd.DataFrame, rows: list[str], columns: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """[rows, columns] score and game counts of the pairs whose player is in rows and opponent in columns."""
    pairs = pairs[pairs.player.isin(rows) & pairs.opponent.isin(columns)]
    i = pd.Categorical(pairs.player, categories=rows).codes
    j = pd.Categorical(pairs.opponent, categories=columns).codes
    wins, games = np.zeros((len(rows), len(columns))), np.zeros((len(rows), len(columns)))
    wins[i, j], games[i, j] = pairs.wins + pairs.draws / 2, pairs.games
    return wins, games


def _resample(pairs: pd.DataFrame, samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """[samples, pairs]: the player's and the opponent's score in each bootstrap replicate of each pair, its
    games redrawn as a multinomial over its own win/draw/loss counts."""
    counts = pairs[["wins", "draws", "losses"]].to_numpy()
    n = counts.sum(1)
    drawn = rng.multinomial(n, counts / n[:, None], size=(samples, len(n)))
    return drawn[..., 0] + drawn[..., 1] / 2, drawn[..., 2] + drawn[..., 1] / 2


def _bootstrap(
    pairs: pd.DataFrame,
    players: list[str],
    games: np.ndarray,
    anchor: int | None,
    samples: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """[samples, players] `fit` of the round-robin in `pairs`, each pair's games redrawn (`_resample`)."""
    once = pairs[pairs.player < pairs.opponent]
    i = pd.Categorical(once.player, categories=players).codes
    j = pd.Categorical(once.opponent, categories=players).codes
    resampled = np.zeros((samples, len(players), len(players)))
    resampled[:, i, j], resampled[:, j, i] = _resample(once, samples, rng)
    return fit(resampled, games, anchor)


def _table(
    pairs: pd.DataFrame, players: list[str], rating: np.ndarray, replicates: np.ndarray, confidence: float
) -> pd.DataFrame:
    """One row per player: rating, percentile interval, and the games (and mean score) it rests on."""
    low, high = np.quantile(replicates, [(1 - confidence) / 2, (1 + confidence) / 2], axis=0)
    per_player = (
        pairs.assign(points=pairs.wins + pairs.draws / 2)
        .groupby("player")[["games", "points"]]
        .sum()
        .reindex(players, fill_value=0)
    )
    return pd.DataFrame(
        {
            "player": players,
            "rating": rating,
            "ci_low": low,
            "ci_high": high,
            "games": per_player.games.to_numpy(),
            "score": (per_player.points / per_player.games).to_numpy(),
        }
    )


def fit_matches(
    matches: pd.DataFrame,
    anchor: str | None = "random",
    confidence: float = 0.95,
    samples: int = 1000,
    *,
    rng: np.random.Generator,
) -> Ratings:
    """Ratings of every player in `matches`, anchored at `anchor` (mean 0 if it did not play)."""
    pairs = crossplay(matches)
    players = sorted(set(pairs.player))
    wins, games = _matrices(pairs, players, players)
    index = players.index(anchor) if anchor in players else None
    rating = fit(wins, games, index)

    replicates = _bootstrap(pairs, players, games, index, samples, rng)
    return Ratings(players, rating, replicates, _table(pairs, players, rating, replicates, confidence))


def fit_against(wins: np.ndarray, games: np.ndarray, fixed: np.ndarray, prior: float = PRIOR) -> np.ndarray:
    """Elo of players each rated alone against opponents held at fixed ratings: a 1-D Bradley-Terry
    maximum-a-posteriori fit per player, leading batch dimensions fitted independently.

    wins[..., k, j]: player k's score against fixed opponent j, games[..., k, j] its games; fixed[..., j] the
    opponents' Elo. The prior (precision `prior`, as in `fit`) is centred at the opponents' mean, where
    `fit` centres the ratings held fixed, so the result does not depend on where they are anchored.
    """
    opponents = fixed[..., None, :] / ELO
    centre = opponents.mean(-1)
    theta = np.broadcast_to(centre, wins.shape[:-1]).copy()

    def log_posterior(t: np.ndarray) -> np.ndarray:
        diff = t[..., None] - opponents
        likelihood = wins * np.logaddexp(0, -diff) + (games - wins) * np.logaddexp(0, diff)
        return -likelihood.sum(-1) - prior / 2 * (t - centre) ** 2

    value = log_posterior(theta)
    for _ in range(MAX_ITERATIONS):
        p = 0.5 + 0.5 * np.tanh((theta[..., None] - opponents) / 2)
        gradient = (wins - games * p).sum(-1) - prior * (theta - centre)
        step = gradient / ((games * p * (1 - p)).sum(-1) + prior)
        scale, trial = backtrack(log_posterior, theta, step, value, np.ones_like(theta))
        theta, value = theta + scale * step, trial
        if np.abs(scale * step).max(initial=0.0) < TOLERANCE:
            break
    return ELO * theta


def against_ladder(
    matches: pd.DataFrame,
    ladder: Sequence[str],
    anchor: str | None = "random",
    confidence: float = 0.95,
    samples: int = 1000,
    *,
    rng: np.random.Generator,
) -> Ratings:
    """Pool-invariant ratings: the ladder fitted on its own round-robin, then every other player rated alone
    against the ladder held fixed, from its games against ladder members only.

    A joint fit (`fit_matches`) lets every game move every rating, so redundant copies of one agent shift
    the ratings of others that never changed (Balduzzi et al., "Re-evaluating evaluation", NeurIPS 2018).
    Here a player's rating is a function of its own ladder games and the ladder's games alone, as a chess
    rating is of games against rated opponents: no other agent's games can move it. Games between two
    players off the ladder are ignored. The bootstrap resamples the ladder's pairs and each player's pairs
    (as `fit_matches` does), each player's from an RNG stream keyed by its name, and refits both steps in
    every replicate, so a player's interval is pool-invariant too. `anchor` = 0 when it is on the ladder,
    else the ladder's mean.
    """
    pairs = crossplay(matches)
    members = sorted(ladder)
    if len(members) > 1:
        idle = [m for m in members if not ((pairs.player == m) & pairs.opponent.isin(members)).any()]
        if idle:
            raise ValueError(f"ladder members {idle} played no games against the ladder: nothing rates them")
    among = pairs[pairs.player.isin(members) & pairs.opponent.isin(members)]
    own = pairs[~pairs.player.isin(members) & pairs.opponent.isin(members)]
    agents = sorted(set(own.player))
    index = members.index(anchor) if anchor in members else None

    wins, games = _matrices(among, members, members)
    own_wins, own_games = _matrices(own, agents, members)
    ladder_rating = fit(wins, games, index)
    rating = np.concatenate([ladder_rating, fit_against(own_wins, own_games, ladder_rating)])

    ladder_replicates = _bootstrap(among, members, games, index, samples, rng)
    # Each player's games are redrawn from a stream of its own, keyed by its name: no other player's
    # presence changes its replicates either.
    base = int(rng.integers(2**63))
    own_resampled = np.zeros((samples, len(agents), len(members)))
    for k, agent in enumerate(agents):
        mine = own[own.player == agent]
        m = pd.Categorical(mine.opponent, categories=members).codes
        stream = np.random.default_rng([base, *agent.encode()])
        own_resampled[:, k, m] = _resample(mine, samples, stream)[0]
    replicates = np.concatenate(
        [ladder_replicates, fit_against(own_resampled, own_games, ladder_replicates)], axis=1
    )

    players = members + agents
    table = _table(pd.concat([among, own]), players, rating, replicates, confidence)
    order = np.argsort(players)
    return Ratings(
        [players[o] for o in order],
        rating[order],
        replicates[:, order],
        table.iloc[order].reset_index(drop=True),
    )


@dataclass(frozen=True)
class Saturation:
    """Whether the ladder reaches above a player: a rating is pinned from above only by games against
    stronger opponents, so a player the top member does not confidently outrate is off the ladder's end."""

    player: str
    top: str  # the ladder member rated highest
    margin: Estimate  # player's rating minus top's, Elo, with a paired interval
    saturated: bool  # the margin's interval reaches above 0: the ladder needs a stronger member


def saturation(rated: Ratings, ladder: Sequence[str], player: str, confidence: float = 0.95) -> Saturation:
    """Whether `player` reaches the top of the ladder in `rated` (an `against_ladder` fit)."""
    top = max(ladder, key=lambda m: rated.rating[rated.players.index(m)])
    margin = Estimate(*gap(rated, player, top, confidence))
    return Saturation(player, top, margin, margin.ci_high > 0)


def gap(ratings: Ratings, a: str, b: str, confidence: float) -> tuple[float, float, float]:
    """rating(a) - rating(b) and its interval, from the same replicates (not two independent intervals)."""
    ia, ib = ratings.players.index(a), ratings.players.index(b)
    diff = ratings.samples[:, ia] - ratings.samples[:, ib]
    low, high = np.quantile(diff, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(ratings.rating[ia] - ratings.rating[ib]), float(low), float(high)
