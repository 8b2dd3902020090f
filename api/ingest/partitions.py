"""Day partitions of ``samples``: created ahead, dropped after the raw retention.

Partition ``samples_pYYYYMMDD`` holds the UTC day YYYY-MM-DD. Days from
``today - LPM_RAW_RETENTION_DAYS`` to ``today + DAYS_AHEAD`` exist; ingest refuses
samples outside that range and creates a missing partition itself if it has to.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

import asyncpg

from api.core.leader import TRANSIENT, cancelling
from api.core.services import Services

log = logging.getLogger(__name__)

DAYS_AHEAD = 2
MAINTAIN_EVERY_SECONDS = 3600
LOCK_KEY = 0x6C706D70  # "lpmp": serialises partition DDL across processes
_DELETE_CHUNK = 10_000


def partition_name(day: date) -> str:
    return f"samples_p{day:%Y%m%d}"


def oldest_kept_day(retention_days: int, today: date | None = None) -> date:
    return (today or datetime.now(UTC).date()) - timedelta(days=retention_days)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), UTC)


async def existing_partitions(conn: asyncpg.Connection | asyncpg.Pool) -> dict[date, str]:
    rows = await conn.fetch(
        """
        SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
        WHERE i.inhparent = 'samples'::regclass
        """
    )
    found = {}
    for row in rows:
        name = row["relname"]
        try:
            found[datetime.strptime(name, "samples_p%Y%m%d").date()] = name
        except ValueError:
            log.warning("ignoring partition %s not named samples_pYYYYMMDD", name)
    return found


async def ensure_partitions(conn: asyncpg.Connection, days: Iterable[date]) -> list[str]:
    """Create the partitions of ``days`` that do not exist; return the names created."""
    created = []
    async with conn.transaction():
        # Creating a partition locks the parent: wait at most briefly for writers.
        await conn.execute("SET LOCAL lock_timeout = '10s'")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        have = await existing_partitions(conn)
        for day in sorted(set(days)):
            if day in have:
                continue
            name = partition_name(day)
            start, end = day_start(day), day_start(day + timedelta(days=1))
            await conn.execute(
                f"CREATE TABLE {name} PARTITION OF samples "
                f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )
            created.append(name)
    for name in created:
        log.info("created partition %s", name)
    return created


async def maintain(
    conn: asyncpg.Connection, retention_days: int, today: date | None = None
) -> tuple[list[str], list[str]]:
    """Create the partitions of the kept days and the days ahead, drop the ones past
    retention, and forget batches and series older than that. Returns (created, dropped)."""
    today = today or datetime.now(UTC).date()
    oldest = oldest_kept_day(retention_days, today)
    created = await ensure_partitions(
        conn, (oldest + timedelta(days=n) for n in range((today - oldest).days + DAYS_AHEAD + 1))
    )
    dropped = []
    async with conn.transaction():
        await conn.execute("SET LOCAL lock_timeout = '10s'")
        await conn.execute("SELECT pg_advisory_xact_lock($1)", LOCK_KEY)
        for day, name in sorted((await existing_partitions(conn)).items()):
            if day < oldest:
                await conn.execute(f"DROP TABLE {name}")
                dropped.append(name)
    for name in dropped:
        log.info("dropped partition %s (older than %d days)", name, retention_days)
    cutoff = day_start(oldest)
    await _delete_in_chunks(
        conn,
        """DELETE FROM ingest_batches WHERE id IN (
               SELECT id FROM ingest_batches WHERE received_at < $1 LIMIT $2)""",
        cutoff,
    )
    # Series whose newest sample went with the dropped partitions (streams that ended).
    await _delete_in_chunks(
        conn,
        """DELETE FROM series WHERE id IN (
               SELECT s.id FROM series s LEFT JOIN series_cursors c ON c.series = s.id
               WHERE s.first_seen < $1 AND coalesce(c.ts, s.first_seen) < $1 LIMIT $2)""",
        cutoff,
    )
    return created, dropped


async def _delete_in_chunks(conn: asyncpg.Connection, query: str, cutoff: datetime) -> None:
    while True:
        status = await conn.execute(query, cutoff, _DELETE_CHUNK)
        if int(status.split()[-1]) < _DELETE_CHUNK:
            return


async def partitions_worker(services: Services) -> None:
    """Every process runs this: the DDL is serialised by an advisory lock and the
    rest is idempotent, so N processes just repeat each other's no-ops."""
    while True:
        try:
            async with services.db.acquire() as conn:
                await maintain(conn, services.settings.raw_retention_days)
        except TRANSIENT as exc:
            if cancelling():
                raise
            log.warning("partition maintenance failed, retrying in a minute: %s", exc)
            await asyncio.sleep(60)
            continue
        await asyncio.sleep(MAINTAIN_EVERY_SECONDS)
