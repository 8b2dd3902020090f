import math
import struct

from api.remote_write import STALE_NAN, is_stale_marker


def test_stale_nan_has_the_spec_bit_pattern() -> None:
    assert struct.pack("<d", STALE_NAN) == struct.pack("<Q", 0x7FF0000000000002)


def test_recognises_only_the_stale_marker() -> None:
    assert is_stale_marker(STALE_NAN)
    assert is_stale_marker(struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0])
    assert not is_stale_marker(math.nan)  # the ordinary quiet NaN, 0x7ff8000000000000
    assert not is_stale_marker(struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000001))[0])
    assert not is_stale_marker(-STALE_NAN)
    assert not is_stale_marker(0.0)
    assert not is_stale_marker(math.inf)
