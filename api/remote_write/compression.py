"""Snappy block decompression with a size guard.

Remote write uses snappy's *block* format, whose header is the uncompressed
length as a varint. Reading it first lets us refuse a decompression bomb
before allocating anything.
"""

from __future__ import annotations

from cramjam import DecompressionError, snappy

from api.remote_write.errors import MalformedRequest, RequestTooLarge

# Stream identifier chunk that opens snappy's *framed* format, which the spec forbids.
_FRAMED_MAGIC = b"\xff\x06\x00\x00sNaPpY"


def decompressed_size(body: bytes) -> int:
    """The uncompressed length a snappy block announces in its header."""
    try:
        return snappy.decompress_raw_len(body)
    except DecompressionError as exc:
        raise MalformedRequest(_not_snappy(body)) from exc


def decompress(body: bytes, *, max_decompressed_bytes: int) -> memoryview:
    """Decompress a snappy block, refusing bodies that would exceed the limit."""
    size = decompressed_size(body)
    if size > max_decompressed_bytes:
        raise RequestTooLarge(
            f"body decompresses to {size} bytes; the limit is {max_decompressed_bytes}"
        )
    try:
        # memoryview avoids copying the buffer into a bytes object before parsing.
        return memoryview(snappy.decompress_raw(body))
    except DecompressionError as exc:
        raise MalformedRequest(_not_snappy(body)) from exc


def _not_snappy(body: bytes) -> str:
    if body.startswith(_FRAMED_MAGIC):
        return "body uses snappy framed format; remote write requires snappy block format"
    if not body:
        return "body is empty; expected a snappy-compressed protobuf message"
    return "body is not valid snappy block-compressed data"
