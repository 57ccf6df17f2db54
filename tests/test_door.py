"""The door: every bad input a `swarm: error:` line and exit 2, no traceback, no Ray; one writer per run
directory. The fuzz test mutates the shipped budget and sweep files and the command line (Hypothesis)."""

from __future__ import annotations

import contextlib
import copy
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import ray
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from swarm import config, estimate, sweep
from swarm.cli import main
from swarm.evaluation import evaluate
from swarm.results import rundir
from swarm.results.rundir import RunDir

BUDGETS = sorted(Path(__file__).resolve().parent.parent.joinpath("budgets").glob("*.yaml"))
FUZZ_EXAMPLES = 150


def _refused(capsys, argv: list[str], says: str) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("swarm: error:") and says in err and "Traceback" not in err


def test_a_file_that_is_not_utf8_is_refused(tmp_path, capsys):
    path = tmp_path / "random.yaml"
    path.write_bytes(bytes(range(128, 256)) * 2 + b"\xff" * 44)  # 300 bytes, none of them UTF-8 text
    _refused(capsys, ["validate", str(path)], "not UTF-8 text")


def test_an_out_that_cannot_be_made_is_refused_before_ray(capsys):
    _refused(capsys, ["run", str(BUDGETS[0]), "--out", "/proc/nope"], "--out /proc/nope: cannot write there")
    assert not ray.is_initialized()


def test_a_total_past_float64_is_refused_and_a_huge_one_warned(tmp_path, capsys, make_config):
    data = make_config(budget={"unit": "agent_steps", "total": 10**30})
    (tmp_path / "huge.yaml").write_text(yaml.safe_dump(data))
    _refused(capsys, ["validate", str(tmp_path / "huge.yaml")], "budget.total")
    data["budget"]["total"] = 2**52
    (tmp_path / "big.yaml").write_text(yaml.safe_dump(data))
    assert main(["validate", str(tmp_path / "big.yaml")]) == 0
    out, err = capsys.readouterr()
    assert f"{2**52 // 4:,}-{2**52 // 4:,} agent_steps" in out  # the amounts, on one line
    assert "expected wall time on this machine" in out and "probe" in out
    assert err.startswith("swarm: warning: budget.total: this file would run for") and "years" in err


def _alias_bomb() -> str:
    """Seven levels of ten aliases each: 10**8 values once expanded, in 200 bytes."""
    lines, previous = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"], "a0"
    for level in range(1, 8):
        lines.append(f"a{level}: &a{level} [{', '.join([f'*{previous}'] * 10)}]")
        previous = f"a{level}"
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    "text", ["[" * 2000, "a: &a [*a, *a]\n", _alias_bomb()], ids=["deep", "cycle", "bomb"]
)
def test_deep_cyclic_and_alias_bomb_files_are_refused(tmp_path, capsys, text):
    path = tmp_path / "deep.yaml"
    path.write_text(text)
    _refused(capsys, ["validate", str(path)], str(path))


def test_usage_errors_are_one_line(capsys):
    _refused(capsys, ["run"], "run: the following arguments are required: file")
    _refused(capsys, ["frobnicate"], "invalid choice")


def test_the_estimate_counts_the_games_the_schedules_play(tiny):
    best = {arm: ids[0] for arm, ids in evaluate.arm_agents(tiny).items()}
    counted = estimate.games(tiny, 2)
    assert sum(n for n, _, _ in counted["selection_games"]) == len(evaluate.selection_schedule(tiny))
    held_out = sum(
        n for field in ("verdict_games", "crossplay_games", "ladder_games") for n, _, _ in counted[field]
    )
    assert held_out == len(evaluate.held_out_schedule(tiny, best))
    assert counted["ffa_games"] == [(0, estimate.AGENT, estimate.AGENT)]
    for seats in (3, 4):
        free_for_all = len(evaluate.free_for_all_schedule(tiny, best, seats))
        assert free_for_all > 0 and estimate.games(tiny, seats)["ffa_games"][0][0] == free_for_all
    assert counted["teamwork_games"] == []


def test_the_estimate_counts_the_ad_hoc_team_games(make_config):
    """In a cooperative game: as many as the schedule plays, each a best with another arm's or a ladder
    member."""
    pytest.importorskip("mpe2")
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs={"max_cycles": 4})
    data["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(data)
    best = {arm: ids[0] for arm, ids in evaluate.arm_agents(cfg).items()}
    counted = estimate.games(cfg, 3)["teamwork_games"]
    assert sum(n for n, _, _ in counted) == len(evaluate.teamwork_schedule(cfg, best, 3)) > 0
    assert {b for _, _, b in counted} == {estimate.AGENT, *cfg.evaluation.ladder}


def test_the_probe_is_short_and_the_estimate_finite(tiny):
    found = estimate.estimate(tiny, cpus=2)
    assert 0 < found.probe.seconds < 20 and 0 < found.total < 3600
    assert estimate.absurd(tiny, found) == []


def test_a_trained_member_is_estimated_as_its_training_and_an_agents_moves(make_config):
    """Its agent-steps at the file's cost per agent-step, on one CPU; its moves an agent's."""
    data = make_config()
    data["evaluation"]["ladder"] = ["random", "trained-4096"]
    cfg = config.parse(data)
    found = estimate.estimate(cfg, cpus=2)
    p = found.probe
    assert p.move["trained-4096"] == p.move[estimate.AGENT]
    assert found.references == pytest.approx(4096 * (p.collect + cfg.ppo.epochs * p.epoch))
    assert found.total == pytest.approx(found.training + found.evaluation + found.references)


def test_the_probe_plays_every_seat_of_a_game_of_three(make_config, seat_game):
    data = make_config(env=seat_game, env_kwargs={"players": 3, "rounds": 4})
    data["evaluation"]["ladder"] = ["random"]
    found = estimate.estimate(config.parse(data), cpus=2)
    assert 0 < found.probe.seconds < 20 and 0 < found.total < 3600


def test_the_probe_plays_a_game_of_continuous_actions(make_config):
    pytest.importorskip("mpe2")
    data = make_config(env="mpe2.simple_spread_v3", env_kwargs={"continuous_actions": True, "max_cycles": 5})
    data["evaluation"]["ladder"] = ["random"]
    found = estimate.estimate(config.parse(data), cpus=2)
    assert 0 < found.probe.seconds < 20 and 0 < found.total < 3600


def test_a_role_game_is_estimated_as_two_episodes_its_players_in_their_roles_seats(make_config):
    """A role game of simple_tag (two roles in turn) is two episodes, each half the players' moves on average
    (the predators' 3 of 4 seats, or the prey's 1) and random's the rest."""
    pytest.importorskip("mpe2")
    data = make_config(env="mpe2.simple_tag_v3", env_kwargs={"max_cycles": 5})
    data["evaluation"] |= {"ladder": ["random"]}
    cfg = config.parse(data)
    probe = estimate.Probe(0.0, 0.0, {estimate.AGENT: 1.0, "random": 0.25}, 20.0, 0.0)
    seconds = estimate.game_seconds(cfg, cfg.env_spec(), probe, estimate.AGENT, estimate.AGENT)
    assert seconds == 2 * (10 * 1.0 + 10 * 0.25)


def test_a_flop_budget_is_estimated_at_the_agent_steps_it_buys(tiny, make_config):
    """1e9 FLOPs buy each arm about 1e9 / 68,992 = 14,494 agent-steps of the tiny network: the estimate of
    that many agent-steps."""
    from swarm.training import cost

    flops = config.parse(make_config(budget={"unit": "flops", "total": 10**9}))
    bought = cost.of(flops, 0).steps(10**9)
    steps = tiny.model_copy(update={"budget": config.Budget(unit="agent_steps", total=bought)})
    assert bought == 10**9 // 68992
    found, expected = estimate.estimate(flops, cpus=2), estimate.estimate(steps, cpus=2)
    assert found.training == pytest.approx(expected.training)


# One writer per run directory


def test_a_second_writer_is_refused_naming_the_owner(tmp_path):
    run = rundir.create(tmp_path, "x")
    owner = rf"swarm process {os.getpid()} on {socket.gethostname()}"
    with rundir.owned(run, print), pytest.raises(rundir.Busy, match=owner):
        rundir.Lock.take(run, print)
    assert not run.lock.exists()  # released
    with rundir.owned(run, print):
        pass


def test_a_second_process_is_refused_with_exit_2(tmp_path):
    run = rundir.create(tmp_path, "x")
    (run.path / "config.yaml").write_text("name: x\n")
    with rundir.owned(run, print):
        done = subprocess.run(
            [sys.executable, "-m", "swarm", "resume", str(run.path)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("swarm: error:") and "is writing this directory" in done.stderr


def test_a_stale_lock_of_a_dead_process_is_taken_over(tmp_path):
    run = rundir.create(tmp_path, "x")
    code = (
        "import os, pathlib; from swarm.results import rundir; "
        f"rundir.Lock.take(rundir.RunDir(pathlib.Path({str(run.path)!r})), print); os._exit(0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert run.lock.exists()  # left behind: the process died holding it
    said = []
    with rundir.owned(run, said.append):
        pass
    assert len(said) == 1 and "took over a stale lock" in said[0] and "is gone" in said[0]


def test_another_hosts_lock_is_refused_with_the_override(tmp_path):
    run = rundir.create(tmp_path, "x")
    run.lock.write_text('{"host": "elsewhere", "pid": 1, "started": "2026-01-01"}')
    with pytest.raises(rundir.Busy, match=rf"cannot be checked from .*delete {run.lock}"):
        rundir.Lock.take(run, print)


def test_the_lock_is_no_content_of_a_new_directory(tmp_path):
    run = RunDir(tmp_path / "fresh")
    with rundir.owned(run, print):
        assert rundir.start(run).format.is_file()  # a directory holding only its lock is new


# The fuzz test


def _shipped() -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in BUDGETS]


ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.lists(st.integers(-5, 10**6), max_size=4),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just([[[[[[[[[[1]]]]]]]]]]),
)


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    """Every key path in a parsed file, lists' items included."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated(draw) -> bytes:
    """A shipped file with a few values replaced, keys deleted or added; or its bytes corrupted."""
    data = copy.deepcopy(draw(st.sampled_from(_shipped())))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add", "huge"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = copy.deepcopy(
                draw(ODD)
            )  # a fresh value: never a cycle
        elif action == "huge":
            parent[path[-1]] = draw(st.sampled_from([2**53, 2**63, 10**30, 10**400, 2**32, -1, 0, 1]))
        else:
            parent[path[-1]] = copy.deepcopy(draw(ODD))  # a fresh value: never a cycle
    text = yaml.safe_dump(data, sort_keys=False).encode()
    if draw(st.booleans()) and draw(st.booleans()):  # a quarter of the files: raw bytes spliced in
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.binary(min_size=1, max_size=20)) + text[at:]
    return text


COMMAND = st.sampled_from(
    [["validate"], ["plan"], ["validate", "--fields"], ["plan", "--past", "/nonexistent"]]
)


@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    derandomize=True,  # the same cases on every run
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.data_too_large,
    ],
)
@given(
    text=mutated(),
    command=COMMAND,
    extra=st.lists(st.sampled_from(["--out", "-x", "--past", "", "é"]), max_size=2),
)
def test_fuzz_every_mutated_file_is_valid_or_one_clear_error(tmp_path_factory, text, command, extra):
    """Mutations of the shipped budget and sweep files and of the command line, through validate and plan:
    each ends in exit 0, or exit 2 with a `swarm: error:` line; never a traceback, never Ray."""
    path = tmp_path_factory.mktemp("fuzz") / "file.yaml"
    path.write_bytes(text)
    argv = [command[0], str(path), *command[1:], *extra]
    done = _run_in_process(argv)
    assert done[0] in (0, 2), (argv, done)
    event(f"{command[0]} exit {done[0]}")  # --hypothesis-show-statistics counts the outcomes
    if done[0] == 2:
        assert done[2].startswith("swarm: error:"), (argv, done)
    with contextlib.suppress(config.ConfigError):  # a sweep file's door, without running it
        sweep.load(path)
    assert not ray.is_initialized()


def _run_in_process(argv: list[str]) -> tuple[int, str, str]:
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)  # an exception here (a traceback for a user) fails the test
    return code, out.getvalue(), err.getvalue()
