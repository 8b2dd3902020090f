"""Reads of the rollups for one tick: what every window, level and region is
aggregated from in Python (``api.stats.figures``).

Everything here is keyed by *slice* (``api.stats.windows``) and location id, never by
region: the regions of every level are unions of locations, so one read serves all of
them. Whole clean hours come from the hourly tables, the rest from the minute tables
(``windows.split``); the SQL is in ``api.stats.rows``. Given a tick's ``TickPlan``
(``api.stats.hourly``), the windowed reads keep the hourly half between ticks and read
only the minutes and new hours; given a plain ``Plan``, they read everything.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import asyncpg

from api.geo.grouping import Grouping, Place
from api.stats import hourly
from api.stats import rows as sql
from api.stats.hourly import TickPlan
from api.stats.rows import Db, Plan, Usage, code_sql, minute_rows, plan
from api.stats.windows import MINUTE, WINDOWS, slices

__all__ = ["Db", "Plan", "TickPlan", "Usage", "code_sql", "minute_rows", "plan"]

T = TypeVar("T")


@contextlib.asynccontextmanager
async def reading(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a read-only transaction for the statistics queries.

    JIT is off: these queries aggregate ~10^5 rows in milliseconds, and PostgreSQL's
    cost estimate of them routinely crosses jit_above_cost, where compiling takes
    longer than the query itself (measured: 250 ms of JIT for an 80 ms query)."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute("SET LOCAL jit = off")
        yield conn


async def read(pool: asyncpg.Pool, query: Callable[..., Awaitable[T]], *args: Any) -> T:
    """``await query(conn, *args)`` on a ``reading`` connection."""
    async with reading(pool) as conn:
        return await query(conn, *args)


# Nodes heard from within this many minutes (tick included) are "current".
CURRENT_MINUTES = 5


async def dirty_hours(db: Db, since: datetime) -> frozenset[datetime]:
    rows = await db.fetch("SELECT hour FROM stats_dirty_hours WHERE hour >= $1", since)
    return frozenset(r["hour"] for r in rows)


async def places(db: Db) -> dict[int, Place]:
    rows = await db.fetch(
        "SELECT id, latitude, longitude, country, continent, livepeer_region, cells FROM locations"
    )
    return {
        r["id"]: Place(
            r["id"],
            r["latitude"],
            r["longitude"],
            r["country"],
            r["continent"],
            r["livepeer_region"],
            tuple(r["cells"]),
        )
        for r in rows
    }


async def usage(db: Db, p: Plan) -> dict[tuple[int, int, str], Usage]:
    """Figures per (slice, location, orchestrator)."""
    if isinstance(p, TickPlan):
        return await p.cache.read(db, "usage", sql.usage_rows, hourly.USAGE, p)
    return await sql.usage_rows(db, p)


async def senders(db: Db, p: Plan) -> dict[tuple[int, int], frozenset[bytes]]:
    """Distinct broadcaster hashes per (slice, location)."""
    if isinstance(p, TickPlan):
        return await p.cache.read(db, "senders", sql.sender_rows, hourly.SETS, p)
    return await sql.sender_rows(db, p)


async def peaks(db: Db, p: Plan, by: Grouping) -> dict[tuple[int, str], float]:
    """Per (slice, region code): the highest one-minute sum of the region's sessions."""
    if isinstance(p, TickPlan):
        return await p.cache.read(db, ("peaks", by.key), sql.peak_rows, hourly.MAXIMA, p, by)
    return await sql.peak_rows(db, p, by)


async def origins(db: Db, p: Plan) -> dict[tuple[int, str, str, str], float]:
    """Pixels (millions) per (slice, origin country, origin cell, orchestrator)."""
    if isinstance(p, TickPlan):
        return await p.cache.read(db, "origins", sql.origin_rows, hourly.SUMS, p)
    return await sql.origin_rows(db, p)


@dataclass(frozen=True, slots=True)
class NodeNow:
    """A node heard from in the last ``CURRENT_MINUTES`` minutes."""

    node: int
    orchestrator: str
    location: int
    last_minute: datetime
    sessions: float | None  # latest sessions sample
    capacity: float | None  # latest max-sessions sample


async def current(db: Db, tick: datetime) -> list[NodeNow]:
    rows = await db.fetch(
        """
        SELECT nm.node, n.orchestrator,
               (array_agg(coalesce(nm.location_id, 0) ORDER BY nm.minute DESC))[1] AS location,
               max(nm.minute) AS last_minute,
               (array_agg(nm.sessions_last ORDER BY nm.minute DESC)
                    FILTER (WHERE nm.sessions_last IS NOT NULL))[1] AS sessions,
               (array_agg(nm.capacity ORDER BY nm.minute DESC)
                    FILTER (WHERE nm.capacity IS NOT NULL))[1] AS capacity
        FROM node_minutes nm JOIN nodes n ON n.id = nm.node
        WHERE nm.minute BETWEEN $1 AND $2
        GROUP BY nm.node, n.orchestrator
        """,
        tick - (CURRENT_MINUTES - 1) * MINUTE,
        tick,
    )
    return [
        NodeNow(
            r["node"],
            r["orchestrator"],
            r["location"],
            r["last_minute"],
            r["sessions"],
            r["capacity"],
        )
        for r in rows
    ]


@dataclass(frozen=True, slots=True)
class Registered:
    address: str
    active: bool
    stake: float
    location: int


async def registry(db: Db) -> dict[str, Registered]:
    rows = await db.fetch(
        "SELECT address, active, total_stake::float8 AS stake, coalesce(location_id, 0) AS loc"
        " FROM orchestrators"
    )
    return {r["address"]: Registered(r["address"], r["active"], r["stake"], r["loc"]) for r in rows}


@dataclass(slots=True)
class NodeUsage:
    """One node's figures per slice, for per-node views."""

    name: str
    location: int  # where its latest minute up to the tick placed it
    last_minute: datetime | None
    usage: dict[int, Usage] = field(default_factory=dict)
    peak: dict[int, float] = field(default_factory=dict)
    senders: dict[int, frozenset[bytes]] = field(default_factory=dict)


async def node_usage(db: Db, p: Plan, orchestrator: str, tick: datetime) -> dict[int, NodeUsage]:
    """Per node of ``orchestrator``: figures, peak sessions and broadcasters per slice."""
    usage_rows: dict[tuple[int, int], tuple[Usage, float]]
    sender_rows: dict[tuple[int, int], frozenset[bytes]]
    if isinstance(p, TickPlan):
        usage_rows = await p.cache.read(
            db,
            ("node_usage", orchestrator),
            sql.node_usage_rows,
            hourly.NODE_USAGE,
            p,
            orchestrator,
        )
        sender_rows = await p.cache.read(
            db,
            ("node_senders", orchestrator),
            sql.node_sender_rows,
            hourly.SETS,
            p,
            orchestrator,
        )
    else:
        usage_rows = await sql.node_usage_rows(db, p, orchestrator)
        sender_rows = await sql.node_sender_rows(db, p, orchestrator)
    node_rows = await db.fetch(
        """
        SELECT n.id, n.name, coalesce(latest.location_id, 0) AS location, latest.minute
        FROM nodes n
        LEFT JOIN LATERAL (
            SELECT nm.location_id, nm.minute FROM node_minutes nm
            WHERE nm.node = n.id AND nm.minute <= $2
            ORDER BY nm.minute DESC LIMIT 1
        ) AS latest ON true
        WHERE n.orchestrator = $1
        """,
        orchestrator,
        tick,
    )
    nodes = {r["id"]: NodeUsage(r["name"], r["location"], r["minute"]) for r in node_rows}
    for (slice_, node), (part, peak) in usage_rows.items():
        if node in nodes:
            nodes[node].usage[slice_] = part
            nodes[node].peak[slice_] = peak
    for (slice_, node), senders_ in sender_rows.items():
        if node in nodes:
            nodes[node].senders[slice_] = senders_
    return nodes


def window_plan(tick: datetime, dirty: frozenset[datetime]) -> Plan:
    return plan(slices(tick), dirty)


def earliest(tick: datetime) -> datetime:
    """The first minute any window at ``tick`` reads."""
    return WINDOWS[-1].start(tick)
