"""Every RNG of a run comes from here, derived from the run seed and what it is for.

Game seeds carry their stage in their bits, `(run_seed * 8 + stage) << 32 | index`, so training, selection,
the held-out stages (verdict, cross-play, ladder, free-for-all), the learning curves and the exploiters'
held-out games (`swarm.training.exploit`) can never share a seed, within a run or across run seeds: disjoint
by construction, not by luck. A new stage goes at the end of `STAGES`, so no older seed changes; the 8 rooms
are all taken now, and a ninth stage needs another bit (and a lower `MAX_RUN_SEED`). So the eighth room holds
free-for-all games in a competitive game of more than two seats and ad-hoc team games
(`evaluate.teamwork_schedule`) in a cooperative one; a game is never both.
"""

from __future__ import annotations

import numpy as np
import torch

STAGES = ("training", "selection", "verdict", "crossplay", "ladder", "curve", "exploit", "free_for_all")
MAX_RUN_SEED = 2**27  # keeps every game seed inside int64


def game_seed(run_seed: int, stage: str, index: int) -> int:
    return int(game_seeds(run_seed, stage, np.array([index]))[0])


def game_seeds(run_seed: int, stage: str, indices: np.ndarray) -> np.ndarray:
    """`game_seed` of many game indices at once (int64)."""
    indices = np.asarray(indices, np.int64)
    if len(bad := indices[(indices < 0) | (indices >= 2**32)]):
        raise ValueError(f"game index {bad[0]} out of range")
    return ((run_seed * 8 + STAGES.index(stage)) << 32) | indices


def coin(game_seed_: int) -> int:
    """A fair 0 or 1 fixed by a game seed (hashed: a seed's low bits are its index, not random)."""
    return int(_sequence(game_seed_ >> 32, 6, game_seed_ & 0xFFFFFFFF).generate_state(1)[0] & 1)


def uniforms(game_seeds_: np.ndarray) -> np.ndarray:
    """A uniform number in [0, 1) fixed by each game seed: the coin that rounds a payoff game's score to a
    result (`evaluation.scoring`)."""
    return np.array(
        [_sequence(int(s) >> 32, 8, int(s) & 0xFFFFFFFF).generate_state(1)[0] / 2**32 for s in game_seeds_]
    )


def stage_of(seed: int) -> str:
    return STAGES[(seed >> 32) % 8]


def index_of(seed: int) -> int:
    """A game's index in its stage: its seed's low 32 bits."""
    return seed & 0xFFFFFFFF


def _sequence(run_seed: int, purpose: int, *keys: int) -> np.random.SeedSequence:
    return np.random.SeedSequence([run_seed, purpose, *keys])


def init_seed(run_seed: int, arm_index: int, agent: int) -> int:
    """Seed of an agent's initial weights."""
    return int(_sequence(run_seed, 0, arm_index, agent).generate_state(1)[0])


def round_rng(run_seed: int, arm_index: int, round_: int) -> np.random.Generator:
    """The round's matchmaking RNG, shared by all agents of the arm and drawn from in agent order."""
    return np.random.default_rng(_sequence(run_seed, 1, arm_index, round_))


def evolution_rng(run_seed: int, arm_index: int, round_: int) -> np.random.Generator:
    """The draws that change an arm's population at the start of a round (PBT's copies and perturbations;
    round 0: its members' starting hyperparameters)."""
    return np.random.default_rng(_sequence(run_seed, 7, arm_index, round_))


def agent_rngs(
    run_seed: int, arm_index: int, agent: int, round_: int, shard: int = 0
) -> tuple[np.random.Generator, torch.Generator]:
    """An agent's RNGs for one round's shard of its games (`swarm.training.shards`): game seeds (numpy)
    and action sampling (torch; shard 0's then draws the update's minibatches). Shard 0's are those an
    agent with a single shard always had."""
    sequence = _sequence(run_seed, 2, arm_index, agent, round_, *([shard] if shard else []))
    generator = torch.Generator().manual_seed(int(sequence.generate_state(1, np.uint64)[0] >> 1))
    return np.random.default_rng(sequence), generator


def eval_generator(first_game_seed: int) -> torch.Generator:
    """Action sampling in a chunk of evaluation games, fixed by the chunk's first game.

    Hashed, not passed as is: torch's CPU generator keeps only the low 32 bits of a seed, which for a game
    seed are its index, the same in every stage and run seed."""
    sequence = _sequence(first_game_seed >> 32, 4, first_game_seed & 0xFFFFFFFF)
    return torch.Generator().manual_seed(int(sequence.generate_state(1)[0]))


def sampler_seed(tuning_seeds: list[int], arm_index: int, trial: int) -> int:
    """Seed of the sampler that proposes an arm's trial (`swarm.tuning`): fresh for every trial, so the
    proposal depends on the finished trials alone and a resumed search proposes the same ones."""
    first, *rest = tuning_seeds
    return int(_sequence(first, 9, arm_index, trial, *rest).generate_state(1)[0])


def bootstrap_rng(run_seed: int) -> np.random.Generator:
    """Resampling behind a run seed's rating intervals."""
    return np.random.default_rng(_sequence(run_seed, 3))


def over_seeds_rng(run_seeds: list[int]) -> np.random.Generator:
    """Resampling behind the over-seed intervals of a multi-seed run, from all its run seeds."""
    return np.random.default_rng(np.random.SeedSequence([5, *run_seeds]))
