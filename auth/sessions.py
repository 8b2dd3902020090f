"""Sign-in sessions: opaque random tokens, kept in Redis for ``LPM_SESSION_TTL_SECONDS``.

The token is handed to the client twice: in the ``signIn`` payload (scripts send it as
``Authorization: Bearer``) and as an HttpOnly cookie (the explorer). Redis holds only a
SHA-256 of it, so a copy of Redis (a dump, a replica) does not let anybody sign in."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.responses import Response

from api.core.services import Services
from api.core.settings import Settings
from auth.revocations import announce, session_credential
from auth.session_store import session_store

log = logging.getLogger(__name__)

# Tells a session token from an API token at a glance (and without a database query).
SESSION_PREFIX = "lpms_"
COOKIE_NAME = "lpm_session"


@dataclass(frozen=True, slots=True)
class Session:
    token: str
    address: str
    expires_at: datetime


def is_session_token(token: str) -> bool:
    return token.startswith(SESSION_PREFIX)


def session_id(token: str) -> str:
    """The name a session is stored under; never the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def _key(services: Services, sid: str) -> str:
    return services.key("session", sid)


async def create_session(services: Services, address: str) -> Session:
    ttl = services.settings.session_ttl_seconds
    token = SESSION_PREFIX + secrets.token_urlsafe(32)
    with session_store("signing in"):
        await services.redis.set(_key(services, session_id(token)), address.encode(), ex=ttl)
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=ttl)
    return Session(token=token, address=address, expires_at=expires_at)


async def session_address(services: Services, token: str) -> str | None:
    """The address signed in with ``token``; None once the session ended or expired."""
    if not is_session_token(token):
        return None
    with session_store("using a session"):
        value = await services.redis.get(_key(services, session_id(token)))
    return value.decode() if value is not None else None


async def session_seconds_left(services: Services, sid: str) -> float | None:
    """How long the session whose ``session_id`` is ``sid`` has left; None once it
    ended or expired (one Redis round trip)."""
    with session_store("using a session"):
        milliseconds = await services.redis.pttl(_key(services, sid))
    if milliseconds == -2:  # no such key
        return None
    return milliseconds / 1000 if milliseconds >= 0 else float("inf")


async def end_session(services: Services, sid: str) -> bool:
    """End the session whose ``session_id`` is ``sid``; True if it was still open.

    Subscriptions opened with it, on any process, are told (``auth.revocations``)."""
    with session_store("signing out"):
        ended = await services.redis.delete(_key(services, sid)) == 1
    if ended:
        try:
            await announce(services.db, session_credential(sid))
        except Exception as exc:  # the session has ended all the same
            # Its subscriptions notice before their next push instead of at once.
            log.warning("cannot announce a session's end: %s: %s", type(exc).__name__, exc)
    return ended


def set_session_cookie(response: Response, settings: Settings, session: Session) -> None:
    response.set_cookie(
        COOKIE_NAME,
        session.token,
        max_age=settings.session_ttl_seconds,
        path="/",
        secure=True,
        httponly=True,
        samesite=settings.cookie_samesite.lower(),  # type: ignore[arg-type]
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    # The attributes must match the ones the cookie was set with, or browsers keep it.
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        secure=True,
        httponly=True,
        samesite=settings.cookie_samesite.lower(),  # type: ignore[arg-type]
    )
