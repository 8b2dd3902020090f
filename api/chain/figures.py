"""Chain-derived results per tick, computed once per process and tick and shared by
requests like the statistics themselves (``api.stats.snapshot``)."""

from __future__ import annotations

import asyncio
import weakref
from collections import Counter
from datetime import UTC, datetime, timedelta

from api.chain.estimates import ChainBasis, RegionEstimate, estimate_all, load_basis
from api.chain.onchain import sync_state
from api.chain.verification import Status, Verification, verify_all
from api.core.services import Services
from api.geo.grouping import Grouping
from api.stats.snapshot import figures, snapshot
from api.stats.ticks import ticks_for
from api.stats.windows import Window

# Verification reads 30 days of minute rollups; a verdict over 30 days barely moves
# in a few minutes, so it is recomputed per REFRESH, not per tick.
REFRESH = timedelta(minutes=10)
_KEPT = 4
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Per process clock (``Ticks``), so its lifetime and deployment are those of the clock.
_RECENT: weakref.WeakKeyDictionary[object, dict[tuple, asyncio.Future]] = (
    weakref.WeakKeyDictionary()
)


async def verifications(services: Services, tick: datetime) -> dict[str, Verification]:
    bucket = _EPOCH + (tick - _EPOCH) // REFRESH * REFRESH
    # A sync that reached the subgraph's head changes what is known at once.
    key = (bucket, (await sync_state(services.db)).synced_at)
    recent = _RECENT.setdefault(ticks_for(services), {})
    future = recent.get(key)
    if future is None or (future.done() and future.exception() is not None):
        future = asyncio.ensure_future(_verify(services, bucket))
        recent[key] = future
        while len(recent) > _KEPT:
            del recent[next(iter(recent))]
    return await asyncio.shield(future)


async def _verify(services: Services, bucket: datetime) -> dict[str, Verification]:
    return (await verify_all(services.db, bucket))[0]


async def verification_counts(services: Services, tick: datetime) -> Counter[Status]:
    return Counter(v.status for v in (await verifications(services, tick)).values())


async def chain_basis(services: Services, tick: datetime) -> ChainBasis:
    async def produce(t: datetime) -> ChainBasis:
        statuses = {a: v.status for a, v in (await verifications(services, t)).items()}
        return await load_basis(services.db, t, statuses)

    return await ticks_for(services).memo(tick, ("chain", "basis"), produce)


async def estimates(
    services: Services, tick: datetime, window: Window, by: Grouping
) -> dict[str, RegionEstimate]:
    """The estimate of every region of ``by`` in ``window``, by code."""

    async def produce(t: datetime) -> dict[str, RegionEstimate]:
        snap = await snapshot(services, t)
        by_code = await figures(services, t, window, by)
        return estimate_all(snap, await chain_basis(services, t), window, by, by_code)

    return await ticks_for(services).memo(tick, ("chain", "estimates", window, by), produce)
