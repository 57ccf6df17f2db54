"""Playing games in lockstep: `Slots.collect` gathers a learner's transitions, `play` runs evaluation games.

At every step each player does one batched forward over all the games where it is to move, never one
forward per game, and the games that end restart together: nothing in a step loops over games. A game has
`spec.seats` seats (k). A learner fills one seat of each game slot, its own; its seat moves on by one,
game by game, so over k games it plays every seat once. Its opponents fill the other k - 1 seats, named by
their place after the learner's seat: place j is seat (learner's + 1 + j) % k. A place whose opponent is
`SELF` is filled by the learner too (its current self, `opponents.every_seat`), which then learns from that
seat's moves as from its own: one network sharing its parameters across the seats it fills, as MAPPO and
IPPO share one across a team. Each seat it fills is a chain of transitions of its own.

A transition's reward is everything its seat receives from its move until that seat's next move (so a loss
dealt by the opponent's reply lands on the learner's last move).

An agent's games persist from round to round, as in a vector env. A round's `collect` takes its games up where
the last round left them and stops at exactly `target` transitions; the game then goes on wherever a seat the
learner fills awaits its move's outcome, until that seat is to move again, and the value estimate there
bootstraps the seat's last transition (a game that ended is closed by its outcome; one cut by a time limit,
`GameBatch.truncated`, bootstraps from the seat's last view of it, since the game would have gone on). The
learner's moves after the round's last transition are not learned from; with one seat filled, every game
then stands at the learner's turn. The next round goes on from those positions with its own opponents: a game
running at a round's end changes opponent for the rest of its moves, and its score counts in the round it ends
in. So no game is cut short at a round's end, however many games an agent plays at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import torch

from swarm.envs import EnvError, EnvSpec, GameBatch
from swarm.players import GAME, Player
from swarm.players.network import ActorCritic, forward_flops

Seeds = Callable[[int], np.ndarray]  # k -> seeds of the next k games to start
SELF = -1  # the opponent index of a place the learner fills itself


@dataclass
class Batch:
    """One round of a learner's transitions, in the order they were taken.

    `next_index[i]` is the following transition of the same seat of the same game (-1 if none); a
    transition with neither a successor nor `done` was cut (at the round's end, or by a time limit) and
    carries its `bootstrap` value.
    """

    obs: np.ndarray
    mask: np.ndarray
    action: np.ndarray
    logp: np.ndarray
    value: np.ndarray
    reward: np.ndarray
    done: np.ndarray
    next_index: np.ndarray
    bootstrap: np.ndarray

    @classmethod
    def empty(cls, size: int, spec: EnvSpec) -> Batch:
        """Room for `size` transitions of `spec`'s game: actions int64 [size], or a Box's float32 [size, dim]
        (as sampled, unclipped: their log-probabilities are of these)."""
        return cls(
            obs=np.zeros((size, spec.obs_dim), np.float32),
            mask=np.zeros((size, spec.mask_width), bool),
            action=spec.zero_actions(size),
            logp=np.zeros(size, np.float32),
            value=np.zeros(size, np.float32),
            reward=np.zeros(size, np.float32),
            done=np.zeros(size, bool),
            next_index=np.full(size, -1, np.int64),
            bootstrap=np.zeros(size, np.float32),
        )

    @classmethod
    def concat(cls, parts: Sequence[Batch]) -> Batch:
        """The parts end to end, each part's `next_index` shifted to where its rows now stand; one part as
        it is."""
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0, *(len(p.reward) for p in parts[:-1])])
        merged = {
            f.name: np.concatenate([getattr(p, f.name) for p in parts])
            for f in fields(cls)
            if f.name != "next_index"
        }
        merged["next_index"] = np.concatenate(
            [np.where(p.next_index >= 0, p.next_index + o, -1) for p, o in zip(parts, offsets, strict=True)]
        )
        return cls(**merged)

    def head(self, size: int) -> Batch:
        """The first `size` rows, as views, cleared for a new round."""
        batch = Batch(**{f.name: getattr(self, f.name)[:size] for f in fields(self)})
        for name, value in (("reward", 0), ("done", False), ("next_index", -1), ("bootstrap", 0)):
            getattr(batch, name)[:] = value
        return batch


@dataclass
class RolloutStats:
    flops: int
    games: int  # games finished this round
    # learner's mean score in them against each other seat an opponent filled: 1 for a higher return, 0.5
    # equal, 0 lower (with two seats: win, draw, loss); nan if none finished
    score: float
    game_length: float
    # by the round's opponent index: the seats it filled in games finished and the learner's scores against
    # those seats summed, the results an interaction mode may weigh opponents by
    opponent_games: np.ndarray
    opponent_score: np.ndarray

    @classmethod
    def combine(cls, parts: Sequence[RolloutStats]) -> RolloutStats:
        """Several parts' stats as one; a single part as it is."""
        if len(parts) == 1:
            return parts[0]
        games = sum(p.games for p in parts)
        finished = [p for p in parts if p.games]
        opponent_games, opponent_score = (
            sum(p.opponent_games for p in parts),
            sum(p.opponent_score for p in parts),
        )
        return cls(
            flops=sum(p.flops for p in parts),
            games=games,
            score=mean_score(opponent_games, opponent_score),  # a part's places, not its games, weigh it
            game_length=sum(p.game_length * p.games for p in finished) / games if games else float("nan"),
            opponent_games=opponent_games,
            opponent_score=opponent_score,
        )


def act_grouped(
    players: Sequence[Player],
    who: np.ndarray,
    rows: np.ndarray,
    games: GameBatch,
    generator: torch.Generator,
) -> tuple[np.ndarray, int]:
    """Actions in games `rows` whose player index is `who`: one batched call per distinct player.

    A player that sees observations gets the games' observations and masks; one that sees the game itself
    (a searcher) gets the games' PettingZoo envs, which only a backend that keeps them has
    (`GameBatch.envs`). Returns the actions and the networks' forward FLOPs.
    """
    actions = games.spec.zero_actions(len(who))
    flops = 0
    for p in np.unique(who):
        sel = np.flatnonzero(who == p)
        mine, player = rows[sel], players[p]
        if player.sees == GAME:
            if games.envs is None:
                raise EnvError(
                    f"{type(player).__name__} searches the game itself, but these games are stepped without "
                    "PettingZoo envs; play them on the pettingzoo backend"
                )
            actions[sel] = player.search([games.envs[i] for i in mine], generator)
            continue
        obs, mask = torch.from_numpy(games.obs[mine]), torch.from_numpy(games.mask[mine])
        actions[sel] = player.act(obs, mask, generator).numpy()
        flops += player.act_flops(len(mine))
    return actions, flops


def mean_score(opponent_games: np.ndarray, opponent_score: np.ndarray) -> float:
    """The learner's mean score over the places opponents filled (not those it filled itself), nan if none;
    scores are halves, so the per-opponent sums add up exactly: the same mean as one running sum."""
    places = int(opponent_games.sum())
    return float(opponent_score.sum()) / places if places else float("nan")


def score(own: np.ndarray, other: np.ndarray) -> np.ndarray:
    """1 for the higher return, 0.5 for equal, 0 for the lower: win/draw/loss in a zero-sum game, and in a
    game of k seats the pairwise comparisons a finishing order by return breaks into."""
    return 0.5 + 0.5 * np.sign(np.asarray(own, np.float64) - other)


class Slots:
    """An agent's games, played in lockstep, and its transition buffer: both kept from round to round.

    Slot i's learner seat starts at (first + i) % k, so the slots open with the learner in every seat alike
    (`first`: the slot's number among all of an agent's slots, where a shard holds some of them).
    """

    def __init__(self, games: GameBatch, capacity: int, first: int = 0):
        self.games, self.capacity, self.seats = games, capacity, games.spec.seats
        self.buffer = Batch.empty(capacity, games.spec)
        self.learner_seat = (first + np.arange(len(games))) % self.seats
        self.returns = np.zeros((len(games), self.seats), np.float32)  # each running game's rewards, by seat
        self.started = False
        self.seed = np.zeros(len(games), np.int64)  # each running game's seed and its moves so far (as the
        self.moves = games.spec.zero_actions(len(games), 64)  # env got them): all it takes to rebuild it

    def start(self, slots: np.ndarray, seeds: np.ndarray) -> None:
        """New games in `slots`."""
        self.games.reset_many(slots, seeds)
        self.seed[slots] = seeds

    def step(self, movers: np.ndarray, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = self.games.length[movers]
        if len(at) and at.max() >= self.moves.shape[1]:
            self.moves = np.concatenate([self.moves, np.zeros_like(self.moves)], axis=1)
        self.moves[movers, at] = actions
        return self.games.step(movers, actions)

    def state(self) -> dict[str, np.ndarray]:
        """Where the games and seats stand between rounds, as arrays (a checkpoint holds them)."""
        return {
            "started": np.array(self.started),
            "seed": self.seed.copy(),
            "moves": self.moves[:, : int(self.games.length.max(initial=0))].copy(),
            "length": self.games.length.copy(),
            "learner_seat": self.learner_seat.copy(),
            "returns": self.returns.copy(),
        }

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Stand exactly where `state` was: each running game rebuilt from its seed by replaying its moves."""
        self.started = bool(state["started"])
        self.learner_seat[:], self.returns[:] = state["learner_seat"], state["returns"]
        if not self.started:
            return
        length, moves = np.asarray(state["length"]), np.asarray(state["moves"])
        self.start(np.arange(len(self.games)), np.asarray(state["seed"]))
        for t in range(int(length.max(initial=0))):
            movers = np.flatnonzero(length > t)
            self.step(movers, moves[movers, t])

    def collect(
        self,
        learner: ActorCritic,
        opponents: Sequence[Player],
        slot_opponent: np.ndarray,
        target: int,
        generator: torch.Generator,
        seeds: Seeds,
    ) -> tuple[Batch, RolloutStats]:
        """Play the learner against `opponents[slot_opponent[i, j]]` in place j of slot i (`slot_opponent`
        [slots, seats - 1], or flat, slot by slot; `SELF`: the learner fills it) until `target` transitions.

        The batch is a view of the buffer: it holds until the next `collect`, which overwrites it.
        """
        if not 0 < target <= self.capacity:
            raise ValueError(f"target {target} is outside 1..{self.capacity}, the buffer's capacity")
        games, slot_opponent = self.games, np.asarray(slot_opponent).reshape(len(self.games), -1)
        if not self.started:
            self.start(np.arange(len(games)), seeds(len(games)))
            self.started = True
        round_ = Round(self, self.buffer.head(target), learner, opponents, slot_opponent, generator, seeds)
        while round_.count < target:
            round_.opponents_move(np.flatnonzero(~round_.fills(games.to_move)))
            round_.learner_moves(np.flatnonzero(round_.fills(games.to_move))[: target - round_.count])
        round_.finish()
        round_.values()
        return round_.batch, round_.stats()


class Round:
    """One round of `Slots.collect`: the batch being filled and, in each game, each learner seat's transition
    awaiting its reward."""

    def __init__(
        self,
        slots: Slots,
        batch: Batch,
        learner: ActorCritic,
        opponents: Sequence[Player],
        slot_opponent: np.ndarray,
        generator: torch.Generator,
        seeds: Seeds,
    ):
        self.slots, self.games, self.batch = slots, slots.games, batch
        self.learner, self.opponents, self.slot_opponent = learner, opponents, slot_opponent
        self.generator, self.seeds = generator, seeds
        games = len(self.games)
        # which places the learner fills, by place after its own seat: the last (k - 1 after it) is its own
        self.filled = np.concatenate([slot_opponent == SELF, np.ones((games, 1), bool)], axis=1)
        self.pending = np.full((games, slots.seats), -1)  # each seat's last transition in each game, if any
        self.cut: list[tuple[np.ndarray, np.ndarray]] = []  # truncated games' last transitions, final views
        # transitions closed after the round's last one: their games, indices and their seats' views then
        self.ends: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.count, self.flops = 0, 0
        self.finished, self.length_sum = 0, 0
        self.opponent_games = np.zeros(len(opponents), np.int64)
        self.opponent_score = np.zeros(len(opponents))

    def fills(self, seats: np.ndarray) -> np.ndarray:
        """Whether the learner fills seat `seats[i]` of game i, for every game."""
        place = (seats - self.slots.learner_seat - 1) % self.slots.seats
        return self.filled[np.arange(len(seats)), place]

    def learner_moves(self, turn: np.ndarray) -> None:
        """The learner moves in games `turn`, each move a new transition of the seat to move."""
        if not len(turn):
            return
        seat = self.games.to_move[turn]
        batch, start, end = self.batch, self.count, self.count + len(turn)
        obs, mask = batch.obs[start:end], batch.mask[start:end]
        np.take(self.games.obs, turn, axis=0, out=obs)
        np.take(self.games.mask, turn, axis=0, out=mask)
        with torch.inference_mode():
            action, logp = self.learner.draw(torch.from_numpy(obs), torch.from_numpy(mask), self.generator)
            move = self.learner.head.to_env(action)  # a Box's clipped; the batch keeps the sample
        self.flops += forward_flops(self.learner.actor_sizes, len(turn))
        batch.action[start:end], batch.logp[start:end] = action.numpy(), logp.numpy()
        prev = self.pending[turn, seat]
        batch.next_index[prev[prev >= 0]] = np.arange(start, end)[prev >= 0]
        self.pending[turn, seat] = np.arange(start, end)
        self.count = end
        self.step(turn, move.numpy())

    def opponents_move(self, wait: np.ndarray) -> None:
        if not len(wait):
            return
        place = (self.games.to_move[wait] - self.slots.learner_seat[wait] - 1) % self.slots.seats
        actions, flops = act_grouped(
            self.opponents, self.slot_opponent[wait, place], wait, self.games, self.generator
        )
        self.flops += flops
        self.step(wait, actions)

    def step(self, movers: np.ndarray, actions: np.ndarray) -> None:
        """Play the moves, credit each seat's reward to its awaiting transition, and restart the games that
        end (closing their last transitions)."""
        slots, pending = self.slots, self.pending
        rewards, done = slots.step(movers, actions)
        slots.returns[movers] += rewards
        owner = pending[movers]
        own = owner >= 0
        self.batch.reward[owner[own]] += rewards[own]
        finished = movers[done]
        if not len(finished):
            return
        closed, seat = pending[finished], slots.learner_seat[finished]
        cut = self.games.truncated[finished]
        self.batch.done[closed[(closed >= 0) & ~cut[:, None]]] = True
        game, seats = np.nonzero((closed >= 0) & cut[:, None])
        if len(game):
            self.cut.append((closed[game, seats], self.games.final_obs[finished[game], seats]))
        pending[finished] = -1
        rows = np.arange(len(finished))[:, None]
        returns = slots.returns[finished]
        others = (seat[:, None] + 1 + np.arange(slots.seats - 1)) % slots.seats  # [finished, places]
        scores = score(returns[rows[:, 0], seat][:, None], returns[rows, others])
        met = self.slot_opponent[finished]
        np.add.at(self.opponent_games, met[met != SELF], 1)
        np.add.at(self.opponent_score, met[met != SELF], scores[met != SELF])
        self.finished += len(finished)
        self.length_sum += int(self.games.length[finished].sum())
        slots.returns[finished] = 0
        slots.learner_seat[finished] = (seat + 1) % slots.seats
        slots.start(finished, self.seeds(len(finished)))

    def finish(self) -> None:
        """After the round's last transition, play on in each game until every seat the learner fills that
        awaits its move's outcome is to move again, and close the transition there; the learner's moves
        meanwhile are not learned from."""
        games, pending, every = self.games, self.pending, np.arange(len(self.games))
        while True:
            here = pending[every, games.to_move]
            closing = np.flatnonzero(here >= 0)
            self.ends.append((closing, here[closing], games.obs[closing].copy()))
            pending[closing, games.to_move[closing]] = -1
            live = np.flatnonzero((pending >= 0).any(axis=1))
            if not len(live):
                return
            mine = self.fills(games.to_move)[live]
            if mine.any():
                actions, flops = act_grouped(
                    [self.learner], np.zeros(mine.sum(), int), live[mine], games, self.generator
                )
                self.flops += flops
                self.step(live[mine], actions)
            self.opponents_move(live[~mine])

    def values(self) -> None:
        """Value estimates of every transition and bootstraps of those closed after the round's last one and
        of the truncated ones, in two batched forwards."""
        game, ends, views = (np.concatenate(part) for part in zip(*self.ends, strict=True))
        order = np.argsort(game, kind="stable")
        index = np.concatenate([ends[order], *(i for i, _ in self.cut)])
        views = np.concatenate([views[order], *(obs for _, obs in self.cut)])
        with torch.inference_mode():
            self.batch.value[:] = self.learner.value(torch.from_numpy(self.batch.obs)).numpy()
            after = self.learner.value(torch.from_numpy(views)).numpy()
        self.batch.bootstrap[index] = after
        self.flops += forward_flops(self.learner.critic_sizes, self.count + len(index))

    def stats(self) -> RolloutStats:
        finished = self.finished
        return RolloutStats(
            flops=self.flops,
            games=finished,
            score=mean_score(self.opponent_games, self.opponent_score),
            game_length=self.length_sum / finished if finished else float("nan"),
            opponent_games=self.opponent_games,
            opponent_score=self.opponent_score,
        )


def sides(rewards: np.ndarray) -> np.ndarray:
    """Games of k seats as two sides, seats taken in turn (side 0: seats 0, 2, ...): [G, k] rewards to each
    side's mean return per seat [G, 2]. A mean, not a sum, so that in a game of odd k the side with the extra
    seat is not credited for it; with two seats, the rewards as they are."""
    return np.stack([rewards[:, 0::2].mean(1), rewards[:, 1::2].mean(1)], axis=1)


def play(
    games: GameBatch,
    players: Sequence[Player],
    seating: np.ndarray,
    seeds: Sequence[int],
    generator: torch.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Play game g with `players[seating[g, seat]]` in each seat, at most len(games) at once.

    Returns each game's total reward per seat [G, seats] and its length in moves [G].
    """
    total = len(seeds)
    rewards = np.zeros((total, games.spec.seats), np.float32)
    lengths = np.zeros(total, np.int64)
    slot_game = np.full(len(games), -1)
    started = min(len(games), total)
    games.reset_many(np.arange(started), seeds[:started])
    slot_game[:started] = np.arange(started)

    while (slot_game >= 0).any():
        live = np.flatnonzero(slot_game >= 0)
        who = seating[slot_game[live], games.to_move[live]]
        actions, _ = act_grouped(players, who, live, games, generator)
        step_rewards, done = games.step(live, actions)
        rewards[slot_game[live]] += step_rewards
        finished = live[done]
        lengths[slot_game[finished]] = games.length[finished]
        fresh = min(len(finished), total - started)
        games.reset_many(finished[:fresh], seeds[started : started + fresh])
        slot_game[finished[:fresh]] = np.arange(started, started + fresh)
        slot_game[finished[fresh:]] = -1
        started += fresh
    return rewards, lengths
