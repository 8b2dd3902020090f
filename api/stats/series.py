"""Time series for charts: one figure per fixed-size bucket.

Buckets are aligned to multiples of the step since the Unix epoch (hourly points fall
on the hour), and a point's time is the start of its bucket. Only buckets starting at
or before the tick are answered; the last one may be partial, and its figures are over
its minutes up to the tick. Hour-multiple steps read whole clean hours from the hourly
tables; other steps read minutes, for ranges of at most ``MAX_MINUTE_RANGE``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from api.geo.grouping import Grouping
from api.stats.load import Db, code_sql, dirty_hours, minute_rows
from api.stats.windows import MINUTE, split

MAX_POINTS = 1000
MAX_MINUTE_RANGE = timedelta(days=7)


class Metric(Enum):
    STREAMS = "STREAMS"
    MAX_STREAMS = "MAX_STREAMS"
    CAPACITY = "CAPACITY"
    BROADCASTERS = "BROADCASTERS"
    PIXELS_PER_SECOND = "PIXELS_PER_SECOND"
    TRANSCODED_MINUTES = "TRANSCODED_MINUTES"
    SEGMENTS = "SEGMENTS"

    @property
    def is_count(self) -> bool:
        """Counts of streams, capacity or broadcasters (not rates or volumes)."""
        return self in _COUNTS


_COUNTS = {Metric.STREAMS, Metric.MAX_STREAMS, Metric.CAPACITY, Metric.BROADCASTERS}


class SeriesError(ValueError):
    """Arguments that cannot be answered; the message is for the caller."""


@dataclass(frozen=True, slots=True)
class Point:
    time: datetime
    value: float
    # Orchestrators contributing to the point (for the public view's thresholds).
    contributors: int


@dataclass(frozen=True, slots=True)
class Request:
    metric: Metric
    by: Grouping
    code: str
    start: datetime  # first bucket
    end: datetime  # exclusive
    step: int  # seconds


def request(
    metric: Metric, by: Grouping, code: str, first: datetime, to: datetime, step: int
) -> Request:
    """Validate and align a series request; raises ``SeriesError``."""
    if step < 60 or step % 60:
        raise SeriesError("step must be a whole number of minutes, in seconds (60, 3600, ...)")
    if first.tzinfo is None or to.tzinfo is None:
        raise SeriesError("from and to need a time zone, e.g. 2024-05-01T00:00:00Z")
    if to <= first:
        raise SeriesError("to must be later than from")
    epoch = math.floor(first.timestamp() / step) * step
    start = datetime.fromtimestamp(epoch, UTC)
    points = math.ceil((to - start).total_seconds() / step)
    if points > MAX_POINTS:
        raise SeriesError(
            f"{points} points asked; at most {MAX_POINTS}: take a larger step or a shorter range"
        )
    if step % 3600 and to - start > MAX_MINUTE_RANGE:
        raise SeriesError("steps that are not whole hours are limited to ranges of 7 days")
    return Request(metric, by, code, start, to, step)


def _bucket_sql(column: str) -> str:
    return f"floor(extract(epoch FROM {column}) / $4)::bigint"


async def _location_ids(db: Db, by: Grouping, code: str) -> list[int] | None:
    """The locations of a region; None for the whole network (no filter)."""
    if by.level is None:
        return None
    rows = await db.fetch(f"SELECT id FROM locations l WHERE {code_sql(by)} = $1", code)
    return [r["id"] for r in rows]


async def points(db: Db, req: Request, tick: datetime) -> list[Point]:
    last = min(req.end - MINUTE, tick)
    if last < req.start:
        return []
    dirty = await dirty_hours(db, req.start)
    hourly = req.step % 3600 == 0
    cut = split(req.start, last, dirty if hourly else frozenset())
    hours = list(cut.hours) if hourly else []
    ranges = list(cut.minute_ranges) if hourly else [(req.start, last)]
    locations = await _location_ids(db, req.by, req.code)
    args = (
        hours,
        [r[0] for r in ranges],
        [r[1] for r in ranges],
        req.step,
        locations,
    )
    usage = await _usage(db, args)
    values: dict[int, float]
    if req.metric is Metric.MAX_STREAMS:
        values = await _peaks(db, args, req.by, req.code)
    elif req.metric is Metric.BROADCASTERS:
        values = await _broadcasters(db, args)
    else:
        values = {}
    result = []
    bucket = int(req.start.timestamp()) // req.step
    while True:
        time = datetime.fromtimestamp(bucket * req.step, UTC)
        if time >= req.end or time > tick:
            break
        minutes = (min(time + timedelta(seconds=req.step) - MINUTE, tick) - time) // MINUTE + 1
        u = usage.get(bucket)
        result.append(
            Point(
                time,
                _value(req.metric, u, values.get(bucket, 0.0), minutes),
                u.contributors(req.metric) if u else 0,
            )
        )
        bucket += 1
    return result


@dataclass(slots=True)
class _Bucket:
    sessions: float
    capacity: float
    mil_pixels: float
    segments: float
    source_seconds: float
    reporting: int
    paying: int

    def contributors(self, metric: Metric) -> int:
        return self.paying if metric is Metric.BROADCASTERS else self.reporting


def _value(metric: Metric, u: _Bucket | None, value: float, minutes: int) -> float:
    if metric is Metric.MAX_STREAMS or metric is Metric.BROADCASTERS:
        return value
    if u is None:
        return 0.0
    if metric is Metric.STREAMS:
        return u.sessions / minutes
    if metric is Metric.CAPACITY:
        return u.capacity / minutes
    if metric is Metric.PIXELS_PER_SECOND:
        return u.mil_pixels * 1e6 / (minutes * 60)
    if metric is Metric.TRANSCODED_MINUTES:
        return u.source_seconds / 60
    return u.segments


_RANGES = """
WITH h AS (SELECT unnest($1::timestamptz[]) AS hour),
     m AS (SELECT * FROM unnest($2::timestamptz[], $3::timestamptz[]) AS m(first, last))
"""


async def _usage(db: Db, args: tuple[object, ...]) -> dict[int, _Bucket]:
    rows = await db.fetch(
        _RANGES
        + f"""
        SELECT bucket, sum(sessions) AS sessions, sum(capacity) AS capacity,
               sum(mil_pixels) AS mil_pixels, sum(segments) AS segments,
               sum(source_seconds) AS source_seconds,
               count(DISTINCT orchestrator) AS reporting,
               count(DISTINCT orchestrator) FILTER (WHERE has_senders) AS paying
        FROM (
            SELECT {_bucket_sql("nh.hour")} AS bucket, nh.sessions, nh.capacity, nh.mil_pixels,
                   nh.segments, nh.source_seconds, nh.orchestrator, nh.has_senders
            FROM h JOIN stats_node_hours nh ON nh.hour = h.hour
            WHERE $5::int[] IS NULL OR nh.location_id = ANY($5)
            UNION ALL
            SELECT {_bucket_sql("nm.minute")}, coalesce(nm.sessions_avg, 0),
                   coalesce(nm.capacity, 0), nm.mil_pixels, nm.segments, nm.source_seconds,
                   n.orchestrator, nm.has_senders
            FROM {minute_rows("node_minutes", "nm")}
            JOIN nodes n ON n.id = nm.node
            WHERE $5::int[] IS NULL OR nm.location_id = ANY($5)
        ) AS parts GROUP BY bucket
        """,
        *args,
    )
    return {
        r["bucket"]: _Bucket(
            r["sessions"],
            r["capacity"],
            r["mil_pixels"],
            r["segments"],
            r["source_seconds"],
            r["reporting"],
            r["paying"],
        )
        for r in rows
    }


async def _peaks(db: Db, args: tuple[object, ...], by: Grouping, code: str) -> dict[int, float]:
    rows = await db.fetch(
        _RANGES
        + f"""
        SELECT {_bucket_sql("rh.hour")} AS bucket, max(rh.peak) AS peak
        FROM h JOIN stats_region_hours rh ON rh.level = $6 AND rh.code = $7 AND rh.hour = h.hour
        GROUP BY 1
        UNION ALL
        SELECT {_bucket_sql("minute")}, max(total) FROM (
            SELECT nm.minute, sum(coalesce(nm.sessions_avg, 0)) AS total
            FROM {minute_rows("node_minutes", "nm")}
            WHERE $5::int[] IS NULL OR nm.location_id = ANY($5)
            GROUP BY 1
        ) AS minutes GROUP BY 1
        """,
        *args,
        by.key,
        code,
    )
    out: dict[int, float] = defaultdict(float)
    for r in rows:
        out[r["bucket"]] = max(out[r["bucket"]], r["peak"])
    return out


async def _broadcasters(db: Db, args: tuple[object, ...]) -> dict[int, float]:
    rows = await db.fetch(
        _RANGES
        + f"""
        SELECT bucket, count(DISTINCT sender)::float8 AS senders FROM (
            SELECT {_bucket_sql("sh.hour")} AS bucket, sh.sender
            FROM h JOIN stats_sender_hours sh ON sh.hour = h.hour
            WHERE $5::int[] IS NULL OR sh.location_id = ANY($5)
            UNION ALL
            SELECT {_bucket_sql("s.minute")}, s.sender
            FROM {minute_rows("node_minute_senders", "s")}
            LEFT JOIN node_minutes nm ON nm.node = s.node AND nm.minute = s.minute
            WHERE $5::int[] IS NULL OR coalesce(nm.location_id, 0) = ANY($5)
        ) AS parts GROUP BY bucket
        """,
        *args,
    )
    return {r["bucket"]: r["senders"] for r in rows}
