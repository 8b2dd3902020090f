"""Work that one process of the deployment does at a time, decided by a PostgreSQL
advisory lock, in loops that outlive PostgreSQL going away and stop when cancelled
(docs/architecture.md, "Background work")."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg

from api.core.outage import POSTGRES_AWAY
from api.core.services import Services

log = logging.getLogger(__name__)

# What a loop logs and retries after: the database (or the network to it) went away.
TRANSIENT = POSTGRES_AWAY


def cancelling() -> bool:
    """Whether the current task is being cancelled. An error raised while a cancellation
    unwinds replaces the ``CancelledError``: a loop must stop all the same, or shutdown
    would wait for it forever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


@contextlib.asynccontextmanager
async def leading(conn: asyncpg.Connection, key: int) -> AsyncIterator[bool]:
    """Whether ``conn`` took the advisory lock ``key`` (without waiting for it); a lock
    taken is released when the block ends."""
    held = bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", key))
    try:
        yield held
    finally:
        if held:
            # On a broken connection the lock is gone with it already.
            with contextlib.suppress(Exception):
                await conn.execute("SELECT pg_advisory_unlock($1)", key)


async def wait_to_lead(
    conn: asyncpg.Connection,
    key: int,
    *,
    retry_seconds: float,
    waiting: Callable[[], None] | None = None,
) -> None:
    """Return once ``conn`` holds the advisory lock ``key`` (kept until it is closed),
    trying every ``retry_seconds``; ``waiting`` is called after each refusal."""
    while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
        if waiting is not None:
            waiting()
        await asyncio.sleep(retry_seconds)


async def lead_forever(
    services: Services,
    key: int,
    lead: Callable[[asyncpg.Connection], Awaitable[None]],
    *,
    name: str,
    retry_seconds: float,
) -> None:
    """Run by every process: the one holding the advisory lock ``key`` runs ``lead`` on
    the connection holding it; the others try again every ``retry_seconds``, and so does
    a leader whose connection broke."""
    while True:
        try:
            async with services.db.acquire() as conn, leading(conn, key) as held:
                if held:
                    await lead(conn)
        except TRANSIENT as exc:
            if cancelling():
                raise
            log.warning("%s interrupted, retrying: %s", name, exc)
        await asyncio.sleep(retry_seconds)
