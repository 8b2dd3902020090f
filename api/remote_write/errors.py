"""Errors raised while negotiating and decoding a remote-write request.

Each is a ``ServiceError`` (``api.core.errors``) carrying the HTTP status the spec
prescribes, so the endpoint can answer with ``Response(str(exc), exc.status_code)``.
Messages are safe to send back to the sender: they name the problem (and label *names*)
but never label values, which may be client IPs or broadcaster addresses.
"""

from __future__ import annotations

from api.core.errors import ServiceError


class RemoteWriteError(ServiceError):
    """Base class: a request the sender must not retry unchanged."""

    status_code = 400
    code = "BAD_REQUEST"


class UnsupportedMediaType(RemoteWriteError):
    """Content-Type or Content-Encoding is not one the spec allows (415)."""

    status_code = 415
    code = "UNSUPPORTED_MEDIA_TYPE"


class RequestTooLarge(RemoteWriteError):
    """The body would decompress past the configured limit (413)."""

    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class MalformedRequest(RemoteWriteError):
    """The body is not snappy block data holding the negotiated protobuf message (400)."""

    status_code = 400


class InvalidRequest(RemoteWriteError):
    """The message decodes but breaks the spec's rules for series and labels (400)."""

    status_code = 400
