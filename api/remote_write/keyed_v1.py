"""Split a remote-write 1.0 request into series *keys* and samples, unread.

Prometheus re-sends the same label sets every scrape, one sample each, and
reading labels (a string per name and value) is most of what `decode_v1`
costs. This module reads none of them: each series' encoding is taken as one
bytes object, and its last bytes are matched against the two encodings a
Prometheus sample takes in a series,

    A  12 10 | 09 <value: 8 bytes> 10 <timestamp: 6-byte varint>
    B  12 07 |                     10 <timestamp: 6-byte varint>     (value 0.0)

(`12 L` is field 2, `samples`, of length L; proto3 leaves a 0.0 value off the
wire; every timestamp from 1971 to 2109 is a 6-byte varint). What precedes the
match is the series' *key*: its label fields exactly as sent. The samples are
decoded from those fixed byte positions with numpy, all series at once.

Why a key can be trusted (the catalog must keep to this; see `labels_key`):
a key is only ever learned after it parsed as a complete, canonical list of
labels (field 1 only: nothing else, no unknown fields, re-encoding gives the
same bytes) equal to what `decode_v1` made of that very series. So when a cut
gives a learned key, the series is exactly those label fields followed by one
field 2 whose payload is the matched sample: a learned key ends at a field
boundary, the next byte (12) starts the samples field, and its length ends the
series. A cut in the wrong place cannot give a learned key: it would end
inside a field or leave a field-1 entry (starting 0a, not 12) in the tail.
Both shapes may match one tail (a value's bytes can look like `12 07 10 ...`);
shape A is taken, and at most one of the two cuts can be a learned key, for
the same reason. A series matching neither shape gets the key b"", which is
never learned, so its request is decoded by `decode_v1`, as are requests
with any series not known.

A learned key fixes the decoded labels, since `decode_v1` reads a series'
labels from its label fields alone; the sample is fixed by the matched bytes.
"""

from __future__ import annotations

from itertools import repeat
from operator import getitem
from typing import NamedTuple

import numpy as np
from google.protobuf.message import DecodeError

from api.remote_write import views_pb2

TAIL = 18
"""Bytes of a series' end read to find its sample (shape A is the longer)."""
_LAST = slice(-TAIL, None)
_CUTS = (slice(-TAIL), slice(-9), slice(0))
"""A series' key: shape A cut off, shape B cut off, or none (b"")."""
# A tail read as fields at fixed offsets (little-endian): no strided byte columns.
_TAIL_FIELDS = np.dtype(
    {
        "names": ["head", "value", "mid", "word"],
        "formats": ["<u4", "<f8", "<u2", "<u8"],
        "offsets": [0, 3, 9, 10],
        "itemsize": TAIL,
    }
)


class Split(NamedTuple):
    keys: list[bytes]
    """Per series: its label fields as sent, or b"" where its end matched no sample
    shape (so it can be no learned key)."""
    timestamps: np.ndarray
    """Per series: its sample's timestamp, int64 (0 where the key is b"")."""
    values: list[float]
    """Per series: its sample's value (0.0 where the key is b"")."""
    complete: bool
    """Every series matched a sample shape (no key is b"")."""


def series_bytes(raw: bytes | memoryview) -> list[bytes]:
    """Each series' encoding as sent; raises `DecodeError` for a malformed request."""
    request = views_pb2.WriteRequestRaw()
    request.ParseFromString(raw)
    return request.timeseries[:]


def split_v1(raw: bytes | memoryview) -> Split | None:
    """The keys and samples of `raw`'s series; None when the request is not well-formed
    protobuf or has a series shorter than any series Prometheus sends (both are left
    to `decode_v1`, which names the problem)."""
    try:
        series = series_bytes(raw)
    except DecodeError:
        return None
    count = len(series)
    # One C-level pass per step, as in decode_v1: no Python code runs per series.
    tails = b"".join(map(getitem, series, repeat(_LAST)))
    if len(tails) != count * TAIL:
        return None
    t = np.frombuffer(tails, dtype=_TAIL_FIELDS)
    # Both shapes end in a timestamp field: its tag (10) at byte 11, then five bytes
    # with the continuation bit and a last one without, bytes 12-17. In `word` (bytes
    # 10-17, little-endian) byte 11 is bits 8-15 and bytes 12-17 are bits 16-63.
    word = t["word"]
    timestamp_ok = (word & 0xFF00) == 0x1000
    timestamp_ok &= (word & 0x8080808080800000) == 0x0080808080800000
    shape_a = timestamp_ok & ((t["head"] & 0xFFFFFF) == 0x091012)  # 12 10 09
    shape_b = timestamp_ok & ~shape_a & (t["mid"] == 0x0712)  # 12 07
    matched = shape_a | shape_b
    # Little-endian base-128: varint byte k carries bits 7k..7k+6.
    varint = (word >> 16).astype(np.int64)
    timestamps = varint & 0x7F
    for k in range(1, 6):
        timestamps |= (varint >> k) & (0x7F << (7 * k))
    timestamps[~matched] = 0
    # Copied, not computed: a stale marker's NaN bits must survive unchanged.
    values = np.where(shape_a, t["value"], 0.0)
    cut = np.where(shape_a, 0, np.where(shape_b, 1, 2))
    keys = list(map(getitem, series, map(_CUTS.__getitem__, cut.tolist())))
    return Split(keys, timestamps, values.tolist(), bool(matched.all()))


def labels_key(key: bytes, names: tuple[str, ...], values: list[str]) -> bool:
    """True when `key` is exactly the canonical encoding of the labels (names[i],
    values[i]), in order, with no other field: the condition for learning it."""
    if not key:
        return False  # b"" is what the split gives a series with no sample at its end
    labels = views_pb2.LabelsOnly()
    try:
        labels.ParseFromString(key)
    except DecodeError:
        return False
    labels.DiscardUnknownFields()
    if labels.SerializeToString(deterministic=True) != key:
        return False  # unknown or repeated fields, another field order, empty strings sent
    pairs = [(label.name, label.value) for label in labels.labels]
    return (
        len(pairs) == len(names) == len(values)
        and pairs == list(zip(names, values, strict=True))
        and all(name and value for name, value in pairs)
    )
