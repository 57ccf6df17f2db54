"""The scripted rung: MPE2's obvious policies play legally in every role and action space, beat random by a
margin measured on fixed seeds, agree on one matching whatever seat computes it, and are refused at the door
in a game without a script; the hold'em scripts play only what the mask allows, win chips from random at two
and four seats, and play rlcard's rule agents' moves wherever the observation shows what those read."""

import functools
import importlib.util
import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from swarm import config, engine, envs
from swarm.evaluation import ladder
from swarm.players import RandomPlayer, scripted
from swarm.training.rollout import play

MPE = pytest.mark.skipif(importlib.util.find_spec("mpe2") is None, reason="needs mpe2 (the mpe extra)")
HOLDEM = pytest.mark.skipif(
    importlib.util.find_spec("rlcard") is None, reason="needs rlcard (the holdem extra)"
)

SPREAD, TAG = "mpe2.simple_spread_v3", "mpe2.simple_tag_v3"
EPISODES, CYCLES = 16, 15  # seeds 0..15; 15 rounds leave the gaps below wide


def spec_of(env: str, continuous: bool, **kwargs) -> envs.EnvSpec:
    return envs.describe(env, {"max_cycles": CYCLES, "continuous_actions": continuous, **kwargs})


def returns(spec: envs.EnvSpec, lineup: list[int]) -> np.ndarray:
    """Each seat's mean return over the fixed seeds, seat s played by random (0) or scripted (1)."""
    players = [RandomPlayer(spec.box), ladder.build("scripted", spec)]
    seating = np.tile(lineup, (EPISODES, 1))
    games = envs.games(spec, EPISODES)
    rewards, _ = play(games, players, seating, list(range(EPISODES)), torch.Generator().manual_seed(0))
    return rewards.mean(0)


@MPE
@pytest.mark.parametrize("env", [SPREAD, TAG])
@pytest.mark.parametrize("continuous", [False, True])
def test_every_role_moves_legally(env, continuous):
    """Whoever is to move (a predator or the prey: the role read from the view's one-hot), its action is a
    legal Discrete move or a point inside the Box."""
    spec = spec_of(env, continuous)
    player, games = ladder.build("scripted", spec), envs.games(spec, 4)
    games.reset_many(np.arange(4), [0, 1, 2, 3])
    movers = set()
    for _ in range(2 * spec.seats):
        obs, mask = torch.from_numpy(games.obs), torch.from_numpy(games.mask)
        actions = player.act(obs, mask, torch.Generator()).numpy()
        if continuous:
            assert actions.shape == (4, spec.actions)
            assert (actions >= spec.box.low).all() and (actions <= spec.box.high).all()
        else:
            assert actions.dtype == np.int64 and games.mask[np.arange(4), actions].all()
        movers.update(games.to_move.tolist())
        games.step(np.arange(4), actions)  # the adapter raises IllegalMove on anything else
    assert movers == set(range(spec.seats))


@MPE
@pytest.mark.parametrize("continuous", [False, True])
def test_a_scripted_team_covers_the_landmarks_better_than_random(continuous):
    """Measured on seeds 0..15, 15 rounds: random -15.6 a seat, scripted -7.5 (Discrete); -16.2 and -6.1
    (Box)."""
    spec = spec_of(SPREAD, continuous)
    team, floor = returns(spec, [1, 1, 1]).mean(), returns(spec, [0, 0, 0]).mean()
    assert team > floor + 4.0


@MPE
@pytest.mark.parametrize("continuous", [False, True])
def test_scripted_predators_catch_and_scripted_prey_escape_more_than_random(continuous):
    """Against random prey, measured: random predators +3.8 each, scripted +38.8 (Discrete; +3.8 and +46.9
    Box). Against random predators: random prey -10.1, scripted -0.8 (Discrete; -9.0 and -1.1 Box): it flees
    and stays inside the area the env charges it for leaving."""
    spec = spec_of(TAG, continuous)
    assert spec.roles == ("adversary",) * 3 + ("agent",)
    floor = returns(spec, [0, 0, 0, 0])
    assert returns(spec, [1, 1, 1, 0])[:3].mean() > floor[:3].mean() + 20.0
    assert returns(spec, [0, 0, 0, 1])[3] > floor[3] + 5.0


@MPE
@pytest.mark.parametrize("n", [2, 3, 5])
def test_every_seat_computes_one_matching_a_landmark_each(n):
    """On sampled states of simple_spread (random moves from reset), every seat's own landmark, computed from
    its own view alone, is a different landmark: the seats' targets are a permutation of the landmarks."""
    spec = envs.describe(SPREAD, {"N": n})
    player, generator = scripted.build(spec), np.random.default_rng(0)
    for seed in range(5):
        env = envs.make(SPREAD, {"N": n}).unwrapped
        env.reset(seed=seed)
        for _ in range(n * int(generator.integers(0, 8))):
            env.step(int(generator.integers(0, 5)))
        views = torch.tensor(np.stack([env.observe(agent) for agent in env.possible_agents]))
        targets = player.target(views).numpy()
        landmarks = np.stack([landmark.state.p_pos for landmark in env.world.landmarks])
        distance = np.linalg.norm(targets[:, None] - landmarks[None], axis=2)
        assert distance.min(axis=1).max() < 1e-5  # each target is a landmark...
        assert sorted(distance.argmin(axis=1)) == list(range(n))  # ...and no two seats share one


def test_the_matching_does_not_depend_on_who_lists_the_agents_or_landmarks():
    """Shuffling the agents and the landmarks shuffles the pairs with them, and nothing else."""
    generator = torch.Generator().manual_seed(0)
    agents, landmarks = torch.rand(64, 4, 2, generator=generator), torch.rand(64, 4, 2, generator=generator)
    pairs = scripted.matching(agents, landmarks)
    for _ in range(5):
        mine, theirs = torch.randperm(4, generator=generator), torch.randperm(4, generator=generator)
        assert torch.equal(scripted.matching(agents[:, mine], landmarks[:, theirs]), pairs[:, mine])
    # ties (two agents on one point) are broken by position, the same way whoever lists them
    twins = torch.tensor([[[0.0, 0.0], [0.0, 0.0]]]).expand(1, 2, 2)
    goals = torch.tensor([[[1.0, 0.0], [-1.0, 0.0]]])
    assert torch.equal(scripted.matching(twins, goals), scripted.matching(twins, goals.flip(1)))


@MPE
def test_the_door_takes_scripted_where_there_is_a_script_and_refuses_it_elsewhere(make_config):
    """simple_spread (continuous too) and simple_tag (a role game) take scripted beside random, and an
    evaluation game plays it; Connect Four has no script, and env_kwargs that hide agents from the script
    are refused, each naming evaluation.ladder and the fix."""
    for env, kwargs in [(SPREAD, {"continuous_actions": True}), (TAG, {})]:
        data = make_config(env=env, env_kwargs={"max_cycles": 4, **kwargs})
        data["evaluation"] |= {"ladder": ["random", "scripted"]}
        assert config.parse(data).evaluation.ladder == ["random", "scripted"]
    rewards, _ = engine.play_local(config.parse(data), [(3, "scripted", "random")], {})
    assert rewards.shape == (1, 2)

    board = make_config()
    board["evaluation"] |= {"ladder": ["random", "scripted"]}
    message = (
        "evaluation.ladder: scripted plays only games with a script (mpe2.simple_spread_v3, "
        "mpe2.simple_tag_v3, classic/leduc_holdem-v4, pettingzoo.classic.leduc_holdem_v4, "
        "classic/texas_holdem-v4, pettingzoo.classic.texas_holdem_v4), not 'classic/connect_four-v3'; "
        "remove scripted from evaluation.ladder"
    )
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.parse(board)
    partial = make_config(env=SPREAD, env_kwargs={"max_cycles": 4, "num_agent_neighbors": 1})
    partial["evaluation"] |= {"ladder": ["random", "scripted"]}
    with pytest.raises(
        config.ConfigError, match=r"evaluation.ladder: scripted reads every agent .* num_agent_neighbors"
    ):
        config.parse(partial)


LEDUC, TEXAS = "classic/leduc_holdem-v4", "classic/texas_holdem-v4"
CALL, RAISE, FOLD, CHECK = 0, 1, 2, 3  # rlcard's order, the mask's
NAMES = ("call", "raise", "fold", "check")
HANDS = 400  # seeds 0..399 in each seat: one hand each


def chips(spec: envs.EnvSpec, hands: int) -> float:
    """Scripted's mean return a hand (big blinds) against random in every other seat, in each seat in turn
    over seeds 0..hands-1."""
    players, generator = [RandomPlayer(), ladder.build("scripted", spec)], torch.Generator().manual_seed(0)
    won = []
    for seat in range(spec.seats):
        seating = np.zeros((hands, spec.seats), np.int64)
        seating[:, seat] = 1
        rewards, _ = play(envs.games(spec, 64), players, seating, list(range(hands)), generator)
        won.append(rewards[:, seat])
    return float(np.concatenate(won).mean())


@HOLDEM
@pytest.mark.parametrize("env,kwargs", [(LEDUC, {}), (TEXAS, {}), (TEXAS, {"num_players": 4})])
def test_the_holdem_scripts_play_only_what_the_mask_allows(env, kwargs):
    """Over 200 moves of 32 tables, where random moves half the time to reach states the script would not,
    every action the script picks (for every table, whoever moves) is legal."""
    spec = envs.describe(env, kwargs)
    player, games, rng = ladder.build("scripted", spec), envs.games(spec, 32), np.random.default_rng(0)
    games.reset_many(np.arange(32), list(range(32)))
    seeds, picked = itertools.count(32), set()
    for _ in range(200):
        obs, mask = torch.from_numpy(games.obs), torch.from_numpy(games.mask)
        actions = player.act(obs, mask, torch.Generator()).numpy()
        assert actions.dtype == np.int64 and games.mask[np.arange(32), actions].all()
        picked.update(actions.tolist())
        wild = rng.random(32) < 0.5
        legal = [rng.choice(np.flatnonzero(row)) for row in games.mask]
        _, done = games.step(np.arange(32), np.where(wild, legal, actions))
        finished = np.flatnonzero(done)
        games.reset_many(finished, [next(seeds) for _ in finished])
    assert picked == ({RAISE, CALL} if env == LEDUC else {CALL, RAISE, FOLD, CHECK})


@HOLDEM
def test_scripted_wins_chips_from_random_at_leduc():
    """Measured: +1.21 big blinds a hand over seeds 0..399 in each seat (800 hands, standard error 0.11)."""
    assert chips(envs.describe(LEDUC), HANDS) > 0.7


@HOLDEM
@pytest.mark.parametrize("players,hands,least", [(2, HANDS, 0.3), (4, HANDS // 2, 0.9)])
def test_scripted_wins_chips_from_random_at_texas_holdem(players, hands, least):
    """Scripted in each seat in turn, random in every other. Measured: +0.54 big blinds a hand heads-up
    (seeds 0..399 in each seat, 800 hands, standard error 0.09), +1.61 at a table of four (seeds 0..199 in
    each, 800 hands, standard error 0.16)."""
    assert chips(envs.describe(TEXAS, {"num_players": players}), hands) > least


@HOLDEM
def test_the_leduc_script_is_rlcards_first_rule_agent():
    """For every set of legal actions it plays what `LeducHoldemRuleAgentV1` plays: raise, else call, else
    check; so it never folds while anything else is legal, a pair with the public card included."""
    from rlcard.models.leducholdem_rule_models import LeducHoldemRuleAgentV1

    player = scripted.build(envs.describe(LEDUC))
    for legal in itertools.product([False, True], repeat=4):
        if not any(legal):
            continue
        obs = torch.zeros(1, 36)
        obs[0, [2, 5, 9, 25]] = 1  # a King, a King on the board, 3 chips in against 4: a pair
        action = player.act(obs, torch.tensor([legal]), torch.Generator()).item()
        raw = {"raw_legal_actions": [name for name, ok in zip(NAMES, legal, strict=True) if ok]}
        assert NAMES[action] == LeducHoldemRuleAgentV1.step(raw)
        assert action != FOLD or legal == (False, False, True, False)


def texas_view(cards: list[str]) -> torch.Tensor:
    """The observation [1, 72] of `cards` (rlcard's names: suit then rank, 'SA', 'HT'), hand and board alike,
    laid out by rlcard's own index of cards; no raises counted."""
    import rlcard

    index = json.loads((Path(rlcard.__file__).parent / "games/limitholdem/card2index.json").read_text())
    obs = torch.zeros(1, 72)
    obs[0, [index[card] for card in cards]] = 1
    return obs


@functools.cache
def texas_player() -> scripted.Texas:
    return scripted.build(envs.describe(TEXAS))


def texas_act(cards: list[str], legal: list[int]) -> str:
    """The name of what the Texas script plays seeing `cards`, where the actions `legal` are."""
    mask = torch.zeros(1, 4, dtype=torch.bool)
    mask[0, legal] = True
    return NAMES[texas_player().act(texas_view(cards), mask, torch.Generator()).item()]


@HOLDEM
def test_before_the_flop_the_texas_script_is_rlcards_rule_agent():
    """On all 1,326 starting hands, facing the big blind (call, raise, fold), it plays what
    `LimitholdemRuleAgentV1` plays; as the big blind with a free check, it checks where rlcard folds."""
    from rlcard.models.limitholdem_rule_models import LimitholdemRuleAgentV1

    deck = [suit + rank for suit in "SHDC" for rank in "A23456789TJQK"]
    raised = 0
    for hand in itertools.combinations(deck, 2):
        state = {"raw_obs": {"hand": list(hand), "public_cards": []}}
        rlcards = LimitholdemRuleAgentV1.step({**state, "raw_legal_actions": ["call", "raise", "fold"]})
        assert texas_act(list(hand), [CALL, RAISE, FOLD]) == rlcards
        free = LimitholdemRuleAgentV1.step({**state, "raw_legal_actions": ["raise", "fold", "check"]})
        assert texas_act(list(hand), [RAISE, FOLD, CHECK]) == ("raise" if free == "raise" else "check")
        raised += rlcards == "raise"
    assert raised == 78 + 64 + 32 + 96  # pairs, an ace with a ten or better, suited aces below, two of T-K


@HOLDEM
@pytest.mark.parametrize(
    "cards,facing,free",
    [
        (["SA", "HA", "DA", "C7", "S2"], "raise", "raise"),  # trips
        (["SK", "HK", "D7", "C7", "S2"], "raise", "raise"),  # two pair
        (["SA", "H2", "D3", "C4", "S5", "HK"], "raise", "raise"),  # a straight, the ace low
        (["S9", "SK", "S2", "S4", "S7"], "raise", "raise"),  # a flush
        (["S9", "HK", "D2", "C4", "S7"], "call", "raise"),  # nothing made, cards above 5: stay in
        (["S3", "H4", "D2", "C2", "S5", "D3", "H4"], "raise", "raise"),  # two pair on a low board still bets
        (["S9", "H9", "D2", "C4", "S7"], "call", "raise"),  # one pair: stay in
        (["S3", "H4", "D2", "C5", "H5"], "fold", "check"),  # all 5 or under, one pair: give up
        (["S3", "H4", "D2", "C5", "H2", "DK"], "call", "raise"),  # a king shows: stay in
    ],
)
def test_after_the_flop_the_texas_script_bets_made_hands_and_stays_in_with_high_cards(cards, facing, free):
    """Reading hand and board together: two pair or better bets; facing a bet (call, raise, fold) it calls
    with anything above 5 showing; with nothing to call (raise, fold, check) it never folds."""
    assert texas_act(cards, [CALL, RAISE, FOLD]) == facing
    assert texas_act(cards, [RAISE, FOLD, CHECK]) == free


@HOLDEM
def test_the_door_takes_scripted_in_the_holdem_games_and_refuses_it_in_one_without_a_script(make_config):
    """Leduc (by either id) and Texas hold'em for four take scripted beside random, and an evaluation game
    plays it; no-limit hold'em has no script and is refused naming evaluation.ladder."""
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play"},
        {"name": "swarm", "agents": 3, "interaction": "population"},
    ]
    games = [(LEDUC, {}), ("pettingzoo.classic.leduc_holdem_v4", {}), (TEXAS, {"num_players": 4})]
    for env, kwargs in games:
        data = make_config(env=env, env_kwargs=kwargs, arms=arms)
        data["evaluation"] |= {"ladder": ["random", "scripted"], "curve_points": 0}
        assert config.parse(data).evaluation.ladder == ["random", "scripted"]
    rewards, _ = engine.play_local(config.parse(data), [(3, "scripted", "random")], {})
    assert rewards.shape == (1, 2)  # each side's: scripted in seats 0 and 2, random in 1 and 3

    no_limit = make_config(env="classic/texas_holdem_no_limit-v6", arms=arms)
    no_limit["evaluation"] |= {"ladder": ["random", "scripted"], "curve_points": 0}
    with pytest.raises(
        config.ConfigError,
        match=r"evaluation.ladder: scripted plays only games with a script \(.*\), not "
        r"'classic/texas_holdem_no_limit-v6'; remove scripted from evaluation.ladder",
    ):
        config.parse(no_limit)
