"""TensorBoard event files written by hand: the CRC, the framing, and TensorBoard's own reader on them."""

from __future__ import annotations

import struct

import pytest

from swarm.results import events


def test_crc32c_matches_the_standard_check_value():
    """CRC-32C's check value (RFC 3720, B.4) and the empty string."""
    assert events.crc32c(b"123456789") == 0xE3069283
    assert events.crc32c(b"") == 0
    assert events.crc32c(bytes(32)) == 0x8A9136AA  # RFC 3720 B.4: 32 bytes of zeros


def test_a_record_is_framed_as_tfrecord():
    data = b"event bytes"
    framed = events.record(data)
    assert struct.unpack("<Q", framed[:8])[0] == len(data)
    assert struct.unpack("<I", framed[8:12])[0] == events.masked_crc(framed[:8])
    assert framed[12:-4] == data
    crc = events.crc32c(data)
    assert struct.unpack("<I", framed[-4:])[0] == (((crc >> 15) | (crc << 17)) + 0xA282EAD8) % 2**32


def test_events_round_trip_through_our_reader(tmp_path):
    written = events.EventFile(tmp_path)
    assert written.write(256, {"losses/value": 0.5, "charts/score": -1.25})
    assert written.write(512, {"losses/value": 0.25, "charts/score": 0.75})
    assert not written.write(512, {"losses/value": 9.0}), "a step already written is skipped"
    (path,) = events.files(tmp_path)
    got = list(events.read(path))
    assert [e.step for e in got] == [0, 256, 512]
    assert got[0].scalars == {}  # the file-version event
    assert got[1].scalars == {"losses/value": 0.5, "charts/score": -1.25}
    assert got[2].scalars == {"losses/value": 0.25, "charts/score": 0.75}


def test_a_truncated_tail_ends_the_file_and_a_bad_crc_is_refused(tmp_path):
    written = events.EventFile(tmp_path)
    written.write(1, {"a": 1.0})
    written.write(2, {"a": 2.0})
    path = written.path
    whole = path.read_bytes()
    path.write_bytes(whole[:-5])  # killed while appending the second event
    assert [e.step for e in events.read(path)] == [0, 1]
    broken = bytearray(whole)
    broken[-6] ^= 0xFF
    path.write_bytes(bytes(broken))
    with pytest.raises(ValueError, match="CRC"):
        list(events.read(path))


def test_a_second_process_appends_a_file_and_only_new_steps(tmp_path):
    """A resumed run writes a new file beside the old one, skipping the steps the old one holds."""
    first = events.EventFile(tmp_path)
    for step in (100, 200, 300):
        first.write(step, {"charts/score": step / 1000})
    second = events.EventFile(tmp_path)  # as a resumed process opens it
    for step in (200, 300, 400, 500):  # rounds after the last checkpoint are replayed
        second.write(step, {"charts/score": step / 1000})
    assert len(events.files(tmp_path)) == 2
    assert [e.step for e in events.read_dir(tmp_path) if e.scalars] == [100, 200, 300, 400, 500]


def test_tensorboard_reads_the_files(tmp_path):
    """TensorBoard's own reader finds every tag at every step, across a restart's two files."""
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    first = events.EventFile(tmp_path)
    first.write(256, {"losses/value": 0.5, "budget/agent_steps": 256.0})
    second = events.EventFile(tmp_path)
    second.write(256, {"losses/value": 0.5, "budget/agent_steps": 256.0})
    second.write(512, {"losses/value": 0.125, "budget/agent_steps": 512.0})
    reader = accumulator.EventAccumulator(str(tmp_path))
    reader.Reload()
    assert sorted(reader.Tags()["scalars"]) == ["budget/agent_steps", "losses/value"]
    values = reader.Scalars("losses/value")
    assert [(v.step, v.value) for v in values] == [(256, 0.5), (512, 0.125)]
    assert [v.value for v in reader.Scalars("budget/agent_steps")] == [256.0, 512.0]
