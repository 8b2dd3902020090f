"""Background loops every server process runs beside the HTTP app.

Each worker is a coroutine function taking the process's ``Services``; it must run until
cancelled and survive PostgreSQL or Redis being away (log, sleep, try again). Work that
must happen once per deployment takes a PostgreSQL advisory lock, so any number of
processes may run the same workers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from api.chain.sync import chain_worker
from api.convergence.calibrate import convergence_worker
from api.core.leader import cancelling
from api.core.services import Services
from api.core.settings import Settings
from api.ingest.partitions import partitions_worker
from api.rollup.hours import refresh_hours
from api.rollup.minutes import rollup_worker
from api.stats.ticks import follow_rollups

log = logging.getLogger(__name__)

Worker = Callable[[Services], Awaitable[None]]


def default_workers(settings: Settings | None = None) -> list[Worker]:
    """What a process runs; with ``LPM_BACKGROUND_WORKERS=0`` only what every process
    needs to answer requests (following the rollup ticks), none of the deployment-wide
    work."""
    if settings is not None and not settings.background_workers:
        return [follow_rollups]
    return [
        partitions_worker,
        rollup_worker,
        follow_rollups,
        refresh_hours,
        chain_worker,
        convergence_worker,
    ]


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
            if cancelling():
                raise
            log.exception("worker %s failed; restarting in 5 s", name)
            await asyncio.sleep(5)
