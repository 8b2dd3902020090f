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
_TIMESTAMP_TAG = 0x10


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
    t = np.frombuffer(tails, dtype=np.uint8).reshape(count, TAIL)
    # Both shapes end in a timestamp field: its tag, five continued bytes, a last one.
    timestamp_ok = (t[:, 11] == _TIMESTAMP_TAG) & (t[:, 12:17] >= 0x80).all(axis=1)
    timestamp_ok &= t[:, 17] < 0x80
    shape_a = timestamp_ok & (t[:, 0] == 0x12) & (t[:, 1] == 16) & (t[:, 2] == 0x09)
    shape_b = timestamp_ok & ~shape_a & (t[:, 9] == 0x12) & (t[:, 10] == 7)
    matched = shape_a | shape_b
    # Little-endian base-128: byte k carries bits 7k..7k+6.
    varint = (t[:, 12:18] & 0x7F).astype(np.int64) << (np.arange(6, dtype=np.int64) * 7)
    timestamps = np.where(matched, varint.sum(axis=1), 0)
    values = np.ascontiguousarray(t[:, 3:11]).view("<f8").reshape(count)
    # Copied, not computed: a stale marker's NaN bits must survive unchanged.
    values = np.where(shape_a, values, 0.0)
    cuts = np.where(shape_a, -TAIL, np.where(shape_b, -9, 0))
    keys = list(map(getitem, series, map(slice, cuts.tolist())))
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
