"""Tables from loaded runs: scores, the winner's curse, each arm's learning curve, the verdict's contrasts
and lines, the gain lines, spend and ratings side by side (free-for-all ratings too), ad-hoc teamwork, and a
sweep's cells: what the report prints and draws and the notebooks show."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from swarm.analysis.load import LADDER, Run
from swarm.evaluation import significance, stats
from swarm.evaluation.verdict import wilson
from swarm.results import text

SEAT_0_SCORE = {"player_0": 1.0, "draw": 0.5, "player_1": 0.0}  # by outcome; seat 1 scores 1 minus it
SMOOTHING = 25  # an agent's per-round scores are averaged over a centred window of 1/25 of its arm's rounds
BAND = (0.25, 0.75)  # an arm's band: the middle half of its curves (every agent of every seed)


def scores(matches: pd.DataFrame, by: Sequence[str] = ()) -> pd.DataFrame:
    """Each player's mean score (1 win, 0.5 draw, 0 loss) and games, from either seat, within `by` groups."""
    seat0 = matches.outcome.map(SEAT_0_SCORE).astype(float)  # float even with no games at all
    keep = list(by)
    long = pd.concat(
        [
            matches[keep].assign(player=matches.player_0, score=seat0),
            matches[keep].assign(player=matches.player_1, score=1 - seat0),
        ]
    )
    return long.groupby([*keep, "player"], sort=False).score.agg(score="mean", games="count").reset_index()


def winners_curse(matches: pd.DataFrame) -> pd.DataFrame:
    """Every agent of every multi-agent arm: its selection score, its held-out score against the same
    opponents on fresh seeds (its own arm's cross-play, or its ladder games where the arm selected on the
    ladder), and whether it was chosen (top selection score, ties to the lowest index)."""
    by = [c for c in ("run", "seed") if c in matches.columns] + ["arm"]
    selection = scores(matches[matches.stage == "selection"], by)
    pairs = zip(selection.player, selection.arm, strict=True)
    agent = np.array([player.startswith(f"{arm}/") for player, arm in pairs], bool)
    on_ladder = selection[~agent][by].drop_duplicates().assign(mirror="ladder")  # arms that selected on it
    selection = selection[agent]
    held = matches[matches.stage.isin(["crossplay", "ladder"]) & ~matches.arm.isin(["", "ladder"])]
    held = scores(held, [*by, "stage"]).merge(on_ladder, on=by, how="left").fillna({"mirror": "crossplay"})
    held = held[held.stage == held.mirror].drop(columns=["stage", "mirror"])
    frame = selection.merge(held, on=[*by, "player"], suffixes=("_selection", "_held_out"))
    frame = frame.rename(columns={"score_selection": "selection_score", "score_held_out": "held_out_score"})
    ranked = frame.assign(index=frame.player.str.split("/").str[1].astype(int), top=-frame.selection_score)
    first = ranked.sort_values([*by, "top", "index"]).groupby(by, sort=False).head(1)
    frame["chosen"] = frame.index.isin(first.index)
    return frame


def arm_curves(frame: pd.DataFrame, smooth: bool = False) -> pd.DataFrame:
    """One row per arm and point of its curve (`arm_agent_steps`, the arm's spend there): the mean score over
    the arm's curves (one per agent of every seed and run), the quartiles that bound the middle half of
    them, and how many there are. With `smooth`, each curve is first averaged over a centred window of
    1/SMOOTHING of the arm's points (odd, at least 1): a round's score against that round's opponents is
    noisy, and a trailing window would lag the curve."""
    keys = [c for c in ("run", "seed") if c in frame.columns] + ["arm", "agent"]
    frame = frame.sort_values([*keys, "arm_agent_steps"])
    if smooth:
        window = (frame.groupby("arm").arm_agent_steps.nunique() // (2 * SMOOTHING) * 2 + 1).to_dict()
        score = frame.groupby(keys, sort=False).score.transform(
            lambda s: s.rolling(window[s.name[-2]], center=True, min_periods=1).mean()  # name: keys
        )
        frame = frame.assign(score=score)
    by = frame.groupby(["arm", "arm_agent_steps"], sort=False).score
    return pd.DataFrame(
        {
            "score": by.mean(),
            "low": by.quantile(BAND[0]),
            "high": by.quantile(BAND[1]),
            "curves": by.size(),
        }
    ).reset_index()


def contrasts(run: Run) -> pd.DataFrame:
    """One row per arm compared with the baseline, the primary first: who played (on one seed, the two
    agents), the head-to-head Elo gap of its best over the baseline's best (the primary endpoint) with its
    interval, over seeds (Student t) for a
    multi-seed run or else over the one seed's verdict games (Wilson), and whether it was judged
    significant (the primary at the file's level, the others after Holm's correction)."""
    summary = run.summary
    rows = [
        {
            "arm": v.arm,
            "baseline": v.baseline,
            "players": f"{v.arm} best vs {v.baseline} best"
            if run.multi_seed
            else f"{v.record.player} vs {v.record.opponent}",
            "primary": v.primary,
            "seeds": v.seeds if run.multi_seed else 1,
            "gap": v.rating_gap.estimate,
            "gap_low": v.rating_gap.ci_low,
            "gap_high": v.rating_gap.ci_high,
            "adjusted_p": v.adjusted_p,
            "significant": v.significant
            if run.multi_seed
            else significance.significant(v.adjusted_p, summary.confidence),
        }
        for v in summary.verdicts
    ]
    frame = pd.DataFrame(rows)
    return frame.sort_values("primary", ascending=False, kind="stable").reset_index(drop=True)


def verdict_lines(run: Run) -> list[str]:
    """The verdicts: over seeds for a multi-seed run, else each arm's best against the baseline's."""
    if run.multi_seed:
        return [v.verdict for v in run.summary.verdicts]
    return [
        f"{v.verdict}: {v.record.player} vs {v.record.opponent} {text.record(v)}"
        for v in run.summary.verdicts
    ]


def payoff_lines(run: Run, confidence: float = 0.95) -> list[str]:
    """Where games are scored by payoff, or played by teams (a cooperative game): each arm's best's mean
    margin per verdict game over the baseline's best, in the game's own reward (Leduc hold'em: big blinds; a
    team's return), with its Student-t interval over the games: the payoff itself, beside the verdict read
    off the rounded results. A cooperative game's lines give both teams' mean returns too. Empty for
    competitive games scored by outcome."""
    evaluation = run.config.get("evaluation", {})
    teams = evaluation.get("kind") == "cooperative"
    if evaluation.get("score") != "payoff" and not teams:
        return []
    verdict = run.matches[run.matches.stage == "verdict"]
    lines = []
    for v in (v for s in run.seed_summaries.values() for v in s.verdicts):
        a, b = v.record.player, v.record.opponent
        games = verdict[(verdict.player_0.isin([a, b])) & (verdict.player_1.isin([a, b]))]
        first = (games.player_0 == a).to_numpy()
        own = np.where(first, games.reward_0, games.reward_1).astype(float)
        other = np.where(first, games.reward_1, games.reward_0).astype(float)
        mean, low, high = stats.mean_interval(own - other, confidence)
        if teams:
            lines.append(
                f"{a}'s team vs {b}'s: {mean:+.3f} [{low:+.3f}, {high:+.3f}] team return per scenario "
                f"({own.mean():.3f} vs {other.mean():.3f}; paired over {len(own)} verdict scenarios, "
                "Student-t interval)"
            )
        else:
            lines.append(
                f"{a} vs {b}: {mean:+.3f} [{low:+.3f}, {high:+.3f}] reward per game (margin over {len(own)} "
                "verdict games, Student-t interval)"
            )
    return lines


def roles_table(run: Run) -> pd.DataFrame:
    """Where games are judged by role (evaluation.kind: roles), the verdict by role: each arm's best against
    the baseline's best in the verdict games of each role, every seed's pooled, with the best's score and
    its Wilson interval and each one's mean return in the role (against random in every other seat). Empty
    for games of other kinds."""
    if run.config.get("evaluation", {}).get("kind") != "roles":
        return pd.DataFrame()
    verdict = run.matches[run.matches.stage == "verdict"]
    parts = []
    for (name, seed), summary in run.seed_summaries.items():
        games = verdict[(verdict.run == name) & (verdict.seed == seed)]
        for v in summary.verdicts:
            a, b = v.record.player, v.record.opponent
            pair = games[games.player_0.isin([a, b]) & games.player_1.isin([a, b])]
            first, seat0 = (pair.player_0 == a).to_numpy(), pair.outcome.map(SEAT_0_SCORE).to_numpy(float)
            own = np.where(first, pair.reward_0, pair.reward_1).astype(float)
            other = np.where(first, pair.reward_1, pair.reward_0).astype(float)
            score = np.where(first, seat0, 1 - seat0)
            parts.append(
                pd.DataFrame({"arm": v.arm, "role": pair.role, "score": score, "own": own, "other": other})
            )
    level = f"{run.summary.confidence:.0%}"
    rows = []
    for (arm, role), g in pd.concat(parts).groupby(["arm", "role"], sort=False):
        low, high = wilson(g.score.sum(), len(g), run.summary.confidence)
        wins, losses = int((g.score == 1).sum()), int((g.score == 0).sum())
        rows.append(
            {
                "arm's best": arm,
                "role": role,
                "record (W / D / L)": f"{wins} / {len(g) - wins - losses} / {losses}",
                f"score [{level}]": f"{g.score.mean():.3f} [{low:.3f}, {high:.3f}]",
                "best's return": f"{g.own.mean():.3f}",
                "baseline's best's return": f"{g.other.mean():.3f}",
            }
        )
    return pd.DataFrame(rows)


def gain_lines(run: Run) -> list[str]:
    """The gain over the baseline split in two: from selection (best of N isolated agents vs the baseline)
    and from interaction (the interacting arm's best vs that control's best); over seeds, the latter."""
    return text.gains_over_seeds(run.summary) if run.multi_seed else text.gains(run.summary)


def yardstick_lines(run: Run) -> list[str]:
    """Per seed: each arm's best's exploitability, whether Bradley-Terry fits, the Nash averaging's support,
    and any warning about the scales."""
    lines = []
    for (_, seed), summary in run.seed_summaries.items():
        prefix = f"seed {seed}: " if run.multi_seed else ""
        for arm, a in summary.arms.items():
            if (e := a.exploitability) is not None:
                lines.append(
                    f"{prefix}exploitability of {a.best} ({arm}'s best): an exploiter trained against it "
                    f"alone on {e.agent_steps:,} agent-steps scores {text.exploitability(a)} in {e.games} "
                    f"games "
                    f"(evaluation, charged to no arm: {e.core_seconds:,.1f} core-seconds)"
                )
        lines += [prefix + text.fit_check(summary), prefix + text.nash(summary)]
        lines += [f"{prefix}warning: {w}" for w in summary.warnings]
    return lines


def spend_table(run: Run) -> pd.DataFrame:
    """The ledger side by side per arm, one block per seed: budget, spend in every unit, selection cost."""
    blocks = []
    for (_, seed), summary in run.seed_summaries.items():
        arms = summary.arms.values()
        unit = next(iter(arms)).budget.unit
        rows = {
            "agents x interaction": [f"{a.agents} x {a.interaction}" for a in arms],
            f"budget ({unit})": [f"{a.budget.total:,}" for a in arms],
            "spent agent_steps": [f"{a.spent['agent_steps']:,.0f}" for a in arms],
            "spent GFLOPs": [f"{a.spent['flops'] / 1e9:,.1f}" for a in arms],
            "spent core-seconds": [f"{a.spent['core_seconds']:,.1f}" for a in arms],
            f"selection games' {unit}": [text.selection_cost(a) for a in arms],
            "best agent": [a.best for a in arms],
            f"best's weights embody ({unit})": [text.embodied(a) for a in arms],
            "best's selection score": [text.maybe(a.selection_score) for a in arms],
            "best's held-out score, same opponents": [text.maybe(a.held_out_score) for a in arms],
        }
        block = pd.DataFrame(rows, index=list(summary.arms)).T.rename_axis("").reset_index()
        blocks.append(block.assign(seed=seed)[["seed", *block.columns]] if run.multi_seed else block)
    return pd.concat(blocks, ignore_index=True)


SETTINGS = ("ppo", "network", "opponents")  # the blocks an arm may change (config.SETTINGS)


def settings_table(run: Run) -> pd.DataFrame:
    """Each arm's resolved settings side by side where they differ from the file's shared blocks: a row per
    field some arm changes (`arms[].ppo` etc.), and the interaction mode's options of arms that have any.
    Empty when every arm trains with the file's blocks and no options."""
    config, rows = run.config, {}
    arms = config["arms"]
    for block in SETTINGS:
        changed = sorted({field for arm in arms for field in arm.get(block, {})})
        for field in changed:
            shared = config[block][field]
            rows[f"{block}.{field}"] = [_setting(arm.get(block, {}).get(field, shared)) for arm in arms]
    if any(arm.get("options") for arm in arms):
        rows["options"] = [
            ", ".join(f"{k} {_setting(v)}" for k, v in arm.get("options", {}).items()) or "-" for arm in arms
        ]
    if not rows:
        return pd.DataFrame()
    return pd.DataFrame(rows, index=[arm["name"] for arm in arms]).T.rename_axis("").reset_index()


def _setting(value: object) -> str:
    return "/".join(map(str, value)) if isinstance(value, list) else str(value)


def ratings_table(run: Run) -> pd.DataFrame:
    """Held-out ratings, strongest first: every player for one seed; the chosen and the ladder per seed."""
    held = run.ratings[run.ratings.fit == "held_out"]
    if run.multi_seed:
        held = held[held.chosen | (held.arm == LADDER)]
    held = held.sort_values(["seed", "rating"], ascending=[True, False])
    by = [c for c in ("run", "seed", "player") if c in held.columns]
    ladder = run.ratings[run.ratings.fit == "ladder"][[*by, "rating", "ci_low", "ci_high"]]
    held = held.merge(ladder, on=by, how="left", suffixes=("", "_ladder"))
    level = f"{run.summary.confidence:.0%}"
    table = pd.DataFrame(
        {
            "seed": held.seed,
            "player": held.player + np.where(held.chosen, " (best)", ""),
            "rating": held.rating.map("{:+.0f}".format),
            f"{level} interval": [
                f"[{lo:+.0f}, {hi:+.0f}]" for lo, hi in zip(held.ci_low, held.ci_high, strict=True)
            ],
            "ladder rating": held.rating_ladder.map("{:+.0f}".format),
            f"{level} interval ": [
                f"[{lo:+.0f}, {hi:+.0f}]"
                for lo, hi in zip(held.ci_low_ladder, held.ci_high_ladder, strict=True)
            ],
            "games": held.games.map("{:,}".format),
            "score": held.score.map("{:.3f}".format),
        }
    )
    return (
        table.reset_index(drop=True) if run.multi_seed else table.drop(columns="seed").reset_index(drop=True)
    )


def free_for_all_table(run: Run) -> pd.DataFrame:
    """Free-for-all ratings (Plackett-Luce), strongest first, each seed's; empty without free-for-all
    games."""
    level = f"{run.summary.confidence:.0%}"
    rows = [
        {
            "seed": seed,
            "player": r.player + (" (best)" if r.player in {a.best for a in summary.arms.values()} else ""),
            "rating": f"{r.rating:+.0f}",
            f"{level} interval": f"[{r.ci_low:+.0f}, {r.ci_high:+.0f}]",
            "games": f"{r.games:,}",
            "mean position": f"{r.position:.2f}",
        }
        for (_, seed), summary in sorted(run.seed_summaries.items())
        for r in summary.free_for_all
    ]
    table = pd.DataFrame(rows)
    return table if run.multi_seed or table.empty else table.drop(columns="seed")


def free_for_all_over_seeds(run: Run) -> pd.DataFrame:
    """Each arm's best's free-for-all rating over the seeds (mean, Student-t interval) and its gap to the
    baseline's best, seed by seed; empty for one seed or without free-for-all games. Every seed fits the
    same kind of pool (the arms' bests and the ladder, random = 0), so the means compare; they stay
    pool-dependent."""
    if not run.multi_seed:
        return pd.DataFrame()
    baseline = run.config.get("baseline") or run.config["arms"][0]["name"]
    level, confidence = f"{run.summary.confidence:.0%}", run.summary.confidence
    ratings: dict[str, list[float]] = {}
    for summary in run.seed_summaries.values():
        rated = {r.player: r.rating for r in summary.free_for_all}
        if not rated:
            return pd.DataFrame()
        for arm, chosen in summary.arms.items():
            ratings.setdefault(arm, []).append(rated[chosen.best])
    rows = []
    for arm, values in ratings.items():
        mean, low, high = stats.mean_interval(np.array(values), confidence)
        row = {"arm": arm, "seeds": len(values), "best's rating": f"{mean:+.0f} [{low:+.0f}, {high:+.0f}]"}
        if arm != baseline:
            gaps = np.array(values) - np.array(ratings[baseline])
            mean, low, high = stats.mean_interval(gaps, confidence)
            row[f"over {baseline}'s best ({level})"] = f"{mean:+.0f} [{low:+.0f}, {high:+.0f}]"
        rows.append(row)
    return pd.DataFrame(rows).fillna("-")


def teamwork_gaps(games: pd.DataFrame, baseline: str, confidence: float) -> pd.DataFrame:
    """Ad-hoc teamwork from a run's `teamwork` rows (with `run` and `seed`): one row per seed, arm and partner
    ("all" or one of them), with the arm's best's game count and mean team return with those held-out
    partners, and, for each arm but `baseline`, its difference from the baseline's best paired game by game
    on the same scenario, partner and seat (the partners both played with; `paired` games), its mean and
    Student-t interval over those games (nan where none pair)."""
    by = [c for c in ("run", "seed") if c in games.columns]
    rows = []
    for keys, seed_games in games.groupby(by, sort=False):
        base = seed_games[seed_games.arm == baseline]
        for arm, own in seed_games.groupby("arm", sort=False):
            for partner, mine in [("all", own), *own.groupby("partner", sort=False)]:
                row = dict(zip(by, keys, strict=True)) | {"arm": arm, "best": mine.best.iloc[0]}
                row |= {"partner": partner, "games": len(mine), "team_return": mine.team_return.mean()}
                gap = (math.nan,) * 3
                paired = mine.merge(base, on=[*by, "game_seed", "partner", "seat"], suffixes=("", "_base"))
                differences = (paired.team_return - paired.team_return_base).to_numpy(float)
                if arm != baseline and len(differences):
                    gap = stats.mean_interval(differences, confidence)
                row["paired"] = len(differences) if arm != baseline else 0
                rows.append(row | dict(zip(("gap", "gap_low", "gap_high"), gap, strict=True)))
    return pd.DataFrame(rows)


def teamwork_table(run: Run) -> pd.DataFrame:
    """`teamwork_gaps` of the run's ad-hoc team games, as the report prints them; empty without any."""
    if run.teamwork.empty:
        return pd.DataFrame()
    baseline = run.config.get("baseline") or run.config["arms"][0]["name"]
    confidence = run.summary.confidence
    gaps = teamwork_gaps(run.teamwork, baseline, confidence)
    over = f"over {baseline}'s best, paired ({confidence:.0%})"
    table = pd.DataFrame(
        {
            "seed": gaps.seed,
            "best": gaps.best,
            "partners": gaps.partner,
            "games": gaps.games.map("{:,}".format),
            "team return": gaps.team_return.map("{:.3f}".format),
            over: [
                "-" if not n else f"{g:+.3f} [{lo:+.3f}, {hi:+.3f}] over {n:,} games"
                for g, lo, hi, n in zip(gaps.gap, gaps.gap_low, gaps.gap_high, gaps.paired, strict=True)
            ],
        }
    )
    return table if run.multi_seed else table.drop(columns="seed")


def by_mode(frame: pd.DataFrame) -> pd.DataFrame:
    """A sweep table whose N > 1 cells ran several interaction modes, with each mode as the compared arm
    and the N = 1 cells (self_play: the null point) repeated in every mode's rows; else as it is."""
    if "interaction" not in frame.columns:
        return frame
    grown = frame[frame.n > 1]
    modes = list(pd.unique(grown.interaction))
    if len(modes) < 2:
        return frame
    nulls = [frame[frame.n == 1].assign(arm=mode) for mode in modes]
    return pd.concat([grown.assign(arm=grown.interaction), *nulls], ignore_index=True)


def sweep_cells(frame: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """One row per compared arm, budget and N: the mean head-to-head gap over the cell's seeds with its
    Student-t interval and t-test, or with one seed the cell's own (over games). A map's cells are one
    family: a cell is significant when its Holm-adjusted p, over all the arm's cells, is under alpha. With
    several interaction modes (a sweep axis), each mode is a compared arm of its own (`by_mode`)."""
    rows = []
    for (arm, budget, n), cell in by_mode(frame).groupby(["arm", "budget", "n"], sort=True):
        gaps = cell.rating_gap.to_numpy(float)
        if len(gaps) > 1:
            _, low, high = stats.mean_interval(gaps, confidence)
            p = significance.t_p_value(gaps)
        else:
            low, high, p = cell.gap_low.iloc[0], cell.gap_high.iloc[0], cell.p_value.iloc[0]
        rows.append(
            {
                "arm": arm,
                "budget": budget,
                "n": n,
                "seeds": len(gaps),
                "gap": gaps.mean(),
                "gap_low": float(low),
                "gap_high": float(high),
                "p_value": float(p),
            }
        )
    cells = pd.DataFrame(
        rows, columns=["arm", "budget", "n", "seeds", "gap", "gap_low", "gap_high", "p_value"]
    )
    cells["adjusted_p"] = cells.groupby("arm").p_value.transform(lambda p: significance.holm(p.tolist()))
    cells["significant"] = [significance.significant(p, confidence) for p in cells.adjusted_p]
    return cells
