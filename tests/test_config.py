import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from swarm import config
from swarm.cli import main
from swarm.results import rundir
from swarm.training import cost

BUDGETS = sorted(Path(__file__).resolve().parent.parent.joinpath("budgets").glob("*.yaml"))
EXPERIMENTS = [path for path in BUDGETS if not path.name.startswith("sweep-")]  # sweeps: test_sweep.py


@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_shipped_budget_files_are_valid(path):
    cfg = config.load(path)
    assert cfg.baseline_arm.agents == 1


def test_defaults_fill_in(make_config):
    cfg = config.parse(make_config(ppo={"rollout_steps": 256}))
    assert cfg.ppo.epochs == 4 and cfg.baseline_arm.name == "single"
    assert cfg.primary_arm.name == cfg.arms[1].name  # the first arm after the baseline
    assert config.parse(make_config(primary="swarm")).primary_arm.name == "swarm"


MISSING = object()  # a field to remove


def broken(data: dict, **changes) -> dict:
    for dotted, value in changes.items():
        node = data
        *parents, leaf = dotted.split("__")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if value is MISSING:
            del node[leaf]
        else:
            node[leaf] = value
    return data


@pytest.mark.parametrize(
    "changes,field,fix",
    [
        (dict(ppo__learning_rate=0.1), "ppo.learning_rate", "unknown field"),
        (dict(budget__total="lots"), "budget.total", "valid integer"),
        (dict(budget__total=1000), "budget.total", "raise budget.total to at least 1024"),
        (dict(budget__unit="core_seconds"), "budget.unit", "use flops"),
        (dict(budget__unit="flops"), "budget.total: 2,048 flops", "raise budget.total to at least"),
        (
            dict(budget__unit="flops", budget__total=10**12, env="pettingzoo.classic.rps_v2"),
            "budget.unit: flops",
            "use budget.unit: agent_steps",
        ),
        (
            dict(budget__unit="flops", budget__total=10**12, ppo__rollout_steps=8, ppo__minibatches=2),
            "arm 'independent': each of its 4 agents may stop up to",
            "raise ppo.rollout_steps, lower ppo.envs, or lower arms.1.agents",
        ),
        (dict(arms__0__ppo={"lr": -1}), "arms.0.ppo.lr", "greater than 0"),
        (
            dict(arms__0__ppo={"learning_rate": 1}),
            "arms.0.ppo.learning_rate",
            "Extra inputs are not permitted",
        ),
        (dict(arms__1__network={"hidden": [0]}), "arms.1.network", "hidden widths must be positive"),
        (dict(network__log_std=-9), "network.log_std", "greater than or equal to -5"),
        (
            dict(arms__2__ppo={"envs": 2}),
            "opponents.per_round (4) exceeds ppo.envs (2) (arm 'swarm')",
            "lower",
        ),
        (dict(arms__0__ppo={"rollout_steps": 4096}), "arms.0.ppo.rollout_steps = 4096", "raise budget.total"),
        (dict(arms__1__interaction="fsp"), "arms.1.interaction", "pick one of self_play, population, pfsp"),
        (dict(arms__2__options={"power": 2}), "arms.2.options", "options.power: Extra inputs"),
        (dict(arms__2__interaction="pbt", arms__2__options={"every": 0}), "options.every", "greater than"),
        (
            dict(arms__2__interaction="pbt", arms__2__options={"hyperparameters": ["gamma"]}),
            "options",
            "'lr'",
        ),
        (dict(arms__2__interaction="pfsp", arms__2__options={"weighting": "easy"}), "weighting", "'hard'"),
        (
            dict(arms__2__interaction="league", arms__2__options={"mains": 3, "main_exploiters": 2}),
            "arm 'swarm': its options",
            "need 5 agents, it has 4; lower them or raise agents",
        ),
        (dict(arms__0__interaction="population"), "population play needs at least 2 agents", "self_play"),
        (dict(baseline="nobody"), "baseline", "pick one of"),
        (dict(primary="nobody"), "primary 'nobody' is not an arm other than the baseline", "pick one of"),
        (dict(primary="single"), "primary 'single' is not an arm other than the baseline", "pick one of"),
        (dict(opponents__per_round=9), "opponents.per_round (9) exceeds ppo.envs (8)", "lower"),
        (
            dict(arms__2__opponents={"every_seat": True}),
            "opponents.every_seat (arm 'swarm'): population play never seats an agent's current self",
            "set it only for arms of self_play or league",
        ),
        (dict(env="pettingzoo.classic.nothing_v0"), "env:", "cannot import"),
        (dict(env="pettingzoo.classic.rps_v2"), "env:", "is not an array swarm can flatten"),
        (dict(seed=-1), "seed", "greater than or equal to 0"),
        (dict(resources__gpus=-1), "resources.gpus", "greater than or equal to 0"),
        (dict(resources__gpus=float("inf")), "resources.gpus", "finite number"),
        (dict(seeds=[0, 1]), "give seed or seeds, not both", "remove one"),
        (dict(evaluation__ladder=["random", "mcts"]), "evaluation", "mcts-<simulations> such as mcts-64"),
        (dict(evaluation__ladder=["heuristic"]), "evaluation", "ladder must include random"),
        (dict(evaluation__charge_selection=True), "evaluation", "set evaluation.max_game_length"),
        (
            dict(evaluation__charge_selection=True, evaluation__max_game_length=100),
            "evaluation.charge_selection",
            "lower evaluation.selection_games",
        ),
        (
            dict(evaluation__max_game_length=100),  # auto: 3 x 4 x 50 of a 512 share matters, and leaves none
            "evaluation.charge_selection (auto)",
            "set charge_selection: false",
        ),
        (dict(budget=MISSING), "budget", "required field is missing"),
    ],
)
def test_bad_files_name_the_field_and_the_fix(make_config, changes, field, fix):
    with pytest.raises(config.ConfigError) as error:
        config.parse(broken(make_config(), **changes))
    assert field in str(error.value)
    assert fix in str(error.value)


def test_gpus_default_to_zero_and_take_fractions(make_config):
    assert config.parse(make_config()).resources.gpus == 0
    assert config.parse(make_config(resources={"cpus": 2, "gpus": 0.5})).resources.gpus == 0.5


def test_cli_exits_2_without_traceback(tmp_path, make_config):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(broken(make_config(), budget__total=1000)))
    for command in (["validate", str(path)], ["run", str(path), "--out", str(tmp_path)]):
        done = subprocess.run(
            [sys.executable, "-m", "swarm", *command], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 2
        assert "budget.total" in done.stderr
        assert "Traceback" not in done.stderr + done.stdout
    assert not list(tmp_path.glob("tiny-*"))  # nothing was started or written


def test_cli_refuses_missing_and_malformed_files(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "absent.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("arms: [unclosed\n")
    assert main(["validate", str(tmp_path / "bad.yaml")]) == 2
    assert "not valid YAML" in capsys.readouterr().err


def test_validate_prints_the_resolved_config(tmp_path, capsys, make_config):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(make_config()))
    assert main(["validate", str(path)]) == 0
    out = capsys.readouterr().out
    resolved = yaml.safe_load(out)
    assert resolved["ppo"]["epochs"] == 2 and resolved["ppo"]["gamma"] == 0.99  # given and defaulted fields
    assert "swarm: 4 agent(s) x 512-512 agent_steps" in out


def test_every_field_is_documented(capsys):
    assert main(["validate", "--fields"]) == 0
    out = capsys.readouterr().out
    assert "budget.total" in out and "arms[].interaction" in out and "ppo.clip" in out
    assert all(description for _, description in config.describe_fields())


def test_a_renamed_field_names_its_new_name(make_config):
    data = make_config()
    data["arms"][0]["rollout_workers"] = 2
    with pytest.raises(config.ConfigError, match=r"arms\.0\.rollout_workers: renamed to shards; use shards"):
        config.parse(data)


@pytest.mark.parametrize(
    "charge,selection,total,reserve",
    [
        # 3 peers x 4 games x 21 moves = 252 of a 4,096 share (6%): auto charges it
        ("auto", "peers", 4 * 4096, 252),
        # the same 252 is 0.96% of a 26,250 share: under 1%, auto leaves it beside the ledger
        ("auto", "peers", 4 * 26250, 0),
        (True, "peers", 4 * 26250, 252),
        (False, "peers", 4 * 4096, 0),
        # on the ladder each agent meets its 3 members, whatever the arm's size
        ("auto", "ladder", 4 * 4096, 3 * 4 * 21),
    ],
)
def test_selection_is_charged_by_default_where_it_matters(make_config, charge, selection, total, reserve):
    data = make_config(budget={"unit": "agent_steps", "total": total})
    data["evaluation"] |= {"charge_selection": charge, "selection": selection, "max_game_length": 42}
    cfg = config.parse(data)
    single, independent, swarm = cfg.arms
    assert cfg.selection_reserve(single) == 0  # a population of one selects nothing
    assert cfg.selection_reserve(independent) == cfg.selection_reserve(swarm) == reserve


@pytest.mark.parametrize(("total", "charged"), [(10**8, True), (10**10, False)])
def test_a_flop_budget_reserves_the_selection_moves_in_flops(make_config, total, charged):
    """A selection move is charged an actor forward, so the reserve is 252 of them; auto charges it where that
    reaches 1% of a FLOP share: 252 x 5,824 = 1.47e6 of 2.5e7 (6%), not of 2.5e9 (0.06%)."""
    from swarm.training import cost

    data = make_config(budget={"unit": "flops", "total": total})
    data["evaluation"] |= {"max_game_length": 42}
    cfg = config.parse(data)
    single, independent, _ = cfg.arms
    per_move = cost.of(cfg, 1).per_move
    assert per_move == 2 * (84 * 32 + 32 * 7)  # Connect Four's 84 observations, 7 actions; hidden [32]
    assert cfg.selection_reserve(single) == 0
    assert cfg.selection_reserve(independent) == (3 * 4 * 21 * per_move if charged else 0)


def test_auto_charges_nothing_without_a_bound_on_game_length(make_config):
    cfg = config.parse(make_config())
    assert cfg.evaluation.charge_selection == "auto" and cfg.evaluation.max_game_length is None
    assert all(cfg.selection_reserve(arm) == 0 for arm in cfg.arms)


def test_env_kwargs_reach_the_env_and_the_resolved_config(make_config):
    from swarm.results import rundir

    cfg = config.parse(make_config(env="classic/go-v5", env_kwargs={"board_size": 5}))
    assert cfg.env_kwargs == {"board_size": 5}
    assert rundir.resolved_config(cfg)["env_kwargs"] == {"board_size": 5}  # what resume reads back
    assert config.parse(make_config()).env_kwargs == {}


@pytest.mark.parametrize(
    "changes,message",
    [
        (dict(env_kwargs={"rows": 5}), "env: 'classic/connect_four-v3' would not build with env_kwargs"),
        (dict(env_kwargs={"rows": 5}), "takes render_mode=None, screen_scaling=9: fix env_kwargs"),
        (dict(env_kwargs={"screen_scaling": 3}, env_backend="native"), "set env_backend: auto or pettingzoo"),
        (dict(env_kwargs={"screen_scaling": 3}, env_backend="native"), "or remove env_kwargs"),
    ],
)
def test_env_kwargs_the_env_refuses_are_named_at_the_door(make_config, changes, message):
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.parse(make_config(**changes))


def test_searches_are_refused_on_a_game_with_hidden_information(make_config):
    pytest.importorskip("rlcard")
    leduc = make_config(env="classic/leduc_holdem-v4", evaluation={"ladder": ["random", "mcts-4"]})
    with pytest.raises(config.ConfigError, match=r"evaluation.ladder: mcts-4 searches copies of the game"):
        config.parse(leduc)
    leduc["evaluation"]["ladder"] = ["random"]
    assert config.parse(leduc).evaluation.ladder == ["random"]


@pytest.mark.parametrize(
    "evaluation,message",
    [
        ({"ladder": ["random", "heuristic"]}, "evaluation.ladder: heuristic search two-player games only"),
        ({"exploit_steps": 256}, "evaluation.exploit_steps: exploiters train in two-player games only"),
        ({"charge_selection": True, "max_game_length": 9}, "evaluation.charge_selection: its reserve"),
    ],
)
def test_what_a_game_of_more_than_two_seats_cannot_have_is_named(make_config, seat_game, evaluation, message):
    data = make_config(env=seat_game, env_kwargs={"players": 3})
    data["evaluation"] |= {"ladder": ["random"], **evaluation}
    with pytest.raises(config.ConfigError, match=f"has 3 players: {re.escape(message)}"):
        config.parse(data)
    data["evaluation"] |= {"ladder": ["random"], "exploit_steps": 0, "charge_selection": False}
    assert config.parse(data).env_kwargs == {"players": 3}


def test_a_free_for_all_with_fewer_players_than_seats_is_refused(make_config, seat_game):
    """Five seats, and three arms' bests and random make four players: no free-for-all fills the table."""
    data = make_config(env=seat_game, env_kwargs={"players": 5})
    data["evaluation"] |= {"ladder": ["random"]}
    with pytest.raises(config.ConfigError, match="the arms' bests and the ladder members are 4; add arms"):
        config.parse(data)
    data["evaluation"]["ffa_games"] = 0
    assert config.parse(data).evaluation.ffa_games == 0
    data["env_kwargs"] = {"players": 4}
    data["evaluation"]["ffa_games"] = 2
    assert config.parse(data).evaluation.ffa_games == 2


def test_a_payoff_game_is_scored_by_payoff_and_the_resolved_file_says_so(make_config):
    pytest.importorskip("rlcard")
    leduc = make_config(env="classic/leduc_holdem-v4")
    leduc["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(leduc)
    assert (cfg.evaluation.score, cfg.evaluation.payoff_bound, cfg.payoff_bound) == ("payoff", 14.0, 14.0)
    assert (
        config.parse({**leduc, "evaluation": {**leduc["evaluation"], "score": "outcome"}}).payoff_bound
        is None
    )
    assert config.parse(make_config()).evaluation.score == "outcome"
    with pytest.raises(config.ConfigError, match=r"evaluation\.score: payoff needs evaluation\.payoff_bound"):
        config.parse(make_config(evaluation={**make_config()["evaluation"], "score": "payoff"}))
    with pytest.raises(config.ConfigError, match=r"evaluation\.exploit_steps: an exploiter.s games"):
        config.parse({**leduc, "evaluation": {**leduc["evaluation"], "exploit_steps": 256}})


@pytest.mark.parametrize(
    "kwargs,score,bound",
    [
        ({}, "payoff", 50.0),
        ({"num_players": 2}, "payoff", 50.0),
        ({"num_players": 3}, "payoff", 75.0),
        ({"num_players": 4}, "payoff", 50.0),
        ({"num_players": 4, "screen_height": 500}, "outcome", None),
    ],
)
def test_limit_texas_holdem_is_scored_by_chips_over_its_tables_bound(make_config, kwargs, score, bound):
    """Texas hold'em's bound is 25 k / floor(k / 2) big blinds for k = num_players (envs.texas_bound); with
    an env_kwarg the registry does not know, the hand is scored by outcome, unless the file sets a bound."""
    pytest.importorskip("rlcard")
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play"},
        {"name": "swarm", "agents": 3, "interaction": "population"},
    ]
    data = make_config(env="classic/texas_holdem-v4", env_kwargs=kwargs, arms=arms)
    data["evaluation"] |= {"ladder": ["random"], "ffa_games": 0}
    cfg = config.parse(data)
    assert (cfg.evaluation.score, cfg.evaluation.payoff_bound, cfg.payoff_bound) == (score, bound, bound)
    data["evaluation"]["payoff_bound"] = 60.0
    assert (config.parse(data).evaluation.score, config.parse(data).payoff_bound) == ("payoff", 60.0)


def test_leduc_holdem_built_with_env_kwargs_is_scored_by_outcome(make_config):
    """Its bound is known only for the game its env builds with no env_kwargs; payoff then needs a bound."""
    pytest.importorskip("rlcard")
    leduc = make_config(env="classic/leduc_holdem-v4", env_kwargs={"screen_height": 500})
    leduc["evaluation"] |= {"ladder": ["random"]}
    assert config.parse(leduc).evaluation.score == "outcome"
    leduc["evaluation"]["score"] = "payoff"
    with pytest.raises(config.ConfigError, match=r"has none for it built with these env_kwargs\)"):
        config.parse(leduc)


def test_an_arm_changes_only_the_fields_it_names(make_config):
    data = make_config()
    data["arms"][1]["ppo"] = {"lr": 0.001}
    data["arms"][2]["opponents"] = {"pool_size": 3}
    cfg = config.parse(data)
    single, independent, swarm = (cfg.for_arm(i) for i in range(3))
    assert single is cfg and independent.ppo.lr == 0.001 and independent.ppo.epochs == cfg.ppo.epochs
    assert swarm.opponents.pool_size == 3 and swarm.opponents.per_round == cfg.opponents.per_round
    assert swarm.for_arm(2) == swarm  # applying an arm's changes twice changes nothing


def test_the_same_procedure_is_judged_on_resolved_settings(make_config):
    data = make_config()
    data["arms"][1] = {**data["arms"][0], "name": "twin", "ppo": {"lr": data["ppo"].get("lr", 3e-4)}}
    cfg = config.parse(data)
    assert cfg.same_procedure(cfg.arms[0], cfg.arms[1])  # an override to the file's own value changes nothing
    data["arms"][1]["network"] = {"hidden": [16]}
    cfg = config.parse(data)
    assert not cfg.same_procedure(cfg.arms[0], cfg.arms[1])


@pytest.mark.parametrize(
    "changes,message",
    [
        (
            {
                "arms": [
                    {"name": "single", "agents": 1, "interaction": "self_play"},
                    {"name": "swarm", "agents": 4, "interaction": "pfsp"},
                ]
            },
            "arms: pfsp weigh(s) opponents",
        ),
        ({"evaluation": {"exploit_steps": 256}}, "evaluation.exploit_steps: nothing to exploit"),
        ({"evaluation": {"charge_selection": True, "max_game_length": 75}}, "evaluation.charge_selection"),
    ],
)
def test_a_cooperative_game_is_judged_by_team_return_and_refuses_what_it_cannot_have(
    make_config, changes, message
):
    pytest.importorskip("mpe2")
    spread = make_config(env="mpe2.simple_spread_v3", env_kwargs={"max_cycles": 5})
    spread["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(spread)
    assert cfg.evaluation.kind == "cooperative" and "judged as a cooperative game" in cfg.judged
    assert config.parse(make_config()).evaluation.kind == "competitive"  # connect four, inferred
    assert config.parse({**spread, "evaluation": {**spread["evaluation"], "kind": "competitive"}})
    broken = {**spread, **changes}
    if "evaluation" in changes:
        broken["evaluation"] = {**spread["evaluation"], **changes["evaluation"]}
    with pytest.raises(
        config.ConfigError, match=re.escape(f"evaluation.kind: cooperative ({spread['env']!r}")
    ):
        config.parse(broken)
    with pytest.raises(config.ConfigError, match=re.escape(message)):
        config.parse(broken)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"ladder": ["random", "mcts-4"]}, "evaluation.ladder: mcts-4 search two-player games"),
        ({"exploit_steps": 256}, "evaluation.exploit_steps: an exploiter plays two-sided games"),
        ({"charge_selection": True, "max_game_length": 100}, "evaluation.charge_selection"),
    ],
)
def test_a_game_of_roles_is_judged_by_role_and_refuses_what_it_cannot_have(make_config, changes, message):
    """simple_tag's predators and prey make a game judged by role (auto), with modes that weigh opponents
    by results kept; searches, exploiters and charged selection are refused at the door, naming the field."""
    pytest.importorskip("mpe2")
    arms = [
        {"name": "single", "agents": 1, "interaction": "self_play"},
        {"name": "swarm", "agents": 4, "interaction": "pfsp"},
    ]
    tag = make_config(env="mpe2.simple_tag_v3", env_kwargs={"max_cycles": 5}, arms=arms)
    tag["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(tag)
    assert cfg.evaluation.kind == "roles" and "judged as a role game" in cfg.judged
    assert config.parse({**tag, "evaluation": {**tag["evaluation"], "kind": "competitive", "ffa_games": 0}})
    with pytest.raises(
        config.ConfigError, match=re.escape(f"evaluation.kind: roles ({tag['env']!r}): {message}")
    ):
        config.parse({**tag, "evaluation": {**tag["evaluation"], **changes}})


def test_env_roles_are_checked_against_the_game_before_ray_starts(make_config):
    """env_roles must name every agent of the env and no other (the error names them); roles make a game
    judged by role (Connect Four's movers here), which a game of one role cannot be; a native backend
    plays no roles."""
    roles = {"player_0": "first", "player_1": "second"}
    data = make_config(env_roles=roles)
    data["evaluation"] |= {"ladder": ["random"]}
    assert config.parse(data).evaluation.kind == "roles"
    with pytest.raises(
        config.ConfigError, match=r"env: env_roles leaves out player_1: its agents are player_0"
    ):
        config.parse({**data, "env_roles": {"player_0": "first"}})
    with pytest.raises(config.ConfigError, match=r"env_roles names player_2, which .* does not have"):
        config.parse({**data, "env_roles": {**roles, "player_2": "third"}})
    with pytest.raises(config.ConfigError, match=r"evaluation.kind: roles judges each role apart"):
        config.parse({**data, "env_roles": None, "evaluation": {**data["evaluation"], "kind": "roles"}})
    with pytest.raises(config.ConfigError, match=r"env_backend: native plays a game as one role"):
        config.parse({**data, "env_backend": "native"})


def test_a_continuous_game_takes_random_and_refuses_searches(make_config):
    """Searches pick among Discrete moves: in a game of Box actions (two-seat simple_spread, continuous)
    the door names them and keeps random, which draws in the Box."""
    pytest.importorskip("mpe2")
    kwargs = {"N": 2, "continuous_actions": True, "max_cycles": 5}
    spread = make_config(env="mpe2.simple_spread_v3", env_kwargs=kwargs, env_perfect_information=True)
    spread["evaluation"] |= {"ladder": ["random", "mcts-4"]}
    with pytest.raises(
        config.ConfigError, match=r"evaluation.ladder: mcts-4 search Discrete moves, .* \[random\]"
    ):
        config.parse(spread)
    spread["evaluation"]["ladder"] = ["random"]
    assert config.parse(spread).env_kwargs == kwargs


def test_budget_aware_batches_give_every_share_the_same_updates(make_config):
    data = make_config(budget={"unit": "agent_steps", "total": 65536}, scaling={"updates": 16})
    data["arms"][2]["ppo"] = {"rollout_steps": 512}  # an arm's own setting wins
    cfg = config.parse(data)
    single, independent, swarm = (cfg.for_arm(arm) for arm in cfg.arms)
    assert single.ppo.rollout_steps == 65536 // 16 and independent.ppo.rollout_steps == 16384 // 16
    assert swarm.ppo.rollout_steps == 512 and single.network == cfg.network  # widths only where asked
    saved = rundir.resolved_config(cfg)
    assert [arm["ppo"] for arm in saved["arms"]] == [{"rollout_steps": n} for n in (4096, 1024, 512)]
    resolved = config.parse({k: v for k, v in saved.items() if k != "provenance"})
    for i in range(3):  # folding them into the arms changes nothing an arm trains with
        assert all(getattr(resolved.for_arm(i), b) == getattr(cfg.for_arm(i), b) for b in config.SETTINGS)
    odd = config.parse(make_config(budget={"unit": "agent_steps", "total": 10000}, scaling={"updates": 3}))
    assert odd.for_arm(1).ppo.rollout_steps == 832  # 2,500 / 3 = 833, down to a multiple of 2 minibatches
    with pytest.raises(config.ConfigError, match=r"scaling\.updates: .* arm 'independent' .* at most 64"):
        config.parse(make_config(budget={"unit": "agent_steps", "total": 2048}, scaling={"updates": 65}))


def test_compute_optimal_widths_grow_as_a_power_of_the_share_and_need_flops(make_config):
    with pytest.raises(config.ConfigError, match=r"scaling\.width_exponent: .* set budget\.unit: flops"):
        config.parse(make_config(scaling={"width_exponent": 1.0}))
    data = make_config(budget={"unit": "flops", "total": 10**10}, network={"hidden": [64, 32]})
    cfg = config.parse({**data, "scaling": {"width_exponent": 1.0, "updates": 4}})
    single, swarm = cfg.for_arm(0), cfg.for_arm(2)
    assert single.network.hidden == [64, 32] and swarm.network.hidden == [32, 16]  # a quarter share: half
    for own in (single, swarm):  # each batch is what its share buys at a step's bound, over 4 updates
        share = cfg.budget.total // (1 if own is single else 4)
        steps = share // cost.price(cfg, own.network.hidden, own.ppo).per_step // 4
        assert own.ppo.rollout_steps == steps - steps % 2
    assert swarm.ppo.rollout_steps > single.ppo.rollout_steps // 4  # narrower: more agent-steps per flop
    fixed = config.parse({**data, "scaling": {"width_exponent": 2.0, "reference": 10**10 // 4}})
    assert fixed.for_arm(0).network.hidden == [256, 128] and fixed.for_arm(1).network.hidden == [64, 32]


def test_more_ad_hoc_team_games_than_a_stage_has_seeds_are_refused(make_config):
    pytest.importorskip("mpe2")
    spread = make_config(env="mpe2.simple_spread_v3", env_kwargs={"max_cycles": 5})
    spread["evaluation"] |= {"ladder": ["random"], "teamwork_games": 2**32 // 12 + 1}  # 4 partners x 3 seats
    with pytest.raises(config.ConfigError, match=r"evaluation\.teamwork_games: .* lower teamwork_games"):
        config.parse(spread)
    spread["evaluation"]["teamwork_games"] -= 1
    assert config.parse(spread).evaluation.teamwork_games == 2**32 // 12
