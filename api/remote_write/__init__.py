"""Prometheus remote-write 1.0 / 2.0 codec: negotiate, decompress, decode, validate.

    version = negotiate(request.headers.get("content-type"),
                        request.headers.get("content-encoding"))   # 415 on error
    decoded = decode(body, version, max_decompressed_bytes=...)     # 400 / 413
    for series in decoded.series: ...                               # name, labels, samples

Every error is a `RemoteWriteError` carrying its HTTP `status_code` and a
message safe to return to the sender.
"""

from api.remote_write.decode import DEFAULT_MAX_DECOMPRESSED_BYTES, decode, decode_request
from api.remote_write.decode_v1 import decode_v1
from api.remote_write.decode_v2 import decode_v2
from api.remote_write.errors import (
    InvalidRequest,
    MalformedRequest,
    RemoteWriteError,
    RequestTooLarge,
    UnsupportedMediaType,
)
from api.remote_write.model import DecodedRequest, DecodedSeries, Labels, Sample
from api.remote_write.negotiate import CONTENT_TYPE_V1, CONTENT_TYPE_V2, Version, negotiate
from api.remote_write.response import written_headers
from api.remote_write.stale import STALE_NAN, is_stale_marker

__all__ = [
    "CONTENT_TYPE_V1",
    "CONTENT_TYPE_V2",
    "DEFAULT_MAX_DECOMPRESSED_BYTES",
    "STALE_NAN",
    "DecodedRequest",
    "DecodedSeries",
    "InvalidRequest",
    "Labels",
    "MalformedRequest",
    "RemoteWriteError",
    "RequestTooLarge",
    "Sample",
    "UnsupportedMediaType",
    "Version",
    "decode",
    "decode_request",
    "decode_v1",
    "decode_v2",
    "is_stale_marker",
    "negotiate",
    "written_headers",
]
