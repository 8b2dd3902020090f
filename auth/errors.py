"""Refusals the auth layer raises, each with the machine-readable code callers act on.

The same exception serves both surfaces: graphql-core copies an exception's
``extensions`` into the GraphQL error it reports (so a resolver can simply raise
one), and the ``/graphql`` gate turns ``status`` into the HTTP status when a request is
refused before any GraphQL runs."""

from __future__ import annotations

from typing import ClassVar, Literal

ErrorCode = Literal[
    "UNAUTHENTICATED", "FORBIDDEN", "BAD_USER_INPUT", "RATE_LIMITED", "SERVICE_UNAVAILABLE"
]


class AuthError(Exception):
    code: ClassVar[ErrorCode]
    status: ClassVar[int]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code}


class Unauthenticated(AuthError):
    """No valid credentials: none given where needed, or unknown, ended or revoked."""

    code = "UNAUTHENTICATED"
    status = 401


class Forbidden(AuthError):
    """Valid credentials that do not allow this (wrong scope, origin or role)."""

    code = "FORBIDDEN"
    status = 403


class BadUserInput(AuthError):
    """An argument the caller can fix."""

    code = "BAD_USER_INPUT"
    status = 400


class RateLimited(AuthError):
    """Too many requests from this caller, or for the whole service; trying again
    after ``retry_after`` seconds can succeed (HTTP surfaces send it as Retry-After)."""

    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after}


class SessionsUnavailable(AuthError):
    """Redis, which holds sessions and sign-in nonces, cannot be reached. Statistics are
    still served (anonymously, and to API tokens); sign-in and sessions are back as
    soon as Redis is."""

    code = "SERVICE_UNAVAILABLE"
    status = 503
    retry_after = 5

    def __init__(self, doing: str) -> None:
        super().__init__(
            f"{doing} is not possible right now: the session store (Redis) cannot be"
            f" reached; public statistics and API tokens still work; retry in"
            f" {self.retry_after} s"
        )

    @property
    def extensions(self) -> dict[str, object]:
        return {"code": self.code, "retryAfter": self.retry_after}
