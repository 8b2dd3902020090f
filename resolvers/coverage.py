"""Root field ``coverageGaps``: where demand comes from and no orchestrator is near."""

from __future__ import annotations

import asyncio
import math
from datetime import datetime

import strawberry

from api.core.errors import BadUserInput
from api.coverage.gaps import CellCoverage, Demand, cell_coverage
from api.coverage.positions import declared_places, positions
from api.coverage.total import publishable_totals
from api.disclosure.precision import Rule, View, significant
from api.geo.grouping import Level, grouping
from api.stats.origins import ORIGIN_RESOLUTION, Origins
from api.stats.snapshot import snapshot
from api.stats.ticks import ticks_for
from api.stats.windows import Window as WindowValue
from resolvers.context import Context
from resolvers.fields import precise_field, precise_resolver
from resolvers.network import MAX_REGIONS
from resolvers.origins import _origins
from resolvers.stats_types import Location, Precision, Window
from resolvers.view import tick_of, view_of

# Half the equator: no two points on Earth are farther apart.
MAX_DISTANCE_KM = 20_038.0


@strawberry.type(
    description=(
        "A demand-origin cell whose nearest known orchestrator is farther than asked:"
        " where gateways send work from and nobody serves it nearby."
    )
)
class CoverageGap:
    cell: str = precise_field(
        Rule.CELL,
        description=(
            "The origin cell: H3 resolution 3 (the finest the service keeps of a"
            " gateway's place), for the public view no finer than LPM_PUBLIC_H3_RES."
        ),
    )
    location: Location = precise_field(Rule.OBJECT, description="The centre of `cell`.")
    window: Window = precise_field(Rule.EXACT, description="The window of the figures.")  # type: ignore[valid-type]
    demand_share: float | None = precise_field(
        Rule.SIGNIFICANT,
        description=(
            "This cell's share (0 to 1) of the network's located demand in the window:"
            " pixels transcoded for gateways located here over pixels for all located"
            " gateways, from orchestrators that export client_ip. The public view"
            " withholds it (null) where fewer than LPM_PUBLIC_MIN_ORCHESTRATORS"
            " orchestrators contribute, as `origins` does, and altogether when the"
            " network's located demand would reveal a withheld figure."
        ),
    )
    nearest_orchestrator_km: float | None = precise_field(
        Rule.CELL_DISTANCE,
        description=(
            "Great-circle kilometres from the centre of `cell` to the nearest place of a"
            " known orchestrator (active in the registry or reporting), whether it"
            " reports or not. The public view measures to the centre of that"
            " orchestrator's LPM_PUBLIC_H3_RES cell, never to its own coordinates."
            " Null when no orchestrator is located at all."
        ),
    )
    nearest_region: str | None = precise_field(
        Rule.EXACT,
        description="The Livepeer region code (e.g. FRA) of that nearest orchestrator place.",
    )
    nearest_orchestrator_reports: bool | None = precise_field(
        Rule.EXACT,
        description=(
            "Whether an orchestrator at that nearest place reports data in the window"
            " (false: known from the registry only, so its work is not in any figure)."
        ),
    )
    precision: Precision = precise_field(Rule.LABEL, description="EXACT, COARSENED or SUPPRESSED.")
    withheld: strawberry.Private[bool] = False

    def withheld_field(self, name: str) -> bool:
        return self.withheld and name == "demand_share"


def _resolution(view: View) -> int:
    return ORIGIN_RESOLUTION if view.precise else min(ORIGIN_RESOLUTION, view.max_resolution)


async def _coverage(context: Context, window: WindowValue, view: View) -> list[CellCoverage]:
    services = context.services
    resolution = _resolution(view)
    measure_from = None if view.precise else view.max_resolution

    async def produce(t: datetime) -> list[CellCoverage]:
        snap = await snapshot(services, t)
        origins = await _origins(context)
        demand = {
            code: Demand(f.mil_pixels, frozenset(f.orchestrators))
            for code, f in origins.figures(window, grouping(Level.CELL, resolution)).items()
        }
        places = positions(
            window=window,
            places=snap.places,
            registry=snap.registry,
            usage=snap.usage.keys(),
            declared=await declared_places(services.db),
            resolution=measure_from,
        )
        return cell_coverage(demand, places)

    key = ("coverage", window, resolution, measure_from)
    return await ticks_for(services).memo(tick_of(context), key, produce)


async def _totals(origins: Origins, k: int, finest: int) -> frozenset[WindowValue]:
    # Seconds of numpy on a large network, once per tick: not on the event loop.
    return await asyncio.to_thread(publishable_totals, origins, k, finest)


def _check_distance(km: float) -> float:
    if not math.isfinite(km) or not 0 <= km <= MAX_DISTANCE_KM:
        raise BadUserInput(
            f"minDistanceKm must be a number of kilometres from 0 to {MAX_DISTANCE_KM:,.0f}"
        )
    return km


@strawberry.type
class CoverageQuery:
    @precise_resolver(
        Rule.OBJECT,
        description=(
            "Demand-origin cells whose nearest known orchestrator (reporting or not) is"
            " at least `minDistanceKm` away (0 to 20,038; 0 lists every cell with"
            " demand), largest demand first; cells whose share the public view"
            " withholds come last, in cell order (at most 2,000). Demand is located only"
            " from orchestrators that export client_ip (-metricsClientIP)."
        ),
    )
    async def coverage_gaps(
        self,
        info: strawberry.Info[Context, None],
        window: Window = WindowValue.LAST_DAY,  # type: ignore[valid-type]
        min_distance_km: float = 1000.0,
    ) -> list[CoverageGap]:
        _check_distance(min_distance_km)
        context = info.context
        view = view_of(context)
        cells = await _coverage(context, window, view)
        withheld: frozenset = frozenset()
        total_hidden = False
        if view.public:
            k, finest = view.min_orchestrators, view.max_resolution
            origins = await _origins(context)
            # Solver time (api.disclosure.milp), with the located total in: off the loop.
            withheld = await asyncio.to_thread(origins.withheld, k, finest)
            totals = await ticks_for(context.services).memo(
                tick_of(context),
                ("coverage-totals", k, finest),
                lambda _: _totals(origins, k, finest),
            )
            total_hidden = window not in totals
        by = grouping(Level.CELL, _resolution(view))
        out = []
        for c in cells:
            if c.nearest_km is not None and c.nearest_km < min_distance_km:
                continue
            hidden = view.public and (total_hidden or (window, by, c.cell) in withheld)
            out.append(
                CoverageGap(
                    cell=c.cell,
                    location=Location.of_cell(c.cell),
                    window=window,
                    demand_share=c.share,
                    nearest_orchestrator_km=c.nearest_km,
                    nearest_region=c.nearest_region,
                    nearest_orchestrator_reports=c.nearest_reports,
                    precision=Precision.EXACT
                    if view.precise
                    else Precision.SUPPRESSED
                    if hidden
                    else Precision.COARSENED,
                    withheld=hidden,
                )
            )
        if view.public:
            # Order by what is published: an exact order would bound withheld shares.
            out.sort(key=lambda g: (g.withheld, -significant(g.demand_share or 0.0), g.cell))
        return out[:MAX_REGIONS]
