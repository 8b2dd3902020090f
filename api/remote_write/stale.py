"""Prometheus stale markers.

A stale marker is one specific NaN (bit pattern 0x7ff0000000000002) that a
sender writes when a series disappears. It compares unequal to everything,
itself included, so it can only be recognised by its bits.
"""

from __future__ import annotations

import struct

STALE_MARKER_BITS = 0x7FF0000000000002
_STALE_BYTES = struct.pack("<Q", STALE_MARKER_BITS)
STALE_NAN: float = struct.unpack("<d", _STALE_BYTES)[0]

_pack_double = struct.Struct("<d").pack


def is_stale_marker(value: float) -> bool:
    """True when `value` is the stale-marker NaN (any other NaN is an ordinary value)."""
    # `value != value` is the cheap NaN test that skips packing for real numbers.
    return value != value and _pack_double(value) == _STALE_BYTES
