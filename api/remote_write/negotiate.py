"""Content negotiation for remote write (spec 2.0, "Content-Type" / "Content-Encoding")."""

from __future__ import annotations

from typing import Literal

from api.remote_write.errors import UnsupportedMediaType

MEDIA_TYPE = "application/x-protobuf"
PROTO_V1 = "prometheus.WriteRequest"
PROTO_V2 = "io.prometheus.write.v2.Request"
CONTENT_TYPE_V1 = f"{MEDIA_TYPE};proto={PROTO_V1}"
CONTENT_TYPE_V2 = f"{MEDIA_TYPE};proto={PROTO_V2}"
ENCODING = "snappy"

Version = Literal[1, 2]

_VERSIONS: dict[str, Version] = {PROTO_V1: 1, PROTO_V2: 2}
_ACCEPTED = f"{MEDIA_TYPE}, {CONTENT_TYPE_V1} or {CONTENT_TYPE_V2}"


def negotiate(content_type: str | None, content_encoding: str | None) -> Version:
    """Return the remote-write message version the headers announce.

    Raises `UnsupportedMediaType` for anything but snappy-encoded
    `application/x-protobuf` with no `proto` parameter (1.0) or one naming
    a message we decode.
    """
    encoding = (content_encoding or "").strip().lower()
    if encoding != ENCODING:
        shown = _printable(content_encoding) if content_encoding else "none"
        raise UnsupportedMediaType(
            f"Content-Encoding must be {ENCODING!r} (snappy block format), got {shown}"
        )
    if not content_type:
        raise UnsupportedMediaType(f"Content-Type is missing; expected {_ACCEPTED}")

    media_type, *params = content_type.split(";")
    if media_type.strip().lower() != MEDIA_TYPE:
        raise UnsupportedMediaType(
            f"Content-Type {_printable(content_type)} is not supported; expected {_ACCEPTED}"
        )
    proto = None
    for param in params:
        name, sep, value = param.partition("=")
        if not sep:
            raise UnsupportedMediaType(
                f"Content-Type parameter {_printable(param)} is not of the form name=value"
            )
        # RFC 9110: parameter names are case-insensitive, values may be quoted.
        if name.strip().lower() == "proto":
            proto = value.strip().strip('"')
    if proto is None:
        return 1  # 1.0 senders send the bare media type
    version = _VERSIONS.get(proto)
    if version is None:
        raise UnsupportedMediaType(
            f"proto={_printable(proto)} is not supported; expected {PROTO_V1} or {PROTO_V2}"
        )
    return version


def _printable(header: str) -> str:
    # Header values are sender-controlled: bound and quote them before echoing.
    return repr(header[:100])
