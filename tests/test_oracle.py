"""The split-half oracle and the winner's curse, on simulated cross-play games of known strength."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from swarm.evaluation import evaluate, oracle


def crossplay(members: list[str], per_pair: int, strength: dict[str, float], rng: np.random.Generator):
    """An arm's own held-out round robin, scheduled as a run schedules it, with outcomes drawn from the
    members' strengths (Elo) and no draws."""
    games = evaluate.round_robin(0, "crossplay", "swarm", members, per_pair)
    frame = pd.DataFrame([vars(g) for g in games])
    p = 1 / (1 + 10 ** ((frame.player_1.map(strength) - frame.player_0.map(strength)) / 400))
    first_won = rng.random(len(frame)) < p
    frame["reward_0"], frame["reward_1"] = np.where(first_won, 1.0, -1.0), np.where(first_won, -1.0, 1.0)
    frame["outcome"] = np.where(first_won, "player_0", "player_1")
    return frame


MEMBERS = [f"swarm/{i}" for i in range(16)]


def test_each_half_holds_both_seats_of_every_pair_it_has():
    frame = crossplay(MEMBERS, 4, dict.fromkeys(MEMBERS, 0.0), np.random.default_rng(0))
    half = oracle.halves(frame, 4)
    assert (half == 0).sum() == (half == 1).sum()
    pair = [" ".join(sorted(p)) for p in zip(frame.player_0, frame.player_1, strict=True)]
    for _, games in frame.assign(half=half, pair=pair).groupby(["half", "pair"]):
        assert len(games) == 2 and games.player_0.nunique() == 2


def test_for_identical_agents_the_split_half_selection_loss_is_centred_on_zero():
    """400 arms of 16 identical agents, each best picked at random: the mean selection loss is 0 within
    3 Monte-Carlo SE (choosing and rating the oracle on the same games gave about +50 Elo)."""
    rng = np.random.default_rng(1)
    losses = []
    for _ in range(400):
        frame = crossplay(MEMBERS, 4, dict.fromkeys(MEMBERS, 0.0), rng)
        _, loss = oracle.split_half(frame, "swarm", MEMBERS, MEMBERS[rng.integers(16)], 4, 0.95)
        losses.append(loss.estimate)
    losses = np.array(losses)
    assert abs(losses.mean()) < 3 * losses.std() / np.sqrt(len(losses))


def test_a_truly_better_member_is_found_and_its_edge_measured():
    strength = dict.fromkeys(MEMBERS, 0.0) | {"swarm/7": 300.0}
    frame = crossplay(MEMBERS, 8, strength, np.random.default_rng(2))
    top, loss = oracle.split_half(frame, "swarm", MEMBERS, "swarm/0", 8, 0.95)
    assert top == "swarm/7" and loss.ci_low > 0


def test_a_population_of_one_is_its_own_oracle_and_has_no_curse():
    empty = crossplay(["swarm/0", "swarm/1"], 2, {"swarm/0": 0.0, "swarm/1": 0.0}, np.random.default_rng(0))
    assert oracle.split_half(empty.iloc[:0], "swarm", ["swarm/0"], "swarm/0", 4, 0.95)[1].estimate == 0
    assert oracle.winners_curse(empty.iloc[:0], empty, "swarm", "swarm/0", 0.95) is None


def test_the_winners_curse_is_the_selection_score_less_the_held_out_one():
    held = crossplay(MEMBERS[:4], 10, dict.fromkeys(MEMBERS[:4], 0.0), np.random.default_rng(3))
    chosen = held.assign(
        stage="selection", outcome=np.where(held.player_0 == "swarm/0", "player_0", "player_1")
    )
    chosen["reward_0"] = np.where(chosen.outcome == "player_0", 1.0, -1.0)
    chosen["reward_1"] = -chosen.reward_0
    curse = oracle.winners_curse(chosen, held, "swarm", "swarm/0", 0.95)
    expected = 1.0 - oracle.scores(held, "swarm/0").mean()
    assert curse.estimate == pytest.approx(expected) and curse.ci_low < expected < curse.ci_high
