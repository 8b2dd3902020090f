"""Announcing that a credential has ended, to every server process.

A WebSocket subscription is authenticated once, at its handshake, and may then stay
open for days on whichever process holds it, while ``signOut`` or ``revokeApiToken``
reach any process (or the ``lpmetrics`` command line). So the end of a session or
token is announced with PostgreSQL ``NOTIFY`` on one channel, and every process with
signed-in subscriptions ``LISTEN``s to it (``auth.watch``).

PostgreSQL rather than Redis pub/sub: revoking a token is a database update, and a
``NOTIFY`` issued in the same statement is delivered exactly when (and only if) the
revocation commits, whoever ran it. Ending a session announces itself the same way, so
a process needs one listening connection, not two."""

from __future__ import annotations

import asyncpg

CHANNEL = "lpm_credentials"
SESSION_PREFIX = "session:"
TOKEN_PREFIX = "token:"


def session_credential(sid: str) -> str:
    """What announces the end of the session whose ``session_id`` is ``sid``."""
    return SESSION_PREFIX + sid


def token_credential(token_id: int) -> str:
    """What announces the revocation of API token ``token_id``."""
    return TOKEN_PREFIX + str(token_id)


async def announce(db: asyncpg.Pool | asyncpg.Connection, credential: str) -> None:
    """Tell every process that ``credential`` has ended."""
    await db.execute("SELECT pg_notify($1, $2)", CHANNEL, credential)
