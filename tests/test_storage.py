"""swarm.storage: a staging directory mirrored to a URI and back, byte for byte, copying only what changed."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from swarm import storage
from swarm.config import ConfigError


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in root.rglob("*")
        if p.is_file() and p.name != storage.MANIFEST
    }


@pytest.fixture
def run(tmp_path: Path) -> Path:
    """A staging run directory: nested files, binary bytes, a *.gz that is not gzip, a write in flight."""
    run = tmp_path / "staging" / "tiny-20260101-000000"
    (run / "checkpoints" / "train" / "swarm").mkdir(parents=True)
    (run / "config.yaml").write_text("name: tiny\n")
    (run / "ledger.parquet").write_bytes(bytes(range(256)) * 40)
    (run / "figures.csv.gz").write_bytes(b"not gzip at all")
    (run / "checkpoints" / "train" / "swarm.pt").write_bytes(os.urandom(5000))
    (run / "checkpoints" / "train" / "swarm" / "0-r1.pt").write_bytes(os.urandom(300))
    (run / ".summary.json.abc123.tmp").write_text("{half")
    return run


def test_is_uri() -> None:
    for uri in ["s3://bucket/prefix", "gs://b/p", "hdfs://host:8020/p", "file:///abs/path", "memory://x/y"]:
        assert storage.is_uri(uri), uri
    for path in ["runs", "/abs/runs", "./s3://x", r"C:\runs", "C:/runs", "C://runs", "file:/abs", ""]:
        assert not storage.is_uri(path), path


def test_join_keeps_query() -> None:
    assert storage.join("s3://b/p/", "run") == "s3://b/p/run"
    assert storage.join("s3://b", "run", "x") == "s3://b/run/x"
    assert storage.join("file:///tmp/out", "run") == "file:///tmp/out/run"
    assert storage.join("s3://b/p?region=eu-west-1", "run") == "s3://b/p/run?region=eu-west-1"


def test_staging_is_deterministic_and_nested(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SWARM_STAGING", str(tmp_path))
    out = "s3://bucket/results"
    assert storage.staging(out) == storage.staging(out + "/")
    assert storage.staging(out).parent.parent == tmp_path
    assert storage.staging(storage.join(out, "run-1")) == storage.staging(out) / "run-1"
    assert storage.staging("s3://other/results") != storage.staging(out)
    assert storage.staging("s3://bucket/results?region=eu-west-1") != storage.staging(out)
    with pytest.raises(storage.StorageError):
        storage.staging("s3://bucket/../etc")


def test_round_trip_through_file_uri(run: Path, tmp_path: Path) -> None:
    uri = storage.join((tmp_path / "remote").as_uri(), run.name)
    storage.check(uri)
    assert storage.upload(run, uri) == 5
    remote = tmp_path / "remote" / run.name
    assert not list(remote.rglob("*.tmp")) and not (remote / storage.MANIFEST).exists()
    back = tmp_path / "back"
    assert storage.download(uri, back) == 5
    expected = {k: v for k, v in _tree(run).items() if not k.endswith(".tmp")}
    assert _tree(back) == expected
    assert storage.upload(back, uri) == 0  # downloaded files count as uploaded: a resume starts clean


def test_second_upload_copies_only_changes(run: Path, tmp_path: Path) -> None:
    uri = (tmp_path / "remote").as_uri()
    assert storage.upload(run, uri) == 5
    assert storage.upload(run, uri) == 0
    (run / "config.yaml").write_text("name: tiny, edited\n")
    (run / "checkpoints" / "train" / "swarm" / "0-r2.pt").write_bytes(b"new")
    assert storage.upload(run, uri) == 2
    assert (tmp_path / "remote" / "config.yaml").read_text() == "name: tiny, edited\n"
    assert storage.upload(run, (tmp_path / "elsewhere").as_uri()) == 6  # nothing is there yet


def test_unknown_scheme_is_a_clear_config_error(run: Path) -> None:
    with pytest.raises(ConfigError, match=r"nosuch://bucket/runs: .*pip install"):
        storage.check("nosuch://bucket/runs")
    with pytest.raises(storage.StorageError, match="nosuch://bucket/runs"):
        storage.upload(run, "nosuch://bucket/runs")


def test_unwritable_target_fails_at_check(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("x")
    uri = (tmp_path / "a-file").as_uri() + "/runs"
    with pytest.raises(storage.StorageError, match="cannot write results there"):
        storage.check(uri)


def test_download_of_missing_run(tmp_path: Path) -> None:
    with pytest.raises(storage.StorageError, match="no such run directory"):
        storage.download((tmp_path / "nothing").as_uri(), tmp_path / "back")


def test_memory_round_trip(run: Path, tmp_path: Path) -> None:
    pytest.importorskip("fsspec")
    uri = f"memory://swarm-test/{uuid.uuid4().hex}/{run.name}"
    storage.check(uri)
    assert storage.upload(run, uri) == 5
    assert storage.download(uri, tmp_path / "back") == 5
    assert _tree(tmp_path / "back") == {k: v for k, v in _tree(run).items() if not k.endswith(".tmp")}
