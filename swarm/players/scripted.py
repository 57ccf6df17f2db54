"""Scripted players: a game's obvious policy, written down, as a ladder rung that never learns.

Outside the board games no search can play honestly, so without a script an MPE2 or hold'em agent is rated
against random alone. Where a game has an obvious policy a few lines write down it is a fixed reference above
random, the same in every run and trained by no one, so ratings against it compare across runs and budget
files:

- MPE2's simple_spread: every agent computes the same greedy agent-to-landmark matching from the absolute
  positions its observation recovers (nearest pair first, ties by position, so the matching is one whatever
  seat computes it) and steers to its landmark, braking by its velocity.
- MPE2's simple_tag: a predator (`adversary_*`) runs at the nearest prey, leading it by its velocity; a prey
  (`agent_*`) runs from the nearest predator, pulled back towards the centre as it nears the edge, where the
  env charges it for leaving (`bound` in its reward: from 0.9 out on either axis).
- Leduc hold'em: rlcard's first rule agent, raise while it may, else call or check, never fold.
- Limit Texas hold'em, for any number of players: rlcard's rule agent as far as the observation shows it
  (it merges the hand with the board): bet strong starting hands and made hands, give up weak ones.

A script reads the observation layout of its env (`mpe2/<game>/<game>.py`, `observation`) as the env's
keywords shape it, and a seat's role from the one-hot `swarm.envs.aec.Padding` appends where roles differ.
Actions are MPE's Discrete moves (0 still, 1 left, 2 right, 3 down, 4 up), or a point of its Box of
continuous actions, whose force is (a[2] - a[1], a[4] - a[3]) (`SimpleEnv._set_action`). Hold'em scripts
read rlcard's observation (`_extract_state` of `rlcard/envs/leducholdem.py`, `limitholdem.py`) and play the
first legal action of what they mean to do (`PREFERENCES`): never anything the mask forbids.
`SCRIPTS` is the registry of games with a script; the ladder calls the member `scripted`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import torch

from swarm.envs.spec import Box, EnvSpec
from swarm.players import OBSERVATION, Policy

BRAKE = 0.25  # s: aim where the agent would coast to (MPE damps speed by 0.25 a step); 0.2-0.35 play alike
GAIN = 10.0  # continuous force per unit of distance, saturating at the Box's 1 from 0.1 away
STILL = 0.02  # a discrete agent this close to its aim stays put instead of oscillating about it
LEAD = 0.3  # s: a predator aims where its prey will be
EDGE = 0.6  # a prey beyond this on an axis is pulled back towards the centre...
PULL = 6.0  # ...this hard per unit beyond it, against the flight's unit push
PARTIAL = ("num_agent_neighbors", "num_landmark_neighbors")  # MPE2's partial observability


def steer(aim: torch.Tensor, box: Box | None) -> torch.Tensor:
    """MPE actions that push each row towards `aim` [B, 2] (a displacement): the Discrete move along its
    larger axis (none once close), or Box forces proportional to it, saturating at the Box."""
    dx, dy = aim[:, 0], aim[:, 1]
    if box is None:
        along_x = dx.abs() >= dy.abs()
        move = torch.where(along_x, torch.where(dx > 0, 2, 1), torch.where(dy > 0, 4, 3))
        return torch.where(aim.norm(dim=1) < STILL, 0, move).long()
    push = (GAIN * aim).float()
    actions = torch.zeros(len(aim), 5)
    actions[:, 1], actions[:, 2] = (-push[:, 0]).clamp(0, 1), push[:, 0].clamp(0, 1)
    actions[:, 3], actions[:, 4] = (-push[:, 1]).clamp(0, 1), push[:, 1].clamp(0, 1)
    return actions.clamp(torch.tensor(box.low), torch.tensor(box.high))


def positional_order(points: torch.Tensor) -> torch.Tensor:
    """Indices sorting each row's points [B, K, 2] by x, then y: an order that no seat's numbering sets."""
    by_y = points[..., 1].argsort(dim=1, stable=True)
    xs = points[..., 0].gather(1, by_y)
    return by_y.gather(1, xs.argsort(dim=1, stable=True))


def matching(agents: torch.Tensor, landmarks: torch.Tensor) -> torch.Tensor:
    """Each agent's landmark [B, N, 2] by greedy matching: the nearest unmatched pair first, ties to the
    pair first in positional order. It depends only on the positions as sets, not on who lists them."""
    batch, n = agents.shape[:2]
    rows = torch.arange(batch)
    by_agent, by_landmark = positional_order(agents), positional_order(landmarks)
    ours = agents.gather(1, by_agent[..., None].expand(-1, -1, 2))
    theirs = landmarks.gather(1, by_landmark[..., None].expand(-1, -1, 2))
    distance = torch.cdist(ours, theirs)
    chosen = torch.zeros(batch, n, dtype=torch.long)
    for _ in range(n):
        pair = distance.flatten(1).argmin(dim=1)  # the first of equal distances: ties by position
        agent, landmark = pair // theirs.shape[1], pair % theirs.shape[1]
        chosen[rows, agent] = landmark
        distance[rows, agent, :] = torch.inf
        distance[rows, :, landmark] = torch.inf
    target = theirs.gather(1, chosen[..., None].expand(-1, -1, 2))  # in the agents' positional order
    return torch.empty_like(target).scatter_(1, by_agent[..., None].expand(-1, -1, 2), target)


@dataclass(frozen=True)
class Spread:
    """simple_spread's script: cover the landmarks one agent each. Its observation is [own velocity, own
    position, each landmark's position relative to it, each other agent's, their communication]."""

    n: int  # agents, and landmarks
    box: Box | None
    sees: ClassVar[str] = OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        obs = obs.double()
        velocity, position = obs[:, 0:2], obs[:, 2:4]
        return steer(self.target(obs) - position - BRAKE * velocity, self.box)

    def target(self, obs: torch.Tensor) -> torch.Tensor:
        """Each row's landmark [B, 2], absolute: its own in the matching of every agent it sees."""
        obs = obs.double()
        position = obs[:, 2:4]
        landmarks = position[:, None] + obs[:, 4 : 4 + 2 * self.n].unflatten(1, (self.n, 2))
        others = position[:, None] + obs[:, 4 + 2 * self.n : 2 + 4 * self.n].unflatten(1, (self.n - 1, 2))
        return matching(torch.cat([position[:, None], others], dim=1), landmarks)[:, 0]

    def act_flops(self, batch: int) -> int:
        return 0


@dataclass(frozen=True)
class Tag:
    """simple_tag's script: predators chase the nearest prey, prey flee the nearest predator. Every agent's
    observation is [own velocity, own position, each obstacle's position relative to it, each other agent's
    (predators first), each other prey's velocity]; `predator[k]`: whether role k of the one-hot is one."""

    predators: int
    prey: int
    obstacles: int
    predator: tuple[bool, ...]  # per role, in `EnvSpec.role_names` order, the one-hot's columns
    box: Box | None
    sees: ClassVar[str] = OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        obs = obs.double()
        hunts = torch.tensor(self.predator)[obs[:, -len(self.predator) :].argmax(dim=1)]
        velocity, position, others = obs[:, 0:2], obs[:, 2:4], 4 + 2 * self.obstacles
        # a predator's others: the other predators, then every prey; then the prey's velocities
        first = others + 2 * (self.predators - 1)
        prey = obs[:, first : first + 2 * self.prey].unflatten(1, (self.prey, 2))
        speeds = obs[:, first + 2 * self.prey : first + 4 * self.prey].unflatten(1, (self.prey, 2))
        near = prey.norm(dim=2).argmin(dim=1)
        rows = torch.arange(len(obs))
        chase = prey[rows, near] + LEAD * speeds[rows, near] - BRAKE * velocity
        # a prey's others: every predator first
        predators = obs[:, others : others + 2 * self.predators].unflatten(1, (self.predators, 2))
        threat = predators[rows, predators.norm(dim=2).argmin(dim=1)]
        away = -threat / threat.norm(dim=1, keepdim=True).clamp_min(1e-6)
        home = -position.sign() * PULL * (position.abs() - EDGE).clamp_min(0)
        return steer(torch.where(hunts[:, None], chase, away + home), self.box)

    def act_flops(self, batch: int) -> int:
        return 0


# rlcard's hold'em actions in its order (`env.actions`), which PettingZoo's action mask follows
CALL, RAISE, FOLD, CHECK = 0, 1, 2, 3
# what a hold'em script means to do, each a preference order over the actions: it plays the first legal one
BET, STAY, PASS = 0, 1, 2
PREFERENCES = (
    (RAISE, CALL, CHECK, FOLD),  # bet: raise, or call once the round's raises are spent (rlcard's fallback)
    (CALL, RAISE, CHECK, FOLD),  # stay in: call a bet, raise where there is none to call (rlcard's fallback)
    (CHECK, FOLD, CALL, RAISE),  # give up: fold, but never a check that costs nothing
)
ACE, TEN = 0, 9  # limit hold'em's ranks run A, 2, ..., T, J, Q, K in each suit's 13 columns
SIX = 5  # a card above 5 keeps rlcard's agent in after the flop


def choose(intent: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Each row's first legal action in the preference order of its intent [B] (`PREFERENCES`)."""
    orders = torch.tensor(PREFERENCES)[intent]
    legal = mask.bool().gather(1, orders).int()
    return orders.gather(1, legal.argmax(dim=1, keepdim=True)).squeeze(1)  # argmax: the first legal


@dataclass(frozen=True)
class Leduc:
    """Leduc hold'em's script, rlcard's `LeducHoldemRuleAgentV1`: raise while the round allows, else call,
    else check; it never folds, and reads no card. It is the stronger of rlcard's two rule agents against
    random, which folds a third or more of the bets it faces. Measured against random, big blinds a hand over
    seeds 0..399 in each seat: V1 +1.21; V2 (raise a King or a pair with the public card, check a Queen, fold
    the rest) -0.52 as written (it reads the suit for the rank, so folds every hand at once), -0.25 read as
    its comments mean, +0.12 never folding a free check, +0.44 calling with a Queen besides."""

    sees: ClassVar[str] = OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        return choose(torch.full((len(obs),), BET), mask)

    def act_flops(self, batch: int) -> int:
        return 0


@dataclass(frozen=True)
class Texas:
    """Limit Texas hold'em's script, after rlcard's `LimitholdemRuleAgentV1`, for any number of players. Its
    observation is one bit per card of the hand and the board together ([4 suits, 13 ranks from the ace]),
    then each round's count of raises. Before the flop the two cards are the hand, and it plays rlcard's rule:
    bet a pair, an ace with a ten or better or of the same suit, or two cards from ten to king; give up the
    rest. After the flop it cannot tell its cards from the board's, so it reads the cards together: bet two
    pair or better (trips, a straight, a flush: what rlcard raises for, a pocket pair the board matched and
    the straights and flushes its ace hands hope for), stay in while any card is above 5 (rlcard calls
    there), give up the rest. Against random, big blinds a hand: +0.54 heads-up (seeds 0..399 in each seat),
    +1.61 at a table of four (seeds 0..199 in each)."""

    sees: ClassVar[str] = OBSERVATION

    def act(self, obs: torch.Tensor, mask: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        cards = obs[:, :52].unflatten(1, (4, 13)) > 0
        ranks, suits = cards.sum(dim=1), cards.sum(dim=2)  # [B, 13] and [B, 4]
        most, suited = ranks.max(dim=1).values, suits.max(dim=1).values
        seen, high, ace = ranks > 0, ranks[:, TEN:].sum(dim=1), ranks[:, ACE] > 0  # high: ten to king
        dealt = (most > 1) | (ace & ((high > 0) | (suited > 1))) | (high > 1)
        runs = torch.cat([seen, seen[:, :1]], dim=1).unfold(1, 5, 1).all(dim=2).any(dim=1)  # ace high or low
        made = (most > 2) | ((ranks > 1).sum(dim=1) > 1) | runs | (suited > 4)
        alive = ace | seen[:, SIX:].any(dim=1)
        flop = torch.where(made, BET, torch.where(alive, STAY, PASS))
        return choose(torch.where(ranks.sum(dim=1) > 2, flop, torch.where(dealt, BET, PASS)), mask)

    def act_flops(self, batch: int) -> int:
        return 0


def spread(spec: EnvSpec) -> Spread:
    kwargs = keywords(spec)
    n = int(kwargs.get("N", 3))
    laid_out(spec, 4 + 2 * n + 4 * (n - 1))
    return Spread(n, spec.box)


def tag(spec: EnvSpec) -> Tag:
    kwargs = keywords(spec)
    predators, prey = int(kwargs.get("num_adversaries", 3)), int(kwargs.get("num_good", 1))
    obstacles = int(kwargs.get("num_obstacles", 2))
    if predators < 1 or prey < 1:
        raise ValueError(
            f"evaluation.ladder: scripted plays {spec.env_id!r} with predators and prey, and env_kwargs give "
            f"{predators} adversaries and {prey} good agents; give both at least one, or remove scripted "
            "from evaluation.ladder"
        )
    # seats are `possible_agents`: the adversaries first; a role must be all predators or all prey
    hunting = [seat < predators for seat in range(spec.seats)]
    predator = tuple(
        {hunting[s] for s, mine in enumerate(spec.roles) if mine == role} for role in spec.role_names
    )
    if any(len(kinds) > 1 for kinds in predator):
        raise ValueError(
            f"evaluation.ladder: scripted reads a seat's role to know whether it hunts, and env_roles gives "
            f"one role to predators and prey of {spec.env_id!r}; keep adversaries and agents in different "
            "roles, or remove scripted from evaluation.ladder"
        )
    seen = 4 + 2 * obstacles + 2 * (predators + prey - 1)
    laid_out(spec, seen + 2 * prey + len(predator))
    return Tag(predators, prey, obstacles, tuple(kinds == {True} for kinds in predator), spec.box)


def leduc(spec: EnvSpec) -> Leduc:
    laid_out(spec, 36 + len(spec.role_names), "rlcard")  # env_roles append a one-hot the script skips
    return Leduc()


def texas(spec: EnvSpec) -> Texas:
    laid_out(spec, 72 + len(spec.role_names), "rlcard")  # the same layout for any num_players
    return Texas()


def keywords(spec: EnvSpec) -> dict[str, Any]:
    """The env's keywords, refusing those that hide agents or landmarks from the script."""
    kwargs = dict(spec.env_kwargs)
    if hidden := [k for k in PARTIAL if kwargs.get(k) is not None]:
        raise ValueError(
            f"evaluation.ladder: scripted reads every agent and landmark of {spec.env_id!r}, and env_kwargs "
            f"{', '.join(hidden)} show each agent only its nearest; remove {' and '.join(hidden)} from "
            "env_kwargs, or scripted from evaluation.ladder"
        )
    return kwargs


def laid_out(spec: EnvSpec, size: int, package: str = "mpe2") -> None:
    """Refuse an observation of another size than the script reads: a `package` whose layout changed."""
    if spec.obs_dim != size:
        raise ValueError(
            f"evaluation.ladder: scripted reads observations of {size} numbers in {spec.env_id!r}, and its "
            f"seats see {spec.obs_dim}: this {package} lays them out otherwise; remove scripted from "
            "evaluation.ladder"
        )


# The registry: env id -> the script for its spec. MPE2's games have one id form, a module path (PettingZoo's
# own registry no longer holds MPE); PettingZoo's classic games two, its registry id and its module path.
SCRIPTS: dict[str, Callable[[EnvSpec], Policy]] = {
    "mpe2.simple_spread_v3": spread,
    "mpe2.simple_tag_v3": tag,
    "classic/leduc_holdem-v4": leduc,
    "pettingzoo.classic.leduc_holdem_v4": leduc,
    "classic/texas_holdem-v4": texas,
    "pettingzoo.classic.texas_holdem_v4": texas,
}


def build(spec: EnvSpec) -> Policy:
    """The script of `spec`'s game (`SCRIPTS`); ValueError, naming the fix, for a game without one."""
    if spec.env_id not in SCRIPTS:
        raise ValueError(unscripted(spec.env_id))
    return SCRIPTS[spec.env_id](spec)


def unscripted(env_id: str) -> str:
    """Why scripted cannot play `env_id`, and the fix."""
    return (
        f"evaluation.ladder: scripted plays only games with a script ({', '.join(SCRIPTS)}), not {env_id!r}; "
        "remove scripted from evaluation.ladder"
    )
