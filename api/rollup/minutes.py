"""Per-node one-minute rollups from raw samples (contract: docs/architecture.md).

One leader at a time (a PostgreSQL advisory lock held on a dedicated connection) takes
batches off ``rollup_queue`` and, in the transaction that deletes them:

* gauges (sessions, capacity): recomputes every (node, minute) the batches touched
  from all raw gauge samples of that minute, so late samples simply redo the minute;
* counters: computes each new sample's increase from the previous sample of its series,
  starting from the series' cursor (``series_cursors``), and adds the
  increases to their minutes. Prometheus sends a series' samples in order, so the
  cursor is the previous sample; a sample at or before the cursor is a re-send (WAL
  replay, HA pair) whose increase is already counted, and adds nothing.

Each batch is thus rolled up exactly once, whatever the number of API processes.
After a pass the leader publishes the newest complete minute on ``<prefix>rollups``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import redis.exceptions

from api.core.leader import lead_forever
from api.core.metrics import ROLLUP_BATCHES, ROLLUP_DURATION, ROLLUP_PENDING
from api.core.services import Services
from api.ingest.allowlist import TICKET_SERIES

log = logging.getLogger(__name__)

LOCK_KEY = 0x6C706D72  # "lpmr"
INTERVAL_SECONDS = 5.0
BATCHES_PER_TRANSACTION = 200

SESSIONS = "livepeer_current_sessions_total"
CAPACITY = "livepeer_max_sessions_total"
PIXELS = "livepeer_mil_pixels_processed"

# node_minutes counter column <- series name (docs/architecture.md).
COUNTERS = {
    "mil_pixels": PIXELS,
    "segments": "livepeer_segment_transcoded_total",
    "source_seconds": "livepeer_source_segment_duration_seconds_sum",
    "tickets": "livepeer_tickets_recv",
    "ticket_value": "livepeer_ticket_value_recv",
    "winning_tickets": "livepeer_winning_tickets_recv",
    "value_redeemed": "livepeer_value_redeemed",
    "failed_segments": "livepeer_segment_transcode_failed_total",
}
# Nullable: NULL means the node does not share them.
NIC_COUNTERS = {
    "nic_rx_bytes": "node_network_receive_bytes_total",
    "nic_tx_bytes": "node_network_transmit_bytes_total",
    # Per-port counters from node_exporter's textfile collector (migration 0006).
    "port_rx_bytes": "lpm_port_receive_bytes_total",
    "port_tx_bytes": "lpm_port_transmit_bytes_total",
}
_TICKETS = ", ".join(f"'{name}'" for name in sorted(TICKET_SERIES))

_CLAIM = """
DELETE FROM rollup_queue
WHERE batch IN (SELECT batch FROM rollup_queue ORDER BY batch LIMIT $1)
RETURNING batch
"""

# The node's effective location now: declared, else its orchestrator's GeoIP location.
_LOCATED = """
JOIN nodes n ON n.id = r.node
JOIN orchestrators o ON o.address = n.orchestrator
"""
_LOCATION = "coalesce(n.declared_location_id, o.location_id)"

_GAUGES = f"""
WITH dirty AS (
    SELECT DISTINCT node, minute FROM samples WHERE batch = ANY ($1::bigint[]) AND gauges
), points AS (
    -- Every gauge sample of those minutes, each (series, timestamp) once.
    SELECT DISTINCT ON (c.node, c.minute, u.series, u.off) c.node, c.minute, u.series, u.off, u.val
    FROM dirty d
    JOIN samples c ON c.node = d.node AND c.minute = d.minute AND c.gauges
    CROSS JOIN LATERAL unnest(c.series, c.offsets, c.vals) AS u (series, off, val)
    ORDER BY c.node, c.minute, u.series, u.off, c.batch
), summed AS (
    -- Summed over the node's series at equal timestamps; stale markers carry no value.
    SELECT p.node, p.minute, s.metric, p.off, sum(p.val) AS v
    FROM points p JOIN series s ON s.id = p.series
    WHERE p.val IS NOT NULL
    GROUP BY p.node, p.minute, s.metric, p.off
), r AS (
    SELECT d.node, d.minute,
           (array_agg(v ORDER BY off DESC) FILTER (WHERE metric = '{SESSIONS}'))[1] AS last,
           avg(v) FILTER (WHERE metric = '{SESSIONS}') AS mean,
           max(v) FILTER (WHERE metric = '{SESSIONS}') AS peak,
           (array_agg(v ORDER BY off DESC) FILTER (WHERE metric = '{CAPACITY}'))[1] AS capacity
    FROM dirty d LEFT JOIN summed s ON s.node = d.node AND s.minute = d.minute
    GROUP BY d.node, d.minute
)
INSERT INTO node_minutes AS m
    (node, minute, location_id, sessions_last, sessions_avg, sessions_max, capacity)
SELECT r.node, r.minute, {_LOCATION}, r.last, r.mean, r.peak, r.capacity
FROM r {_LOCATED}
ON CONFLICT (node, minute) DO UPDATE SET
    location_id = EXCLUDED.location_id,
    sessions_last = EXCLUDED.sessions_last,
    sessions_avg = EXCLUDED.sessions_avg,
    sessions_max = EXCLUDED.sessions_max,
    capacity = EXCLUDED.capacity
"""

_INCREASES = """
CREATE TEMP TABLE rollup_inc ON COMMIT DROP AS
WITH new AS MATERIALIZED (
    SELECT u.series, c.minute + u.off * interval '1 millisecond' AS ts, u.val, c.batch
    FROM samples c
    CROSS JOIN LATERAL unnest(c.series, c.offsets, c.vals) AS u (series, off, val)
    WHERE c.batch = ANY ($1::bigint[]) AND NOT c.gauges
), cursors AS MATERIALIZED (
    SELECT series, ts AS last_ts, val AS last_value FROM series_cursors
    WHERE series IN (SELECT series FROM new)
), chained AS (
    SELECT series, ts, val, batch, false AS is_cursor FROM new
    UNION ALL
    SELECT series, last_ts, last_value, 0, true FROM cursors
), deduped AS (
    -- One sample per (series, timestamp): the first to arrive, the cursor before all.
    SELECT DISTINCT ON (series, ts) * FROM chained ORDER BY series, ts, is_cursor DESC, batch
), stepped AS (
    SELECT series, ts, val, is_cursor,
           lag(val) OVER w AS prev,
           max(ts) FILTER (WHERE is_cursor) OVER whole AS cursor_ts,
           last_value(ts) OVER whole AS final_ts,
           last_value(val) OVER whole AS final_val
    FROM deduped
    WINDOW w AS (PARTITION BY series ORDER BY ts),
           whole AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
), increases AS (
    SELECT series, date_trunc('minute', ts) AS minute,
           sum(CASE WHEN ts < cursor_ts  -- re-sent: its increase is counted already
                      OR val IS NULL OR prev IS NULL THEN 0  -- first, or a stale marker
                    WHEN val < prev THEN val -- the counter was reset
                    ELSE val - prev END) AS inc,
           min(final_ts) AS final_ts, min(final_val) AS final_val
    FROM stepped WHERE NOT is_cursor
    GROUP BY series, date_trunc('minute', ts)
)
SELECT i.series, s.node, i.minute, i.inc, i.final_ts, i.final_val,
       s.metric, s.sender, s.country, s.cell
FROM increases i JOIN series s ON s.id = i.series
"""


def _counters_statement() -> str:
    sums = [
        f"coalesce(sum(r.inc) FILTER (WHERE r.metric = '{name}'), 0) AS {col}"
        for col, name in COUNTERS.items()
    ] + [
        f"sum(r.inc) FILTER (WHERE r.metric = '{name}') AS {col}"
        for col, name in NIC_COUNTERS.items()
    ]
    updates = [f"{col} = m.{col} + EXCLUDED.{col}" for col in COUNTERS] + [
        f"{col} = CASE WHEN EXCLUDED.{col} IS NULL THEN m.{col} "
        f"ELSE coalesce(m.{col}, 0) + EXCLUDED.{col} END"
        for col in NIC_COUNTERS
    ]
    columns = [*COUNTERS, *NIC_COUNTERS]
    return f"""
INSERT INTO node_minutes AS m
    (node, minute, location_id, {", ".join(columns)}, has_senders, has_origins)
SELECT r.node, r.minute, {_LOCATION},
       {", ".join(sums)},
       coalesce(bool_or(r.metric IN ({_TICKETS}) AND r.sender IS NOT NULL), false),
       coalesce(bool_or(r.metric = '{PIXELS}' AND r.country IS NOT NULL), false)
FROM rollup_inc r {_LOCATED}
GROUP BY r.node, r.minute, n.declared_location_id, o.location_id
ON CONFLICT (node, minute) DO UPDATE SET
    location_id = EXCLUDED.location_id,
    {", ".join(updates)},
    has_senders = m.has_senders OR EXCLUDED.has_senders,
    has_origins = m.has_origins OR EXCLUDED.has_origins
"""


_COUNTERS = _counters_statement()

_SENDERS = f"""
INSERT INTO node_minute_senders (node, minute, sender)
SELECT DISTINCT node, minute, sender FROM rollup_inc
WHERE sender IS NOT NULL AND inc > 0 AND metric IN ({_TICKETS})
ON CONFLICT DO NOTHING
"""

_ORIGINS = f"""
INSERT INTO node_minute_origins AS m (node, minute, country, cell, mil_pixels)
SELECT node, minute, country, cell, sum(inc) FROM rollup_inc
WHERE metric = '{PIXELS}' AND country IS NOT NULL
GROUP BY node, minute, country, cell
HAVING sum(inc) > 0
ON CONFLICT (node, minute, country, cell) DO UPDATE
    SET mil_pixels = m.mil_pixels + EXCLUDED.mil_pixels
"""

_CURSORS = """
INSERT INTO series_cursors AS c (series, ts, val)
SELECT DISTINCT series, final_ts, final_val FROM rollup_inc
UNION ALL
SELECT * FROM (
    SELECT DISTINCT ON (u.series) u.series, s.minute + u.off * interval '1 millisecond', u.val
    FROM samples s
    CROSS JOIN LATERAL unnest(s.series, s.offsets, s.vals) AS u (series, off, val)
    WHERE s.batch = ANY ($1::bigint[]) AND s.gauges
    ORDER BY u.series, s.minute DESC, u.off DESC, s.batch DESC
) gauges
ON CONFLICT (series) DO UPDATE SET ts = EXCLUDED.ts, val = EXCLUDED.val
    WHERE EXCLUDED.ts > c.ts
"""


async def rollup_batches(conn: asyncpg.Connection, limit: int = BATCHES_PER_TRANSACTION) -> int:
    """Roll up at most ``limit`` queued batches in one transaction; return how many."""
    async with conn.transaction():
        # Plans here are estimated expensive, and JIT compiling them costs more than
        # it saves (hundreds of ms a statement); sorts of a pass fit in memory.
        await conn.execute("SET LOCAL jit = off")
        await conn.execute("SET LOCAL work_mem = '64MB'")
        await conn.execute("SET LOCAL timezone = 'UTC'")
        batches = [r["batch"] for r in await conn.fetch(_CLAIM, limit)]
        if not batches:
            return 0
        await conn.execute(_GAUGES, batches)
        await conn.execute(_INCREASES, batches)
        await conn.execute(_COUNTERS)
        await conn.execute(_SENDERS)
        await conn.execute(_ORIGINS)
        await conn.execute(_CURSORS, batches)
    return len(batches)


async def roll_up(conn: asyncpg.Connection) -> int:
    """Roll up everything queued; return the number of batches."""
    total = 0
    while True:
        start = time.perf_counter()
        done = await rollup_batches(conn)
        if not done:
            return total
        ROLLUP_DURATION.observe(time.perf_counter() - start)
        ROLLUP_BATCHES.inc(done)
        total += done


def newest_complete_minute(now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return now.replace(second=0, microsecond=0) - timedelta(minutes=1)


async def publish(services: Services, minute: datetime) -> None:
    await services.redis.publish(services.key("rollups"), minute.isoformat())


async def rollup_worker(services: Services) -> None:
    """Run by every process; the one holding the advisory lock does the work."""

    async def lead(conn: asyncpg.Connection) -> None:
        await _lead(services, conn)

    await lead_forever(services, LOCK_KEY, lead, name="rollup", retry_seconds=INTERVAL_SECONDS)


async def _lead(services: Services, conn: asyncpg.Connection) -> None:
    published: datetime | None = None
    while True:
        done = await roll_up(conn)
        ROLLUP_PENDING.set(await conn.fetchval("SELECT count(*) FROM rollup_queue"))
        minute = newest_complete_minute()
        if done or minute != published:
            try:
                await publish(services, minute)
                published = minute
            except redis.exceptions.RedisError as exc:
                log.warning("cannot publish rollup progress: %s", exc)
        await asyncio.sleep(INTERVAL_SECONDS)
