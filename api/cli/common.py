"""Helpers shared by subcommands that talk to the database.

Imported while the parser is built, so it imports nothing heavy at its top."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from api.services import Services
    from api.settings import Settings

T = TypeVar("T")


class UsageError(Exception):
    """Bad input from the command line; the message is shown as is."""


def with_services(
    action: Callable[[Services], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run ``action`` with services for ``settings`` (default: the environment's;
    embedded servers started when no URLs are set), after bringing the schema up to
    date."""
    from api.database import wait_for_database
    from api.embedded import resolved
    from api.migrate import migrate
    from api.services import open_services
    from api.settings import load_settings

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
