"""Refusals: every error a caller can act on, with one shape (``status_code``, ``code``,
``message``) that both surfaces map (docs/architecture.md, "Errors").

graphql-core copies an exception's ``extensions`` into the GraphQL error it reports, so
a resolver simply raises one; HTTP endpoints answer with ``status_code`` and
``headers`` (``api.http.errors`` for JSON, the ingest endpoint in plain text)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar


class ServiceError(Exception):
    """A request refused with a reason the caller can act on."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "BAD_REQUEST"

    def __init__(self, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.headers: dict[str, str] = dict(headers or {})

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class AuthError(ServiceError):
    """Credentials refused."""


class Unauthenticated(AuthError):
    """No valid credentials: none given where needed, or unknown, ended or revoked."""

    status_code = 401
    code = "UNAUTHENTICATED"


class Forbidden(AuthError):
    """Valid credentials that do not allow this (wrong scope, origin or role)."""

    status_code = 403
    code = "FORBIDDEN"


class BadUserInput(ServiceError):
    """An argument the caller can fix."""

    status_code = 400
    code = "BAD_USER_INPUT"


class RetryLater(ServiceError):
    """A refusal that the same request can get past after ``retry_after`` seconds
    (HTTP surfaces send it as Retry-After, GraphQL as ``extensions.retryAfter``)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after}


class RateLimited(RetryLater):
    """Too many requests from this caller, or for the whole service."""

    status_code = 429
    code = "RATE_LIMITED"


class ServiceUnavailable(RetryLater):
    """PostgreSQL or Redis cannot be reached."""

    status_code = 503
    code = "SERVICE_UNAVAILABLE"


class SessionsUnavailable(ServiceUnavailable):
    """Redis, which holds sessions and sign-in nonces, cannot be reached. Statistics are
    still served (anonymously, and to API tokens); sign-in and sessions are back as
    soon as Redis is."""

    RETRY_AFTER: ClassVar[int] = 5

    def __init__(self, doing: str) -> None:
        super().__init__(
            f"{doing} is not possible right now: the session store (Redis) cannot be"
            f" reached; public statistics and API tokens still work; retry in"
            f" {self.RETRY_AFTER} s",
            self.RETRY_AFTER,
        )
