"""Errors raised while negotiating and decoding a remote-write request.

Each carries the HTTP status the spec prescribes, so the endpoint can answer
with `Response(str(exc), exc.status_code)`. Messages are safe to send back to
the sender: they name the problem (and label *names*) but never label values,
which may be client IPs or broadcaster addresses.
"""

from __future__ import annotations


class RemoteWriteError(Exception):
    """Base class: a request the sender must not retry unchanged."""

    status_code: int = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnsupportedMediaType(RemoteWriteError):
    """Content-Type or Content-Encoding is not one the spec allows (415)."""

    status_code = 415


class RequestTooLarge(RemoteWriteError):
    """The body would decompress past the configured limit (413)."""

    status_code = 413


class MalformedRequest(RemoteWriteError):
    """The body is not snappy block data holding the negotiated protobuf message (400)."""

    status_code = 400


class InvalidRequest(RemoteWriteError):
    """The message decodes but breaks the spec's rules for series and labels (400)."""

    status_code = 400
