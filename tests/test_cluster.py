"""The shipped Ray cluster files: Ray accepts them, and they keep the promises the README makes.

Ray checks every `cluster*.yaml` at the repository root twice, as `ray up` would before touching a cloud:
the file as written against the JSON schema Ray ships (ray/autoscaler/ray-schema.json), then the file
with the provider's defaults filled in. Then our promises: the dashboard binds 127.0.0.1, every node runs
with token authentication, the pinned Ray is the installed Ray, git-ignored files stay home, and nothing
secret is in the file. A mutated copy per check shows that each one can fail.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import ray
import ray.autoscaler
import yaml

# private: the checks `ray up` runs before it launches anything; if Ray moves them, this import fails
from ray.autoscaler._private.util import prepare_config, validate_config

Config = dict[str, Any]

ROOT = Path(__file__).resolve().parents[1]
FILES = sorted(ROOT.glob("cluster*.yaml"))
SCHEMA = json.loads((Path(ray.autoscaler.__file__).parent / "ray-schema.json").read_text())
TOKEN = "~/.ray/auth_token"
RAY_PIN = re.compile(r"\bray(?:\[[\w,]+\])?==([\w.+-]+)")
SECRET_NAME = re.compile(r"secret|password|passwd|token|credential|access_key|api_key", re.IGNORECASE)
SECRET_VALUE = re.compile(r"-----BEGIN|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|RAY_AUTH_TOKEN=")
SHARED = ("setup_commands", "head_start_ray_commands", "worker_start_ray_commands", "file_mounts")


def load(path: Path) -> Config:
    return yaml.safe_load(path.read_text())


def ray_validate(config: Config) -> None:
    """Raise as `ray up` would: the file against Ray's schema, then with the provider's defaults."""
    jsonschema.validate(config, SCHEMA)
    validate_config(prepare_config(config))


def command_lists(config: Config) -> Iterator[list[str]]:
    """Every list of shell commands, global and per node type."""
    for key in (
        "initialization_commands",
        "setup_commands",
        "head_setup_commands",
        "worker_setup_commands",
        "head_start_ray_commands",
        "worker_start_ray_commands",
    ):
        yield config.get(key, [])
    for node_type in config.get("available_node_types", {}).values():
        yield node_type.get("initialization_commands", [])
        yield node_type.get("worker_setup_commands", [])


def strings(node: Any, where: str = "") -> Iterator[tuple[str, str, bool]]:
    """(where, text, is_key) for every string in the file, keys included."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield f"{where}.{key}", str(key), True
            yield from strings(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from strings(value, f"{where}[{i}]")
    elif isinstance(node, str):
        yield where, node, False


def problems(config: Config) -> list[str]:
    """Every promise the file breaks, in words; empty when it keeps them all."""
    found = []
    head = [c for c in config.get("head_start_ray_commands", []) if "ray start" in c]
    workers = [c for c in config.get("worker_start_ray_commands", []) if "ray start" in c]
    if not head or not workers:
        found.append("no `ray start` in head_start_ray_commands or worker_start_ray_commands")
    found += [f"dashboard not on 127.0.0.1: {c}" for c in head if "--dashboard-host=127.0.0.1" not in c]
    found += [f"no token authentication: {c}" for c in head + workers if "RAY_AUTH_MODE=token" not in c]
    if config.get("file_mounts", {}).get(TOKEN) != TOKEN:
        found.append(f"file_mounts does not copy {TOKEN} to every node")

    commands = [c for commands in command_lists(config) for c in commands]
    for c in commands:
        hosts = re.findall(r"--dashboard-host[= ](\S+)", c)
        if any(host != "127.0.0.1" for host in hosts) or "--ray-debugger-external" in c:
            found.append(f"opens Ray beyond the node: {c}")
    pins = {version for c in commands for version in RAY_PIN.findall(c)}
    if pins != {ray.__version__}:
        found.append(f"Ray pinned at {sorted(pins)}, installed {ray.__version__}")
    for node, commands in [("setup_commands", config.get("setup_commands", []))] + [
        (name, t["worker_setup_commands"])
        for name, t in config.get("available_node_types", {}).items()
        if "worker_setup_commands" in t
    ]:
        if not any(RAY_PIN.search(c) for c in commands):
            found.append(f"{node} installs no pinned Ray")

    if ".gitignore" not in config.get("rsync_filter", []):
        found.append("rsync_filter lacks .gitignore: git-ignored files would be copied")

    for where, text, is_key in strings(config):
        # a key that is a name, not a path (file_mounts' keys are paths, the token's among them)
        if is_key and re.fullmatch(r"\w+", text) and SECRET_NAME.search(text):
            found.append(f"a key that looks like a secret: {where}")
        if SECRET_VALUE.search(text):
            found.append(f"something that looks like a secret at {where}")
    key = config.get("auth", {}).get("ssh_private_key")
    if key is not None and not (key.startswith(("~/", "/")) and "\n" not in key):
        found.append("auth.ssh_private_key must be a path to a key file, not a key")
    return found


@pytest.fixture(params=FILES, ids=[f.name for f in FILES])
def config(request: pytest.FixtureRequest) -> Config:
    return load(request.param)


def test_the_files_we_ship_are_all_here():
    assert {"cluster.yaml", "cluster-onprem.yaml"} <= {f.name for f in FILES}


def test_ray_accepts_the_file(config: Config):
    ray_validate(config)


def test_the_file_keeps_our_promises(config: Config):
    assert problems(config) == []


def test_every_file_sets_nodes_up_and_starts_ray_the_same_way(config: Config):
    aws = load(ROOT / "cluster.yaml")
    assert {key: config.get(key) for key in SHARED} == {key: aws.get(key) for key in SHARED}


def _unknown_key(c: Config) -> None:
    c["not_a_ray_key"] = 1


def _auth_typo(c: Config) -> None:
    c["auth"]["ssh_usr"] = c["auth"].pop("ssh_user")


def _negative_workers(c: Config) -> None:
    c["max_workers"] = -1


@pytest.mark.parametrize(
    "mutate", [_unknown_key, _auth_typo, _negative_workers], ids=["unknown-key", "auth-typo", "max-workers"]
)
def test_ray_rejects_a_broken_copy(config: Config, mutate: Callable[[Config], None]):
    broken = copy.deepcopy(config)
    mutate(broken)
    with pytest.raises((jsonschema.ValidationError, ValueError)):
        ray_validate(broken)


def test_ray_up_checks_what_the_schema_cannot():
    """More min_workers than max_workers passes the schema; `ray up`'s own check refuses it."""
    broken = load(ROOT / "cluster.yaml")
    broken["available_node_types"]["ray.worker.cpu"]["min_workers"] = broken["max_workers"] + 1
    jsonschema.validate(broken, SCHEMA)
    with pytest.raises(ValueError, match="min_workers"):
        ray_validate(broken)


def _replace_in_head_start(old: str, new: str) -> Callable[[Config], None]:
    def mutate(c: Config) -> None:
        c["head_start_ray_commands"] = [cmd.replace(old, new) for cmd in c["head_start_ray_commands"]]

    return mutate


def _pin_other_ray(c: Config) -> None:
    c["setup_commands"] = [RAY_PIN.sub("ray[default]==2.9.0", cmd) for cmd in c["setup_commands"]]


def _no_gitignore(c: Config) -> None:
    c["rsync_filter"] = []


def _no_token_mount(c: Config) -> None:
    del c["file_mounts"][TOKEN]


def _aws_keys(c: Config) -> None:
    c["provider"]["aws_secret_access_key"] = "x"


def _key_id_in_command(c: Config) -> None:
    c["setup_commands"].append("export AWS_ACCESS_KEY_ID=AKIAABCDEFGHIJKLMNOP")


def _key_material(c: Config) -> None:
    c["auth"]["ssh_private_key"] = "-----BEGIN OPENSSH PRIVATE KEY-----\n..."


@pytest.mark.parametrize(
    "mutate",
    [
        _replace_in_head_start("--dashboard-host=127.0.0.1", "--dashboard-host=0.0.0.0"),
        _replace_in_head_start("export RAY_AUTH_MODE=token; ", ""),
        _pin_other_ray,
        _no_gitignore,
        _no_token_mount,
        _aws_keys,
        _key_id_in_command,
        _key_material,
    ],
    ids=["dashboard", "auth", "pin", "gitignore", "token", "aws-keys", "key-id", "key-material"],
)
def test_a_copy_that_breaks_a_promise_is_caught(config: Config, mutate: Callable[[Config], None]):
    broken = copy.deepcopy(config)
    mutate(broken)
    assert problems(config) == []
    assert problems(broken)
