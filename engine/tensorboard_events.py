"""TensorBoard event files without TensorFlow or the tensorboard package.

An event file is a sequence of TFRecords (little-endian uint64 length, masked CRC32C of the
length, the data, masked CRC32C of the data); each record is a serialized ``Event`` protobuf.
Only the few fields scalars need are encoded here, by hand, so both workers write the same bytes:

    Event   { double wall_time = 1; int64 step = 2; string file_version = 3; Summary summary = 5; }
    Summary { repeated Value value = 1; }   Value { string tag = 1; float simple_value = 2; }
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_CRC_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1  # CRC-32C (Castagnoli), reflected
    _CRC_TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # int64 as protobuf encodes it (a negative number takes ten bytes)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field (wire type 2)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def encode_event(
    wall_time: float,
    step: int = 0,
    scalars: dict[str, float] | None = None,
    file_version: str | None = None,
) -> bytes:
    out = b"\x09" + struct.pack("<d", wall_time) + b"\x10" + _varint(int(step))
    if file_version is not None:
        out += _field(3, file_version.encode())
    if scalars:
        values = b"".join(
            _field(1, _field(1, tag.encode()) + b"\x15" + struct.pack("<f", float(v)))
            for tag, v in scalars.items()
        )
        out += _field(5, values)
    return out


def frame(record: bytes) -> bytes:
    """One TFRecord."""
    length = struct.pack("<Q", len(record))
    return (
        length
        + struct.pack("<I", masked_crc(length))
        + record
        + struct.pack("<I", masked_crc(record))
    )


class EventWriter:
    """Appends scalar events to ``folder/events.out.tfevents.<time>.<host>.<pid>``."""

    def __init__(self, folder: Path | str) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        now = time.time()
        self.path = folder / f"events.out.tfevents.{int(now)}.{socket.gethostname()}.{os.getpid()}"
        self._fh = open(self.path, "ab")  # noqa: SIM115 (open while the run goes)
        self._fh.write(frame(encode_event(now, 0, file_version="brain.Event:2")))
        self._fh.flush()

    def scalars(
        self, step: int, values: dict[str, float | None], wall_time: float | None = None
    ) -> None:
        """One event with the values given; a None value (no figure yet) is left out."""
        present = {k: v for k, v in values.items() if v is not None}
        if present:
            self._fh.write(
                frame(encode_event(time.time() if wall_time is None else wall_time, step, present))
            )

    def flush(self) -> None:
        if not self._fh.closed:
            self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()


# ---- reading back (tests, and anyone without TensorBoard) ------------------------------------


def read_records(path: Path | str) -> Iterator[bytes]:
    """The records of a TFRecord file; a bad CRC or a torn record raises ValueError."""
    data = Path(path).read_bytes()
    pos = 0
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError(f"torn record header at byte {pos}")
        header = data[pos : pos + 8]
        (length,) = struct.unpack("<Q", header)
        (crc,) = struct.unpack("<I", data[pos + 8 : pos + 12])
        if crc != masked_crc(header):
            raise ValueError(f"bad length CRC at byte {pos}")
        record = data[pos + 12 : pos + 12 + length]
        if len(record) != length or pos + 16 + length > len(data):
            raise ValueError(f"torn record at byte {pos}")
        (crc,) = struct.unpack("<I", data[pos + 12 + length : pos + 16 + length])
        if crc != masked_crc(record):
            raise ValueError(f"bad data CRC at byte {pos}")
        yield record
        pos += 16 + length


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value): an int for a varint, the raw bytes otherwise."""
    pos = 0
    value: int | bytes
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _read_varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos : pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _int(value: int | bytes) -> int:
    if not isinstance(value, int):
        raise ValueError("expected a varint field, got a length-delimited or fixed-width one")
    return value


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise ValueError("expected a length-delimited or fixed-width field, got a varint")
    return value


def decode_event(record: bytes) -> dict[str, Any]:
    """{'wall_time', 'step', 'file_version' (or None), 'scalars': {tag: value}}."""
    scalars: dict[str, float] = {}
    event: dict[str, Any] = {"wall_time": None, "step": 0, "file_version": None, "scalars": scalars}
    for number, _wire, value in _fields(record):
        if number == 1:
            event["wall_time"] = struct.unpack("<d", _bytes(value))[0]
        elif number == 2:
            step = _int(value)
            event["step"] = step - (1 << 64) if step >= 1 << 63 else step
        elif number == 3:
            event["file_version"] = _bytes(value).decode()
        elif number == 5:
            for vnum, _w, v in _fields(_bytes(value)):
                if vnum == 1:
                    tag, scalar = None, None
                    for f, _w2, x in _fields(_bytes(v)):
                        if f == 1:
                            tag = _bytes(x).decode()
                        elif f == 2:
                            scalar = struct.unpack("<f", _bytes(x))[0]
                    if tag is not None and scalar is not None:
                        scalars[tag] = scalar
    return event


def read_events(path: Path | str) -> list[dict[str, Any]]:
    return [decode_event(r) for r in read_records(path)]
