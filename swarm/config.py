"""Experiment configuration: pydantic models loaded from a budget file and validated at the door.

Every field carries a description (printed by `swarm validate`). Anything wrong with a file -- an unknown key,
a wrong type, a budget too small to give every agent one rollout batch, an environment that will not build
with its env_kwargs, is not a turn-based PettingZoo game of two or more players with action masks or fails
PettingZoo's API test, a ladder member that would search a game it could cheat at -- raises `ConfigError`
naming the field and the fix, before Ray starts or any compute is spent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from swarm import budget, interaction

if TYPE_CHECKING:
    from swarm.envs import EnvSpec


class ConfigError(ValueError):
    """A budget file that cannot be run; the message names the field and the fix."""


MAX_TOTAL = 2**53  # the largest count float64 holds exactly: the ledger's and progress bars' sums
MAX_GAMES = 2**32  # a stage numbers its games in the low 32 bits of their seeds (swarm.seeds)
MAX_CPUS = 2**20
MAX_GPUS = 2**16
MIN_BATCH = 8  # ppo.rollout_steps' floor
RENAMED = {"rollout_workers": "shards"}  # old field -> its name now, for a clear error on an old file


def known_mode(mode: str) -> str:
    """`mode` if it is an interaction mode of the registry, else a ValueError naming the modes."""
    if mode not in interaction.MODES:
        raise ValueError(f"unknown interaction mode {mode!r}; pick one of {', '.join(interaction.MODES)}")
    return mode


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


Unit = Literal["agent_steps", "flops", "core_seconds"]
UNIT = Field(
    "agent_steps",
    description="Binding unit: what budget.total and each agent's share count. agent_steps (transitions a "
    "learner learns from): sample efficiency at equal experience. flops (forward and backward passes, "
    "counted analytically): equal compute where arms differ in network or ppo settings; each round is sized "
    "by an upper bound of its FLOPs (swarm.training.cost), so an agent ends less than one step's bound short "
    "of its share and never past it; for games whose seats alternate (Connect Four, tictactoe, go, chess). "
    "core_seconds is refused: they depend on the machine and its load, so a share could be neither enforced "
    "nor reproduced. All three are recorded in the ledger whichever binds.",
)


def binding(unit: str) -> str:
    """`unit` if a budget can bind in it, else a ValueError saying why not and what to use."""
    if unit == "core_seconds":
        raise ValueError(
            "core_seconds cannot bind: they depend on the machine and its load, so a round's cost is known "
            "only once spent (no share could be enforced) and a run would neither reproduce from its file "
            "and seed nor resume exactly; use flops for equal compute across arms that differ in network "
            "(core-seconds are recorded in the ledger and the report whichever unit binds)"
        )
    return unit


class Budget(Strict):
    unit: Unit = UNIT
    total: int = Field(
        ...,
        gt=0,
        le=MAX_TOTAL,
        description="What each arm may spend on training, in the binding unit (at most 2**53: the ledger "
        "and progress count it in float64; a default Connect Four run of 2,097,152 agent-steps is about "
        "2.8e12 flops).",
    )

    _binding = field_validator("unit")(lambda unit: binding(unit))


class Arm(Strict):
    name: str = Field(..., pattern=r"^[A-Za-z][A-Za-z0-9_]*$", description="Arm name, used in tables.")
    agents: int = Field(..., ge=1, le=4096, description="Population size N; each agent gets total/N.")
    interaction: str = Field(
        ...,
        description="Who plays whom while training. "
        + " ".join(f"{name}: {mode.description}." for name, mode in interaction.MODES.items()),
    )
    shards: int = Field(
        1,
        ge=1,
        le=1024,
        description="Shards each agent's games (ppo.envs) and batches are split into, each with its own "
        "RNGs, so that up to this many processes can play an agent's rollouts: where the arm has more CPUs "
        "than agents (the single agent on a cluster, or with resources.arms_in_parallel: false), each agent "
        "plays on min(this, CPUs per agent) of them. Results depend on this number, never on the CPUs.",
    )

    options: dict[str, Any] = Field(
        {},
        validate_default=True,
        description="The interaction mode's parameters, defaults filled in: pfsp {weighting, power}; pbt "
        "{every, quantile, factors, hyperparameters, spread}; league {mains, main_exploiters, "
        "self_play_share, exploiter_threshold, weighting, power}; none for self_play and population.",
    )

    ppo: dict[str, Any] = Field(
        {},
        description="This arm's changes to the file's ppo block, e.g. {rollout_steps: 4096, lr: 0.001}: "
        "validated like the block; the fields not named are the file's.",
    )
    network: dict[str, Any] = Field({}, description="This arm's changes to the file's network block.")
    opponents: dict[str, Any] = Field({}, description="This arm's changes to the file's opponents block.")

    _known_mode = field_validator("interaction")(lambda mode: known_mode(mode))

    @field_validator("options")
    @classmethod
    def _mode_options(cls, given: dict[str, Any], info: ValidationInfo) -> dict[str, Any]:
        mode = info.data.get("interaction")
        if mode is None:  # already refused
            return given
        try:
            return interaction.options(mode, given).model_dump(mode="json")
        except ValidationError as exc:
            problems = "; ".join(
                f"options.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"{problems} (the options of interaction {mode})") from None

    @property
    def mode_options(self) -> interaction.Options:
        """The interaction mode's options, as its model."""
        return interaction.options(self.interaction, self.options)

    @property
    def agent_ids(self) -> list[str]:
        """Each agent's id in tables: `<arm>/<index>`."""
        return [f"{self.name}/{i}" for i in range(self.agents)]

    @property
    def candidates(self) -> list[str]:
        """The agents the arm's best is chosen from: a league's main agents; every agent otherwise."""
        return [self.agent_ids[i] for i in self.mode_options.bests(self.agents)]


class PPO(Strict):
    rollout_steps: int = Field(
        1024, ge=MIN_BATCH, description="Agent-steps one agent collects per round: one batch."
    )
    envs: int = Field(32, ge=1, description="Games one agent plays in lockstep while collecting.")
    epochs: int = Field(4, ge=1, description="Passes over each batch.")
    minibatches: int = Field(4, ge=1, description="Minibatches per epoch.")
    lr: float = Field(3e-4, gt=0, description="Adam learning rate.")
    anneal_lr: bool = Field(
        True, description="Decay the learning rate linearly to 0 over the agent's share, as CleanRL does."
    )
    gamma: float = Field(0.99, gt=0, le=1, description="Discount factor.")
    gae_lambda: float = Field(0.95, ge=0, le=1, description="GAE lambda.")
    clip: float = Field(0.2, gt=0, description="PPO ratio clip range.")
    value_coef: float = Field(0.5, ge=0, description="Weight of the value loss.")
    entropy_coef: float = Field(0.01, ge=0, description="Weight of the entropy bonus.")
    max_grad_norm: float = Field(0.5, gt=0, description="Gradient-norm clip.")
    precision: Literal["float32", "bfloat16"] = Field(
        "float32",
        description="The update's forward passes: float32, or bfloat16 under torch's CPU autocast (weights, "
        "Adam state and the loss stay float32); off by default until measured to win on speed and strength "
        "(README: Mixed precision).",
    )

    @model_validator(mode="after")
    def _minibatches_fit(self) -> PPO:
        if self.minibatches > self.rollout_steps:
            raise ValueError(
                f"minibatches ({self.minibatches}) exceeds rollout_steps ({self.rollout_steps}); "
                "lower ppo.minibatches"
            )
        return self


class Network(Strict):
    hidden: list[int] = Field(
        [128, 128], min_length=1, description="Hidden layer widths of the actor and of the critic MLP."
    )
    log_std: float = Field(
        0.0,
        ge=-5,
        le=2,
        description="A Gaussian policy's (Box actions) initial log standard deviation, in the [-1, 1] space "
        "it acts in: 0 (std 1, CleanRL's) clips a third of every draw at the edges; "
        "budgets/tag-continuous.yaml learns with -1. No effect on Discrete actions.",
    )

    @model_validator(mode="after")
    def _positive(self) -> Network:
        if any(h < 1 for h in self.hidden):
            raise ValueError(f"hidden widths must be positive, got {self.hidden}")
        return self


class Opponents(Strict):
    snapshot_every: int = Field(
        5,
        ge=1,
        description="An agent's weights at the start of every k-th round (round 0 included) join its pool.",
    )
    pool_size: int | None = Field(
        None,
        ge=1,
        description="Snapshots kept per agent, the most recent; null keeps the whole history, which "
        "Bansal et al. (2018) found gives the most robust self-play agents.",
    )
    per_round: int = Field(
        4,
        ge=1,
        description="Opponents each agent draws per round; its game slots are dealt among them in turn, so "
        "each opponent plays in one batched forward per step. At most ppo.envs.",
    )
    latest_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description="self_play: share of games against the agent's current self; the rest go to its "
        "snapshots, drawn uniformly.",
    )
    every_seat: bool = Field(
        False,
        description="Learn from every seat the agent's current self fills in a game, not only its own: "
        "one network sharing its parameters across those seats, as MAPPO and IPPO share one across a team "
        "(its current self fills seats in self_play, with probability latest_share, and in a league's "
        "self-play; other modes never seat it, so it changes nothing there). Each of those moves is a "
        "transition, an agent-step charged to the budget, so a round takes fewer games; the training score "
        "then counts the seats opponents filled. Off: an agent learns from one seat of each game.",
    )
    results_decay: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Each round, every agent's tallies against its opponents are multiplied by this before "
        "the round's games are added: the recent results that pfsp and league weigh opponents by and pbt "
        "ranks members by (0.9: about the last ten rounds); 1 weighs every game alike.",
    )


SETTINGS: dict[str, type[Strict]] = {"ppo": PPO, "network": Network, "opponents": Opponents}  # per arm


class Scaling(Strict):
    """Budget-aware settings, opt-in: an arm's ppo.rollout_steps and network widths derived from its agents'
    share (`Experiment.scaled_settings`). An arm's own setting always wins over a derived one."""

    updates: int | None = Field(
        None,
        ge=1,
        le=MAX_TOTAL,
        description="Budget-aware batches: each agent's ppo.rollout_steps becomes its share in agent-steps "
        "/ updates, rounded down to a multiple of ppo.minibatches, so agents of every share make about this "
        "many updates (each epochs x minibatches Adam steps), where one batch size for all would give an "
        "agent on 1/16 of the budget 16 times fewer; each agent's learning rate still anneals over its own "
        "share. Under flops, the share in agent-steps is what it buys at a step's bound (training.cost). "
        "An arm's own ppo.rollout_steps wins. null: off.",
    )
    width_exponent: float | None = Field(
        None,
        gt=0,
        le=2,
        description="Compute-optimal widths: each arm's hidden widths become the network block's times "
        "(its agents' share / scaling.reference) ** (width_exponent / 2), at least 1. The optimal parameter "
        "count grows as a power of compute, compute ** width_exponent (Neumann and Gros 2022 measured such "
        "a law for AlphaZero on Connect Four and Pentago; the exponent for your learner and game is yours "
        "to give), and an MLP's parameters grow about as its width squared. Needs budget.unit: flops, "
        "where a narrower network buys more agent-steps with the same share (under agent_steps it would "
        "only spend less compute). An arm's own network.hidden wins. null: off.",
    )
    reference: int | None = Field(
        None,
        gt=0,
        le=MAX_TOTAL,
        description="The agent share, in budget.unit, at which the network block's widths are right "
        "(default: the largest agent share among the arms, the single agent's B); in a sweep give a fixed "
        "number, so that widths grow with B from cell to cell.",
    )


class Evaluation(Strict):
    selection: Literal["peers", "ladder"] = Field(
        "peers",
        description="How an arm of several agents picks its best. peers: a round-robin inside the arm; "
        "ladder: every agent plays every ladder member, and the top total score wins (against the same "
        "fixed opponents, so a best is never chosen for exploiting its co-trained peers).",
    )
    selection_games: int = Field(
        10,
        ge=2,
        le=MAX_GAMES,
        description="Selection games per pair: per pair of the arm's agents (selection: peers), or per agent "
        "and ladder member (selection: ladder).",
    )
    verdict_games: int = Field(
        400, ge=2, le=MAX_GAMES, description="Held-out games of each arm's best against the baseline's best."
    )
    crossplay_games: int = Field(
        4,
        ge=2,
        le=MAX_GAMES,
        description="Held-out games per pair of trained agents, all arms together: each agent's held-out "
        "score against its own arm (the winner's curse), the cross-play matrix and the oracle best.",
    )
    ladder: list[str] = Field(
        ["random", "heuristic", "mcts-16", "mcts-64"],
        min_length=1,
        description="Reference players that never learn: random, heuristic (wins when it can, blocks an "
        "immediate loss), mcts-<simulations>, alphabeta-<depth> (Connect Four only), scripted (the game's "
        "script, where it has one), trained-<agent-steps> (a network the file's blocks train alone by "
        "self-play for that many agent-steps from a fixed seed, once per run: swarm.references). random is "
        "required: it anchors the rating scale at 0.",
    )
    ladder_games: int = Field(
        10,
        ge=2,
        le=MAX_GAMES,
        description="Held-out games of every trained agent against every ladder member, and of "
        "every pair of ladder members.",
    )
    ffa_games: int = Field(
        10,
        ge=0,
        le=MAX_GAMES,
        description="Free-for-all games per lineup and seat, in a competitive game of more than two seats: "
        "the arms' bests and the ladder members, k at a time (every lineup of k, or the cyclic ones when "
        "there are too many: evaluate.free_for_all_schedule), each lineup playing k x ffa_games games, seats "
        "rotated so each of its players sits in each seat ffa_games times; finishing orders by return, rated "
        "by Plackett-Luce (evaluation.plackett_luce). It needs k such players. 0: none. Unused with two "
        "seats (the held-out games already are free-for-alls of two, which Plackett-Luce rates as "
        "Bradley-Terry) and in a cooperative game (every seat shares one return: no finishing order).",
    )
    teamwork_games: int = Field(
        10,
        ge=0,
        le=MAX_GAMES,
        description="Ad-hoc team games per best, partner and seat, in a cooperative game: each arm's best in "
        "one seat and a held-out partner (another arm's best or a ladder member) in every other seat, "
        "every seat in turn (evaluate.teamwork_schedule), on the same scenarios for every best; their team "
        "returns are a second view beside the verdict (teamwork.parquet, the report's Ad-hoc teamwork). "
        "0: none. Unused in competitive and role games.",
    )
    curve_points: int = Field(
        8,
        ge=0,
        description="Learning-curve checkpoints per agent, evenly spaced over its share (plus its initial "
        "weights), each played against random after training; taken at round ends, so an agent of few "
        "rounds has fewer; 0: none.",
    )
    curve_games: int = Field(
        20,
        ge=2,
        le=MAX_GAMES,
        description="Games of every learning-curve checkpoint against random, seats alternated.",
    )
    bootstrap: int = Field(
        1000, ge=100, description="Bootstrap replicates behind every rating interval and over-seed interval."
    )
    exploit_steps: int = Field(
        0,
        ge=0,
        le=MAX_TOTAL,
        description="Exploitability: agent-steps a fresh learner (the file's learner, network and ppo) "
        "trains against each arm's best, frozen, before playing it exploit_games held-out games; its score "
        "is how exploitable the best is. Evaluation, charged to no arm and reported apart. 0: not measured.",
    )
    exploit_games: int = Field(
        400,
        ge=2,
        le=MAX_GAMES,
        description="Held-out games of each exploiter against the best it trained against.",
    )
    charge_selection: bool | Literal["auto"] = Field(
        "auto",
        description="Charge the selection games' agent-steps to the arm's budget: each agent reserves its "
        "selection games x max_game_length / 2 before training. auto: charged where the reserve is at least "
        "1% of an agent's share (and max_game_length is set), else reported beside the ledger.",
    )
    max_game_length: int | None = Field(
        None,
        ge=1,
        description="Upper bound on moves per game (42 for Connect Four); charge_selection: true needs it, "
        "and auto charges nothing without it.",
    )
    confidence: float = Field(0.95, gt=0.5, lt=1, description="Confidence level of intervals and verdict.")
    score: Literal["auto", "outcome", "payoff"] = Field(
        "auto",
        description="What a game's result is. outcome: win, draw or loss as player_0's return is higher, "
        "equal or lower. payoff: the return's margin (poker's chips) over payoff_bound, rounded to a result "
        "without bias by a coin fixed by the game's seed (evaluation.scoring). auto: payoff for games in "
        "envs.PAYOFF_BOUNDS (Leduc hold'em, limit Texas hold'em), else outcome.",
    )
    kind: Literal["auto", "competitive", "cooperative", "roles"] = Field(
        "auto",
        description="What beats means. competitive: a game (seed, a, b) seats a and b against each other "
        "(seats in turn), and the higher return wins. cooperative: a's team (a in every seat) and b's team "
        "each play the game's scenario (the same seed), and the higher team return (mean over seats) wins; "
        "every rating, interval and test then reads those paired results. roles: a game plays one role of "
        "the seed's scenario (game i of a stage role i mod R, so a pairing's games take the roles in turn) "
        "twice, a in every seat of that role and then b, random in every other seat, and the higher return "
        "of the role (mean over its seats) wins. auto: cooperative for games in envs.COOPERATIVE (MPE2's "
        "simple_spread), roles for games whose seats play different roles (MPE2's simple_tag), else "
        "competitive.",
    )
    payoff_bound: float | None = Field(
        None,
        gt=0,
        description="score: payoff: the largest difference between the two sides' rewards one game allows "
        "(14 for Leduc hold'em: one side wins at most 7 big blinds, the other loses them); default: "
        "envs.PAYOFF_BOUNDS (for limit Texas hold'em 25 k / floor(k / 2) big blinds, k its num_players).",
    )

    @model_validator(mode="after")
    def _ladder_valid(self) -> Evaluation:
        from swarm.evaluation import ladder  # imports torch; only once the fields parse

        for name in self.ladder:
            ladder.check(name)
        if "random" not in self.ladder:
            raise ValueError("ladder must include random: it anchors the rating scale at 0; add random")
        if len(set(self.ladder)) != len(self.ladder):
            raise ValueError(f"ladder members must be unique, got {self.ladder}")
        if self.charge_selection is True and self.max_game_length is None:
            raise ValueError(
                "charge_selection needs max_game_length, an upper bound on moves per game (42 for Connect "
                "Four), to reserve the selection games' budget before training; "
                "set evaluation.max_game_length"
            )
        return self


class Resources(Strict):
    cpus: int | None = Field(
        None,
        ge=1,
        le=MAX_CPUS,
        description="CPUs the run uses, split evenly between the arms: a local Ray starts with this many "
        "(default: all of this machine's); on a cluster, at most this many of its CPUs (default: all).",
    )
    gpus: float = Field(
        0.0,
        ge=0,
        le=MAX_GPUS,
        description="GPUs the run uses (0: CPUs only), split evenly between the arms like cpus, then evenly "
        "between each arm's hosts: a host's agents learn on its share of one device (fractions below one "
        "let several hosts, and so many agents, share a GPU; a host takes at most one); their games are "
        "still played on CPUs. A local Ray starts with the GPUs this asks for; a machine or cluster without "
        "them is refused before training.",
    )
    arms_in_parallel: bool = Field(
        True,
        description="true: the arms train side by side, each on cpus / arms, where those equal shares fit "
        "the nodes (else one after another, with a warning); false: one after another, each on all the "
        "CPUs. Either way every arm reserves the same CPUs through a Ray placement group.",
    )
    reserve_timeout_s: int = Field(
        60,
        ge=1,
        le=86400,
        description="Seconds to wait for Ray to reserve a wave of arms (or to place again the part of one "
        "whose node died) while the nodes that could hold it are busy or an autoscaler adds one; then the "
        "run stops with an error naming each node's free resources (a stopped run resumes). Arms the "
        "nodes could never hold are refused at once, and a local Ray has room at once.",
    )


class Metrics(Strict):
    sinks: list[str] = Field(
        ["tensorboard"],
        description="Where every round's per-agent metrics go as the run trains (losses/*, charts/*, "
        "budget/* keys, at step = the agent's agent-steps): tensorboard (event files in the run "
        "directory's tensorboard/, no package needed), wandb, mlflow (each needs its package: pip install "
        "'swarm-testbed[wandb]'; they follow WANDB_MODE, MLFLOW_TRACKING_URI). [] writes none.",
    )
    project: str | None = Field(
        None, description="The W&B project and MLflow experiment a run logs to (default: the file's name)."
    )

    @field_validator("sinks")
    @classmethod
    def _known_sinks(cls, names: list[str]) -> list[str]:
        from swarm import metrics  # no torch, no Ray

        for name in names:
            metrics.check(name)
        if len(set(names)) != len(names):
            raise ValueError(f"a sink is named twice in {names}; name each once")
        return names


TUNING_SEED = 2**27 - 1  # the last run seed: one no run is likely to judge on
MAX_CORNERS = 256  # combinations of the space's ends and choices the door checks


class Range(Strict):
    low: int | float = Field(..., description="The range's lowest value.")
    high: int | float = Field(..., description="The range's highest value.")
    log: bool = Field(False, description="Draw on a log scale (learning rates); needs low > 0.")


class Choices(Strict):
    choices: list[Any] = Field(..., min_length=1, description="The values to choose from.")


class Tuning(Strict):
    trials: int = Field(
        ...,
        ge=1,
        le=1000,
        description="Trials per arm, the same for every arm: each trains the whole arm (its N agents on "
        "B / N each) on every tuning seed, so each arm's tuning spends trials x seeds x budget.total: "
        "equal by construction.",
    )
    seeds: list[int] = Field(
        [TUNING_SEED],
        min_length=1,
        description="Run seeds every trial trains and is scored on, none of them a seed of the run (seed, "
        "seeds): a game seed carries its run seed in its bits and every RNG derives from it (swarm.seeds), "
        "so no trial shares a game or an RNG stream with the verdict. With several, a trial's objective is "
        "the mean over them.",
    )
    space: dict[str, Range | Choices] = Field(
        ...,
        min_length=1,
        description="What is searched: a setting of the per-arm blocks (ppo.lr, ppo.entropy_coef, "
        "network.hidden, opponents.latest_share, ...) -> {low, high, log} (a number field: int or float as "
        "the field is) or {choices: [...]}. The trial's value replaces the arm's own and the file's. Checked "
        "at the door at the ends of every range and each choice, in every combination, for every arm.",
    )
    games: int = Field(
        20,
        ge=2,
        le=MAX_GAMES,
        description="The objective: held-out games of each trial's best (chosen as a run chooses, "
        "evaluation.selection) against each ladder member, on the tuning seed's own stages; its mean score "
        "over them (pool-invariant: the fixed ladder, never the other arm).",
    )
    sampler: Literal["tpe", "random"] = Field(
        "tpe",
        description="How Optuna proposes a trial's settings from the arm's finished trials: tpe (the "
        "tree-structured Parzen estimator, after max(2, trials // 3) random trials) or random. Each proposal "
        "is seeded by the tuning seeds, the arm and the trial's number, so a resumed search proposes the "
        "same trials.",
    )

    @field_validator("seeds")
    @classmethod
    def _seeds_valid(cls, given: list[int]) -> list[int]:
        if len(set(given)) != len(given) or not all(0 <= s < 2**27 for s in given):
            raise ValueError(f"tuning seeds must be distinct integers in [0, 2**27), got {given}")
        return given

    @field_validator("space")
    @classmethod
    def _space_valid(cls, space: dict[str, Range | Choices]) -> dict[str, Range | Choices]:
        for setting, values in space.items():
            kind = setting_type(setting)
            if isinstance(values, Range):
                check_range(setting, kind, values)
        if (count := len(corners(space))) > MAX_CORNERS:
            raise ValueError(
                f"the space's range ends and choices make {count} combinations, more than the {MAX_CORNERS} "
                "the door checks; drop a setting or some choices"
            )
        return space

    @model_validator(mode="after")
    def _optuna_installed(self) -> Tuning:
        import importlib.util

        if importlib.util.find_spec("optuna") is None:
            raise ValueError(
                "tuning searches with Optuna, not installed here; pip install 'swarm-testbed[tune]', or "
                "remove the tuning block"
            )
        return self


def setting_type(setting: str) -> Any:
    """The field type of a dotted per-arm setting (`ppo.lr`), or a ValueError naming what exists."""
    block, _, field = setting.partition(".")
    if block not in SETTINGS:
        raise ValueError(f"{setting!r}: {block!r} is not a per-arm block; name one of {', '.join(SETTINGS)}")
    fields = SETTINGS[block].model_fields
    if field not in fields:
        raise ValueError(f"{setting!r}: {block} has no field {field!r}; pick one of {', '.join(fields)}")
    return fields[field].annotation


def check_range(setting: str, kind: Any, values: Range) -> None:
    if kind not in (int, float):
        raise ValueError(f"{setting}: a range needs a number field, and this one is {kind}; give choices")
    if kind is int and not all(float(v).is_integer() for v in (values.low, values.high)):
        raise ValueError(f"{setting}: an integer field; give integer low and high")
    if not values.low < values.high:
        raise ValueError(f"{setting}: low ({values.low}) must be below high ({values.high})")
    if values.log and values.low <= 0:
        raise ValueError(f"{setting}: a log range needs low > 0, got {values.low}")


def corners(space: dict[str, Range | Choices]) -> list[dict[str, Any]]:
    """Every combination of each range's ends and each choice: where the door checks the space, as the
    per-arm checks (batch sizes, slots) are monotone in each setting."""
    from itertools import product

    ends = [[v.low, v.high] if isinstance(v, Range) else v.choices for v in space.values()]
    return [dict(zip(space, combo, strict=True)) for combo in product(*ends)]


def settle(arm: Arm, settings: dict[str, Any]) -> Arm:
    """`arm` with dotted `settings` (ppo.lr: 0.001) as its own changes to the blocks, over any it had."""
    update: dict[str, dict[str, Any]] = {}
    for setting, value in settings.items():
        block, _, field = setting.partition(".")
        update.setdefault(block, dict(getattr(arm, block)))[field] = value
    return arm.model_copy(update=update)


def shown(settings: dict[str, Any]) -> str:
    return ", ".join(f"{setting} = {value}" for setting, value in settings.items())


class Experiment(Strict):
    name: str = Field(..., pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="Run name prefix.")
    env: str = Field(
        ...,
        description="PettingZoo registry id (classic/connect_four-v3) or module path with an env() function "
        "(pettingzoo.classic.connect_four_v3, mpe2.simple_spread_v3; a module with only parallel_env() is "
        "played through PettingZoo's parallel_to_aec): a game of two or more players whose seats of one role "
        "share one observation space (a dict with an action_mask, or an array) and one action space "
        "(Discrete, or a one-dimensional Box); see env_roles.",
    )
    env_kwargs: dict[str, Any] = Field(
        {},
        description="Keywords for the env's constructor (pettingzoo.make(id, **env_kwargs), or the module's "
        "env(**env_kwargs)), e.g. {board_size: 9} for classic/go-v5; every copy of the game, on every "
        "worker, is built with them. A native backend plays only the game built with none.",
    )
    env_roles: dict[str, str] | None = Field(
        None,
        description="Each agent's role, agent name -> role, every agent of the env named: seats of one role "
        "share their observation and action spaces. Default: one role where every seat shares its spaces "
        "(the game as it always was), else an agent's name without a trailing _<digits> (adversary_0: "
        "adversary). Where seats play different roles, one network plays them all, each seat's observation "
        "padded to the largest and followed by a one-hot of its role, and its Discrete actions padded to "
        "the most, those its role lacks masked out; evaluation.kind auto then judges the game by roles.",
    )
    env_perfect_information: bool = Field(
        False,
        description="Declare env deterministic, turn-based and of perfect information, so that the ladder's "
        "search members (heuristic, mcts-<k>) may play it: they search copies of the env, which in any "
        "other game would see hidden cards or chance outcomes. Needed only for a game outside "
        "swarm.envs.PERFECT_INFORMATION (connect_four, tictactoe, go).",
    )
    env_backend: Literal["auto", "native", "pettingzoo"] = Field(
        "auto",
        description="How training games are stepped. native: all of an agent's games at once in NumPy, "
        "move for move the PettingZoo env (Connect Four only for now); pettingzoo: one PettingZoo env per "
        "game; auto: native where there is one, else pettingzoo. Games are the same either way.",
    )
    seed: int = Field(0, ge=0, lt=2**27, description="Seed of every RNG in the run.")
    seeds: list[int] | None = Field(
        None,
        min_length=1,
        description="Run the whole experiment once per seed (each a full run in seed-<s>/) and aggregate the "
        "verdict over seeds. Replaces seed.",
    )
    budget: Budget
    arms: list[Arm] = Field(..., min_length=2, description="Ways to spend the budget; compared head to head.")
    baseline: str | None = Field(
        None, description="Arm every other arm is judged against (default: the first arm)."
    )
    primary: str | None = Field(
        None,
        description="The arm whose contrast with the baseline is the primary endpoint, tested at "
        "evaluation.confidence; the other arms' contrasts are Holm-corrected among themselves (default: the "
        "first arm after the baseline).",
    )
    learner: str = Field(
        "ppo",
        description="How every agent learns from its games: a learner of swarm.training.learners.LEARNERS "
        "(ppo, set in the ppo block).",
    )
    ppo: PPO = PPO()
    network: Network = Network()
    opponents: Opponents = Opponents()
    evaluation: Evaluation = Evaluation()
    resources: Resources = Resources()
    metrics: Metrics = Metrics()
    scaling: Scaling = Scaling()
    checkpoint_every: int = Field(
        10,
        ge=1,
        description="Rounds between an arm's training checkpoints (weights, optimizer states, opponent "
        "pools, ledger rows) in checkpoints/train/; a resumed run goes on from the last one.",
    )
    tuning: Tuning | None = Field(
        None,
        description="Equal tuning (README: Equal tuning): before any seed, search each arm's settings with "
        "the same trials on seeds that never judge, then run every seed with each arm's best; null: none.",
    )

    @model_validator(mode="after")
    def _arms_consistent(self) -> Experiment:
        names = [arm.name for arm in self.arms]
        if self.seeds is not None:
            if "seed" in self.model_fields_set:
                raise ValueError("give seed or seeds, not both; remove one")
            if len(set(self.seeds)) != len(self.seeds) or not all(0 <= s < 2**27 for s in self.seeds):
                raise ValueError(f"seeds must be distinct integers in [0, 2**27), got {self.seeds}")
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique, got {names}")
        if self.baseline is not None and self.baseline not in names:
            raise ValueError(f"baseline {self.baseline!r} is not an arm; pick one of {names}")
        if self.primary is not None and self.primary not in set(names) - {self.baseline_arm.name}:
            others = [n for n in names if n != self.baseline_arm.name]
            raise ValueError(
                f"primary {self.primary!r} is not an arm other than the baseline; pick one of {others}"
            )
        for i, arm in enumerate(self.arms):
            for block, model in SETTINGS.items():
                try:
                    model.model_validate({**getattr(self, block).model_dump(), **getattr(arm, block)})
                except ValidationError as exc:
                    problems = "; ".join(
                        f"arms.{i}.{block}.{'.'.join(str(p) for p in e['loc']) or '(block)'}: {e['msg']}"
                        for e in exc.errors()
                    )
                    raise ValueError(f"arm {arm.name!r}: {problems}") from None
            own = self.for_arm(arm)
            where = "" if not (arm.ppo or arm.opponents or self.scaling.updates) else f" (arm {arm.name!r})"
            if own.opponents.per_round > own.ppo.envs:
                raise ValueError(
                    f"opponents.per_round ({own.opponents.per_round}) exceeds ppo.envs "
                    f"({own.ppo.envs}){where}: every opponent needs a game slot; lower "
                    "opponents.per_round or raise ppo.envs"
                )
            if arm.opponents.get("every_seat") and not interaction.MODES[arm.interaction].meets_itself:
                itself = [name for name, mode in interaction.MODES.items() if mode.meets_itself]
                raise ValueError(
                    f"opponents.every_seat (arm {arm.name!r}): {arm.interaction} play never seats an "
                    "agent's current self beside it, so there is no other seat to learn from; set it only "
                    f"for arms of {' or '.join(itself)} (the file's opponents block sets it for those alone)"
                )
            if arm.shards > min(own.ppo.envs, own.ppo.rollout_steps):
                raise ValueError(
                    f"arm {arm.name!r}: shards ({arm.shards}) exceeds ppo.envs "
                    f"({own.ppo.envs}) or ppo.rollout_steps ({own.ppo.rollout_steps}): every shard needs "
                    "a game slot and a part of each batch; lower shards or raise ppo.envs"
                )
            needed = arm.mode_options.min_agents()
            if arm.agents < needed <= interaction.MODES[arm.interaction].min_agents:
                fitting = [name for name, mode in interaction.MODES.items() if mode.min_agents <= arm.agents]
                raise ValueError(
                    f"arm {arm.name!r}: {arm.interaction} play needs at least {needed} agents; "
                    f"use interaction: {' or '.join(fitting)} for {arm.agents}"
                )
            if arm.agents < needed:
                raise ValueError(
                    f"arm {arm.name!r}: its options {arm.options} need {needed} agents, it has "
                    f"{arm.agents}; lower them or raise agents"
                )
        return self

    @model_validator(mode="after")
    def _trained_members_valid(self) -> Experiment:
        """Each trained ladder member trains at least one rollout batch, from a seed apart from the run's."""
        from swarm import references  # imports torch; only once the fields parse
        from swarm.evaluation import ladder

        trained = references.members(self)
        if trained and references.REFERENCE_SEED in self.run_seeds:
            raise ValueError(
                f"seed: {references.REFERENCE_SEED} is the seed the ladder's trained members train from, so "
                "the run would share their RNG streams; pick another seed"
            )
        for name in trained:
            batch = references.recipe(self, name).for_arm(0).ppo.rollout_steps
            if ladder.trained_steps(name) < batch:
                raise ValueError(
                    f"evaluation.ladder: {name} trains on {ladder.trained_steps(name):,} agent-steps, less "
                    f"than one rollout batch ({batch:,}, ppo.rollout_steps); use trained-{batch} or more"
                )
        return self

    @model_validator(mode="after")
    def _tuning_valid(self) -> Experiment:
        """Tuning seeds apart from the run's; every value of the space, and every combination of its ends,
        valid for every arm."""
        if self.tuning is None:
            return self
        if clash := sorted(set(self.tuning.seeds) & set(self.run_seeds)):
            raise ValueError(
                f"tuning.seeds: {clash} also judge the verdict (seed, seeds), so trials would share its "
                f"games and RNG streams; pick tuning seeds outside the run's, e.g. [{TUNING_SEED}]"
            )
        for setting, values in self.tuning.space.items():
            block, _, field = setting.partition(".")
            ends = [values.low, values.high] if isinstance(values, Range) else values.choices
            for value in ends:
                try:
                    SETTINGS[block].model_validate({**getattr(self, block).model_dump(), field: value})
                except ValidationError as exc:
                    problems = "; ".join(e["msg"] for e in exc.errors())
                    raise ValueError(f"tuning.space.{setting}: {value!r}: {problems}") from None
        for combo in corners(self.tuning.space):
            arms = [settle(arm, combo) for arm in self.arms]
            try:
                self.model_copy(update={"arms": arms, "tuning": None})._arms_consistent()
            except ValueError as exc:
                raise ValueError(f"tuning.space: with {shown(combo)}: {exc}; narrow the space") from None
        return self

    @field_validator("learner")
    @classmethod
    def _known_learner(cls, name: str) -> str:
        from swarm.training.learners import LEARNERS  # imports torch; only once the fields parse

        if name not in LEARNERS:
            raise ValueError(f"unknown learner {name!r}; pick one of {', '.join(LEARNERS)}")
        return name

    @field_validator("env_roles")
    @classmethod
    def _roles_named(cls, roles: dict[str, str] | None) -> dict[str, str] | None:
        if roles is not None and not all(roles.values()):
            raise ValueError(f"every role needs a name, got {roles}; name each agent's role")
        return roles

    @model_validator(mode="after")
    def _backend_exists(self) -> Experiment:
        from swarm.envs import BACKENDS, NATIVE_ROLES, native_kwargs  # numpy only, no game built

        if self.env_backend == "native" and self.env not in BACKENDS:
            raise ValueError(
                f"env_backend: native, but {self.env!r} has no native backend (envs with one: "
                f"{', '.join(BACKENDS)}); set env_backend: auto or pettingzoo"
            )
        if self.env_backend == "native" and self.env_kwargs:
            raise ValueError(native_kwargs(self.env, self.env_kwargs))
        if self.env_backend == "native" and self.env_roles:
            raise ValueError(NATIVE_ROLES)
        return self

    @model_validator(mode="before")
    @classmethod
    def _score_resolved(cls, data: Any) -> Any:
        """evaluation.score auto becomes payoff (with the registry's bound) for a game in
        envs.PAYOFF_BOUNDS built with no env_kwargs or with only those its entry knows (Texas hold'em's
        num_players), else outcome; evaluation.kind auto becomes cooperative for a game in
        envs.COOPERATIVE, roles for a game whose seats play different roles, else competitive: the resolved
        file says which."""
        from swarm.envs import payoff_bound

        if not isinstance(data, dict) or not isinstance(data.get("evaluation", {}), dict):
            return data
        evaluation = dict(data.get("evaluation", {}))
        if evaluation.get("kind", "auto") == "auto":
            evaluation["kind"] = auto_kind(data)
        if evaluation.get("score", "auto") != "auto":
            return {**data, "evaluation": evaluation}
        known = payoff_bound(data.get("env"), data.get("env_kwargs"))
        bound = evaluation.get("payoff_bound") or known
        evaluation["score"] = "payoff" if bound is not None else "outcome"
        if bound is not None:
            evaluation["payoff_bound"] = bound
        return {**data, "evaluation": evaluation}

    @model_validator(mode="after")
    def _payoff_bounded(self) -> Experiment:
        if self.evaluation.score == "payoff" and self.evaluation.payoff_bound is None:
            raise ValueError(
                f"evaluation.score: payoff needs evaluation.payoff_bound for {self.env!r} (envs.PAYOFF_BOUNDS"
                f" has none for it{' built with these env_kwargs' if self.env_kwargs else ''}): set it to the"
                " largest difference between the two sides' rewards one game allows"
            )
        if self.payoff_bound is not None and self.evaluation.exploit_steps:
            raise ValueError(
                "evaluation.exploit_steps: an exploiter's games are scored by outcome, not payoff, so its "
                f"exploitability would not be in the currency {self.env!r} is judged in; set exploit_steps: 0"
            )
        return self

    @model_validator(mode="after")
    def _widths_need_flops(self) -> Experiment:
        if self.scaling.width_exponent is not None and self.budget.unit != "flops":
            raise ValueError(
                f"scaling.width_exponent: under budget.unit: {self.budget.unit} a narrower network only "
                "spends less compute than its share; set budget.unit: flops (where it buys more agent-steps "
                "with the same share) or remove width_exponent"
            )
        return self

    @model_validator(mode="after")
    def _cooperative_valid(self) -> Experiment:
        """What a cooperative game cannot have: an exploiter (there is no opponent to beat), charged selection
        (its games play two teams' episodes, not one game), modes that weigh opponents by results (partners
        sharing a reward tie)."""
        from swarm.interaction import MODES

        if self.evaluation.kind != "cooperative":
            return self
        game = f"evaluation.kind: cooperative ({self.env!r})"
        weighing = sorted({arm.interaction for arm in self.arms if MODES[arm.interaction].weighs_results})
        fixes = [
            (self.evaluation.exploit_steps > 0, "evaluation.exploit_steps: nothing to exploit; set 0"),
            (
                any(self.selection_reserve(arm) for arm in self.arms)
                or self.evaluation.charge_selection is True,
                "evaluation.charge_selection: its reserve counts half a game's moves, but a selection game "
                "here plays two teams' episodes; set false",
            ),
            (
                bool(weighing),
                f"arms: {', '.join(weighing)} weigh(s) opponents by results, and partners who share a reward "
                "tie; use self_play or population",
            ),
        ]
        for broken, fix in fixes:
            if broken:
                raise ValueError(f"{game}: {fix}")
        return self

    @model_validator(mode="after")
    def _roles_valid(self) -> Experiment:
        """What a game judged by roles cannot have: players that search (a role game seats random in every
        other seat, and searches play two-player games), an exploiter (its games are two-sided), charged
        selection (its reserve counts half a game's moves, and a role game plays two episodes). Modes that
        weigh opponents by results keep them: a training game still scores the learner's return against
        each other seat's."""
        if self.evaluation.kind != "roles":
            return self
        from swarm.evaluation import ladder  # imports torch; only once the fields parse
        from swarm.players import GAME

        ev, game = self.evaluation, f"evaluation.kind: roles ({self.env!r})"
        searching = [name for name in ev.ladder if ladder.sees(name) == GAME]
        fixes = [
            (
                bool(searching),
                f"evaluation.ladder: {', '.join(searching)} search two-player games, and a role game seats "
                "random in every seat but the judged role's; use ladder [random]",
            ),
            (
                ev.exploit_steps > 0,
                "evaluation.exploit_steps: an exploiter plays two-sided games, not one role against random; "
                "set 0",
            ),
            (
                any(self.selection_reserve(arm) for arm in self.arms) or ev.charge_selection is True,
                "evaluation.charge_selection: its reserve counts half a game's moves, but a selection game "
                "here plays two episodes of one role; set false",
            ),
        ]
        for broken, fix in fixes:
            if broken:
                raise ValueError(f"{game}: {fix}")
        return self

    @property
    def judged(self) -> str:
        """What beats means here, in one line: the game's kind and what a game's result is."""
        ev = self.evaluation
        how = {
            "cooperative": "a's team and b's team each play the seed's scenario, the higher team return wins",
            "roles": "a and b each play one role of the seed's scenario, the roles in turn game by game, "
            "random in every other seat, the higher return of the role wins",
        }.get(ev.kind, "a and b play each other, seats in turn, the higher return wins")
        scored = f"payoff over a bound of {ev.payoff_bound:g}" if ev.score == "payoff" else "outcome"
        kind = "role" if ev.kind == "roles" else ev.kind
        return (
            f"judged as a {kind} game ({how}), scored by {scored}: evaluation.kind and evaluation.score "
            "in the file change either"
        )

    @property
    def payoff_bound(self) -> float | None:
        """The bound a game's payoff margin is scored over, or None where games are scored by outcome."""
        return self.evaluation.payoff_bound if self.evaluation.score == "payoff" else None

    @property
    def run_seeds(self) -> list[int]:
        return self.seeds if self.seeds is not None else [self.seed]

    def env_spec(self) -> EnvSpec:
        """The game's shape, its roles included (`envs.describe`: it builds the game)."""
        from swarm import envs

        return envs.describe(self.env, self.env_kwargs, self.env_roles)

    def for_seed(self, seed: int) -> Experiment:
        """The same experiment on one seed: what each seed-<s>/ run directory records."""
        return self.model_copy(update={"seed": seed, "seeds": None})

    def for_arm(self, arm: Arm | int) -> Experiment:
        """The experiment as one arm trains it: the file's ppo, network and opponents blocks with the arm's
        changes to them (`arms[].ppo`, `.network`, `.opponents`), over those `scaling` derives for it."""
        arm = self.arms[arm] if isinstance(arm, int) else arm
        changes = self.own_settings(arm)
        if not any(changes.values()):
            return self
        return self.model_copy(
            update={
                block: model.model_validate({**getattr(self, block).model_dump(), **changes[block]})
                for block, model in SETTINGS.items()
            }
        )

    def own_settings(self, arm: Arm) -> dict[str, dict[str, Any]]:
        """Per block, the fields `arm` trains with that are not the file's: its own, over those `scaling`
        derives from its share (`scaled_settings`)."""
        derived = self.scaled_settings(arm)
        return {block: {**derived.get(block, {}), **getattr(arm, block)} for block in SETTINGS}

    def scaled_settings(self, arm: Arm) -> dict[str, dict[str, Any]]:
        """What `scaling` derives for `arm` from its agents' share, per block: network.hidden (widths as a
        power of the share) and ppo.rollout_steps (the share over scaling.updates); none where the arm sets
        the field itself. Raises ValueError where the share is too small for the updates asked."""
        scaling, derived = self.scaling, {}
        share = max(budget.split(self.budget.total, arm.agents))
        if scaling.width_exponent is not None and "hidden" not in arm.network:
            largest = max(max(budget.split(self.budget.total, a.agents)) for a in self.arms)
            factor = (share / (scaling.reference or largest)) ** (scaling.width_exponent / 2)
            derived["network"] = {"hidden": [max(1, round(h * factor)) for h in self.network.hidden]}
        if scaling.updates is not None and "rollout_steps" not in arm.ppo:
            ppo = self.ppo.model_copy(update=arm.ppo)
            steps = share
            if self.budget.unit == "flops":
                from swarm.training import cost  # imports torch; only under flops

                hidden = {**self.network.model_dump(), **arm.network, **derived.get("network", {})}["hidden"]
                steps = share // cost.price(self, hidden, ppo).per_step
            batch = steps // scaling.updates
            batch -= batch % ppo.minibatches
            least = max(MIN_BATCH, ppo.minibatches, arm.shards)
            if batch < least:
                raise ValueError(
                    f"scaling.updates: the {steps:,} agent-steps of an agent of arm {arm.name!r} over "
                    f"{scaling.updates:,} updates make batches of {batch}, fewer than {least} (a batch holds "
                    f"at least {MIN_BATCH} agent-steps, ppo.minibatches and the arm's shards); lower "
                    f"scaling.updates to at most {steps // least:,}"
                )
            derived["ppo"] = {"rollout_steps": batch}
        return derived

    def resolved(self) -> Experiment:
        """The experiment with every setting `scaling` derives written into its arm's own blocks: what a run
        directory records, so the report and a resume read each arm's settings as trained."""
        arms = [arm.model_copy(update=self.own_settings(arm)) for arm in self.arms]
        return self.model_copy(update={"arms": arms})

    def selection_reserve(self, arm: Arm) -> int:
        """What each agent of `arm` holds back for its charged selection games, in the binding unit (0 unless
        charged)."""
        share = min(budget.split(self.budget.total, arm.agents))
        return selection_reserve(self.evaluation, arm.agents, share, lambda: self.move_cost(arm))

    def move_cost(self, arm: Arm) -> int:
        """What one move of an agent of `arm` in a selection game is charged, in the binding unit."""
        from swarm.training import cost  # imports torch; only under flops

        return cost.of(self, self.arms.index(arm)).per_move

    @property
    def baseline_arm(self) -> Arm:
        return next(arm for arm in self.arms if arm.name == (self.baseline or self.arms[0].name))

    def same_procedure(self, a: Arm, b: Arm) -> bool:
        """Whether two arms train alike: their agents, mode, options and resolved settings; not their names
        or how their games are sharded."""
        mine = {"name", "shards", *SETTINGS}
        return a.model_dump(exclude=mine) == b.model_dump(exclude=mine) and all(
            getattr(self.for_arm(a), block) == getattr(self.for_arm(b), block) for block in SETTINGS
        )

    @property
    def primary_arm(self) -> Arm:
        """The arm of the primary contrast: the file's `primary`, else the first arm after the baseline."""
        baseline = self.baseline_arm.name
        return next(
            arm for arm in self.arms if arm.name == (self.primary or arm.name) and arm.name != baseline
        )


def selection_opponents(ev: Evaluation, agents: int) -> int:
    """Opponents each agent of an arm of `agents` meets in its selection games."""
    return agents - 1 if ev.selection == "peers" else len(ev.ladder)


def selection_reserve(
    ev: Evaluation, agents: int, share: int, move_cost: Callable[[], int] = lambda: 1
) -> int:
    """What each of `agents` agents, on `share` each, holds back for its charged selection games, in the
    binding unit: its moves, at most, times `move_cost()` (one agent-step; under flops, the actor forward a
    selection move is charged). None for a population of one, none unless charged (auto: where it matters,
    `budget.when_it_matters`)."""
    if agents < 2 or ev.charge_selection is False:
        return 0
    moves = budget.selection_reserve(selection_opponents(ev, agents), ev.selection_games, ev.max_game_length)
    reserve = moves * move_cost() if moves else 0
    return budget.when_it_matters(reserve, share) if ev.charge_selection == "auto" else reserve


def auto_kind(data: dict) -> str:
    """evaluation.kind auto for a budget file's mapping: cooperative for a game in envs.COOPERATIVE, roles for
    one whose seats play different roles (`envs.describe`), else competitive. A game that will not build
    here is left competitive: `check_env` then says what is wrong with it."""
    from swarm import envs

    env, kwargs, roles = data.get("env"), data.get("env_kwargs") or {}, data.get("env_roles")
    if env in envs.COOPERATIVE:
        return "cooperative"
    if not (isinstance(env, str) and isinstance(kwargs, dict) and isinstance(roles, dict | None)):
        return "competitive"
    try:
        return "roles" if envs.describe(env, kwargs, roles).roles else "competitive"
    except envs.EnvError:
        return "competitive"


def read_mapping(path: str | Path, kind: str) -> dict:
    """The top-level mapping of a YAML file, or a ConfigError that names the fix; `kind` is e.g.
    "a budget file such as budgets/default.yaml"."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: no such file; pass {kind}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x}); pass {kind}, "
            "saved as UTF-8"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror}); pass {kind} you may read") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: nested deeper than YAML can read; {LIMITS}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of fields at the top level, got {type(data).__name__}")
    if not _within_limits(data):
        raise ConfigError(f"{path}: too large or too deeply nested for a budget file; {LIMITS}")
    return data


MAX_DEPTH, MAX_NODES = 32, 100_000  # a budget file is a few levels and a few hundred values
LIMITS = (
    f"a budget file nests at most {MAX_DEPTH} levels and holds at most {MAX_NODES:,} values, YAML aliases "
    "expanded; remove the extra nesting or the repeated aliases"
)


def _within_limits(data: object) -> bool:
    """Whether `data` nests at most MAX_DEPTH levels and expands to at most MAX_NODES values. YAML aliases
    share one object between many places, so a short file can expand to billions (or, cyclic, to infinity)
    once pydantic walks it: counted as expanded, stopping at the limit."""
    stack, seen = [(data, 0)], 0
    while stack:
        node, depth = stack.pop()
        seen += 1
        if depth > MAX_DEPTH or seen > MAX_NODES:
            return False
        if isinstance(node, dict):
            stack += [(child, depth + 1) for pair in node.items() for child in pair]
        elif isinstance(node, list):
            stack += [(child, depth + 1) for child in node]
    return True


def load(path: str | Path) -> Experiment:
    """Read, parse and fully validate a budget file, the environment included."""
    return parse(read_mapping(path, "a budget file such as budgets/default.yaml"), source=str(path))


def parse(data: dict, source: str = "config") -> Experiment:
    try:
        config = Experiment.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: invalid budget file\n" + explain(exc)) from None
    check_budget(config, source)
    check_tuning(config, source)
    check_env(config, source)
    return config


def check_tuning(config: Experiment, source: str) -> None:
    """Every combination of the tuning space's ends leaves every agent of every arm a rollout batch."""
    if config.tuning is None:
        return
    for combo in corners(config.tuning.space):
        arms = [settle(arm, combo) for arm in config.arms]
        check_budget(
            config.model_copy(update={"arms": arms, "tuning": None}),
            f"{source}: tuning.space with {shown(combo)}",
        )


def check_budget(config: Experiment, source: str) -> None:
    if config.budget.unit == "flops":
        check_flops(config, source)
        return
    ev = config.evaluation
    for arm in config.arms:
        smallest = min(budget.split(config.budget.total, arm.agents))
        reserve = config.selection_reserve(arm)
        steps = config.for_arm(arm).ppo.rollout_steps
        field = (
            f"arms.{config.arms.index(arm)}.ppo.rollout_steps"
            if "rollout_steps" in arm.ppo
            else "ppo.rollout_steps"
        )
        if reserve and smallest - reserve < steps:
            raise ConfigError(
                f"{source}: evaluation.charge_selection ({ev.charge_selection}): each agent of arm "
                f"{arm.name!r} holds back {reserve} agent_steps for its selection games "
                f"({selection_opponents(ev, arm.agents)} "
                f"opponents x {ev.selection_games} games x {-(-(ev.max_game_length or 0) // 2)} moves), "
                f"leaving {smallest - reserve} of its {smallest} for training, less than one rollout batch; "
                "raise budget.total, lower evaluation.selection_games, or set charge_selection: false to "
                "report the selection games beside the ledger instead"
            )
        if smallest < steps:
            raise ConfigError(
                f"{source}: budget.total: {config.budget.total} agent_steps over the {arm.agents} agents "
                f"of arm {arm.name!r} leaves {smallest} per agent, less than one rollout batch "
                f"({field} = {steps}); raise budget.total to at least {arm.agents * steps} "
                f"or lower {field}"
            )


def check_flops(config: Experiment, source: str) -> None:
    """Under budget.unit: flops, every agent's training share pays for one rollout batch at its bound, and an
    arm's agents together stop at most one batch short of its total (`swarm.training.cost`)."""
    from swarm import envs
    from swarm.training import cost

    total = config.budget.total
    for a, arm in enumerate(config.arms):
        try:
            price = cost.of(config, a)
        except envs.EnvError as exc:
            raise ConfigError(f"{source}: env: {exc}") from None
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None
        steps = config.for_arm(arm).ppo.rollout_steps
        field = f"arms.{a}.ppo.rollout_steps" if "rollout_steps" in arm.ppo else "ppo.rollout_steps"
        share, reserve = min(budget.split(total, arm.agents)), config.selection_reserve(arm)
        batch = price.bound(steps)
        if share - reserve < batch:
            held = f" after {reserve:,} held back for charged selection games" if reserve else ""
            raise ConfigError(
                f"{source}: budget.total: {total:,} flops over the {arm.agents} agents of arm {arm.name!r} "
                f"leaves {share - reserve:,} per agent for training{held}, less than one rollout batch can "
                f"cost ({batch:,} flops at most, {field} = {steps}); raise budget.total to at least "
                f"{arm.agents * (batch + reserve):,} or lower {field}"
            )
        if arm.agents * price.slack > price.least_per_step * steps:
            raise ConfigError(
                f"{source}: arm {arm.name!r}: each of its {arm.agents} agents may stop up to "
                f"{price.slack:,} flops short of its share (one agent-step's bound plus a round's), "
                f"{arm.agents * price.slack:,} in all, more than a rollout batch costs "
                f"({price.least_per_step * steps:,} flops at least), so the arm could end more than one "
                f"batch short of its total; raise {field}, lower ppo.envs, or lower arms.{a}.agents"
            )


def check_env(config: Experiment, source: str) -> None:
    """Build the env with its env_kwargs, check its shape and PettingZoo's API test, then that every ladder
    member can play it honestly: a game must exist before anyone can say how it may be played."""
    from swarm import envs  # imports pettingzoo; kept out of module import for a fast `validate` on bad YAML
    from swarm.evaluation import ladder
    from swarm.players import GAME

    try:
        spec = config.env_spec()
        envs.api_check(spec)
    except envs.EnvError as exc:
        raise ConfigError(f"{source}: env: {exc}") from None
    if config.evaluation.kind == "roles" and not spec.roles:
        raise ConfigError(
            f"{source}: evaluation.kind: roles judges each role apart, and every seat of {config.env!r} "
            "plays one role; give its agents roles in env_roles, or set kind auto or competitive"
        )
    if spec.seats > 2:
        check_seats(config, spec.seats, source)
    ev, partners = config.evaluation, len(config.arms) + len(config.evaluation.ladder)
    if ev.kind == "cooperative" and partners * spec.seats * ev.teamwork_games > MAX_GAMES:
        raise ConfigError(
            f"{source}: evaluation.teamwork_games: {ev.teamwork_games:,} games for each of {spec.seats} "
            f"seats and {partners} partners number more than the {MAX_GAMES:,} seeds a stage holds "
            "(swarm.seeds); lower teamwork_games"
        )
    searching = [n for n in config.evaluation.ladder if ladder.sees(n) == GAME]
    if spec.box is not None and searching:
        raise ConfigError(
            f"{source}: evaluation.ladder: {', '.join(searching)} search Discrete moves, and {config.env!r} "
            "has continuous (Box) actions; use ladder [random]"
        )
    for name in config.evaluation.ladder:
        try:  # a search refuses a game it could cheat at, alphabeta and scripted a game not theirs, and
            ladder.check(name, config.env, config.env_perfect_information)
            if ladder.trained_steps(name) is None:  # a trained member has no build but its training
                ladder.build(name, spec)  # a script env_kwargs that hide from it what it reads
        except ValueError as exc:
            raise ConfigError(f"{source}: {exc}") from None


def check_seats(config: Experiment, seats: int, source: str) -> None:
    """What a game of more than two seats cannot have yet: searches (two-player negamax), exploiters (a best
    response to one opponent) and charged selection games (their reserve counts half a game's moves); and
    what its free-for-all games need: as many distinct players (arms' bests and ladder members) as seats."""
    from swarm.evaluation import ladder
    from swarm.players import GAME

    ev, game = config.evaluation, f"{config.env!r} has {seats} players"
    searching = [name for name in ev.ladder if ladder.sees(name) == GAME]
    players = len(config.arms) + len(ev.ladder)
    fixes = [
        (bool(searching), f"evaluation.ladder: {', '.join(searching)} search two-player games only; drop it"),
        (ev.exploit_steps > 0, "evaluation.exploit_steps: exploiters train in two-player games only; set 0"),
        (
            any(config.selection_reserve(arm) for arm in config.arms) or ev.charge_selection is True,
            "evaluation.charge_selection: its reserve is counted for two-player games only; set false",
        ),
        (
            ev.kind == "competitive" and ev.ffa_games > 0 and players < seats,
            f"evaluation.ffa_games: a free-for-all seats {seats} distinct players, and the arms' bests and "
            f"the ladder members are {players}; add arms or ladder members, or set ffa_games: 0",
        ),
    ]
    for broken, fix in fixes:
        if broken:
            raise ConfigError(f"{source}: {game}: {fix}")


def explain(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "(top level)"
        renamed = RENAMED.get(str(error["loc"][-1])) if error["loc"] else None
        if error["type"] == "extra_forbidden" and renamed:
            lines.append(f"  {field}: renamed to {renamed}; use {renamed} instead")
        elif error["type"] == "extra_forbidden":
            lines.append(
                f"  {field}: unknown field; remove it or fix its spelling (see `swarm validate --help`)"
            )
        elif error["type"] == "missing":
            lines.append(f"  {field}: required field is missing; add it")
        else:
            got = error.get("input")
            shown = "" if isinstance(got, dict | list) else f" (got {got!r})"
            lines.append(f"  {field}: {error['msg']}{shown}")
    return "\n".join(lines)


def describe_fields(model: type[BaseModel] = Experiment, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted field, description) for every field, nested models included: the budget file's manual."""
    rows = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        inner = [a for a in get_args(annotation) if a is not type(None)]  # `Tuning | None`: the block, too
        optional = type(None) in get_args(annotation) and len(inner) == 1
        if optional and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
            rows.append((f"{prefix}{name}", field.description or ""))
            annotation = inner[0]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(describe_fields(annotation, f"{prefix}{name}."))
        elif name == "arms":
            rows.append((f"{prefix}arms", field.description or ""))
            rows.extend(describe_fields(Arm, f"{prefix}arms[]."))
        else:
            rows.append((f"{prefix}{name}", field.description or ""))
    return rows
