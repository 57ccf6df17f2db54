"""Evaluation: choose each arm's best on selection games, then judge every agent on held-out games.

The schedule is data: `Game(stage, arm, seed, player_0, player_1)`. Selection is a round-robin inside each
arm, or every agent against the ladder (`evaluation.selection`). The held-out stages use fresh seeds:
`verdict` (each arm's best vs the baseline's best), `crossplay` (every trained agent vs every other, all arms
together) and `ladder` (every agent and every ladder member vs every ladder member). Learning-curve
checkpoints play `random` in stage `curve`. Seeds come from disjoint stage ranges (see `seeds.game_seed`), so
the games that choose an arm's best are never the games that judge it. Seats alternate within every pairing.
In a competitive game of k > 2 seats, the `free_for_all` stage seats the arms' bests and the ladder members
k at a time (`free_for_all_schedule`), each game's players ranked by return into a finishing order. In a
cooperative game the same stage's seeds (never used there otherwise) hold ad-hoc team games
(`teamwork_schedule`): each arm's best in one seat with a held-out partner in every other. Playing is passed
in as functions, so this module never sees Ray.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from itertools import combinations

import numpy as np
import pandas as pd

from swarm import seeds
from swarm.config import Experiment
from swarm.evaluation.plackett_luce import positions
from swarm.evaluation.roles import game_role, judged_roles
from swarm.evaluation.scoring import SEAT_0, results
from swarm.interaction import MODES

MATCH_COLUMNS = [
    "stage",
    "arm",
    "seed",
    "player_0",
    "player_1",
    "reward_0",
    "reward_1",
    "outcome",
    "length",
    "role",
]
FREE_FOR_ALL_COLUMNS = ["seed", "seat", "player", "arm", "reward", "position", "length"]
MAX_LINEUPS = 50  # beyond it, lineups are the cyclic ones (`lineups`)
Play = Callable[[list[tuple[int, str, str]]], tuple[np.ndarray, np.ndarray]]
# (seed, a player per seat) games -> each seat's rewards [G, k] and lengths [G]
PlayFreeForAll = Callable[[list[tuple[int, tuple[str, ...]]]], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Game:
    stage: str
    arm: str
    seed: int
    player_0: str
    player_1: str


@dataclass(frozen=True)
class FreeForAllGame:
    """A game of k distinct players, each for itself: players[s] sits in seat s."""

    seed: int
    players: tuple[str, ...]


@dataclass(frozen=True)
class TeamworkGame:
    """An ad-hoc team game: `best` (arm `arm`'s best) in seat `seat`, `partner` in every other of `seats`."""

    seed: int
    arm: str
    best: str
    partner: str
    seat: int
    seats: int

    @property
    def players(self) -> tuple[str, ...]:
        return tuple(self.best if s == self.seat else self.partner for s in range(self.seats))


def pairing(run_seed: int, stage: str, arm: str, a: str, b: str, games: int, start: int) -> list[Game]:
    """`games` games of a against b on seeds start, start+1, ... of the stage, seats alternating. With an odd
    count the last game's first seat goes to a or b by a fair coin drawn from its seed, so neither side is
    favoured by the order it is listed in (Connect Four's first mover wins more often)."""
    schedule = []
    for k in range(games):
        seed = seeds.game_seed(run_seed, stage, start + k)
        first = k % 2 if k < games - 1 or games % 2 == 0 else seeds.coin(seed)
        schedule.append(Game(stage, arm, seed, *((a, b) if first == 0 else (b, a))))
    return schedule


def round_robin(
    run_seed: int, stage: str, arm: str, players: Sequence[str], games_per_pair: int, start: int = 0
) -> list[Game]:
    schedule: list[Game] = []
    for a, b in combinations(players, 2):
        schedule += pairing(run_seed, stage, arm, a, b, games_per_pair, start + len(schedule))
    return schedule


def player_scores(matches: pd.DataFrame) -> pd.DataFrame:
    """Each player's mean score (1 win, 0.5 draw, 0 loss) and game count, from either seat."""
    seat0 = matches.outcome.map(SEAT_0).to_numpy(float)
    long = pd.concat(
        [
            pd.DataFrame({"player": matches.player_0, "score": seat0}),
            pd.DataFrame({"player": matches.player_1, "score": 1 - seat0}),
        ]
    )
    return long.groupby("player")["score"].agg(score="mean", games="count").reset_index()


def select_best(
    selection: pd.DataFrame, players: Sequence[str], candidates: Sequence[str] | None = None
) -> tuple[str, dict[str, float]]:
    """Top selection scorer among `candidates` (all players by default; ties to the lowest index); a
    population of one is its own best. Against the ladder every agent meets the same opponents equally
    often, so the top score is also the top rating."""
    if len(players) == 1:
        return players[0], {}
    table = player_scores(selection).set_index("player")["score"]
    ranked = {p: float(table[p]) for p in players}
    chosen = list(candidates or players)
    return max(chosen, key=lambda p: (ranked[p], -chosen.index(p))), ranked


def play_schedule(
    schedule: list[Game], play: Play, payoff_bound: float | None = None, roles: Sequence[str] = ()
) -> pd.DataFrame:
    """The games played, each with its rewards and result (`scoring.results`: by payoff over
    `payoff_bound`, else by outcome) and, where games are judged by `roles`, the role it played ("" if
    not)."""
    rewards, lengths = play([(g.seed, g.player_0, g.player_1) for g in schedule])
    frame = pd.DataFrame([asdict(g) for g in schedule], columns=MATCH_COLUMNS[:5])
    frame["reward_0"], frame["reward_1"], frame["length"] = rewards[:, 0], rewards[:, 1], lengths
    frame["outcome"] = results(rewards[:, 0], rewards[:, 1], frame.seed.to_numpy(np.int64), payoff_bound)
    frame["role"] = pd.Series([game_role(g.seed, roles) if roles else "" for g in schedule], dtype=str)
    return frame[MATCH_COLUMNS]


def play_free_for_all_schedule(
    schedule: list[FreeForAllGame], play: PlayFreeForAll, arm_of: dict[str, str]
) -> pd.DataFrame:
    """The games played, tidy: one row per game and seat, with the player's arm (`ladder` for a ladder
    member), the seat's return and its position in the game's finishing order (1 the highest return, ties
    sharing the mean: `plackett_luce.positions`)."""
    if schedule:
        rewards, lengths = play([(g.seed, g.players) for g in schedule])
    else:
        rewards, lengths = np.zeros((0, 0), np.float32), np.zeros(0, np.int64)
    games, seats = rewards.shape
    frame = pd.DataFrame(
        {
            "seed": np.repeat(np.array([g.seed for g in schedule], np.int64), seats),
            "seat": np.tile(np.arange(seats), games),
            "player": pd.Series([name for g in schedule for name in g.players], dtype=str),
            "arm": pd.Series([arm_of.get(name, "ladder") for g in schedule for name in g.players], dtype=str),
            "reward": rewards.ravel(),
            "position": positions(rewards).ravel(),
            "length": np.repeat(lengths, seats),
        }
    )
    return frame[FREE_FOR_ALL_COLUMNS]


@dataclass
class Evaluation:
    matches: pd.DataFrame
    best: dict[str, str]  # arm -> its chosen agent
    selection_scores: dict[str, dict[str, float]]  # arm -> agent -> selection score
    free_for_all: pd.DataFrame  # FREE_FOR_ALL_COLUMNS; empty but in a competitive game of k > 2 seats
    teamwork: pd.DataFrame  # rundir.TEAMWORK_COLUMNS; empty but in a cooperative game


def arm_agents(config: Experiment) -> dict[str, list[str]]:
    return {arm.name: arm.agent_ids for arm in config.arms}


def selection_schedule(config: Experiment) -> list[Game]:
    """For every arm of more than one agent: a round-robin inside the arm (selection: peers), or every agent
    against every ladder member (selection: ladder)."""
    ev, schedule = config.evaluation, []
    for arm, players in arm_agents(config).items():
        if len(players) < 2:
            continue
        if ev.selection == "peers":
            schedule += round_robin(config.seed, "selection", arm, players, ev.selection_games, len(schedule))
            continue
        for agent in players:
            for member in ev.ladder:
                schedule += pairing(
                    config.seed, "selection", arm, agent, member, ev.selection_games, len(schedule)
                )
    return schedule


def controls(config: Experiment) -> dict[str, str]:
    """Each arm whose members meet, mapped to its control: the first other arm of the same N whose members
    never meet (the best-of-N lottery alone), the baseline excepted. The gain over the baseline splits in two
    through it: from selection (control vs baseline) and from interaction (arm vs control)."""
    meets = {arm.name: MODES[arm.interaction].meets_others for arm in config.arms}
    baseline = config.baseline_arm.name
    found = {}
    for arm in config.arms:
        if meets[arm.name] and arm.name != baseline:
            control = next(
                (
                    c
                    for c in config.arms
                    if not meets[c.name] and c.agents == arm.agents and c.name != baseline
                ),
                None,
            )
            if control is not None:
                found[arm.name] = control.name
    return found


def held_out_schedule(config: Experiment, best: dict[str, str]) -> list[Game]:
    """Fresh-seed games that judge: each best vs the baseline's best, and each interacting arm's best vs its
    control's best (verdict), every agent vs every other agent of every arm (cross-play), and every agent
    and ladder member vs every ladder member (ladder)."""
    ev, seed, baseline = config.evaluation, config.seed, config.baseline_arm.name
    verdict: list[Game] = []
    for arm in config.arms:
        if arm.name != baseline:
            verdict += pairing(
                seed, "verdict", arm.name, best[arm.name], best[baseline], ev.verdict_games, len(verdict)
            )
    for arm, control in controls(config).items():
        verdict += pairing(seed, "verdict", arm, best[arm], best[control], ev.verdict_games, len(verdict))
    agents = arm_agents(config)
    arm_of = {agent: arm for arm, players in agents.items() for agent in players}
    everyone = [agent for players in agents.values() for agent in players]
    crossplay = [
        replace(g, arm=arm_of[g.player_0] if arm_of[g.player_0] == arm_of[g.player_1] else "")
        for g in round_robin(seed, "crossplay", "", everyone, ev.crossplay_games)
    ]
    ladder: list[Game] = round_robin(seed, "ladder", "ladder", ev.ladder, ev.ladder_games)
    for agent in everyone:
        for member in ev.ladder:
            ladder += pairing(seed, "ladder", arm_of[agent], agent, member, ev.ladder_games, len(ladder))
    return verdict + crossplay + ladder


def lineups(players: Sequence[str], seats: int) -> list[tuple[str, ...]]:
    """Who sits together: every `seats` of the players, or, when that is more than MAX_LINEUPS, the cyclic
    lineups (players i, i + 1, ..., i + k - 1, modulo their number), one starting at each player: every
    player in k of them, each lineup overlapping the next, so one fit still links them all."""
    if math.comb(len(players), seats) <= MAX_LINEUPS:
        return list(combinations(players, seats))
    n = len(players)
    return [tuple(players[(i + j) % n] for j in range(seats)) for i in range(n)]


def free_for_all_schedule(config: Experiment, best: dict[str, str], seats: int) -> list[FreeForAllGame]:
    """Fresh-seed free-for-all games of the arms' bests and the ladder members (`lineups`) in a competitive
    game of more than two seats: each lineup plays ffa_games rotations of its seats, k games each, so every
    player sits in every seat equally often (the Plackett-Luce fit pools seats). None with two seats or in a
    cooperative game."""
    ev = config.evaluation
    if seats <= 2 or ev.kind != "competitive":
        return []
    schedule: list[FreeForAllGame] = []
    for lineup in lineups([*best.values(), *ev.ladder], seats):
        for _ in range(ev.ffa_games):
            for turn in range(seats):
                seed = seeds.game_seed(config.seed, "free_for_all", len(schedule))
                schedule.append(FreeForAllGame(seed, lineup[turn:] + lineup[:turn]))
    return schedule


def teamwork_schedule(config: Experiment, best: dict[str, str], seats: int) -> list[TeamworkGame]:
    """Fresh-seed ad-hoc team games in a cooperative game: each arm's best in each seat in turn, every
    other seat held by one partner, each of the other arms' bests and the ladder members, teamwork_games
    games a seat. They take the free_for_all stage's seeds, unused in a cooperative game (`seeds`). Game k of
    (partner, seat) has the same seed whoever the best is, so the bests meet the same scenarios with the
    same partners in the same seats: their team returns compare game by game. None in other games."""
    ev = config.evaluation
    if ev.kind != "cooperative":
        return []
    pool = [*best.values(), *ev.ladder]
    schedule = []
    for arm, chosen in best.items():
        for p, partner in enumerate(pool):
            if partner == chosen:
                continue
            for seat in range(seats):
                for k in range(ev.teamwork_games):
                    index = (p * seats + seat) * ev.teamwork_games + k
                    seed = seeds.game_seed(config.seed, "free_for_all", index)
                    schedule.append(TeamworkGame(seed, arm, chosen, partner, seat, seats))
    return schedule


def play_teamwork_schedule(schedule: list[TeamworkGame], play: PlayFreeForAll) -> pd.DataFrame:
    """The games played by `play` (a player per seat, each seat's return), tidy: one row per game with its
    team return, the mean over seats (in a cooperative game every seat's reward is the team's)."""
    if schedule:
        rewards, lengths = play([(g.seed, g.players) for g in schedule])
    else:
        rewards, lengths = np.zeros((0, 1), np.float32), np.zeros(0, np.int64)
    return pd.DataFrame(
        {
            "seed": np.array([g.seed for g in schedule], np.int64),
            "best": pd.Series([g.best for g in schedule], dtype=str),
            "arm": pd.Series([g.arm for g in schedule], dtype=str),
            "partner": pd.Series([g.partner for g in schedule], dtype=str),
            "seat": np.array([g.seat for g in schedule], np.int64),
            "team_return": rewards.mean(1),
            "length": lengths,
        }
    )


def curve_schedule(config: Experiment, checkpoints: Sequence[tuple[str, str]]) -> list[Game]:
    """Every learning-curve checkpoint, given as (player, arm), against random."""
    schedule: list[Game] = []
    for player, arm in checkpoints:
        games = config.evaluation.curve_games
        schedule += pairing(config.seed, "curve", arm, player, "random", games, len(schedule))
    return schedule


def run(config: Experiment, play: Play, play_free_for_all: PlayFreeForAll) -> Evaluation:
    """Choose each arm's best on selection games, then play every held-out game: two-sided ones by `play`,
    free-for-all and ad-hoc team ones (a player per seat) by `play_free_for_all`."""
    roles = judged_roles(config)
    selection = play_schedule(selection_schedule(config), play, config.payoff_bound, roles)
    best, ranked = {}, {}
    for arm in config.arms:
        games = selection[selection.arm == arm.name]
        best[arm.name], ranked[arm.name] = select_best(games, arm.agent_ids, arm.candidates)
    held_out = play_schedule(held_out_schedule(config, best), play, config.payoff_bound, roles)
    seats = config.env_spec().seats
    arm_of = {agent: arm for arm, agents in arm_agents(config).items() for agent in agents}
    schedule = free_for_all_schedule(config, best, seats)
    free_for_all = play_free_for_all_schedule(schedule, play_free_for_all, arm_of)
    teamwork = play_teamwork_schedule(teamwork_schedule(config, best, seats), play_free_for_all)
    matches = pd.concat([selection, held_out], ignore_index=True)
    return Evaluation(matches, best, ranked, free_for_all, teamwork)
