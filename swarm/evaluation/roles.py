"""Role games (`evaluation.kind: roles`): in a game of roles (simple_tag's prey and predators), each game
judges one player in one role, every other seat filled by the reference player. Apart from `evaluate`, which
builds the match tables with pandas, so the Ray workers that play the games (`swarm.engine.play`) load
neither."""

from __future__ import annotations

from collections.abc import Sequence

from swarm import seeds
from swarm.config import Experiment

REFERENCE = "random"  # who fills every seat but the judged role's in a role game: the ladder's anchor


def judged_roles(config: Experiment) -> tuple[str, ...]:
    """The roles games take in turn where they are judged by role (`evaluation.kind: roles`); else none."""
    return config.env_spec().role_names if config.evaluation.kind == "roles" else ()


def game_role(seed: int, roles: Sequence[str]) -> str:
    """The role a game judged by roles plays: game i of its stage (its seed's index) plays role i mod R, so a
    pairing's games, on consecutive seeds, take the roles in turn as they take the seats."""
    return roles[seeds.index_of(seed) % len(roles)]
