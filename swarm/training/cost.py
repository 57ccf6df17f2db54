"""What a round of training can cost in the budget's unit: the bound the arm core sizes rounds by.

Under `budget.unit: agent_steps` a round of T agent-steps costs exactly T. Under `flops` its cost is known
only once it is played (how often the opponents move, how many games are open at its end), so the arm core
sizes each round by an upper bound affine in T, and no round can take an agent past its share:

    charged(T) <= per_step * T + per_round

Derivation, for an agent of an arm whose actor has layer sizes A and critic C (the arm's network), E game
slots (`ppo.envs`, all shards together) and K epochs; F(s) and B(s) are a forward and a backward pass of one
row (`players.network.forward_flops`, `backward_flops`; both linear in the rows). What a round charges
(`Agent.train_round`) is the sum of:
- the learner's moves: an actor forward per agent-step, T F(A) (`rollout.Round.learner_moves`);
- the values: a critic forward per transition and per transition open at the round's end, (T + open) F(C),
  with open <= E S, S the seats an agent's transitions may come from in one game: 1, or 2 where it learns
  from every seat its current self fills (`opponents.every_seat`) (`Round.values`);
- the opponents' moves, O F(A): every training opponent is a snapshot of an agent of the same arm (an
  interaction `Key`), so it has the arm's actor, and search players never train anyone. In a game of two
  seats that strictly alternate and whose seat 0 opens every game (`ALTERNATING`), with the learner's seat
  swapped at each new game of a slot (`Round.step`), at most two opponent moves of a slot fall before each
  of its learner moves of the round, after the one before (a reply that ends a game, and the opening move
  of the next, which a game the reply ends is followed by only if the learner had opened it), and at most
  two after its last (the same two, before the round's last `collect` pass leaves the slot out), or one
  in a slot where the learner did not move: O <= 2T + 2E. Where the learner fills both seats of a slot
  (`every_seat`), all its moves there are transitions but for at most one after the round's last, before
  the other seat's open transition closes (`Round.finish`): within the same bound;
- the update: K epochs over exactly the T rows, each a forward and a backward of both networks,
  K T (F(A) + B(A) + F(C) + B(C)) (`ppo.update`).
So per_step = 3 F(A) + F(C) + K (F(A) + B(A) + F(C) + B(C)) and per_round = E (2 F(A) + S F(C)). The learner's
moves, its values and its update are charged exactly, at least `least_per_step` T; only the opponents'
moves (about T, not 2T, in long games) and the open games are bounded loosely, so on the default network
the bound is within 10% of the charge of a full batch (`tests/test_cost.py`).

An agent stops when its remaining share is below per_step + per_round, so it leaves at most
`slack` = per_step + per_round - 1 unspent: 0 under agent_steps, which takes the exact remainder.
"""

from __future__ import annotations

from dataclasses import dataclass

from swarm import envs, interaction
from swarm.config import PPO, Experiment
from swarm.players.network import backward_flops, forward_flops

# Games of two seats that strictly alternate, seat 0 opening every game, both id forms: the opponents' moves
# of a round are bounded only in these (see above).
ALTERNATING = frozenset(
    name
    for game, version in (("connect_four", 3), ("tictactoe", 3), ("go", 5), ("chess", 6))
    for name in (f"classic/{game}-v{version}", f"pettingzoo.classic.{game}_v{version}")
)

_specs: dict[str, envs.EnvSpec] = {}


@dataclass(frozen=True)
class Cost:
    """What agent-steps cost in the binding unit, for one arm's agents."""

    per_step: int  # a round of T agent-steps costs at most per_step * T + per_round
    per_round: int
    least_per_step: int  # and at least least_per_step * T
    per_move: int  # one move of a selection game (an actor forward)

    @property
    def slack(self) -> int:
        """The most an agent can leave of its share unspent."""
        return self.per_step + self.per_round - 1

    def bound(self, steps: int) -> int:
        """The most a round of `steps` agent-steps can cost."""
        return self.per_step * steps + self.per_round if steps else 0

    def steps(self, spend: int) -> int:
        """About the agent-steps `spend` buys: at the bound, which per_round aside is within 10% of the charge
        (exact under agent_steps); for wall-time estimates and round counts."""
        return spend // self.per_step


STEPS = Cost(per_step=1, per_round=0, least_per_step=1, per_move=1)  # budget.unit: agent_steps


def spec(config: Experiment) -> envs.EnvSpec:
    """The file's game's shape, described once a process (it builds the game)."""
    key = repr((config.env, sorted(config.env_kwargs.items()), config.env_roles))
    if key not in _specs:
        _specs[key] = config.env_spec()
    return _specs[key]


def of(config: Experiment, arm_index: int) -> Cost:
    """What an agent-step of arm `arm_index` costs in `budget.unit`. Raises ValueError where a FLOP budget
    cannot be bounded: a game not known to alternate seats."""
    if config.budget.unit == "agent_steps":
        return STEPS
    if config.env not in ALTERNATING:
        raise ValueError(
            f"budget.unit: flops binds only where the opponents' moves in a round can be bounded, in games "
            f"whose seats strictly alternate with seat 0 opening; {config.env!r} is not known to (known: "
            f"{', '.join(sorted(a for a in ALTERNATING if '/' in a))}); use budget.unit: agent_steps"
        )
    own = config.for_arm(arm_index)
    itself = interaction.MODES[
        config.arms[arm_index].interaction
    ].meets_itself  # else every_seat does nothing
    return price(config, own.network.hidden, own.ppo, own.opponents.every_seat and itself)


def price(config: Experiment, hidden: list[int], ppo: PPO, every_seat: bool = False) -> Cost:
    """What an agent-step costs in FLOPs for a network of `hidden` widths trained with `ppo`, in the file's
    game (the derivation above); `every_seat`: the agent learns from every seat its current self fills."""
    shape = spec(config)
    actor = [shape.obs_dim, *hidden, shape.actions]
    critic = [shape.obs_dim, *hidden, 1]
    act, value = forward_flops(actor, 1), forward_flops(critic, 1)
    update = ppo.epochs * (act + backward_flops(actor, 1) + value + backward_flops(critic, 1))
    return Cost(
        per_step=3 * act + value + update,
        per_round=ppo.envs * (2 * act + (shape.seats if every_seat else 1) * value),
        least_per_step=act + value + update,
        per_move=act,
    )
