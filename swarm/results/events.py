"""TensorBoard event files of scalars, written and read in pure Python, so every run writes them without
TensorBoard or protobuf installed (TensorBoard itself is needed only to look at them).

An event file is a TFRecord file: each record is `uint64 length | uint32 masked CRC32C of the length |
data | uint32 masked CRC32C of the data`, little-endian, the mask being ((crc >> 15) | (crc << 17)) +
0xA282EAD8 (TensorFlow's `tensorflow/core/lib/io/record_writer.cc`). Each record's data is an `Event`
protocol buffer (`tensorboard/compat/proto/event.proto`): wall_time (field 1, double), step (2, int64),
and either file_version (3, string; "brain.Event:2" opens every file) or summary (5), whose repeated value
(1) holds a tag (1, string) and a simple_value (2, float). Those few fields are encoded here by hand.

A file is appended to, a record at a time, and never rewritten: a process killed mid-append leaves a
truncated last record, which TensorBoard and `read` take for a record still being written and skip.
Each process writes a file of its own (named, as TensorFlow names them, by start time, host and pid),
which is how TensorBoard expects a restarted job to go on: it reads a directory's files in name order.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

FILE_VERSION = b"brain.Event:2"
PREFIX = "events.out.tfevents."  # what TensorBoard looks for in a file name
_FILES = itertools.count()  # tells apart the files one process opens in the same second


def _crc32c_table() -> tuple[int, ...]:
    """CRC-32C (Castagnoli; reversed polynomial 0x82F63B78), one table entry per byte value."""
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
        table.append(crc)
    return tuple(table)


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    """The CRC as TFRecord stores it: masked, since a CRC of data that holds CRCs is weak."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """`data` framed as one TFRecord."""
    header = struct.pack("<Q", len(data))
    return header + struct.pack("<I", masked_crc(header)) + data + struct.pack("<I", masked_crc(data))


# The protocol buffers, by hand


def _varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF  # an int64 as protobuf sends it: a negative one in ten bytes
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _bytes_field(number: int, data: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(data)) + data


def encode(wall_time: float, step: int, scalars: dict[str, float] | None = None) -> bytes:
    """An Event: the file-version event when `scalars` is None, else a summary of simple values."""
    head = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(step)  # fields 1 (double), 2 (varint)
    if scalars is None:
        return head + _bytes_field(3, FILE_VERSION)
    values = b"".join(
        _bytes_field(1, _bytes_field(1, tag.encode()) + b"\x15" + struct.pack("<f", value))
        for tag, value in scalars.items()
    )
    return head + _bytes_field(5, values)


@dataclass(frozen=True)
class Event:
    wall_time: float
    step: int
    scalars: dict[str, float]  # empty for an event without a summary (the file version)


def _read_varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if byte < 0x80:
            return value, at


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of every field of a message: varints as ints, everything else as bytes."""
    at = 0
    while at < len(data):
        key, at = _read_varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _read_varint(data, at)
        elif wire in (1, 5):
            width = 8 if wire == 1 else 4
            value, at = data[at : at + width], at + width
        elif wire == 2:
            length, at = _read_varint(data, at)
            value, at = data[at : at + length], at + length
        else:
            raise ValueError(f"protobuf wire type {wire} is not one an event of scalars uses")
        yield number, value


def decode(data: bytes) -> Event:
    """An Event's wall time, step and simple values; any other field is skipped."""
    wall_time, step, scalars = 0.0, 0, {}
    for number, value in _fields(data):
        if number == 1:
            (wall_time,) = struct.unpack("<d", value)
        elif number == 2:
            step = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 5:
            for _, entry in _fields(value):
                parts = dict(_fields(entry))
                if 1 in parts and 2 in parts:
                    scalars[parts[1].decode()] = struct.unpack("<f", parts[2])[0]
    return Event(wall_time, step, scalars)


# Files


def read(path: Path) -> Iterator[Event]:
    """Every whole event of a file; a truncated last record (being written, or cut off) ends it, a record
    whose CRC does not match raises ValueError."""
    data = path.read_bytes()
    at = 0
    while at + 12 <= len(data):
        header = data[at : at + 8]
        (length,) = struct.unpack("<Q", header)
        end = at + 12 + length + 4
        if end > len(data):
            return
        body = data[at + 12 : end - 4]
        stored = struct.unpack("<I", data[at + 8 : at + 12])[0], struct.unpack("<I", data[end - 4 : end])[0]
        if stored != (masked_crc(header), masked_crc(body)):
            raise ValueError(f"{path}: the record at byte {at} fails its CRC check")
        yield decode(body)
        at = end


def files(directory: Path) -> list[Path]:
    """A directory's event files in the order TensorBoard reads them (by name: by start time)."""
    return sorted(p for p in directory.glob(f"{PREFIX}*") if p.is_file())


def read_dir(directory: Path) -> Iterator[Event]:
    for path in files(directory):
        yield from read(path)


class EventFile:
    """This process's event file in `directory`, made at its first event and appended to, one flushed
    record per `write`, so `tensorboard --logdir` shows each step as it comes.

    Steps at or below the largest already in the directory's files are skipped: a resumed run replays the
    rounds after its last checkpoint, which an earlier process may have written already, and a replayed
    round is the same round. Written twice, a step would show differently by loader (TensorBoard 2.21,
    measured): the default, fast one keeps the last value read at each step; `--load_fast=false` and
    `EventAccumulator` keep both points (they drop steps past a restart only at a SessionLog START event,
    which nothing here writes). Skipped, it shows once in all of them."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.path: Path | None = None
        self.last = max((e.step for e in read_dir(directory) if e.scalars), default=None)

    def write(self, step: int, scalars: dict[str, float]) -> bool:
        """Append one event of `scalars` at `step`; False, writing nothing, for a step already written."""
        if self.last is not None and step <= self.last:
            return False
        now = time.time()
        data = record(encode(now, step, scalars))
        if self.path is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{PREFIX}{int(now):010d}.{socket.gethostname()}.{os.getpid()}.{next(_FILES)}"
            self.path = self.directory / name
            data = record(encode(now, 0)) + data
        with self.path.open("ab") as out:
            out.write(data)
        self.last = step
        return True
