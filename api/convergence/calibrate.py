"""Calibrating each node's convergence model, and keeping calibrations fresh.

A node gets a model per source (PORT, NIC) once it has at least
``LPM_CONVERGENCE_CALIBRATION_HOURS`` of minutes with that source's counters and some
work among them; the model is refitted daily over the trailing week. The fit reads the
node's one-minute rollups (which hold counter *increases*, resets of either side
already handled by the rollup) in 10-minute buckets: long enough that a segment's
bytes and its pixel count, counted by different scrapes, fall in the same bucket.

One process at a time calibrates (a PostgreSQL advisory lock, like the rollup); the
others skip the pass. Calibrations are stored (migration 0006) so every process judges
with the same model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from api.convergence.model import Bucket, Fit, Source, Work, fit
from api.core.services import Services
from api.core.settings import Settings

log = logging.getLogger(__name__)

LOCK_KEY = 0x6C706D76  # "lpmv"; not "lpmc", which is the chain sync's
PASS_SECONDS = 600.0
REFRESH = timedelta(days=1)
HISTORY = timedelta(days=7)
BUCKET = timedelta(minutes=10)
# A node whose history could not be fitted yet is tried again after this long.
RETRY = timedelta(hours=1)

COLUMNS = {
    Source.PORT: ("port_rx_bytes", "port_tx_bytes"),
    Source.NIC: ("nic_rx_bytes", "nic_tx_bytes"),
}


def has_source(source: Source, alias: str = "") -> str:
    """SQL: the minute has both counters of ``source``."""
    rx, tx = COLUMNS[source]
    return f"{alias}{rx} IS NOT NULL AND {alias}{tx} IS NOT NULL"


# Nodes with a source's counters in the last hour whose calibration of that source is
# missing or older than REFRESH.
_DUE = f"""
WITH active AS (
    SELECT node, bool_or({has_source(Source.PORT)}) AS port,
           bool_or({has_source(Source.NIC)}) AS nic
    FROM node_minutes
    WHERE minute > $1::timestamptz - interval '1 hour' AND minute <= $1::timestamptz
      AND (port_rx_bytes IS NOT NULL OR nic_rx_bytes IS NOT NULL)
    GROUP BY node
)
SELECT a.node, s.source
FROM active a
CROSS JOIN LATERAL (VALUES ('PORT', a.port), ('NIC', a.nic)) AS s (source, present)
LEFT JOIN convergence_calibrations c ON c.node = a.node AND c.source = s.source
WHERE s.present AND (c.node IS NULL OR c.calibrated_at <= $1::timestamptz - $2::interval)
ORDER BY a.node, s.source
"""


def _history(source: Source) -> str:
    rx, tx = COLUMNS[source]
    return f"""
SELECT date_bin($4::interval, minute, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket,
       count(*) AS minutes, sum(mil_pixels) AS mil_pixels,
       sum(source_seconds) AS source_seconds, sum({rx}) AS rx, sum({tx}) AS tx,
       min(minute) AS first, max(minute) AS last
FROM node_minutes
WHERE node = $1 AND minute > $2::timestamptz - $3::interval AND minute <= $2::timestamptz
  AND {has_source(source)}
GROUP BY 1
ORDER BY 1
"""


_HISTORY = {source: _history(source) for source in Source}

_SAVE = """
INSERT INTO convergence_calibrations AS c
    (node, source, calibrated_at, data_from, data_to, minutes, rx_coef, tx_coef, fit_error)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
ON CONFLICT (node, source) DO UPDATE SET
    calibrated_at = EXCLUDED.calibrated_at, data_from = EXCLUDED.data_from,
    data_to = EXCLUDED.data_to, minutes = EXCLUDED.minutes, rx_coef = EXCLUDED.rx_coef,
    tx_coef = EXCLUDED.tx_coef, fit_error = EXCLUDED.fit_error
"""


async def calibrate_node(
    conn: asyncpg.Connection, node: int, source: Source, now: datetime, settings: Settings
) -> Fit | None:
    """Fit and store ``node``'s model of ``source`` on the week up to ``now``; None
    (nothing stored) while its history is too short or holds no work."""
    rows = await conn.fetch(_HISTORY[source], node, now, HISTORY, BUCKET)
    minutes = sum(r["minutes"] for r in rows)
    if minutes < settings.convergence_calibration_hours * 60:
        return None
    buckets = [
        Bucket(Work(r["mil_pixels"], r["source_seconds"], r["minutes"] * 60.0), r["rx"], r["tx"])
        for r in rows
    ]
    # Microseconds for a week of buckets: no need to leave the event loop.
    result = fit(buckets)
    if result is None:
        return None
    await conn.execute(
        _SAVE,
        node,
        source.value,
        now,
        rows[0]["first"],
        rows[-1]["last"],
        minutes,
        list(result.rx),
        list(result.tx),
        result.fit_error,
    )
    return result


async def calibrate_due(
    conn: asyncpg.Connection,
    settings: Settings,
    now: datetime | None = None,
    skip: dict[tuple[int, Source], datetime] | None = None,
) -> int:
    """Calibrate every node and source that is due at ``now``; return how many were
    (re)calibrated. ``skip`` remembers nodes that could not be fitted, so they are
    tried again only after RETRY."""
    now = now or datetime.now(UTC)
    skip = {} if skip is None else skip
    done = 0
    for row in await conn.fetch(_DUE, now, REFRESH):
        key = (row["node"], Source(row["source"]))
        if key in skip and now - skip[key] < RETRY:
            continue
        if await calibrate_node(conn, key[0], key[1], now, settings) is None:
            skip[key] = now
        else:
            skip.pop(key, None)
            done += 1
    return done


async def convergence_worker(services: Services) -> None:
    """Run by every process with background work; the lock holder calibrates."""
    skip: dict[tuple[int, Source], datetime] = {}
    while True:
        try:
            async with services.db.acquire() as conn:
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                    try:
                        done = await calibrate_due(conn, services.settings, skip=skip)
                        if done:
                            log.info("convergence: calibrated %d node models", done)
                    finally:
                        with contextlib.suppress(Exception):
                            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            log.warning("convergence calibration interrupted, retrying: %s", exc)
        await asyncio.sleep(PASS_SECONDS)
