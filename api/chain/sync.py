"""The incremental sync of winning-ticket redemptions into ``chain_redemptions``.

Resumable and idempotent: each page is stored with the cursor it advances to in one
transaction, and rows are keyed by the subgraph's event id, so a sync cut off
mid-page (subgraph gone, process killed) resumes from its last stored page and a page
fetched twice stores nothing twice. Bounded: a first sync starts ``HISTORY`` back
(the estimates read 30 days), and one run fetches at most ``max_pages`` pages.

The worker runs every ``LPM_SUBGRAPH_SYNC_SECONDS`` in the process holding the
advisory lock, and also refreshes the registry (``transcoders``). A failure is
recorded (``chain_sync``, ``/metrics``) and retried at the next interval; nothing
else waits for it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from api.chain.subgraph import Redemption, SubgraphClient, SubgraphError
from api.core.metrics import CHAIN_REDEMPTIONS, CHAIN_SYNC_FAILURES, CHAIN_SYNC_LAG
from api.core.services import Services
from api.ingest.labels import sender_hash
from api.registry.subgraph import RegistryError, apply, fetch_subgraph

log = logging.getLogger(__name__)

ENTITY = "redemptions"
LOCK_KEY = 0x6C706D63  # "lpmc"
HISTORY = timedelta(days=35)
MAX_PAGES = 2000
TIMEOUT_SECONDS = 30


@dataclass(frozen=True, slots=True)
class SyncResult:
    fetched: int
    stored: int
    pages: int
    reached_head: bool


@dataclass(frozen=True, slots=True)
class SyncState:
    cursor_ts: datetime | None
    cursor_id: str
    synced_at: datetime | None
    attempted_at: datetime | None
    failures: int
    last_error: str | None


async def state(db: asyncpg.Pool | asyncpg.Connection) -> SyncState:
    row = await db.fetchrow("SELECT * FROM chain_sync WHERE entity = $1", ENTITY)
    if row is None:
        return SyncState(None, "", None, None, 0, None)
    return SyncState(
        row["cursor_ts"],
        row["cursor_id"],
        row["synced_at"],
        row["attempted_at"],
        row["failures"],
        row["last_error"],
    )


async def _store(
    pool: asyncpg.Pool, secret: bytes, page: list[Redemption], cursor: tuple[int, str]
) -> int:
    ts, after = cursor
    async with pool.acquire() as conn, conn.transaction():
        stored = 0
        if page:
            result = await conn.fetch(
                """
                INSERT INTO chain_redemptions (id, ts, recipient, sender, face_value, win_prob)
                SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bytea[],
                                     $5::numeric[], $6::float8[])
                ON CONFLICT (id) DO NOTHING
                RETURNING id
                """,
                [r.id for r in page],
                [r.at for r in page],
                [r.recipient for r in page],
                [sender_hash(secret, r.sender) for r in page],
                [r.face_value for r in page],
                [r.win_prob for r in page],
            )
            stored = len(result)
        await conn.execute(
            """
            INSERT INTO chain_sync (entity, cursor_ts, cursor_id) VALUES ($1, $2, $3)
            ON CONFLICT (entity) DO UPDATE SET cursor_ts = $2, cursor_id = $3
            """,
            ENTITY,
            datetime.fromtimestamp(ts, UTC),
            after,
        )
    return stored


async def sync_redemptions(
    pool: asyncpg.Pool,
    subgraph: SubgraphClient,
    secret: bytes,
    *,
    now: datetime | None = None,
    max_pages: int = MAX_PAGES,
) -> SyncResult:
    """Fetch and store redemptions after the stored cursor, up to the subgraph's head
    or ``max_pages`` pages. Raises ``SubgraphError``; what was stored stays stored."""
    now = now or datetime.now(UTC)
    current = await state(pool)
    if current.cursor_ts is None:
        ts, after = int((now - HISTORY).timestamp()), ""
    else:
        ts, after = int(current.cursor_ts.timestamp()), current.cursor_id
    fetched = stored = pages = 0
    # Events of the cursor's timestamp may have come after it (several blocks share a
    # second on Arbitrum), so every run first drains that timestamp.
    draining = True
    while pages < max_pages:
        pages += 1
        if draining:
            page = await subgraph.drain(ts, after)
            after = page[-1].id if page else after
            draining = len(page) == subgraph.page_size
        else:
            page = await subgraph.advance(ts)
            if not page:
                await _mark_synced(pool, now)
                CHAIN_REDEMPTIONS.inc(fetched)
                return SyncResult(fetched, stored, pages, True)
            # Events before the page's last timestamp are complete; that one may
            # continue beyond a full page, so it is then drained by id from the start.
            ts = page[-1].timestamp
            draining = len(page) == subgraph.page_size
            after = "" if draining else max(r.id for r in page if r.timestamp == ts)
        fetched += len(page)
        stored += await _store(pool, secret, page, (ts, after))
    CHAIN_REDEMPTIONS.inc(fetched)
    return SyncResult(fetched, stored, pages, False)


async def _mark_synced(pool: asyncpg.Pool, now: datetime) -> None:
    await pool.execute(
        """
        INSERT INTO chain_sync (entity, synced_at, attempted_at, failures, last_error)
        VALUES ($1, $2, $2, 0, NULL)
        ON CONFLICT (entity) DO UPDATE
            SET synced_at = $2, attempted_at = $2, failures = 0, last_error = NULL
        """,
        ENTITY,
        now,
    )


async def record_failure(pool: asyncpg.Pool, error: str, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    await pool.execute(
        """
        INSERT INTO chain_sync (entity, attempted_at, failures, last_error)
        VALUES ($1, $2, 1, $3)
        ON CONFLICT (entity) DO UPDATE SET attempted_at = $2,
            failures = chain_sync.failures + 1, last_error = $3
        """,
        ENTITY,
        now,
        error[:500],
    )


async def sync_once(services: Services, url: str) -> SyncResult:
    """One sync of the registry and the redemptions from ``url``; failures recorded."""
    async with httpx.AsyncClient(timeout=TIMEOUT_SECONDS) as http:
        try:
            transcoders = await fetch_subgraph(url, client=http)
            await apply(services.db, transcoders, services.geolocator)
            result = await sync_redemptions(services.db, SubgraphClient(url, http), services.secret)
        except (SubgraphError, RegistryError) as exc:
            CHAIN_SYNC_FAILURES.inc()
            # The URL may carry The Graph's gateway key: keep it out of logs and rows.
            message = str(exc).replace(url, SubgraphClient(url, http).where)
            await record_failure(services.db, message)
            raise SubgraphError(message) from None
    await export_lag(services.db)
    return result


async def export_lag(db: asyncpg.Pool) -> None:
    synced = (await state(db)).synced_at
    if synced is not None:
        CHAIN_SYNC_LAG.set((datetime.now(UTC) - synced).total_seconds())


async def chain_worker(services: Services) -> None:
    """Every process runs it; the one holding the advisory lock syncs."""
    url = services.settings.subgraph_url
    if not url:
        return
    interval = services.settings.subgraph_sync_seconds
    while True:
        try:
            async with services.db.acquire() as conn:
                if await conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY):
                    try:
                        await sync_once(services, url)
                    except (SubgraphError, RegistryError) as exc:
                        log.warning("chain sync failed, retrying in %d s: %s", interval, exc)
                    finally:
                        with contextlib.suppress(Exception):
                            await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)
                await export_lag(services.db)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            log.warning("chain sync interrupted, retrying: %s", exc)
        await asyncio.sleep(interval)
