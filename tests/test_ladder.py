"""The ladder's registry: members by name, every name checked with the fix in its message."""

import pytest

from swarm.envs import Box, EnvSpec
from swarm.evaluation import ladder
from swarm.players import RandomPlayer
from swarm.players.search import MCTS, Heuristic


def test_registry_builds_members_by_name():
    assert isinstance(ladder.build("random"), RandomPlayer)
    assert isinstance(ladder.build("heuristic"), Heuristic)
    assert ladder.build("heuristic").sees == ladder.build("mcts-4").sees == "game"
    assert ladder.build("random").sees == "observation"
    mcts = ladder.build("mcts-64")
    assert isinstance(mcts, MCTS) and mcts.simulations == 64
    for name in ("random", "heuristic", "mcts-1", "mcts-100000"):
        ladder.check(name)


@pytest.mark.parametrize(
    "name", ["mcts", "mcts-0", "mcts-100001", "mcts-x", "MCTS-64", "alphazero-64", "", "trained", "trained-0"]
)
def test_registry_rejects_bad_names_with_the_fix(name):
    message = (
        rf"unknown ladder member '{name}'; use random, heuristic, scripted, mcts-<simulations> such as "
        r"mcts-64 \(1 to 100000\), alphabeta-<depth> such as alphabeta-4 \(1 to 10\) or "
        r"trained-<agent-steps> such as trained-1000000"
    )
    for call in (ladder.check, ladder.build):
        with pytest.raises(ValueError, match=message):
            call(name)


FAIR = ("classic/connect_four-v3", "pettingzoo.classic.tictactoe_v3", "classic/go-v5")
HIDDEN = ("classic/leduc_holdem-v4", "pettingzoo.classic.texas_holdem_v4", "my_games.cards_v0")


@pytest.mark.parametrize("name", ["heuristic", "mcts-16"])
def test_searches_play_only_games_that_hide_nothing(name):
    for env in FAIR:
        ladder.check(name, env)
    fairs = ["random, scripted, trained-<agent-steps>"] * 2 + ["random, trained-<agent-steps>"]
    for env, fair in zip(HIDDEN, fairs, strict=True):
        with pytest.raises(
            ValueError, match=rf"{name} searches copies of the game.*{env}.*ladder \[{fair}\] here"
        ):
            ladder.check(name, env)
        ladder.check(name, env, perfect_information=True)  # a game its file declares perfect-information
        ladder.check("random", env)  # sees only what a player sees


def test_alphabeta_still_plays_only_connect_four():
    ladder.check("alphabeta-4", "pettingzoo.classic.connect_four_v3")
    with pytest.raises(ValueError, match="plays only classic/connect_four-v3"):
        ladder.check("alphabeta-4", "classic/tictactoe-v3")


def test_the_fix_for_a_saturated_ladder_names_only_members_that_can_play_the_game():
    assert "alphabeta-<depth>" in ladder.reaching_higher("classic/connect_four-v3")
    tictactoe = ladder.reaching_higher("classic/tictactoe-v3")
    assert "mcts-<simulations>" in tictactoe and "alphabeta" not in tictactoe
    assert "floors" in ladder.reaching_higher("classic/leduc_holdem-v4")
    assert "add scripted" in ladder.reaching_higher("pettingzoo.classic.texas_holdem_v4")
    cards = ladder.reaching_higher("my_games.cards_v0")
    assert "floors" in cards and "scripted" not in cards and "trained-<agent-steps>" in cards
    assert "mcts" in ladder.reaching_higher("my.game", perfect_information=True)


def test_the_fix_for_a_saturated_ladder_trains_a_member_longer_than_anyone_did():
    """The trained member it names trains twice what the longest-trained agent or trained member did."""
    assert ladder.reaching_higher("my_games.cards_v0", most=5000).endswith("e.g. trained-10000")
    assert ladder.reaching_higher("classic/connect_four-v3", most=5000).endswith(" or trained-10000")
    assert ladder.reaching_higher("my_games.cards_v0", ladder=["random", "trained-8000"], most=5000).endswith(
        "e.g. trained-16000"
    )


def test_trained_members_are_named_by_their_agent_steps_see_what_a_player_sees_and_play_anything():
    assert ladder.trained_steps("trained-4096") == 4096
    assert [ladder.trained_steps(n) for n in ("trained-0", "trained-04", "trained", "mcts-4")] == [None] * 4
    assert ladder.sees("trained-4096") == "observation"
    for env in (*FAIR, *HIDDEN, "mpe2.simple_tag_v3"):
        ladder.check("trained-4096", env)
    with pytest.raises(ValueError, match=r"plays from the weights `swarm\.references` trained for it"):
        ladder.build("trained-4096")


def test_random_draws_in_the_games_box_where_actions_are_continuous():
    box = Box(low=(0.0, 0.0), high=(1.0, 2.0))
    spec = EnvSpec("my.game", obs_dim=3, actions=2, box=box)
    assert ladder.build("random", spec) == RandomPlayer(box) and ladder.build("random").box is None


def test_scripted_plays_only_games_with_a_script():
    """It sees what a player sees, so a game of hidden information takes it (MPE2's; a search's refusal
    there names it beside random); elsewhere it is refused naming the games that have one; it is built from a
    game's spec, and the fix for a saturated ladder in a scripted game names it."""
    assert ladder.sees("scripted") == "observation" and ladder.sees("mcts-4") == "game"
    ladder.check("scripted")
    ladder.check("scripted", "mpe2.simple_tag_v3")
    with pytest.raises(
        ValueError, match=r"evaluation.ladder: scripted plays only games with a script \(mpe2"
    ):
        ladder.check("scripted", "classic/connect_four-v3")
    with pytest.raises(
        ValueError, match=r"mcts-4 searches copies .* ladder \[random, scripted, trained-<agent-steps>\]"
    ):
        ladder.check("mcts-4", "mpe2.simple_spread_v3")
    with pytest.raises(ValueError, match="build it with the game's spec"):
        ladder.build("scripted")
    assert "add scripted or a member trained longer" in ladder.reaching_higher("mpe2.simple_spread_v3")
    assert "add scripted" not in ladder.reaching_higher(
        "mpe2.simple_spread_v3", ladder=["random", "scripted"]
    )
