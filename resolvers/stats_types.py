"""The statistics types: ``NetworkStats``, ``RegionStats`` and their parts.

Objects are built per request from the exact figures of the tick
(``api.stats.figures``) with what the caller's view withholds; each field's
``@precision`` rule does the rest.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import h3
import strawberry

from api.disclosure.precision import Rule, View
from api.geo.grouping import Level, fixed_centre, region_name
from api.stats.figures import Figures
from api.stats.snapshot import BROADCASTERS, CURRENT, WINDOW
from api.stats.windows import Window as WindowValue
from resolvers.chain import Estimate, VerificationCounts
from resolvers.convergence import ConvergenceCounts, convergence_counts, stats_grouping
from resolvers.fields import precise_field, precise_resolver

Window = strawberry.enum(
    WindowValue,
    name="Window",
    description=(
        "A time window ending with the newest complete minute (`asOf`): LAST_HOUR is the"
        " 60 one-minute buckets up to and including `asOf`, LAST_DAY 1,440,"
        " LAST_WEEK 10,080, LAST_30_DAYS 43,200."
    ),
)

RegionLevel = strawberry.enum(
    Level,
    name="RegionLevel",
    description=(
        "How nodes are grouped, all from the same node location: CONTINENT (EU, NA, SA,"
        " AS, AF, OC), COUNTRY (ISO 3166-1 alpha-2), LIVEPEER_REGION (the nearest of the"
        " explorer's region codes, e.g. FRA), CELL (an H3 cell; the resolution is an"
        " argument)."
    ),
)


@strawberry.enum(description="How exact the figures of an object are for this caller.")
class Precision(Enum):
    EXACT = strawberry.enum_value("EXACT", description="Exact values.")
    COARSENED = strawberry.enum_value(
        "COARSENED", description="Rounded and blurred for the public view; nothing withheld."
    )
    SUPPRESSED = strawberry.enum_value(
        "SUPPRESSED",
        description=(
            "Some or all figures are withheld (null): too few reporting orchestrators"
            " contribute to them, or they would let a withheld figure be computed from"
            " published ones."
        ),
    )


# Which figures each withheld group nulls.
_GROUP_FIELDS = {
    CURRENT: frozenset({"current_streams", "capacity"}),
    WINDOW: frozenset(
        {
            "avg_streams",
            "max_streams",
            "pixels_per_second",
            "transcoded_minutes",
            "segments",
            "convergence",
        }
    ),
    BROADCASTERS: frozenset({"broadcasters"}),
}


def withheld_fields(groups: frozenset[str]) -> frozenset[str]:
    out: frozenset[str] = frozenset()
    for group in groups:
        out |= _GROUP_FIELDS[group]
    return out


def label(view: View, groups: frozenset[str]) -> Precision:
    if view.precise:
        return Precision.EXACT
    return Precision.SUPPRESSED if groups else Precision.COARSENED


@strawberry.type(description="A position, blurred for the public view.")
class Location:
    latitude: float = precise_field(
        Rule.CELL_CENTER,
        description="Degrees north; the public view gets the centre of `cell`.",
    )
    longitude: float = precise_field(
        Rule.CELL_CENTER,
        description="Degrees east; the public view gets the centre of `cell`.",
    )
    cell: str = precise_field(
        Rule.CELL,
        description=(
            "The H3 cell holding the position: for a CELL region the region itself,"
            " otherwise resolution 15 for orchestrators and LPM_PUBLIC_H3_RES (3) for"
            " the public view."
        ),
    )

    @classmethod
    def at(cls, latitude: float, longitude: float) -> Location:
        return cls(
            latitude=latitude, longitude=longitude, cell=h3.latlng_to_cell(latitude, longitude, 15)
        )

    @classmethod
    def of_cell(cls, cell: str) -> Location:
        latitude, longitude = h3.cell_to_latlng(cell)
        return cls(latitude=latitude, longitude=longitude, cell=cell)


@strawberry.type(
    description=(
        "For each figure, how many of the reporting orchestrators could contribute to"
        " it: only nodes heard from in the last 5 minutes count for currentStreams and"
        " capacity, only orchestrators exporting `sender` labels (-metricsPerStream) for"
        " broadcasters, only those exporting `client_ip` (-metricsClientIP) for demand"
        " origins."
    )
)
class Contributors:
    current_streams: int = precise_field(
        Rule.EXACT, description="Orchestrators with a sessions sample in the last 5 minutes."
    )
    capacity: int = precise_field(
        Rule.EXACT, description="Orchestrators with a max-sessions sample in the last 5 minutes."
    )
    avg_streams: int = precise_field(
        Rule.EXACT, description="Orchestrators with sessions samples in the window."
    )
    max_streams: int = precise_field(
        Rule.EXACT, description="Orchestrators with sessions samples in the window."
    )
    pixels_per_second: int = precise_field(
        Rule.EXACT, description="Reporting orchestrators (the pixel counter is required)."
    )
    transcoded_minutes: int = precise_field(
        Rule.EXACT, description="Reporting orchestrators (the duration histogram is required)."
    )
    segments: int = precise_field(
        Rule.EXACT, description="Reporting orchestrators (the segment counter is required)."
    )
    broadcasters: int = precise_field(
        Rule.EXACT, description="Orchestrators that sent ticket counters with `sender` labels."
    )
    demand_origins: int = precise_field(
        Rule.EXACT, description="Orchestrators that sent pixel counters with `client_ip` origins."
    )


@strawberry.type(description="How much of the network a figure covers.")
class Coverage:
    reporting_orchestrators: int = precise_field(
        Rule.EXACT, description="Orchestrators with data in the window here."
    )
    known_orchestrators: int = precise_field(
        Rule.EXACT,
        description=(
            "Orchestrators active in the registry and located here, plus any reporting"
            " here that are not."
        ),
    )
    stake_share: float | None = precise_field(
        Rule.SIGNIFICANT,
        description=(
            "Stake of the reporting orchestrators over the stake of the known ones, 0 to"
            " 1; null without known stake."
        ),
    )
    contributors: Contributors = precise_field(
        Rule.OBJECT, description="Per figure, how many reporting orchestrators could contribute."
    )
    fee_share: float | None = precise_field(
        Rule.SIGNIFICANT,
        description=(
            "The reporting orchestrators' share of the on-chain fees (winning tickets"
            " redeemed) of the region's orchestrators over 30 days, 0 to 1; null without"
            " chain data."
        ),
        default=None,
    )
    withheld: strawberry.Private[bool] = False

    def withheld_field(self, name: str) -> bool:
        return self.withheld and name in ("stake_share", "fee_share")


_CURRENT_STREAMS = (
    "Streams now: the sum over the nodes heard from in the last 5 minutes of their"
    " latest sessions sample (livepeer_current_sessions_total)."
)
_AVG_STREAMS = (
    "The summed sessions of the nodes (per-minute means) averaged over every minute"
    " of the window; minutes without data count as zero."
)
_MAX_STREAMS = "The highest one-minute sum of the nodes' sessions in the window."
_CAPACITY = (
    "The latest livepeer_max_sessions_total of the nodes heard from in the last 5 minutes, summed."
)
_BROADCASTERS = (
    "Distinct broadcasters (sender addresses, kept only as keyed hashes) whose tickets"
    " increased on any node here in the window; one broadcaster paying several"
    " orchestrators counts once."
)
_PIXELS = (
    "Pixels transcoded per second: the pixel counters' increase over the window divided"
    " by its seconds."
)
_MINUTES = "Minutes of source video transcoded in the window (segment durations summed)."
_SEGMENTS = "Source segments transcoded in the window (counter increase)."
_PRECISION = "EXACT for orchestrators; COARSENED or SUPPRESSED for the public view."


@strawberry.interface(description="Figures over a set of nodes in a time window.")
class Stats:
    as_of: datetime = precise_field(
        Rule.EXACT, description="The newest complete minute the figures include."
    )
    window: Window = precise_field(Rule.EXACT, description="The window of the figures.")  # type: ignore[valid-type]
    current_streams: int | None = precise_field(Rule.COUNT_BIN, description=_CURRENT_STREAMS)
    avg_streams: float | None = precise_field(Rule.COUNT_BIN, description=_AVG_STREAMS)
    max_streams: float | None = precise_field(Rule.COUNT_BIN, description=_MAX_STREAMS)
    capacity: int | None = precise_field(Rule.COUNT_BIN, description=_CAPACITY)
    broadcasters: int | None = precise_field(Rule.COUNT_BIN, description=_BROADCASTERS)
    pixels_per_second: float | None = precise_field(Rule.SIGNIFICANT, description=_PIXELS)
    transcoded_minutes: float | None = precise_field(Rule.SIGNIFICANT, description=_MINUTES)
    segments: float | None = precise_field(Rule.SIGNIFICANT, description=_SEGMENTS)
    coverage: Coverage = precise_field(
        Rule.OBJECT, description="Reporting against known orchestrators, and stake share."
    )
    precision: Precision = precise_field(Rule.LABEL, description=_PRECISION)
    estimate: Estimate | None = precise_field(
        Rule.OBJECT,
        description="The whole region's figures, non-reporting orchestrators included (§9).",
        default=None,
    )
    withheld: strawberry.Private[frozenset[str]] = frozenset()

    def withheld_field(self, name: str) -> bool:
        return name in self.withheld

    @precise_resolver(
        Rule.OBJECT,
        description=(
            "Nodes here with byte counters, by how those counters compare with the bytes"
            " their reported work implies (docs/convergence.md); null when the window's"
            " figures are withheld."
        ),
    )
    async def convergence(self, info: strawberry.Info) -> ConvergenceCounts | None:
        if self.withheld_field("convergence"):
            return None
        level = getattr(self, "level", None)
        code = getattr(self, "code", "")
        return await convergence_counts(
            info.context.services, self.as_of, self.window, stats_grouping(level, code), code
        )


def _stats_values(f: Figures, view: View, groups: frozenset[str]) -> dict[str, object]:
    c = f.contributors
    return {
        "window": f.window,
        "current_streams": round(f.current_streams),
        "avg_streams": f.avg_streams,
        "max_streams": f.max_streams,
        "capacity": round(f.capacity),
        "broadcasters": f.broadcasters,
        "pixels_per_second": f.pixels_per_second,
        "transcoded_minutes": f.transcoded_minutes,
        "segments": f.segments,
        "coverage": Coverage(
            reporting_orchestrators=len(f.reporting),
            known_orchestrators=len(f.known),
            stake_share=f.stake_share,
            contributors=Contributors(
                current_streams=c.current_streams,
                capacity=c.capacity,
                avg_streams=c.avg_streams,
                max_streams=c.max_streams,
                pixels_per_second=c.pixels_per_second,
                transcoded_minutes=c.transcoded_minutes,
                segments=c.segments,
                broadcasters=c.broadcasters,
                demand_origins=c.demand_origins,
            ),
            withheld=WINDOW in groups,
        ),
        "precision": label(view, groups),
        "withheld": withheld_fields(groups),
    }


@strawberry.type(description="Figures of the whole network.")
class NetworkStats(Stats):
    verification: VerificationCounts | None = precise_field(
        Rule.OBJECT,
        description=(
            "Reporting orchestrators by how their reports compare with the chain;"
            " null when they could not be counted."
        ),
        default=None,
    )

    @classmethod
    def of(cls, f: Figures, as_of: datetime, view: View, groups: frozenset[str]) -> NetworkStats:
        return cls(**_stats_values(f, view, groups), as_of=as_of)  # type: ignore[arg-type]


@strawberry.type(description="Figures of one region at one level.")
class RegionStats(Stats):
    level: RegionLevel = precise_field(Rule.EXACT, description="The level of the region.")  # type: ignore[valid-type]
    code: str = precise_field(
        Rule.EXACT,
        description="Continent or country code, Livepeer region code, or H3 cell index.",
    )
    name: str = precise_field(
        Rule.EXACT, description="Continent or country name, the region's city, or the cell."
    )
    location: Location | None = precise_field(
        Rule.OBJECT,
        description=(
            "Where the region is: the Livepeer region's city, the cell's centre, or for"
            " continents and countries the mean position of the places of its"
            " orchestrators."
        ),
    )

    @classmethod
    def of(cls, f: Figures, as_of: datetime, view: View, groups: frozenset[str]) -> RegionStats:
        level = f.by.level
        assert level is not None
        centre = fixed_centre(level, f.code)
        if level is Level.CELL:
            location = Location.of_cell(f.code)
        elif centre is not None:
            location = Location.at(*centre)
        elif f.centroid is not None:
            location = Location.at(*f.centroid)
        else:
            location = None
        return cls(
            **_stats_values(f, view, groups),  # type: ignore[arg-type]
            as_of=as_of,
            level=level,
            code=f.code,
            name=region_name(level, f.code),
            location=location,
        )
