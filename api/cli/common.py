"""Helpers shared by subcommands that talk to the database.

Imported while the parser is built, so it imports nothing at its top that only running
a command needs (asyncio included)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import asyncpg

    from api.core.services import Services
    from api.core.settings import Settings

T = TypeVar("T")


class UsageError(Exception):
    """Bad input from the command line; the message is shown as is."""


def with_services(
    action: Callable[[Services], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run ``action`` with services for ``settings`` (default: the environment's;
    embedded servers started when no URLs are set), after bringing the schema up to
    date."""
    import asyncio

    from api.core.database import wait_for_database
    from api.core.embedded import resolved
    from api.core.migrate import migrate
    from api.core.services import open_services
    from api.core.settings import load_settings

    settings = settings or load_settings()
    with resolved(settings) as settings:

        async def run() -> T:
            assert settings.database_url
            await wait_for_database(settings.database_url)
            async with open_services(settings) as services:
                async with services.db.acquire() as conn:
                    await migrate(conn)
                return await action(services)

        return asyncio.run(run())


def with_database(action: Callable[[asyncpg.Pool], Awaitable[T]]) -> T:
    """``with_services`` for commands that need only PostgreSQL: no Redis client or
    GeoIP reader is imported or opened, so they start faster."""
    import asyncio

    from api.core.database import create_pool, wait_for_database
    from api.core.embedded import resolved
    from api.core.migrate import migrate
    from api.core.settings import load_settings

    with resolved(load_settings()) as settings:

        async def run() -> T:
            assert settings.database_url
            await wait_for_database(settings.database_url)
            pool = await create_pool(settings.database_url, max_size=2)
            try:
                async with pool.acquire() as conn:
                    await migrate(conn)
                return await action(pool)
            finally:
                await pool.close()

        return asyncio.run(run())
