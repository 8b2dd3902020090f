"""Root fields ``network``, ``regions`` and ``region``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from datetime import datetime
from typing import TypeVar

import h3
import strawberry

from api.core.errors import BadUserInput
from api.core.services import Services
from api.disclosure.precision import Rule, View, public_resolution
from api.geo.grouping import NETWORK, Grouping, Level, grouping, valid_code
from api.stats.figures import Figures
from api.stats.snapshot import Withheld, figures, withheld
from api.stats.ticks import ticks_for
from api.stats.windows import Window as WindowValue
from resolvers.chain import attach
from resolvers.context import Context
from resolvers.fields import precise_resolver
from resolvers.stats_types import NetworkStats, RegionLevel, RegionStats, Window
from resolvers.view import tick_of, view_of

T = TypeVar("T")

# regions() answers at most this many regions (in code order); see its description.
MAX_REGIONS = 2000


async def _withheld(context: Context, tick: datetime) -> Withheld | None:
    """What the caller's view withholds; None for precise callers."""
    view = view_of(context)
    if view.precise:
        return None
    return await withheld(context.services, tick, view.min_orchestrators, view.max_resolution)


def _groups(
    hidden: Withheld | None, window: WindowValue, by: Grouping, code: str
) -> frozenset[str]:
    return frozenset() if hidden is None else hidden.groups(window, by, code)


def _resolution(level: Level, resolution: int | None, view: View) -> Grouping:
    if level is not Level.CELL:
        return grouping(level)
    if resolution is None:
        resolution = view.max_resolution
    if not 0 <= resolution <= 15:
        raise BadUserInput(f"resolution must be an H3 resolution from 0 to 15, not {resolution}")
    return grouping(level, public_resolution(resolution, view))


async def network_stats(context: Context, window: WindowValue) -> NetworkStats:
    services, view, tick = context.services, view_of(context), tick_of(context)
    if view.precise:
        return await _exact(context, ("network", window), lambda t: _network(services, t, window))
    by_code = await figures(services, tick, window, NETWORK)
    groups = _groups(await _withheld(context, tick), window, NETWORK, "")
    stats = NetworkStats.of(by_code[""], tick, view, groups)
    await attach(services, tick, window, NETWORK, [stats])
    return stats


# Exact objects are the same for every precise caller and never rewritten (``coarsen``
# leaves them alone), so they are built once per tick and shared by requests.
_EXACT = View(precise=True, address=None, count_bin=1, max_resolution=15, min_orchestrators=1)


async def _exact(context: Context, key: Hashable, build: Callable[[datetime], Awaitable[T]]) -> T:
    return await ticks_for(context.services).memo(tick_of(context), ("exact", key), build)


async def _network(services: Services, tick: datetime, window: WindowValue) -> NetworkStats:
    by_code = await figures(services, tick, window, NETWORK)
    stats = NetworkStats.of(by_code[""], tick, _EXACT, frozenset())
    await attach(services, tick, window, NETWORK, [stats])
    return stats


async def _regions(
    services: Services, tick: datetime, window: WindowValue, by: Grouping
) -> list[RegionStats]:
    by_code = await figures(services, tick, window, by)
    stats = [
        RegionStats.of(by_code[code], tick, _EXACT, frozenset())
        for code in sorted(by_code)[:MAX_REGIONS]
    ]
    await attach(services, tick, window, by, stats)
    return stats


@strawberry.type
class StatsQuery:
    @precise_resolver(
        Rule.OBJECT,
        description="Figures of the whole network; the public view withholds them while"
        " fewer than LPM_PUBLIC_MIN_ORCHESTRATORS orchestrators report.",
    )
    async def network(
        self,
        info: strawberry.Info[Context, None],
        window: Window = WindowValue.LAST_HOUR,  # type: ignore[valid-type]
    ) -> NetworkStats:
        return await network_stats(info.context, window)

    @precise_resolver(
        Rule.OBJECT,
        description=(
            "Figures of every region of a level that has data in the window or a known"
            " orchestrator, in code order (at most 2,000). For CELL, `resolution` is the H3"
            " resolution (default LPM_PUBLIC_H3_RES); the public view is served no finer"
            " than LPM_PUBLIC_H3_RES, a finer request is answered at that resolution."
            " `resolution` is ignored for other levels."
        ),
    )
    async def regions(
        self,
        info: strawberry.Info[Context, None],
        level: RegionLevel,  # type: ignore[valid-type]
        window: Window = WindowValue.LAST_HOUR,  # type: ignore[valid-type]
        resolution: int | None = None,
    ) -> list[RegionStats]:
        context = info.context
        view = view_of(context)
        by = _resolution(level, resolution, view)
        services, tick = context.services, tick_of(context)
        if view.precise:
            return await _exact(
                context, ("regions", window, by), lambda t: _regions(services, t, window, by)
            )
        by_code = await figures(services, tick, window, by)
        hidden = await _withheld(context, tick)
        stats = [
            RegionStats.of(by_code[code], tick, view, _groups(hidden, window, by, code))
            for code in sorted(by_code)[:MAX_REGIONS]
        ]
        await attach(services, tick, window, by, stats)
        return stats

    @precise_resolver(
        Rule.OBJECT,
        description=(
            "Figures of one region; a region without data has zero figures. An unknown"
            " code is an error (BAD_USER_INPUT), and so is, for the public view, a cell"
            " finer than LPM_PUBLIC_H3_RES."
        ),
    )
    async def region(
        self,
        info: strawberry.Info[Context, None],
        level: RegionLevel,  # type: ignore[valid-type]
        code: str,
        window: Window = WindowValue.LAST_HOUR,  # type: ignore[valid-type]
    ) -> RegionStats | None:
        context = info.context
        view = view_of(context)
        canonical = valid_code(level, code)
        if canonical is None:
            raise BadUserInput(f"{code!r} is not a {level.value} code")
        if level is Level.CELL:
            resolution = h3.get_resolution(canonical)
            if view.public and resolution > view.max_resolution:
                raise BadUserInput(
                    f"the public view has cells of resolution {view.max_resolution} or"
                    f" coarser; {canonical} is resolution {resolution} (sign in for finer)"
                )
            by = grouping(level, resolution)
        else:
            by = grouping(level)
        tick = tick_of(context)
        by_code = await figures(context.services, tick, window, by)
        f = by_code.get(canonical) or Figures(by=by, code=canonical, window=window)
        groups = _groups(await _withheld(context, tick), window, by, canonical)
        stats = RegionStats.of(f, tick, view, groups)
        await attach(context.services, tick, window, by, [stats])
        return stats
