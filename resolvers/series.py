"""Root field ``series``: one figure over time, for charts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import h3
import strawberry

from api.core.errors import BadUserInput
from api.disclosure.precision import Rule, View, public_step
from api.geo.grouping import NETWORK, Grouping, Level, grouping, valid_code
from api.stats import series as stats_series
from api.stats import series_disclosure
from api.stats.load import read
from api.stats.ticks import ticks_for
from resolvers.context import Context
from resolvers.fields import precise_field, precise_resolver
from resolvers.stats_types import Precision, RegionLevel
from resolvers.view import tick_of, view_of

SeriesMetric = strawberry.enum(
    stats_series.Metric,
    name="SeriesMetric",
    description=(
        "What a series shows per bucket: STREAMS (summed sessions averaged over the"
        " bucket's minutes), MAX_STREAMS (highest one-minute sum), CAPACITY (summed"
        " max sessions averaged over the minutes), BROADCASTERS (distinct senders),"
        " PIXELS_PER_SECOND, TRANSCODED_MINUTES, SEGMENTS."
    ),
)


@strawberry.type(description="One bucket of a series.")
class Point:
    time: datetime = precise_field(Rule.EXACT, description="Start of the bucket.")
    value: float | None = precise_field(
        Rule.BY_METRIC,
        description="The metric over the bucket (up to `asOf` for the last one).",
    )
    precision: Precision = precise_field(Rule.LABEL, description="EXACT, COARSENED or SUPPRESSED.")
    is_count: strawberry.Private[bool] = True
    withheld: strawberry.Private[bool] = False

    def withheld_field(self, name: str) -> bool:
        return self.withheld and name == "value"


def _target(level: Level | None, code: str | None, view: View) -> tuple[Grouping, str]:
    if level is None and code is None:
        return NETWORK, ""
    if level is None or code is None:
        raise BadUserInput("give both level and code for a region, or neither for the network")
    canonical = valid_code(level, code)
    if canonical is None:
        raise BadUserInput(f"{code!r} is not a {level.value} code")
    if level is not Level.CELL:
        return grouping(level), canonical
    resolution = h3.get_resolution(canonical)
    if view.public and resolution > view.max_resolution:
        raise BadUserInput(
            f"the public view has cells of resolution {view.max_resolution} or coarser;"
            f" {canonical} is resolution {resolution} (sign in for finer)"
        )
    return grouping(level, resolution), canonical


@strawberry.type
class SeriesQuery:
    @precise_resolver(
        Rule.OBJECT,
        description=(
            "A metric of the network (no level and code) or of one region, in buckets of"
            " `step` seconds (a whole number of minutes) aligned to multiples of the step"
            " since 1970, from the bucket holding `from` up to `to` (excluded) or `asOf`."
            " At most 1,000 points; steps that are not whole hours cover at most 7 days."
            " The public view gets steps of whole hours, at least one (a smaller step is"
            " rounded up), and withholds a point (value null, precision SUPPRESSED) when"
            " 1 to k-1 orchestrators contribute to it, when it could be computed from"
            " other regions' points of the same bucket (a parent minus its shown"
            " children), or, for steps over one hour, when the region's point of any hour"
            " inside the bucket is withheld (a day minus 23 of its hours)."
        ),
    )
    async def series(
        self,
        info: strawberry.Info[Context, None],
        metric: SeriesMetric,  # type: ignore[valid-type]
        level: RegionLevel | None = None,  # type: ignore[valid-type]
        code: str | None = None,
        *,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        step: Annotated[int, strawberry.argument(description="Seconds per point.")],
    ) -> list[Point]:
        context = info.context
        view = view_of(context)
        by, region = _target(level, code, view)
        if view.public:
            step = public_step(step)
        try:
            req = stats_series.request(metric, by, region, from_, to, step)
        except stats_series.SeriesError as exc:
            raise BadUserInput(str(exc)) from None
        tick = tick_of(context)
        services = context.services
        found = await ticks_for(services).memo(
            tick, ("series", req), lambda t: read(services.db, stats_series.points, req, t)
        )
        k = view.min_orchestrators
        # What differencing would reveal (the parent's point minus its shown children's,
        # a day's minus its shown hours');
        # BROADCASTERS need primary suppression only (``api.stats.series_disclosure``).
        protected: dict[datetime, frozenset[tuple[Grouping, str]]] = {}
        if view.public and metric is not stats_series.Metric.BROADCASTERS:
            protected = await series_disclosure.withheld(
                services, tick, req, k, view.max_resolution
            )
        out = []
        for p in found:
            withheld = view.public and (
                0 < p.contributors < k or (by, region) in protected.get(p.time, ())
            )
            precision = (
                Precision.EXACT
                if view.precise
                else Precision.SUPPRESSED
                if withheld
                else Precision.COARSENED
            )
            out.append(
                Point(
                    time=p.time,
                    value=p.value,
                    precision=precision,
                    is_count=metric.is_count,
                    withheld=withheld,
                )
            )
        return out
