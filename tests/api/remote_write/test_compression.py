import cramjam
import pytest

from api.remote_write import MalformedRequest, RequestTooLarge
from api.remote_write.compression import decompress, decompressed_size
from tests.support.remote_write_bodies import compress


def test_round_trips_a_snappy_block() -> None:
    raw = b"remote write " * 1000
    body = compress(raw)
    assert decompressed_size(body) == len(raw)
    assert bytes(decompress(body, max_decompressed_bytes=len(raw))) == raw


def test_limit_is_inclusive() -> None:
    raw = b"x" * 4096
    with pytest.raises(RequestTooLarge) as info:
        decompress(compress(raw), max_decompressed_bytes=4095)
    assert info.value.status_code == 413
    assert str(info.value) == "body decompresses to 4096 bytes; the limit is 4095"


def test_size_is_checked_before_decompressing() -> None:
    # A header announcing 1 GiB followed by nothing: only the header was read,
    # or this would be a MalformedRequest (or a 1 GiB allocation).
    bomb = bytes([0x80, 0x80, 0x80, 0x80, 0x04]) + b"\x00" * 8
    assert decompressed_size(bomb) == 1 << 30
    with pytest.raises(RequestTooLarge):
        decompress(bomb, max_decompressed_bytes=10 * 1024 * 1024)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "body is empty; expected a snappy-compressed protobuf message"),
        (b"\xff\xff\xff\xff\xff\xff", "body is not valid snappy block-compressed data"),
        (b"\x0aabc", "body is not valid snappy block-compressed data"),  # truncated block
        (
            bytes(cramjam.snappy.compress(b"hello" * 100)),
            "body uses snappy framed format; remote write requires snappy block format",
        ),
    ],
)
def test_rejects_what_is_not_a_snappy_block(body: bytes, message: str) -> None:
    with pytest.raises(MalformedRequest) as info:
        decompress(body, max_decompressed_bytes=1 << 20)
    assert info.value.status_code == 400
    assert str(info.value) == message
