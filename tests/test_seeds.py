import torch

from swarm import seeds


def test_stages_never_share_a_seed():
    ranges = {stage: {seeds.game_seed(7, stage, i) for i in (0, 1, 2**32 - 1)} for stage in seeds.STAGES}
    for stage, values in ranges.items():
        assert {seeds.stage_of(v) for v in values} == {stage}
    all_seeds = [v for values in ranges.values() for v in values]
    assert len(all_seeds) == len(set(all_seeds))


def test_run_seeds_do_not_collide():
    assert seeds.game_seed(0, "verdict", 5) != seeds.game_seed(1, "verdict", 5)
    assert seeds.game_seed(seeds.MAX_RUN_SEED - 1, "ladder", 2**32 - 1) < 2**63


def test_agent_rngs_are_reproducible_and_distinct():
    a_np, a_torch = seeds.agent_rngs(0, 1, 2, 3)
    b_np, b_torch = seeds.agent_rngs(0, 1, 2, 3)
    assert a_np.integers(1 << 30) == b_np.integers(1 << 30)
    assert a_torch.initial_seed() == b_torch.initial_seed()
    assert seeds.agent_rngs(0, 1, 2, 4)[1].initial_seed() != a_torch.initial_seed()
    shards = {seeds.agent_rngs(0, 1, 2, 3, shard)[1].initial_seed() for shard in range(8)}
    assert len(shards) == 8 and a_torch.initial_seed() in shards  # shard 0 is the agent's own


def test_evaluation_streams_differ_between_stages_and_run_seeds():
    firsts = [seeds.game_seed(run, stage, 0) for run in (0, 1) for stage in ("selection", "verdict")]
    draws = {float(torch.rand(1, generator=seeds.eval_generator(s))) for s in firsts}
    assert len(draws) == len(firsts)
