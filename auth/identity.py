"""Who is calling: the identity every request is served as.

Resolvers and the response cache ask ``identify`` once per request; everything the
caller may see (precision, own nodes, tokens) follows from the ``Identity``.

Credentials, in order:

1. ``Authorization: Bearer <token>``: a session token from ``signIn`` or an API token
   with the READ scope. A bearer that is malformed, unknown, revoked, ended or lacks
   the READ scope is an error (``Unauthenticated`` / ``Forbidden``), never a silent
   fallback to the public view: a script must learn that its token stopped working.
2. The session cookie, where ``auth.csrf.cookie_usable`` allows it. A cookie whose
   session has ended is ignored (the browser cannot drop an HttpOnly cookie itself;
   the ``/graphql`` gate tells it to).
3. Nothing: anonymous.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from starlette.requests import HTTPConnection

from api.core.errors import Forbidden, Unauthenticated
from api.core.services import Services
from auth import tokens
from auth.csrf import cookie_usable
from auth.sessions import (
    COOKIE_NAME,
    end_session,
    is_session_token,
    session_address,
    session_id,
)

RoleName = Literal["ANONYMOUS", "ORCHESTRATOR"]

RECIPROCITY_MESSAGE = (
    "none of your nodes delivered data in the last 24 hours, so you are served the"
    " public view; it turns precise again once one of them reports (LPM_RECIPROCITY)"
)

# Where the identity of a request is kept; every Request built on the same scope
# (the gate's, strawberry's) sees it.
_SCOPE_KEY = "lpm.identity"
STALE_COOKIE_KEY = "lpm.stale_session_cookie"


@dataclass(frozen=True, slots=True)
class Identity:
    role: RoleName
    address: str | None = None
    # How the caller proved who they are.
    via: Literal["anonymous", "session", "token"] = "anonymous"
    token_id: int | None = None
    # Set when a signed-in orchestrator is served the anonymous view (reciprocity).
    downgraded: str | None = None
    # session_id() of the session token used, so signOut can end exactly that one.
    session: str | None = None

    @property
    def precise(self) -> bool:
        """True when the caller gets exact figures."""
        return self.role == "ORCHESTRATOR" and self.downgraded is None


ANONYMOUS = Identity("ANONYMOUS")


async def identify(connection: HTTPConnection, services: Services) -> Identity:
    """The identity of an HTTP request or WebSocket connection (computed once, then kept)."""
    cached = connection.scope.get(_SCOPE_KEY)
    if isinstance(cached, Identity):
        return cached
    identity = await _identify(connection, services)
    connection.scope[_SCOPE_KEY] = identity
    return identity


async def _identify(connection: HTTPConnection, services: Services) -> Identity:
    authorization = connection.headers.get("authorization")
    if authorization is not None:
        return await _from_bearer(authorization, services)
    cookie = connection.cookies.get(COOKIE_NAME)
    if cookie and cookie_usable(connection, services.settings.cors_origins):
        address = await session_address(services, cookie)
        if address is not None:
            try:
                return await orchestrator_identity(
                    services, address, via="session", session=session_id(cookie)
                )
            except Unauthenticated:
                await end_session(services, session_id(cookie))
        connection.scope[STALE_COOKIE_KEY] = True
    return ANONYMOUS


async def _from_bearer(authorization: str, services: Services) -> Identity:
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    if is_session_token(token):
        address = await session_address(services, token)
        if address is None:
            raise Unauthenticated("the session has ended or expired; sign in again")
        return await orchestrator_identity(
            services, address, via="session", session=session_id(token)
        )
    record = await tokens.verify_token(services, token, "read")
    if record is None:
        if await _live_token_exists(services, token):
            raise Forbidden(
                "this API token has no READ scope (it is for ingest only); create one"
                " with the READ scope to query the API"
            )
        raise Unauthenticated("the API token is unknown or revoked")
    return await orchestrator_identity(
        services, record.orchestrator, via="token", token_id=record.id
    )


async def _live_token_exists(services: Services, token: str) -> bool:
    return tokens.looks_like_token(token) and bool(
        await services.db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL)",
            tokens.hash_secret(token),
        )
    )


# A precise standing (registered, and delivering where LPM_RECIPROCITY asks for it) is
# trusted this long without asking PostgreSQL again. Otherwise every signed-in request
# holds a pool connection for one query, and with more requests in flight than pool
# connections their queue set the tail latency of the signed-in dashboard. Anything
# less than precise is re-read every time, so registering or starting to deliver
# counts at once; losing the standing counts within this many seconds.
STANDING_SECONDS = 30.0
_STANDING_ENTRIES = 10_000
_precise_until: dict[tuple[str, str], float] = {}
_clock = time.monotonic  # tests move it on


def _remember_precise(key: tuple[str, str]) -> None:
    now = _clock()
    if len(_precise_until) >= _STANDING_ENTRIES:
        for stale in [k for k, until in _precise_until.items() if until <= now]:
            del _precise_until[stale]
        if len(_precise_until) >= _STANDING_ENTRIES:
            _precise_until.clear()
    _precise_until[key] = now + STANDING_SECONDS


async def orchestrator_identity(
    services: Services,
    address: str,
    *,
    via: Literal["session", "token"],
    session: str | None = None,
    token_id: int | None = None,
) -> Identity:
    """The identity of registered orchestrator ``address``, reciprocity applied."""
    key = (services.key(), address)
    if _precise_until.get(key, 0.0) > _clock():
        return Identity("ORCHESTRATOR", address, via=via, token_id=token_id, session=session)
    row = await services.db.fetchrow(
        """
        SELECT EXISTS (SELECT 1 FROM orchestrators WHERE address = $1) AS registered,
               EXISTS (SELECT 1 FROM nodes
                       WHERE orchestrator = $1 AND last_seen > now() - interval '24 hours')
                   AS delivering
        """,
        address,
    )
    if not row["registered"]:
        raise Unauthenticated(f"{address} is no longer a registered orchestrator")
    downgraded = None
    if services.settings.reciprocity and not row["delivering"]:
        downgraded = RECIPROCITY_MESSAGE
    else:
        _remember_precise(key)
    return Identity(
        "ORCHESTRATOR",
        address,
        via=via,
        token_id=token_id,
        downgraded=downgraded,
        session=session,
    )
