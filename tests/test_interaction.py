import numpy as np
import pytest

from swarm import interaction
from swarm.interaction import CURRENT, MODES, Key, Population, Settings, Tally, pbt, pfsp


def draw(mode, pools, seed, places=64, per_round=8, latest_share=0.5):
    population = Population(pools, {})
    return interaction.pairings(
        mode, population, Settings(places, per_round, latest_share), np.random.default_rng(seed)
    )


@pytest.mark.parametrize("mode", list(MODES))
def test_reproducible_from_seed(mode):
    pools = [[4, 9], [], [9]]
    assert draw(mode, pools, 3) == draw(mode, pools, 3)
    assert draw(mode, pools, 3) != draw(mode, pools, 4)


@pytest.mark.parametrize("mode", list(MODES))
def test_slots_are_dealt_evenly_among_the_round_opponents(mode):
    for opponents in draw(mode, [[0, 5, 10], [0, 5], [0]], 1, places=32, per_round=4):
        assert opponents[:4] * 8 == opponents  # slot s plays draw s % 4: 8 slots each, 4 of each seat parity


@pytest.mark.parametrize("mode", list(MODES))
def test_modes_keep_to_what_they_declare(mode):
    pools = [[4, 9], [9], [], [1]]
    drawn = draw(mode, pools, 0)
    for agent, opponents in enumerate(drawn):
        if not MODES[mode].meets_others:
            assert {key.agent for key in opponents} == {agent}
        assert all(key.round == CURRENT or key.round in pools[key.agent] for key in opponents)
    met = {(agent, key.agent) for agent, opponents in enumerate(drawn) for key in opponents}
    assert any(a != b for a, b in met) == MODES[mode].meets_others
    itself = any(Key(agent, CURRENT) in opponents for agent, opponents in enumerate(drawn))
    assert itself == MODES[mode].meets_itself  # what opponents.every_seat learns from
    with pytest.raises(ValueError, match=f"needs at least {MODES[mode].min_agents} agents"):
        draw(mode, [[]] * (MODES[mode].min_agents - 1), 0)


def test_self_play_meets_only_itself():
    pools = [[4, 9], [9], []]
    for agent, opponents in enumerate(draw("self_play", pools, 0)):
        assert {key.agent for key in opponents} == {agent}
        assert {key.round for key in opponents} <= {CURRENT, *pools[agent]}
    assert {key.round for key in draw("self_play", pools, 0)[2]} == {CURRENT}  # no snapshots: only itself


def test_self_play_latest_share():
    (opponents,) = draw("self_play", [list(range(10))], 0, places=4000, per_round=4000, latest_share=0.8)
    share = np.mean([key.round == CURRENT for key in opponents])
    assert 0.77 < share < 0.83


def test_population_meets_others_uniformly():
    # agent 0's candidates: (1,current), (1,4), (2,current), (2,4), (2,9): five, each about 1/5
    drawn = draw("population", [[], [4], [4, 9]], 0, places=6000, per_round=6000)[0]
    counts = {key: drawn.count(key) for key in set(drawn)}
    assert set(counts) == {Key(1, CURRENT), Key(1, 4), Key(2, CURRENT), Key(2, 4), Key(2, 9)}
    assert all(abs(c / 6000 - 0.2) < 0.03 for c in counts.values())


def test_population_needs_two():
    assert MODES["population"].min_agents == 2 and MODES["self_play"].min_agents == 1
    with pytest.raises(ValueError):
        draw("population", [[]], 0)


def test_records_add_up():
    assert interaction.Tally(2, 1.5) + interaction.Tally(1, 0.5) == interaction.Tally(3, 2.0)


# PFSP: the weights follow their formulas and favour the harder opponents


@pytest.mark.parametrize("power", [1.0, 2.0, 3.5])
def test_pfsp_hard_weights_are_one_minus_p_to_the_power(power):
    rates = np.array([0.1, 0.5, 0.9, 0.99])
    expected = (1 - rates) ** power
    assert np.allclose(pfsp.weights(rates, "hard", power), expected / expected.sum())


def test_pfsp_variance_weights_favour_even_opponents():
    rates = np.array([0.05, 0.5, 0.95])
    got = pfsp.weights(rates, "variance")
    assert np.allclose(got, rates * (1 - rates) / (rates * (1 - rates)).sum())
    assert got[1] > got[0] and np.isclose(got[0], got[2])


def test_pfsp_weights_are_uniform_where_every_weight_is_zero():
    assert np.allclose(pfsp.weights(np.ones(4), "hard", 2.0), 0.25)


def test_pfsp_draws_follow_a_synthetic_payoff_table():
    """Agent 0 beats agent 1's current weights 90% of the time, loses to agent 2's 90%: its draws follow
    (1 - p)^2 of the smoothed rates, so agent 2 comes up about 80 times as often as agent 1."""
    results = {(0, Key(1, CURRENT)): Tally(100, 90.0), (0, Key(2, CURRENT)): Tally(100, 10.0)}
    population = Population([[], [], []], results)
    drawn = interaction.pairings(
        "pfsp", population, Settings(20000, 20000, 0.5), np.random.default_rng(0), interaction.options("pfsp")
    )[0]
    rates = np.array([Tally(100, 90.0).rate, Tally(100, 10.0).rate])
    share = pfsp.weights(rates, "hard", 2.0)[1]
    assert abs(drawn.count(Key(2, CURRENT)) / 20000 - share) < 0.01
    uniform = draw("population", [[], [], []], 0, places=20000, per_round=20000)[0]
    assert abs(uniform.count(Key(2, CURRENT)) / 20000 - 0.5) < 0.02  # the same candidates, unweighed


def test_rates_carry_one_prior_game():
    assert Tally().rate == 0.5 and Tally(1, 1.0).rate == 0.75 and Tally(3, 0.0).rate == 0.125


# League: each role draws as specified


def league_draw(results, pools, options, per_round=4000):
    population = Population(pools, results)
    settings = Settings(per_round, per_round, 0.5)
    return interaction.pairings(
        "league", population, settings, np.random.default_rng(1), interaction.options("league", options)
    )


def test_league_roles_draw_as_specified():
    pools = [[0, 5], [0, 5], [0, 5], [0, 5]]  # main 0, main exploiter 1, league exploiters 2 and 3
    main, exploiter, league_a, league_b = league_draw({}, pools, {"mains": 1, "main_exploiters": 1})
    current = [key for key in main if key.round == CURRENT]
    assert {key.agent for key in current} == {0}  # self-play among the mains
    assert abs(len(current) / len(main) - 0.35) < 0.03
    frozen = {key for key in main if key.round != CURRENT}
    assert frozen == {Key(m, r) for m in range(4) for r in (0, 5)}  # every frozen player of the league
    assert set(exploiter) == {Key(0, CURRENT)}  # the mains' current weights
    assert {key.round for key in league_a + league_b} <= {0, 5}  # frozen players only
    assert {key.agent for key in league_a} == {0, 1, 2, 3}


def test_a_beaten_main_exploiter_falls_back_to_the_mains_snapshots():
    pools = [[0, 5], [0, 5], [0]]
    lost = {(1, Key(0, CURRENT)): Tally(50, 1.0), (1, Key(0, 0)): Tally(20, 19.0)}  # p = 0.97 vs round 0
    _, exploiter, _ = league_draw(lost, pools, {"mains": 1, "main_exploiters": 1})
    assert {key for key in exploiter} == {Key(0, 0), Key(0, 5)}
    share = exploiter.count(Key(0, 0)) / len(exploiter)
    p0, p5 = Tally(20, 19.0).rate, 0.5
    expected = p0 * (1 - p0) / (p0 * (1 - p0) + p5 * (1 - p5))  # variance weighting
    assert abs(share - expected) < 0.03


def test_league_best_is_a_main_and_roles_must_fit():
    options = interaction.options("league", {"mains": 2, "main_exploiters": 3})
    assert options.bests(8) == range(2) and options.min_agents() == 5
    with pytest.raises(ValueError, match="needs at least 5 agents"):
        league_draw({}, [[0]] * 4, {"mains": 2, "main_exploiters": 3})


# PBT: the exploit step


def test_pbt_bottom_copies_top_and_perturbs_only_named_hyperparameters():
    options = interaction.options("pbt", {"every": 3, "quantile": 0.25, "hyperparameters": ["lr"]})
    # agents 0..7 score 0.0 .. 0.7 against one opponent
    results = {(a, Key(9, CURRENT)): Tally(100, 10.0 * a) for a in range(8)}
    population = Population([[0]] * 8, results)
    hypers = [{"lr": 1e-3 * (a + 1)} for a in range(8)]
    assert pbt.exploit(2, population, hypers, options, np.random.default_rng(0)) == []  # not due
    assert pbt.exploit(0, population, hypers, options, np.random.default_rng(0)) == []  # never at round 0
    copies = pbt.exploit(3, population, hypers, options, np.random.default_rng(0))
    assert [c.agent for c in copies] == [0, 1]  # the bottom quarter
    for c in copies:
        assert c.source in (6, 7)  # from the top quarter
        assert set(c.hypers) == {"lr"}
        assert any(c.hypers["lr"] == pytest.approx(hypers[c.source]["lr"] * f) for f in (0.8, 1.2))
    again = pbt.exploit(3, population, hypers, options, np.random.default_rng(0))
    assert again == copies  # reproducible from the RNG


def test_pbt_copies_only_from_a_strictly_better_member():
    options = interaction.options("pbt", {"every": 1})
    even = Population([[0]] * 4, {(a, Key(9, CURRENT)): Tally(10, 5.0) for a in range(4)})
    assert (
        pbt.exploit(
            1, even, [{"lr": 1.0, "entropy_coef": 1.0, "clip": 1.0}] * 4, options, np.random.default_rng(0)
        )
        == []
    )


def test_pbt_starting_hyperparameters_spread_log_uniformly():
    options = interaction.options("pbt", {"spread": 2.0})
    base = {"lr": 1e-3, "entropy_coef": 0.01, "clip": 0.2}
    start = pbt.initial(options, base, 2000, np.random.default_rng(0))
    ratios = np.log2([s["lr"] / base["lr"] for s in start])
    assert ratios.min() >= -1 and ratios.max() <= 1 and abs(ratios.mean()) < 0.05
    alike = pbt.initial(interaction.options("pbt", {"spread": 1.0}), base, 3, np.random.default_rng(0))
    assert alike == [base] * 3
