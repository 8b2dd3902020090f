"""The SQL of the windowed reads: rollups summed per *slice* (``api.stats.windows``) or
per *piece* of hours (``api.stats.hourly``), and location, never per region.

A ``Plan`` lists hours to read from the hourly tables and minute ranges to read from the
minute tables, each with an id (a slice index, or a piece id); every function here
reads both halves in one statement, so they are one snapshot, and keys what it returns
by that id first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.geo.grouping import Grouping, Level
from api.stats.windows import Slice, split

Db = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True, slots=True)
class Plan:
    """Which hours and minute ranges each slice reads, as parallel arrays for unnest."""

    hour_slices: list[int]
    hours: list[datetime]
    range_slices: list[int]
    firsts: list[datetime]
    lasts: list[datetime]


def plan(parts: tuple[Slice, ...], dirty: frozenset[datetime]) -> Plan:
    p = Plan([], [], [], [], [])
    for s in parts:
        cut = split(s.first, s.last, dirty)
        for hour in cut.hours:
            p.hour_slices.append(s.index)
            p.hours.append(hour)
        for first, last in cut.minute_ranges:
            p.range_slices.append(s.index)
            p.firsts.append(first)
            p.lasts.append(last)
    return p


@dataclass(slots=True)
class Usage:
    """Additive figures of one (slice, location, orchestrator) or (slice, node)."""

    minutes: int = 0
    sessions_minutes: int = 0
    sessions: float = 0.0
    capacity_minutes: int = 0
    capacity: float = 0.0
    mil_pixels: float = 0.0
    segments: float = 0.0
    source_seconds: float = 0.0
    has_senders: bool = False
    has_origins: bool = False

    def add(self, other: Usage) -> None:
        self.minutes += other.minutes
        self.sessions_minutes += other.sessions_minutes
        self.sessions += other.sessions
        self.capacity_minutes += other.capacity_minutes
        self.capacity += other.capacity
        self.mil_pixels += other.mil_pixels
        self.segments += other.segments
        self.source_seconds += other.source_seconds
        self.has_senders = self.has_senders or other.has_senders
        self.has_origins = self.has_origins or other.has_origins

    def copy(self) -> Usage:
        return Usage(
            self.minutes,
            self.sessions_minutes,
            self.sessions,
            self.capacity_minutes,
            self.capacity,
            self.mil_pixels,
            self.segments,
            self.source_seconds,
            self.has_senders,
            self.has_origins,
        )

    def plus(self, other: Usage) -> Usage:
        out = self.copy()
        out.add(other)
        return out


_PARAMS = """
WITH h AS (SELECT * FROM unnest($1::int[], $2::timestamptz[]) AS h(slice, hour)),
     m AS (SELECT * FROM unnest($3::int[], $4::timestamptz[], $5::timestamptz[])
                          AS m(slice, first, last))
"""


def minute_rows(table: str, alias: str) -> str:
    """SQL after ``FROM``: the rows of the minute table ``table`` (as ``alias``) in each
    minute range of the ``m`` parameter table.

    OFFSET 0 keeps PostgreSQL from flattening the lateral subquery into the join, so
    each range stays one index range scan on ``minute``."""
    return (
        "m CROSS JOIN LATERAL ("
        f"SELECT * FROM {table} WHERE minute BETWEEN m.first AND m.last OFFSET 0) AS {alias}"
    )


_USAGE_COLUMNS = """
    sum(minutes)::int AS minutes, sum(sessions_minutes)::int AS sessions_minutes,
    sum(sessions) AS sessions, sum(capacity_minutes)::int AS capacity_minutes,
    sum(capacity) AS capacity, sum(mil_pixels) AS mil_pixels, sum(segments) AS segments,
    sum(source_seconds) AS source_seconds, bool_or(has_senders) AS has_senders,
    bool_or(has_origins) AS has_origins
"""

_USAGE_PARTS = f"""
    SELECT h.slice, nh.node, nh.location_id, nh.orchestrator, nh.minutes,
           nh.sessions_minutes, nh.sessions, nh.sessions_peak, nh.capacity_minutes,
           nh.capacity, nh.mil_pixels, nh.segments, nh.source_seconds, nh.has_senders,
           nh.has_origins
    FROM h JOIN stats_node_hours nh ON nh.hour = h.hour
    WHERE {{hour_filter}}
    UNION ALL
    SELECT m.slice, nm.node, coalesce(nm.location_id, 0), n.orchestrator, 1,
           (nm.sessions_avg IS NOT NULL)::int, coalesce(nm.sessions_avg, 0),
           coalesce(nm.sessions_avg, 0), (nm.capacity IS NOT NULL)::int,
           coalesce(nm.capacity, 0), nm.mil_pixels, nm.segments, nm.source_seconds,
           nm.has_senders, nm.has_origins
    FROM {minute_rows("node_minutes", "nm")}
    JOIN nodes n ON n.id = nm.node
    WHERE {{minute_filter}}
"""


def _usage(row: asyncpg.Record) -> Usage:
    return Usage(
        row["minutes"],
        row["sessions_minutes"],
        row["sessions"],
        row["capacity_minutes"],
        row["capacity"],
        row["mil_pixels"],
        row["segments"],
        row["source_seconds"],
        row["has_senders"],
        row["has_origins"],
    )


def _args(p: Plan) -> tuple[object, ...]:
    return (p.hour_slices, p.hours, p.range_slices, p.firsts, p.lasts)


async def usage_rows(db: Db, p: Plan) -> dict[tuple[int, int, str], Usage]:
    """Figures per (slice, location, orchestrator)."""
    sql = (
        _PARAMS
        + f"SELECT slice, location_id, orchestrator, {_USAGE_COLUMNS} FROM ("
        + _USAGE_PARTS.format(hour_filter="true", minute_filter="true")
        + ") AS parts GROUP BY 1, 2, 3"
    )
    rows = await db.fetch(sql, *_args(p))
    return {(r["slice"], r["location_id"], r["orchestrator"]): _usage(r) for r in rows}


async def sender_rows(db: Db, p: Plan) -> dict[tuple[int, int], frozenset[bytes]]:
    """Distinct broadcaster hashes per (slice, location)."""
    rows = await db.fetch(
        _PARAMS
        + f"""
        SELECT slice, location_id, array_agg(DISTINCT sender) AS senders FROM (
            SELECT h.slice, sh.location_id, sh.sender
            FROM h JOIN stats_sender_hours sh ON sh.hour = h.hour
            UNION ALL
            SELECT m.slice, coalesce(nm.location_id, 0), s.sender
            FROM {minute_rows("node_minute_senders", "s")}
            LEFT JOIN node_minutes nm ON nm.node = s.node AND nm.minute = s.minute
        ) AS parts GROUP BY 1, 2
        """,
        *_args(p),
    )
    return {(r["slice"], r["location_id"]): frozenset(r["senders"]) for r in rows}


def code_sql(by: Grouping) -> str:
    """SQL for the region code of locations row ``l`` (trusted input: an enum)."""
    if by.level is None:
        return "''"
    if by.level is Level.CONTINENT:
        return "l.continent"
    if by.level is Level.COUNTRY:
        return "l.country"
    if by.level is Level.LIVEPEER_REGION:
        return "l.livepeer_region"
    return f"l.cells[{int(by.resolution) + 1}]"  # type: ignore[arg-type]


async def peak_rows(db: Db, p: Plan, by: Grouping) -> dict[tuple[int, str], float]:
    """Per (slice, region code): the highest one-minute sum of the region's sessions."""
    code = code_sql(by)
    rows = await db.fetch(
        _PARAMS
        + f"""
        SELECT h.slice, rh.code, max(rh.peak) AS peak
        FROM h JOIN stats_region_hours rh ON rh.level = $6 AND rh.hour = h.hour
        GROUP BY 1, 2
        UNION ALL
        SELECT slice, code, max(total) FROM (
            SELECT m.slice, nm.minute, {code} AS code, sum(coalesce(nm.sessions_avg, 0)) AS total
            FROM {minute_rows("node_minutes", "nm")}
            LEFT JOIN locations l ON l.id = nm.location_id
            WHERE {code} IS NOT NULL
            GROUP BY 1, 2, 3
        ) AS minutes GROUP BY 1, 2
        """,
        *_args(p),
        by.key,
    )
    result: dict[tuple[int, str], float] = {}
    for r in rows:
        key = (r["slice"], r["code"])
        result[key] = max(result.get(key, 0.0), r["peak"])
    return result


async def origin_rows(db: Db, p: Plan) -> dict[tuple[int, str, str, str], float]:
    """Pixels (millions) per (slice, origin country, origin cell, orchestrator)."""
    rows = await db.fetch(
        _PARAMS
        + f"""
        SELECT slice, country, cell, orchestrator, sum(mil_pixels) AS mil_pixels FROM (
            SELECT h.slice, oh.country, oh.cell, n.orchestrator, oh.mil_pixels
            FROM h JOIN stats_origin_hours oh ON oh.hour = h.hour
            JOIN nodes n ON n.id = oh.node
            UNION ALL
            SELECT m.slice, o.country, o.cell, n.orchestrator, o.mil_pixels
            FROM {minute_rows("node_minute_origins", "o")}
            JOIN nodes n ON n.id = o.node
        ) AS parts GROUP BY 1, 2, 3, 4
        """,
        *_args(p),
    )
    return {(r["slice"], r["country"], r["cell"], r["orchestrator"]): r["mil_pixels"] for r in rows}


async def node_usage_rows(
    db: Db, p: Plan, orchestrator: str
) -> dict[tuple[int, int], tuple[Usage, float]]:
    """Per (slice, node) of ``orchestrator``: figures and peak sessions."""
    filters = {"hour_filter": "nh.orchestrator = $6", "minute_filter": "n.orchestrator = $6"}
    rows = await db.fetch(
        _PARAMS
        + f"SELECT slice, node, {_USAGE_COLUMNS}, max(sessions_peak) AS peak FROM ("
        + _USAGE_PARTS.format(**filters)
        + ") AS parts GROUP BY 1, 2",
        *_args(p),
        orchestrator,
    )
    return {(r["slice"], r["node"]): (_usage(r), r["peak"]) for r in rows}


async def node_sender_rows(
    db: Db, p: Plan, orchestrator: str
) -> dict[tuple[int, int], frozenset[bytes]]:
    """Per (slice, node) of ``orchestrator``: distinct broadcaster hashes."""
    rows = await db.fetch(
        _PARAMS
        + f"""
        SELECT slice, node, array_agg(DISTINCT sender) AS senders FROM (
            SELECT h.slice, sh.node, sh.sender
            FROM h JOIN stats_sender_hours sh ON sh.hour = h.hour
            JOIN nodes n ON n.id = sh.node WHERE n.orchestrator = $6
            UNION ALL
            SELECT m.slice, s.node, s.sender
            FROM {minute_rows("node_minute_senders", "s")}
            JOIN nodes n ON n.id = s.node WHERE n.orchestrator = $6
        ) AS parts GROUP BY 1, 2
        """,
        *_args(p),
        orchestrator,
    )
    return {(r["slice"], r["node"]): frozenset(r["senders"]) for r in rows}
