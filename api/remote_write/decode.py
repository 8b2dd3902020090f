"""Decode a remote-write body (1.0 or 2.0) into a `DecodedRequest`."""

from __future__ import annotations

from api.remote_write.compression import decompress
from api.remote_write.decode_v1 import decode_v1
from api.remote_write.decode_v2 import decode_v2
from api.remote_write.model import DecodedRequest
from api.remote_write.negotiate import Version, negotiate

# Prometheus sends a few thousand samples (well under 1 MiB decompressed) per
# request; 32 MiB leaves room for other senders while bounding memory.
DEFAULT_MAX_DECOMPRESSED_BYTES = 32 * 1024 * 1024


def decode(
    body: bytes,
    version: Version,
    *,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> DecodedRequest:
    """Decompress and decode a snappy-compressed remote-write message of `version`.

    Raises `RequestTooLarge`, `MalformedRequest` or `InvalidRequest`.
    """
    raw = decompress(body, max_decompressed_bytes=max_decompressed_bytes)
    if version == 1:
        return decode_v1(raw)
    return decode_v2(raw)


def decode_request(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> DecodedRequest:
    """`negotiate` from the request headers, then `decode` the body."""
    version = negotiate(content_type, content_encoding)
    return decode(body, version, max_decompressed_bytes=max_decompressed_bytes)
