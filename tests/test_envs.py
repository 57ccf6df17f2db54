import sys
import textwrap

import numpy as np
import pytest

from swarm import envs


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
        ("json", "has no env() function"),
        ("pettingzoo.classic.rps_v2", "action_mask"),
        ("classic/no_such_game-v0", "not in PettingZoo's registry"),
        ("classic/rps-v2", "action_mask"),
    ],
)
def test_unsuitable_envs_are_refused(module, message):
    with pytest.raises(envs.EnvError, match=message.replace("(", r"\(").replace(")", r"\)")):
        envs.describe(module)


def test_more_than_two_players_is_refused(tmp_path, monkeypatch):
    (tmp_path / "three_player_v0.py").write_text(
        textwrap.dedent("""
        import numpy as np
        from gymnasium import spaces
        from pettingzoo import AECEnv

        class Three(AECEnv):
            metadata = {"name": "three_player_v0"}
            possible_agents = ["a", "b", "c"]

            def observation_space(self, agent):
                box = spaces.Box(0, 1, (2,))
                return spaces.Dict({"observation": box, "action_mask": box})

            def action_space(self, agent):
                return spaces.Discrete(2)

            def reset(self, seed=None, options=None):
                self.agents = list(self.possible_agents)
                self.agent_selection = "a"

            def observe(self, agent):
                return {"observation": np.zeros(2), "action_mask": np.ones(2)}

        def env():
            return Three()
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(envs.EnvError, match="has 3 players"):
        envs.describe("three_player_v0")
    sys.modules.pop("three_player_v0", None)
