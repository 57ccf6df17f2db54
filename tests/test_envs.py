import sys
import time

import numpy as np
import pytest

from swarm import envs
from swarm.training import rollout


def test_describes_connect_four(spec):
    assert spec == envs.EnvSpec("classic/connect_four-v3", obs_dim=6 * 7 * 2, actions=7)


def test_module_path_builds_the_same_game():
    assert envs.describe("pettingzoo.classic.connect_four_v3").obs_dim == 6 * 7 * 2


def test_games_mirror_pettingzoo_move_by_move(spec, rng):
    games = envs.Games(spec, 3)
    reference = [envs.make(spec.env_id) for _ in range(3)]
    for i in range(3):
        games.reset(i, seed=i)
        reference[i].reset(seed=i)
    live = np.arange(3)
    while len(live):
        actions = np.array([rng.choice(np.flatnonzero(games.mask[i])) for i in live])
        for i in live:
            seen = reference[i].observe(reference[i].agent_selection)
            assert np.array_equal(games.obs[i], seen["observation"].reshape(-1).astype(np.float32))
            assert np.array_equal(games.mask[i], seen["action_mask"].astype(bool))
            assert games.to_move[i] == reference[i].possible_agents.index(reference[i].agent_selection)
        rewards, done = games.step(live, actions)
        for k, (i, action) in enumerate(zip(live, actions, strict=True)):
            reference[i].step(int(action))
            assert rewards[k].tolist() == [reference[i].rewards[a] for a in reference[i].possible_agents]
            assert done[k] == any(reference[i].terminations.values())
        live = live[~done]
    assert (games.to_move == -1).all()


def test_illegal_moves_raise(spec):
    games = envs.Games(spec, 1)
    games.reset(0, seed=0)
    for _ in range(6):
        games.step(np.array([0]), np.array([3]))  # fill column 3
    assert not games.mask[0, 3]
    with pytest.raises(envs.IllegalMove, match="action 3 is not legal"):
        games.step(np.array([0]), np.array([3]))


@pytest.mark.parametrize(
    "module,message",
    [
        ("no_such_package.game_v0", "cannot import"),
        ("json", "has neither an env() nor a parallel_env() function"),
        ("pettingzoo.classic.rps_v2", "Discrete(4) is not an array"),
        ("classic/no_such_game-v0", "not in PettingZoo's registry"),
        ("classic/rps-v2", "Discrete(4) is not an array"),
    ],
)
def test_unsuitable_envs_are_refused(module, message):
    with pytest.raises(envs.EnvError, match=message.replace("(", r"\(").replace(")", r"\)")):
        envs.describe(module)


def test_games_of_k_seats_pass_the_door_and_one_player_is_refused(seat_game):
    pytest.importorskip("rlcard")
    assert envs.describe("classic/texas_holdem-v4", {"num_players": 4}).seats == 4
    assert envs.describe(seat_game, {"players": 5}).seats == 5
    envs.api_check(envs.describe(seat_game, {"players": 5, "rounds": 2}))
    with pytest.raises(envs.EnvError, match=r"has 1 player; .* two or more players"):
        envs.describe(seat_game, {"players": 1})


def test_env_kwargs_build_the_game_and_travel_with_the_spec():
    spec = envs.describe("classic/go-v5", {"board_size": 5})
    assert (spec.obs_dim, spec.actions, spec.env_kwargs) == (5 * 5 * 17, 5 * 5 + 1, (("board_size", 5),))
    games = envs.games(spec, 2)  # every copy of the game is built with the spec's keywords
    games.reset(0, seed=0)
    assert games.mask.shape == (2, 26) and games.mask[0].all()
    assert envs.describe("classic/go-v5").actions == 19 * 19 + 1


@pytest.mark.parametrize(
    "kwargs,error", [({"bord": 5}, "unexpected keyword argument 'bord'"), ({"board_size": -5}, "negative")]
)
def test_bad_env_kwargs_name_the_constructors_keywords(kwargs, error):
    with pytest.raises(envs.EnvError) as raised:
        envs.describe("classic/go-v5", kwargs)
    message = str(raised.value)
    assert f"env_kwargs {kwargs}" in message and error in message
    assert "takes board_size=19, komi=7.5, render_mode=None" in message and "fix env_kwargs" in message


def test_a_native_backend_plays_only_the_game_built_without_kwargs():
    spec = envs.describe("classic/connect_four-v3", {"screen_scaling": 3})
    assert isinstance(envs.games(spec, 2), envs.Games)  # auto: the PettingZoo envs, built with them
    assert envs.games(envs.describe("classic/connect_four-v3"), 2).envs is None  # native without
    with pytest.raises(envs.EnvError, match=r"env_backend: native .* env_kwargs \{'screen_scaling': 3\}"):
        envs.games(spec, 2, "native")


@pytest.mark.parametrize("env_id", ["classic/connect_four-v3", "classic/tictactoe-v3"])
def test_classic_games_pass_pettingzoos_api_test_quickly(env_id, capsys):
    spec = envs.describe(env_id)
    start = time.perf_counter()
    envs.api_check(spec)
    assert time.perf_counter() - start < 0.5  # ~5 ms measured; it runs at every config load
    assert capsys.readouterr().out == ""  # api_test's own printing is silenced


BROKEN = """
import numpy as np
from gymnasium import spaces
from pettingzoo import AECEnv

SEEN = {seen}  # what every observation holds; its space allows 0 and 1


class Coins(AECEnv):
    '''Each player puts down a coin; player_0 wins. Its observations hold SEEN.'''

    metadata = {{"name": "coins_v0", "is_parallelizable": False, "render_modes": []}}

    def __init__(self):
        super().__init__()
        self.possible_agents = ["player_0", "player_1"]
        box = spaces.Box(0, 1, (2,), np.int8)
        self.observation_spaces = dict.fromkeys(self.possible_agents, spaces.Dict(
            {{"observation": box, "action_mask": box}}
        ))
        self.action_spaces = dict.fromkeys(self.possible_agents, spaces.Discrete(2))
        self.render_mode = None

    def observation_space(self, agent):
        return self.observation_spaces[agent]

    def action_space(self, agent):
        return self.action_spaces[agent]

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {{a: {{}} for a in self.agents}}
        self.agent_selection = "player_0"

    def observe(self, agent):
        return {{"observation": np.full(2, SEEN, np.int8), "action_mask": np.ones(2, np.int8)}}

    def step(self, action):
        if self.terminations[self.agent_selection]:
            self._was_dead_step(action)
            return
        self._cumulative_rewards[self.agent_selection] = 0
        if self.agent_selection == "player_1":
            self.terminations = dict.fromkeys(self.agents, True)
            self.rewards = {{"player_0": 1, "player_1": -1}}
        self.agent_selection = "player_1" if self.agent_selection == "player_0" else "player_0"
        self._accumulate_rewards()


def env():
    return Coins()
"""


@pytest.mark.parametrize("seen,fails", [(1, False), (7, True)])
def test_an_env_that_breaks_pettingzoos_api_is_refused(tmp_path, monkeypatch, seen, fails):
    name = f"coins_{seen}_v0"
    (tmp_path / f"{name}.py").write_text(BROKEN.format(seen=seen))
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = envs.describe(name)  # the shape is right either way: two players, masks, Discrete
    if fails:
        with pytest.raises(envs.EnvError, match=rf"'{name}' fails PettingZoo's API test .*contains"):
            envs.api_check(spec)
    else:
        envs.api_check(spec)
    sys.modules.pop(name, None)


@pytest.mark.parametrize("env_id", sorted(envs.PERFECT_INFORMATION))
def test_perfect_information_games_are_two_player_games_with_masks(env_id):
    assert envs.describe(env_id).actions > 1  # every id of the registry builds and passes the door


def play_out(games: envs.GameBatch, actions: list[int]) -> tuple[list[np.ndarray], np.ndarray]:
    """Game 0 played with `actions` in turn until it ends: the mover's view before each move, the rewards."""
    games.reset(0, 7)
    views, total = [], np.zeros(games.spec.seats, np.float32)
    for k in range(10_000):
        if games.to_move[0] < 0:
            return views, total
        views.append(games.obs[0].copy())
        rewards, _ = games.step(np.array([0]), np.array([actions[k % len(actions)]]))
        total += rewards[0]
    raise AssertionError("the game never ended")


def test_mpe_observations_without_masks_and_its_time_limit_is_a_truncation():
    """MPE2's simple_spread: Box observations, every action legal, and an episode of max_cycles rounds of
    every agent's move that ends by truncation, each seat's last view kept for a bootstrap."""
    pytest.importorskip("mpe2")
    spec = envs.describe("mpe2.simple_spread_v3", {"max_cycles": 4})
    assert (spec.seats, spec.obs_dim, spec.actions) == (3, 18, 5)
    envs.api_check(spec)
    games = envs.games(spec, 1)
    views, total = play_out(games, [1, 2, 3, 4, 0])
    assert len(views) == games.length[0] == 3 * 4 and games.mask.all()
    assert games.truncated[0] and total.sum() < 0  # simple_spread pays only penalties (distance, collisions)
    reference = envs.make("mpe2.simple_spread_v3", {"max_cycles": 4})
    reference.reset(seed=7)
    for k in range(12):
        np.testing.assert_array_equal(reference.observe(reference.agent_selection), views[k])
        reference.step([1, 2, 3, 4, 0][k % 5])
    for seat, agent in enumerate(reference.possible_agents):
        np.testing.assert_array_equal(games.final_obs[0, seat], reference.observe(agent))


def test_a_parallel_env_plays_as_its_aec_twin(tmp_path, monkeypatch):
    """A module with only a parallel_env() is played through PettingZoo's parallel_to_aec, passes both API
    tests, and gives move for move the views and rewards of the same game's AEC env."""
    pytest.importorskip("mpe2")
    (tmp_path / "spread_parallel_v0.py").write_text("from mpe2.simple_spread_v3 import parallel_env\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    kwargs = {"max_cycles": 5}
    parallel, aec = (
        envs.describe("spread_parallel_v0", kwargs),
        envs.describe("mpe2.simple_spread_v3", kwargs),
    )
    envs.api_check(parallel)
    assert (parallel.obs_dim, parallel.actions, parallel.seats) == (aec.obs_dim, aec.actions, aec.seats)
    actions = [3, 1, 4, 1, 0, 2, 2]
    (p_views, p_total), (a_views, a_total) = (play_out(envs.games(s, 1), actions) for s in (parallel, aec))
    np.testing.assert_array_equal(np.stack(p_views), np.stack(a_views))
    np.testing.assert_array_equal(p_total, a_total)
    sys.modules.pop("spread_parallel_v0", None)


def test_roles_come_from_agent_names_and_one_network_reads_every_seat_padded_with_its_role():
    """MPE2's simple_tag: three predators (obs 16) and a prey (obs 14) are roles adversary and agent; each
    seat's view is its own observation, zeros up to 16, then a one-hot of its role, as one network reads it,
    the last views of a truncated game too. Seats that share their spaces stay one role, whatever their
    names (Go's black_0 and white_0), their game as it always was."""
    pytest.importorskip("mpe2")
    spec = envs.describe("mpe2.simple_tag_v3", {"max_cycles": 2})
    assert spec.roles == ("adversary",) * 3 + ("agent",) and spec.role_names == ("adversary", "agent")
    assert (spec.seats, spec.obs_dim, spec.actions) == (4, 16 + 2, 5)
    envs.api_check(spec)
    games = envs.games(spec, 1)
    views, _ = play_out(games, [1, 2, 3, 4, 0])
    reference = envs.make(spec.env_id, {"max_cycles": 2})
    reference.reset(seed=7)
    for k, view in enumerate(views):
        own = reference.observe(reference.agent_selection)
        role = [0, 0, 0, 1][k % 4]
        np.testing.assert_array_equal(view, np.concatenate([own, np.zeros(16 - len(own)), np.eye(2)[role]]))
        reference.step([1, 2, 3, 4, 0][k % 5])
    prey = reference.observe("agent_0")
    np.testing.assert_array_equal(games.final_obs[0, 3], np.concatenate([prey, [0, 0], [0, 1]]))
    assert len(prey) == 14 and games.mask.all()
    assert envs.describe("classic/go-v5", {"board_size": 5}).roles == ()


def test_a_role_with_fewer_actions_has_the_others_masked():
    """MPE2's simple_speaker_listener: the speaker's 3 actions of the listener's 5 are legal; a fourth is an
    illegal move. Box actions of different sizes are refused: one network acts in one Box."""
    pytest.importorskip("mpe2")
    spec = envs.describe("mpe2.simple_speaker_listener_v4", {"max_cycles": 2})
    assert (spec.roles, spec.obs_dim, spec.actions) == (("speaker", "listener"), 11 + 2, 5)
    games = envs.games(spec, 1)
    games.reset(0, 3)
    assert games.mask[0].tolist() == [True, True, True, False, False] and games.obs[0, -2:].tolist() == [1, 0]
    with pytest.raises(envs.IllegalMove, match="not legal"):
        games.step(np.array([0]), np.array([3]))
    games.step(np.array([0]), np.array([2]))
    assert games.mask[0].all() and games.obs[0, -2:].tolist() == [0, 1]
    with pytest.raises(envs.EnvError, match=r"roles act in different spaces \(speaker: a Box of 3 actions"):
        envs.describe(spec.env_id, {"continuous_actions": True})


def test_env_roles_name_every_agent_or_are_refused_naming_the_agents():
    """env_roles gives seats roles (Connect Four's first and second movers: the same spaces, each view
    marked with its role); an agent it does not name, or one the game does not have, is refused naming the
    game's agents; seats put in one role must share their spaces."""
    pytest.importorskip("mpe2")
    spec = envs.describe("classic/connect_four-v3", None, {"player_0": "first", "player_1": "second"})
    assert (spec.roles, spec.obs_dim, spec.actions) == (("first", "second"), 84 + 2, 7)
    agents = "its agents are adversary_0, adversary_1, adversary_2, agent_0"
    roles = {"adversary_0": "hunter", "adversary_1": "hunter", "agent_0": "prey", "adversary_7": "hunter"}
    with pytest.raises(envs.EnvError, match=f"names adversary_7, .* and leaves out adversary_2: {agents}"):
        envs.describe("mpe2.simple_tag_v3", None, roles)
    with pytest.raises(envs.EnvError, match=r"role 'all' see or act differently .* agent_0: obs 14"):
        envs.describe("mpe2.simple_tag_v3", None, dict.fromkeys(agents[15:].split(", "), "all"))


def test_continuous_actions_are_a_box_without_masks_and_moves_outside_it_raise():
    pytest.importorskip("mpe2")
    spec = envs.describe("mpe2.simple_spread_v3", {"continuous_actions": True, "max_cycles": 3})
    assert (spec.seats, spec.obs_dim, spec.actions) == (3, 18, 5)
    assert spec.box == envs.Box(low=(0.0,) * 5, high=(1.0,) * 5) and spec.mask_width == 0
    envs.api_check(spec)
    games = envs.games(spec, 2)
    games.reset_many(np.arange(2), [0, 1])
    assert games.mask.shape == (2, 0) and spec.zero_actions(2).shape == (2, 5)
    games.step(np.array([0, 1]), np.full((2, 5), 0.5, np.float32))
    with pytest.raises(envs.IllegalMove, match="outside the Box"):
        games.step(np.array([0]), np.array([[0.5, 0.5, 1.5, 0.5, 0.5]], np.float32))


def test_a_box_with_infinite_bounds_is_refused_naming_the_env(tmp_path, monkeypatch):
    pytest.importorskip("mpe2")
    (tmp_path / "unbounded_v0.py").write_text(
        "import numpy as np\n"
        "from gymnasium import spaces\n"
        "from mpe2 import simple_spread_v3\n\n\n"
        "def env(**kwargs):\n"
        "    game = simple_spread_v3.env(continuous_actions=True)\n"
        "    game.unwrapped.action_spaces = {\n"
        "        a: spaces.Box(-np.inf, np.inf, (5,), np.float32) for a in game.unwrapped.possible_agents\n"
        "    }\n"
        "    return game\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(envs.EnvError, match=r"'unbounded_v0': its Box of actions .* infinite bounds"):
        envs.describe("unbounded_v0")
    sys.modules.pop("unbounded_v0", None)


TEXAS = "classic/texas_holdem-v4"
CALL, RAISE, FOLD, CHECK = 0, 1, 2, 3  # rlcard's order, the mask's


def texas_hands(players: int, aggressive: np.ndarray, seed: int = 0) -> np.ndarray:
    """Hands of limit Texas hold'em through swarm's PettingZoo `Games`, one per row of `aggressive` (hands x
    players: which seats raise while they may, else call, else check; the others move uniformly at random),
    dealt by seeds seed, seed + 1, ...: each hand's return per seat [hands, players]."""
    spec = envs.describe(TEXAS, {"num_players": players})
    hands, rng, bold = len(aggressive), np.random.default_rng(seed), np.array([RAISE, CALL, CHECK])
    games = envs.Games(spec, hands)
    games.reset_many(np.arange(hands), list(range(seed, seed + hands)))
    returns, live = np.zeros((hands, players)), np.arange(hands)
    while len(live):
        mask = games.mask[live]
        wild = np.array([rng.choice(np.flatnonzero(row)) for row in mask])
        fierce = aggressive[live, games.to_move[live]]
        rewards, done = games.step(live, np.where(fierce, bold[mask[:, bold].argmax(1)], wild))
        returns[live] += rewards
        live = live[~done]
    return returns


@pytest.mark.parametrize("players", [2, 3, 4, 5])
def test_texas_holdem_margins_stay_within_the_bound_and_reach_it(players):
    """Hands where every seat raises while it may, random hands and hands of both (each seat bold or random)
    through the env: no seat loses more than 25 big blinds (the 50 chips it can put in), no side margin
    (`rollout.sides`) exceeds `payoff_bound`, and the all-raising hands reach it (50 chips in from every
    seat, and the side with fewer seats, either for even k, takes the pot)."""
    pytest.importorskip("rlcard")
    bound = envs.payoff_bound(TEXAS, {"num_players": players})
    assert bound == 25 * players / (players // 2)
    rng = np.random.default_rng(players)
    bold = texas_hands(players, np.ones((16, players), bool))
    played = np.concatenate(
        [
            bold,
            texas_hands(players, rng.random((48, players)) < 0.5, seed=100),
            texas_hands(players, np.zeros((16, players), bool), seed=200),
        ]
    )
    assert played.min() >= -25 and np.allclose(played.sum(1), 0)
    sides = rollout.sides(played)
    assert np.abs(sides[:, 0] - sides[:, 1]).max() <= bound
    sides = rollout.sides(bold)
    assert np.abs(sides[:, 0] - sides[:, 1]).max() == bound


def test_the_texas_bound_is_rlcards_most_chips_in():
    """rlcard's limit game: a big blind, then at most allowed_raise_num raises a round, of raise_amount
    before the flop and on it and twice that on the turn and the river: 50 chips, 25 big blinds a seat."""
    pytest.importorskip("rlcard")
    from rlcard.games.limitholdem.game import LimitHoldemGame

    game = LimitHoldemGame()
    most = game.big_blind + game.allowed_raise_num * game.raise_amount * (1 + 1 + 2 + 2)
    assert most / game.big_blind == 25
    assert [envs.payoff_bound(TEXAS, {"num_players": k}) for k in (2, 3, 4, 5, 6, 23)] == [
        50,
        75,
        50,
        62.5,
        50,
        25 * 23 / 11,
    ]


@pytest.mark.parametrize(
    "env,kwargs,bound",
    [
        ("classic/leduc_holdem-v4", {}, 14.0),
        ("pettingzoo.classic.leduc_holdem_v4", None, 14.0),
        ("classic/leduc_holdem-v4", {"num_players": 2}, None),
        (TEXAS, {}, 50.0),
        ("pettingzoo.classic.texas_holdem_v4", {"num_players": 4}, 50.0),
        (TEXAS, {"num_players": 4, "screen_height": 500}, None),
        (TEXAS, {"num_players": 1}, None),
        (TEXAS, {"num_players": 24}, None),
        (TEXAS, {"num_players": 4.0}, None),
        (TEXAS, {"num_players": True}, None),
        ("classic/connect_four-v3", {}, None),
        (None, {}, None),
    ],
)
def test_payoff_bounds_know_only_the_games_they_were_derived_for(env, kwargs, bound):
    """Leduc hold'em only as built with no env_kwargs; limit Texas hold'em for any table rlcard deals, and
    with no env_kwargs but num_players."""
    assert envs.payoff_bound(env, kwargs) == bound
