"""Results on shared storage: a run works in a local staging directory that is mirrored to a URI.

`--out` may be a URI that pyarrow.fs understands (s3://bucket/prefix, gs://..., hdfs://..., file:///abs/path)
or, when fsspec is installed, any fsspec protocol (memory://, ...), so every node of a Ray cluster can read
the results. The run itself writes to local disk as always (`swarm.results.rundir`); `upload` then copies
each file that is new or changed since its last upload, oldest first: the order the run wrote them, so a
remote copy cut short never holds a checkpoint that names files it lacks. Each file lands whole: on
filesystems that rename (local, HDFS) it is written to a temporary name and moved; on object stores (S3, GCS,
Azure) a put is atomic per object already, and a "move" would be a copy, so it is written in place. Files
are never deleted from the remote. `download` brings a run back for `swarm resume` or `swarm report`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pyarrow
import pyarrow.fs as pafs

from swarm.config import ConfigError
from swarm.results.rundir import LOCK

MANIFEST = ".uploaded.json"  # in the staging directory: what went up, by size and mtime; never uploaded
OBJECT_STORES = {"s3", "s3a", "gs", "gcs", "abfs", "abfss", "az"}
EXAMPLES = "s3://bucket/prefix, gs://bucket/prefix, hdfs://host/path or file:///abs/path"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")  # two letters at least: C:// is a Windows drive


class StorageError(ConfigError):
    """A results URI that cannot be used; the message names the URI and the fix."""


def is_uri(out: str) -> bool:
    return bool(_URI.match(out))


def join(uri: str, *parts: str) -> str:
    """`uri` with `parts` appended to its path, keeping its query (pyarrow's ?region=...&scheme=...)."""
    split = urlsplit(uri)
    path = "/".join([split.path.rstrip("/"), *parts])
    return f"{split.scheme}://{split.netloc}{path}" + (f"?{split.query}" if split.query else "")


def staging(uri: str) -> Path:
    """The local directory that stands for `uri`: the same on every call, so a resume on this machine finds
    it, and nested as the URI is (staging(join(uri, run)) == staging(uri) / run). Under $SWARM_STAGING, or
    ~/.cache/swarm/staging."""
    split = urlsplit(uri)
    parts = [p for p in split.path.split("/") if p]
    if not is_uri(uri) or any(p in (".", "..") for p in parts):
        raise StorageError(f"{uri}: not a results URI; give a local path or a URI such as {EXAMPLES}")
    root = Path(os.environ.get("SWARM_STAGING") or Path.home() / ".cache" / "swarm" / "staging")
    filesystem = hashlib.sha256(f"{split.scheme}://{split.netloc}?{split.query}".encode()).hexdigest()[:16]
    return root.joinpath(f"{split.scheme}-{filesystem}", *parts)


def check(uri: str) -> None:
    """Fail now, before any compute, if `uri` cannot take results: resolve its filesystem, create the
    directory, write and delete a probe file, and list the directory."""
    fs, path = _resolve(uri)
    probe = f"{path.rstrip('/')}/.swarm-check-{uuid.uuid4().hex}"
    try:
        fs.create_dir(path, recursive=True)
        with fs.open_output_stream(probe, compression=None) as stream:
            stream.write(b"swarm")
        fs.delete_file(probe)
        fs.get_file_info(pafs.FileSelector(path))
    except (OSError, pyarrow.ArrowException) as exc:
        raise StorageError(
            f"{uri}: cannot write results there: {_first_line(exc)}. Check the address, credentials and "
            "permissions, or give a local --out"
        ) from None


def writable(path: Path, what: str) -> None:
    """Fail now, before any compute, if the local folder `path` cannot be made or written: make it, then
    write and delete a probe file. `what` names it for the user (e.g. "--out")."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".swarm-check-", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise StorageError(
            f"{what} {path}: cannot write there ({exc.strerror or exc}); give a folder you may make and write"
        ) from None


def upload(local: Path, uri: str) -> int:
    """Copy the files of `local` that are new or changed since their last upload to `uri`; how many."""
    if not local.is_dir():
        raise StorageError(f"{local}: no such directory to upload to {uri}")
    fs, root = _resolve(uri)
    in_place = _object_store(fs)
    uploaded = _read_manifest(local, uri)
    changed = []
    for file in local.rglob("*"):
        name = file.relative_to(local).as_posix()
        if name == MANIFEST or file.name == LOCK or _temporary(file.name) or not file.is_file():
            continue
        stat = file.stat()
        if uploaded.get(name) != [stat.st_size, stat.st_mtime_ns]:
            changed.append((stat.st_mtime_ns, name, [stat.st_size, stat.st_mtime_ns]))
    local_fs = pafs.LocalFileSystem()
    try:
        for _, name, seen in sorted(changed):  # stat before copy: a file rewritten meanwhile goes up again
            _copy(local_fs, (local / name).as_posix(), fs, f"{root.rstrip('/')}/{name}", in_place)
            uploaded[name] = seen
    except (OSError, pyarrow.ArrowException) as exc:
        raise StorageError(f"{uri}: upload failed: {_first_line(exc)}; the run is safe in {local}") from None
    finally:
        _write_manifest(local, uri, uploaded)
    return len(changed)


def download(uri: str, local: Path) -> int:
    """Copy every file of the remote run directory `uri` into `local` (the remote wins; local files it
    lacks are kept), and record them as uploaded; how many."""
    fs, root = _resolve(uri)
    root = root.rstrip("/")
    try:
        if fs.get_file_info(root).type != pafs.FileType.Directory:
            raise StorageError(f"{uri}: no such run directory; give the URI of a run: <out>/<name>-<stamp>")
        files = [
            info
            for info in fs.get_file_info(pafs.FileSelector(root, recursive=True))
            if info.type == pafs.FileType.File and not _temporary(info.base_name)
        ]
        local.mkdir(parents=True, exist_ok=True)
        uploaded = {}
        for info in files:
            name = info.path[len(root) :].lstrip("/")
            _copy(fs, info.path, pafs.LocalFileSystem(), (local / name).as_posix(), in_place=False)
            stat = (local / name).stat()
            uploaded[name] = [stat.st_size, stat.st_mtime_ns]
    except (OSError, pyarrow.ArrowException) as exc:
        raise StorageError(f"{uri}: download failed: {_first_line(exc)}") from None
    _write_manifest(local, uri, {**_read_manifest(local, uri), **uploaded})
    return len(files)


@functools.lru_cache(maxsize=16)
def _resolve(uri: str) -> tuple[pafs.FileSystem, str]:
    """pyarrow's filesystem for `uri`, else fsspec's wrapped for pyarrow; cached, as S3 asks for the
    bucket's region."""
    if not is_uri(uri):
        raise StorageError(f"{uri}: not a results URI; give a local path or a URI such as {EXAMPLES}")
    try:
        return pafs.FileSystem.from_uri(uri)
    except pyarrow.ArrowInvalid as exc:  # a scheme pyarrow does not know: fsspec may
        unknown = _first_line(exc)
    except (OSError, pyarrow.ArrowException) as exc:
        raise StorageError(
            f"{uri}: cannot reach the filesystem: {_first_line(exc)}. Check the address, credentials and "
            "network, or give a local --out"
        ) from None
    try:
        import fsspec
    except ImportError:
        raise StorageError(
            f"{uri}: {unknown}. Use a local path or {EXAMPLES}; for other protocols pip install fsspec"
        ) from None
    try:
        fs, path = fsspec.core.url_to_fs(uri)
    except (ValueError, ImportError, OSError) as exc:
        raise StorageError(
            f"{uri}: neither pyarrow nor fsspec can open it ({_first_line(exc)}). Use a local path or "
            f"{EXAMPLES}, or install the fsspec driver for the protocol (e.g. pip install gcsfs)"
        ) from None
    return pafs.PyFileSystem(pafs.FSSpecHandler(fs)), path


def _object_store(fs: pafs.FileSystem) -> bool:
    if isinstance(fs, pafs.PyFileSystem):
        protocol = fs.handler.fs.protocol
        protocols = {protocol} if isinstance(protocol, str) else set(protocol)
        return bool(protocols & OBJECT_STORES)
    return fs.type_name in OBJECT_STORES


def _copy(src_fs: pafs.FileSystem, src: str, dst_fs: pafs.FileSystem, dst: str, in_place: bool) -> None:
    """Bytes as they are (compression=None: pyarrow would otherwise gunzip *.gz), landing whole."""
    parent, _, name = dst.rpartition("/")
    dst_fs.create_dir(parent, recursive=True)
    target = dst if in_place else f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with (
            src_fs.open_input_stream(src, compression=None) as source,
            dst_fs.open_output_stream(target, compression=None) as sink,
        ):
            while chunk := source.read(1 << 22):
                sink.write(chunk)
        if not in_place:
            dst_fs.move(target, dst)
    except BaseException:
        if not in_place:
            with contextlib.suppress(OSError):
                dst_fs.delete_file(target)
        raise


def _temporary(name: str) -> bool:
    """A write in flight, by `swarm.results.rundir` or by `_copy`: never copied."""
    return name.startswith(".") and name.endswith(".tmp")


def _read_manifest(local: Path, uri: str) -> dict[str, list[int]]:
    path = local / MANIFEST
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return data["files"] if data.get("uri") == uri.rstrip("/") else {}  # another URI: nothing is there yet


def _write_manifest(local: Path, uri: str, files: dict[str, list[int]]) -> None:
    tmp = local / f"{MANIFEST}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps({"uri": uri.rstrip("/"), "files": files}, indent=1))
    os.replace(tmp, local / MANIFEST)


def _first_line(exc: BaseException) -> str:
    """pyarrow's messages can run to pages (HDFS lists every libjvm it tried)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
