"""The PostgreSQL connection pool."""

from __future__ import annotations

import asyncio
import json
import logging

import asyncpg

log = logging.getLogger(__name__)


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(url: str, *, max_size: int = 10) -> asyncpg.Pool:
    """A pool that opens connections lazily, so a server that starts while PostgreSQL is
    down comes up (``/readyz`` says 503) and recovers once PostgreSQL returns."""
    return await asyncpg.create_pool(
        url,
        min_size=0,
        max_size=max_size,
        init=_init_connection,
        command_timeout=60,
        max_inactive_connection_lifetime=300,
    )


async def wait_for_database(url: str, *, patience: float = 30.0) -> None:
    """Wait until PostgreSQL accepts connections; raise ``OSError`` after ``patience`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        try:
            conn = await asyncpg.connect(url, timeout=5)
        except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
            if loop.time() >= deadline:
                raise OSError(f"PostgreSQL is unreachable: {exc}") from None
            log.warning("waiting for PostgreSQL: %s", exc)
            await asyncio.sleep(1)
        else:
            await conn.close()
            return
