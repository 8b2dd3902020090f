"""Helpers shared by subcommands that talk to the database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from api.core.database import wait_for_database
from api.core.embedded import resolved
from api.core.migrate import migrate
from api.core.services import Services, open_services
from api.core.settings import Settings, load_settings

T = TypeVar("T")


class UsageError(Exception):
    """Bad input from the command line; the message is shown as is."""


def with_services(
    action: Callable[[Services], Awaitable[T]], settings: Settings | None = None
) -> T:
    """Run ``action`` with services for ``settings`` (default: the environment's;
    embedded servers started when no URLs are set), after bringing the schema up to
    date."""
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
