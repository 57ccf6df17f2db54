"""What a seed and a multi-seed run produce, as types: summary.json is written and read through them only.

A seed's `SeedSummary` holds each arm's spend, chosen best, winner's curse and oracle best, every held-out
rating (the free-for-all ones too), the gains from selection and from interaction, and each arm's verdict
against the baseline. A multi-seed run's `OverSeeds` holds the verdict over seeds per arm. `to_json` gives
the mapping summary.json holds, `from_json` reads it back: the round trip is exact, so every reader sees the
schema the writer used.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class HeadToHead:
    """A pair's record over some games, from `player`'s side, with its score's Wilson interval."""

    player: str
    opponent: str
    wins: int
    draws: int
    losses: int
    games: int
    score: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Interval:
    """A held-out rating (Elo, random = 0) with its interval."""

    rating: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class Estimate:
    """An estimate (a rating gap, a mean score, a probability) with its interval."""

    estimate: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class PlayerRating:
    """One row of the held-out ratings: a player's rating, interval, games and mean score."""

    player: str
    rating: float
    ci_low: float
    ci_high: float
    games: int
    score: float


@dataclass(frozen=True)
class FreeForAllRating:
    """One row of the free-for-all ratings: a player's Plackett-Luce rating (Elo, random = 0) from the
    finishing orders of its free-for-all games, its interval, games and mean position (1 is first)."""

    player: str
    rating: float
    ci_low: float
    ci_high: float
    games: int
    position: float


@dataclass(frozen=True)
class Budget:
    unit: str
    total: int


@dataclass(frozen=True)
class Training:
    """An arm's training wall seconds and the Ray nodes its hosts ran on."""

    wall_seconds: float
    nodes: tuple[str, ...]


@dataclass(frozen=True)
class Exploitability:
    """How completely a fresh learner, trained against the arm's best alone for `agent_steps`, beats it in
    held-out games: its score with Wilson's interval. Its spend is evaluation, charged to no arm."""

    score: float
    ci_low: float
    ci_high: float
    games: int
    agent_steps: int
    flops: int
    core_seconds: float


@dataclass(frozen=True)
class NashRating:
    """A player's mass in the maximum-entropy Nash equilibrium of the held-out meta-game and its Nash
    rating: its expected score above 1/2 against that mixture (0 on the support, below 0 off it)."""

    player: str
    mass: float
    rating: float


@dataclass(frozen=True)
class FitCheck:
    """Does Bradley-Terry fit the held-out games? Pearson's chi-square over pairs and the cyclic triads."""

    chi_square: float
    df: int
    p_value: float
    triads: int
    cyclic: int


@dataclass(frozen=True)
class Lineage:
    """What an arm's best embodies: the training spend its weights hold, following the copies of weights
    they came through (`Ledger.embodied`), and how many copies the arm made in all (PBT's exploit steps)."""

    embodied: dict[str, float]  # unit -> spend
    copies: int


@dataclass(frozen=True)
class ArmSummary:
    """One arm of one seed: spend in every unit, the chosen best, and what selection cost and gained."""

    agents: int
    interaction: str
    budget: Budget
    spent: dict[str, float]  # unit -> training spend (and charged selection games)
    training: Training | None
    selection_cost: dict[str, int]  # agent_steps and flops of the selection games
    selection_charged: bool
    best: str
    best_rating: Interval
    ladder_rating: Interval  # the best's rating against the fixed ladder alone: pool-invariant
    exploitability: Exploitability | None  # None when evaluation.exploit_steps is 0
    selection_score: float | None
    held_out_score: float | None  # the best's score against its selection opponents, on fresh seeds
    winners_curse: Estimate | None  # selection score less held-out score, None without selection
    oracle_best: str  # top scorer of the first half of the arm's own held-out games (evaluation.oracle)
    oracle_rating: Interval
    selection_loss: Estimate  # oracle's Elo less the chosen best's, on the second half of those games
    lineage: Lineage | None = None  # None in a summary written before lineage was recorded

    @classmethod
    def from_json(cls, data: dict) -> ArmSummary:
        training = data["training"]
        return cls(
            **{
                **_estimates(data, "selection_loss"),
                "winners_curse": data["winners_curse"] and Estimate(**data["winners_curse"]),
                "budget": Budget(**data["budget"]),
                "training": training and Training(training["wall_seconds"], (*training["nodes"],)),
                "best_rating": Interval(**data["best_rating"]),
                "ladder_rating": Interval(**data["ladder_rating"]),
                "exploitability": data["exploitability"] and Exploitability(**data["exploitability"]),
                "oracle_rating": Interval(**data["oracle_rating"]),
                "lineage": data.get("lineage") and Lineage(**data["lineage"]),
            }
        )


@dataclass(frozen=True)
class Gains:
    """An interacting arm's gain over the baseline, split into selection and interaction: head-to-head Elo
    gaps of held-out games between the bests (control vs baseline, arm vs control, arm vs baseline)."""

    arm: str
    control: str  # an arm of the same N whose members never meet: the best-of-N lottery alone
    baseline: str
    selection_gain: Estimate
    interaction_gain: Estimate
    total_gain: Estimate
    interaction_record: HeadToHead  # the arm's best against the control's best
    ladder_gain: Estimate  # the arm's best's ladder rating less the control's best's, paired interval

    @classmethod
    def from_json(cls, data: dict) -> Gains:
        return cls(
            **{
                **_estimates(data, "selection_gain", "interaction_gain", "total_gain", "ladder_gain"),
                "interaction_record": HeadToHead(**data["interaction_record"]),
            }
        )


@dataclass(frozen=True)
class Verdict:
    """One arm's best against the baseline's in the held-out verdict games of one seed: a claim about these
    two trained agents. In JSON the head-to-head record's fields sit beside `arm` and `baseline`."""

    arm: str
    baseline: str
    primary: bool  # the primary contrast, judged at the file's level; the others are Holm-adjusted
    record: HeadToHead
    rating_gap: Estimate  # Elo gap of the head-to-head score (significance.game_gap), Wilson's interval
    p_value: float  # score test of 1/2 over the games
    adjusted_p: float  # as judged: p_value for the primary, Holm-adjusted among the others
    verdict: str

    def to_json(self) -> dict:
        return {
            "arm": self.arm,
            "baseline": self.baseline,
            "primary": self.primary,
            **asdict(self.record),
            "rating_gap": asdict(self.rating_gap),
            "p_value": self.p_value,
            "adjusted_p": self.adjusted_p,
            "verdict": self.verdict,
        }

    @classmethod
    def from_json(cls, data: dict) -> Verdict:
        record = HeadToHead(**{k: data[k] for k in HeadToHead.__dataclass_fields__})
        return cls(
            data["arm"],
            data["baseline"],
            data["primary"],
            record,
            Estimate(**data["rating_gap"]),
            data["p_value"],
            data["adjusted_p"],
            data["verdict"],
        )


@dataclass(frozen=True)
class SeedSummary:
    """summary.json of one seed."""

    name: str
    env: str
    seed: int
    baseline: str
    confidence: float
    arms: dict[str, ArmSummary]
    ladder: dict[str, Interval]
    ratings: tuple[PlayerRating, ...]  # strongest first
    ladder_ratings: tuple[PlayerRating, ...]  # every player against the fixed ladder alone, strongest first
    # the bests and the ladder members, fitted on their free-for-all games, strongest first; none but in a
    # competitive game of more than two seats
    free_for_all: tuple[FreeForAllRating, ...]
    nash: tuple[NashRating, ...]  # Nash averaging of the agents' held-out cross-play, highest first
    fit_check: FitCheck
    warnings: tuple[str, ...]  # when the ladder does not reach above an agent, or Elo misleads
    gains: tuple[Gains, ...]
    verdicts: tuple[Verdict, ...]  # one per arm but the baseline, in config order
    correction: str  # which contrast is primary and how the others were judged
    scope: str  # what the verdicts are about: one seed's trained agents, never the methods
    wall_seconds: float

    def to_json(self) -> dict:
        return {**asdict(self), "verdicts": [v.to_json() for v in self.verdicts]}

    @classmethod
    def from_json(cls, data: dict) -> SeedSummary:
        return cls(
            **{
                **data,
                "arms": {name: ArmSummary.from_json(arm) for name, arm in data["arms"].items()},
                "ladder": {name: Interval(**r) for name, r in data["ladder"].items()},
                "ratings": tuple(PlayerRating(**r) for r in data["ratings"]),
                "ladder_ratings": tuple(PlayerRating(**r) for r in data["ladder_ratings"]),
                "free_for_all": tuple(FreeForAllRating(**r) for r in data["free_for_all"]),
                "nash": tuple(NashRating(**r) for r in data["nash"]),
                "fit_check": FitCheck(**data["fit_check"]),
                "warnings": (*data["warnings"],),
                "gains": tuple(Gains.from_json(g) for g in data["gains"]),
                "verdicts": tuple(Verdict.from_json(v) for v in data["verdicts"]),
            }
        )


@dataclass(frozen=True)
class OverSeedsVerdict:
    """One arm's verdict over seeds: the mean of the per-seed head-to-head Elo gaps and scores with Student-t
    intervals, its t-test, and the probability that its best is rated above the baseline's."""

    arm: str
    baseline: str
    primary: bool
    seeds: int
    rating_gap: Estimate
    score: Estimate
    probability_of_improvement: Estimate
    p_value: float  # t-test of mean gap 0 over seeds
    adjusted_p: float  # as judged: p_value for the primary, Holm-adjusted among the others
    significant: bool
    verdict: str

    @classmethod
    def from_json(cls, data: dict) -> OverSeedsVerdict:
        return cls(**_estimates(data, "rating_gap", "score", "probability_of_improvement"))


@dataclass(frozen=True)
class OverSeedsGain:
    """The gain from interaction over seeds: the mean of the per-seed head-to-head Elo gaps of the arm's
    best over its control's best (a paired difference: both bests come from the same seed), with its
    Student-t interval and t-test."""

    arm: str
    control: str
    seeds: int
    interaction_gain: Estimate
    p_value: float
    ladder_gain: Estimate  # the same paired difference, on the ladder ratings

    @classmethod
    def from_json(cls, data: dict) -> OverSeedsGain:
        return cls(**_estimates(data, "interaction_gain", "ladder_gain"))


@dataclass(frozen=True)
class NullCheck:
    """The baseline and the primary arm train identically, so every verdict naming a winner is a false
    positive: how often the one-seed verdicts did, and what the verdict over seeds said."""

    arms: tuple[str, str]
    seeds: int
    named_winner: int  # seeds whose one-seed verdict named a winner between the two
    rate: Estimate  # named_winner / seeds, Wilson's interval
    over_seeds_significant: bool

    @classmethod
    def from_json(cls, data: dict) -> NullCheck:
        return cls(**{**_estimates(data, "rate"), "arms": (*data["arms"],)})


@dataclass(frozen=True)
class OverSeeds:
    """summary.json of a multi-seed run, beside its seed-<s>/ directories."""

    name: str
    env: str
    seeds: tuple[int, ...]
    confidence: float
    verdicts: tuple[OverSeedsVerdict, ...]
    correction: str
    gains: tuple[OverSeedsGain, ...]
    null_check: NullCheck | None  # when the baseline and the primary arm train identically

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> OverSeeds:
        return cls(
            **{
                **data,
                "seeds": (*data["seeds"],),
                "verdicts": tuple(OverSeedsVerdict.from_json(v) for v in data["verdicts"]),
                "gains": tuple(OverSeedsGain.from_json(g) for g in data["gains"]),
                "null_check": data["null_check"] and NullCheck.from_json(data["null_check"]),
            }
        )


Summary = SeedSummary | OverSeeds


def _estimates(data: dict, *keys: str) -> dict:
    """`data` with the mappings under `keys` read as Estimates."""
    return {**data, **{k: Estimate(**data[k]) for k in keys}}


def summary_from_json(data: dict) -> Summary:
    """A seed's summary, or the one over seeds (which names its seeds)."""
    return OverSeeds.from_json(data) if "seeds" in data else SeedSummary.from_json(data)
