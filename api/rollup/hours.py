"""Keeping the hourly tables of migration 0004 in step with the minute rollups.

Triggers list every hour whose minute rows changed in ``stats_dirty_hours``; ``refresh``
recomputes those hours from the minute tables and takes them off the list, in the same
transaction. Readers never depend on it having run: a dirty hour is read from the
minutes (``api.stats.load``). One process refreshes at a time (advisory lock); the
others skip the pass.
"""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from api.core.leader import leading
from api.core.services import Services
from api.stats.ticks import ticks_for

log = logging.getLogger(__name__)

_LOCK_KEY = 0x6C706D68  # "lpmh"
# Hours recomputed per transaction: short transactions keep the rollup writer, whose
# triggers wait on the dirty rows being taken, from waiting long.
BATCH_HOURS = 6
# A pass also runs this often without ticks, e.g. after rollups were loaded in bulk.
IDLE_SECONDS = 30.0

_REFRESH = [
    "DELETE FROM stats_node_hours WHERE hour = ANY($1)",
    """
    INSERT INTO stats_node_hours
        (hour, node, location_id, orchestrator, minutes, sessions_minutes, sessions,
         sessions_peak, capacity_minutes, capacity, mil_pixels, segments, source_seconds,
         has_senders, has_origins)
    SELECT h.hour, nm.node, coalesce(nm.location_id, 0), n.orchestrator, count(*),
           count(nm.sessions_avg), coalesce(sum(nm.sessions_avg), 0),
           coalesce(max(nm.sessions_avg), 0), count(nm.capacity),
           coalesce(sum(nm.capacity), 0), sum(nm.mil_pixels), sum(nm.segments),
           sum(nm.source_seconds), bool_or(nm.has_senders), bool_or(nm.has_origins)
    FROM unnest($1::timestamptz[]) AS h(hour)
    JOIN node_minutes nm ON nm.minute >= h.hour AND nm.minute < h.hour + interval '1 hour'
    JOIN nodes n ON n.id = nm.node
    GROUP BY h.hour, nm.node, coalesce(nm.location_id, 0), n.orchestrator
    """,
    "DELETE FROM stats_region_hours WHERE hour = ANY($1)",
    """
    INSERT INTO stats_region_hours (level, code, hour, peak)
    SELECT p.level, p.code, p.hour, max(p.total)
    FROM (
        SELECT t.hour, t.minute, c.level, c.code, sum(t.total) AS total
        FROM (
            SELECT h.hour, nm.minute, nm.location_id, sum(coalesce(nm.sessions_avg, 0)) AS total
            FROM unnest($1::timestamptz[]) AS h(hour)
            JOIN node_minutes nm
              ON nm.minute >= h.hour AND nm.minute < h.hour + interval '1 hour'
            GROUP BY 1, 2, 3
        ) AS t
        LEFT JOIN locations l ON l.id = t.location_id
        CROSS JOIN LATERAL (
            SELECT 'GLOBAL', ''
            UNION ALL SELECT 'CONTINENT', l.continent WHERE l.continent IS NOT NULL
            UNION ALL SELECT 'COUNTRY', l.country WHERE l.country IS NOT NULL
            UNION ALL SELECT 'LIVEPEER_REGION', l.livepeer_region WHERE l.id IS NOT NULL
            UNION ALL SELECT 'CELL' || (r - 1), l.cells[r]
                      FROM generate_series(1, 16) AS r WHERE l.id IS NOT NULL
        ) AS c(level, code)
        GROUP BY 1, 2, 3, 4
    ) AS p
    GROUP BY 1, 2, 3
    """,
    "DELETE FROM stats_sender_hours WHERE hour = ANY($1)",
    """
    INSERT INTO stats_sender_hours (hour, node, location_id, sender)
    SELECT DISTINCT h.hour, s.node, coalesce(nm.location_id, 0), s.sender
    FROM unnest($1::timestamptz[]) AS h(hour)
    JOIN node_minute_senders s ON s.minute >= h.hour AND s.minute < h.hour + interval '1 hour'
    LEFT JOIN node_minutes nm ON nm.node = s.node AND nm.minute = s.minute
    """,
    "DELETE FROM stats_origin_hours WHERE hour = ANY($1)",
    """
    INSERT INTO stats_origin_hours (hour, node, country, cell, mil_pixels)
    SELECT h.hour, o.node, o.country, o.cell, sum(o.mil_pixels)
    FROM unnest($1::timestamptz[]) AS h(hour)
    JOIN node_minute_origins o ON o.minute >= h.hour AND o.minute < h.hour + interval '1 hour'
    GROUP BY 1, 2, 3, 4
    """,
]


async def refresh(db: asyncpg.Pool, *, before: datetime | None = None) -> int | None:
    """Recompute dirty hours (those starting before ``before``, default: all but the
    current hour). Returns how many were done, None if another process holds the lock."""
    async with db.acquire() as conn, leading(conn, _LOCK_KEY) as held:
        return await _refresh_locked(conn, before) if held else None


async def _refresh_locked(conn: asyncpg.Connection, before: datetime | None) -> int:
    cutoff = before or await conn.fetchval("SELECT date_trunc('hour', now(), 'UTC')")
    done = 0
    while True:
        async with conn.transaction():
            hours = [
                r["hour"]
                for r in await conn.fetch(
                    """
                    DELETE FROM stats_dirty_hours WHERE hour IN (
                        SELECT hour FROM stats_dirty_hours WHERE hour < $1
                        ORDER BY hour LIMIT $2 FOR UPDATE SKIP LOCKED)
                    RETURNING hour
                    """,
                    cutoff,
                    BATCH_HOURS,
                )
            ]
            if not hours:
                return done
            for statement in _REFRESH:
                await conn.execute(statement, hours)
        done += len(hours)


async def refresh_hours(services: Services) -> None:
    """Worker: refresh after every rollup tick, and every ``IDLE_SECONDS`` anyway."""
    ticks = ticks_for(services)
    while True:
        try:
            done = await refresh(services.db)
            if done:
                log.debug("refreshed %d hours", done)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("hourly stats refresh failed: %s", exc)
        await ticks.wait_next(IDLE_SECONDS)
