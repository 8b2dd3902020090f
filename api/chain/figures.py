"""Chain-derived results per tick, computed once per process and tick and shared by
requests like the statistics themselves (``api.stats.snapshot``)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from api.chain.estimates import ChainBasis, RegionEstimate, estimate_all, load_basis
from api.chain.verification import Status, Verification, verify_all
from api.services import Services
from api.stats.places import Grouping
from api.stats.snapshot import figures, snapshot
from api.stats.ticks import ticks_for
from api.stats.windows import Window


async def verifications(services: Services, tick: datetime) -> dict[str, Verification]:
    async def produce(t: datetime) -> dict[str, Verification]:
        return (await verify_all(services.db, t))[0]

    return await ticks_for(services).memo(tick, ("chain", "verifications"), produce)


async def verification_counts(services: Services, tick: datetime) -> Counter[Status]:
    return Counter(v.status for v in (await verifications(services, tick)).values())


async def chain_basis(services: Services, tick: datetime) -> ChainBasis:
    return await ticks_for(services).memo(
        tick, ("chain", "basis"), lambda t: load_basis(services.db, t)
    )


async def estimates(
    services: Services, tick: datetime, window: Window, by: Grouping
) -> dict[str, RegionEstimate]:
    """The estimate of every region of ``by`` in ``window``, by code."""

    async def produce(t: datetime) -> dict[str, RegionEstimate]:
        snap = await snapshot(services, t)
        by_code = await figures(services, t, window, by)
        return estimate_all(snap, await chain_basis(services, t), window, by, by_code)

    return await ticks_for(services).memo(tick, ("chain", "estimates", window, by), produce)
