"""The command line's progress where its output is not a terminal: plain lines, not bars."""

from __future__ import annotations

from swarm.cli import Lines


def test_plain_lines_at_each_tenth_and_every_so_often():
    now, said = [0.0], []
    lines = Lines(1000, several=True, say=said.append, every=30.0, clock=lambda: now[0])
    for t, spent in [(0, 50), (1, 60), (2, 120), (3, 150), (40, 160), (41, 170), (100, 1000)]:
        now[0] = t
        lines(3, "swarm", spent)
    assert said == [
        "seed 3 swarm: 50/1,000 agent_steps (5%), - agent_steps/s, ETA -",
        "seed 3 swarm: 120/1,000 agent_steps (12%), 35 agent_steps/s, ETA 0:00:25",  # a tenth more
        "seed 3 swarm: 160/1,000 agent_steps (16%), 3 agent_steps/s, ETA 0:05:05",  # 30 s since the last
        "seed 3 swarm: 1,000/1,000 agent_steps (100%), 10 agent_steps/s, ETA 0:00:00",
    ]


def test_each_arm_has_its_own_lines():
    said = []
    lines = Lines(100, several=False, say=said.append, clock=lambda: 0.0)
    lines(0, "single", 10)
    lines(0, "swarm", 10)
    lines(0, "single", 10)
    assert [line.split(":")[0] for line in said] == ["single", "swarm"]
