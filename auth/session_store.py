"""Redis as the store of sessions and sign-in nonces, and what happens while it is away.

Sessions and nonces live only in Redis (``auth.sessions``, ``auth.nonces``): without
it nobody can sign in or be recognised by a session, so each such operation is refused
with ``SessionsUnavailable`` (503, ``SERVICE_UNAVAILABLE``, ``retryAfter``) instead of
a traceback. Everything else keeps working. The outage is logged once, and its end
once; the next operation after Redis returns simply succeeds."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from api.core.errors import SessionsUnavailable
from api.core.outage import REDIS_AWAY, Outage

_OUTAGE = Outage("Redis (sessions and nonces)", "refusing sign-in and sessions with 503")


@contextlib.contextmanager
def session_store(doing: str) -> Iterator[None]:
    """Turn Redis being away, inside the block, into ``SessionsUnavailable(doing)``."""
    try:
        yield
    except REDIS_AWAY as exc:
        _OUTAGE.failed(exc)
        raise SessionsUnavailable(doing) from exc
    _OUTAGE.succeeded()
