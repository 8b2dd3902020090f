"""Root field ``origins``: where demand comes from."""

from __future__ import annotations

import asyncio
from datetime import datetime

import strawberry

from api.core.errors import BadUserInput
from api.disclosure.precision import Rule
from api.geo.grouping import Grouping, Level, grouping, region_name
from api.stats.load import origins as load_origins
from api.stats.load import read
from api.stats.origins import ORIGIN_RESOLUTION, Origins
from api.stats.snapshot import snapshot
from api.stats.ticks import ticks_for
from api.stats.windows import Window as WindowValue
from resolvers.context import Context
from resolvers.fields import precise_field, precise_resolver
from resolvers.network import MAX_REGIONS
from resolvers.stats_types import Precision, RegionLevel, Window
from resolvers.view import tick_of, view_of


@strawberry.type(description="Demand from one origin region: pixels its gateways had transcoded.")
class OriginStats:
    level: RegionLevel = precise_field(Rule.EXACT, description="Level of the origin region.")  # type: ignore[valid-type]
    code: str = precise_field(Rule.EXACT, description="Code of the origin region.")
    name: str = precise_field(Rule.EXACT, description="Name of the origin region.")
    window: Window = precise_field(Rule.EXACT, description="The window of the figures.")  # type: ignore[valid-type]
    pixels_per_second: float | None = precise_field(
        Rule.SIGNIFICANT,
        description="Pixels per second transcoded for gateways located here, over the window.",
    )
    orchestrators: int = precise_field(
        Rule.EXACT,
        description="Orchestrators that reported work for gateways located here.",
    )
    precision: Precision = precise_field(Rule.LABEL, description="EXACT, COARSENED or SUPPRESSED.")
    withheld: strawberry.Private[bool] = False

    def withheld_field(self, name: str) -> bool:
        return self.withheld and name == "pixels_per_second"


async def _origins(context: Context) -> Origins:
    services = context.services

    async def produce(t: datetime) -> Origins:
        snap = await snapshot(services, t)
        return Origins(await read(services.db, load_origins, snap.plan))

    return await ticks_for(services).memo(tick_of(context), "origins", produce)


def _grouping(level: Level, resolution: int | None, max_resolution: int) -> Grouping:
    if level is not Level.CELL:
        return grouping(level)
    resolution = ORIGIN_RESOLUTION if resolution is None else resolution
    if not 0 <= resolution <= ORIGIN_RESOLUTION:
        raise BadUserInput(
            f"origins are kept as H3 cells of resolution {ORIGIN_RESOLUTION};"
            f" resolution must be 0 to {ORIGIN_RESOLUTION}"
        )
    return grouping(level, min(resolution, max_resolution))


@strawberry.type
class OriginsQuery:
    @precise_resolver(
        Rule.OBJECT,
        description=(
            "Demand origins: pixels by the region of the gateways (client IPs, never"
            " stored, only their country and resolution-3 cell), from orchestrators that"
            " export client_ip (-metricsClientIP). In code order; origins that could not"
            " be located are left out (at most 2,000 regions). For CELL, `resolution` is 0"
            " to 3 (default 3)."
        ),
    )
    async def origins(
        self,
        info: strawberry.Info[Context, None],
        level: RegionLevel,  # type: ignore[valid-type]
        window: Window = WindowValue.LAST_HOUR,  # type: ignore[valid-type]
        resolution: int | None = None,
    ) -> list[OriginStats]:
        context = info.context
        view = view_of(context)
        max_resolution = ORIGIN_RESOLUTION if view.precise else view.max_resolution
        by = _grouping(level, resolution, max_resolution)
        origins = await _origins(context)
        withheld = (
            frozenset()
            if view.precise  # solver time (api.disclosure.milp): off the event loop
            else await asyncio.to_thread(
                origins.withheld, view.min_orchestrators, view.max_resolution
            )
        )
        out = []
        for code, f in sorted(origins.figures(window, by).items())[:MAX_REGIONS]:
            hidden = (window, by, code) in withheld
            out.append(
                OriginStats(
                    level=level,
                    code=code,
                    name=region_name(level, code),
                    window=window,
                    pixels_per_second=f.pixels_per_second,
                    orchestrators=len(f.orchestrators),
                    precision=Precision.EXACT
                    if view.precise
                    else Precision.SUPPRESSED
                    if hidden
                    else Precision.COARSENED,
                    withheld=hidden,
                )
            )
        return out
