"""Background loops every server process runs beside the HTTP app.

Each worker is a coroutine function taking the process's ``Services``; it must run until
cancelled and survive PostgreSQL or Redis being away (log, sleep, try again). Work that
must happen once per deployment takes a PostgreSQL advisory lock, so any number of
processes may run the same workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from api.services import Services

log = logging.getLogger(__name__)

Worker = Callable[[Services], Awaitable[None]]


def default_workers() -> list[Worker]:
    return []


async def supervise(worker: Worker, services: Services) -> None:
    """Run ``worker`` forever, restarting it after an unexpected error."""
    name = getattr(worker, "__qualname__", repr(worker))
    while True:
        try:
            await worker(services)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("worker %s failed; restarting in 5 s", name)
            await asyncio.sleep(5)
