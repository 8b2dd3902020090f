"""Store one request's chunks in one transaction: all of it or nothing.

The request is recorded in ``ingest_batches`` under a keyed hash of its body; a retry
of a request already stored (its answer was lost) finds the record and stores nothing.
Chunks go in with one COPY; the batch is queued for the rollup in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from api.ingest.batch import Chunk
from api.ingest.partitions import ensure_partitions

COLUMNS = ("node", "minute", "batch", "gauges", "series", "offsets", "vals")

_RECORD_BATCH = """
WITH batch AS (
    INSERT INTO ingest_batches (orchestrator, digest, samples) VALUES ($1, $2, $3)
    ON CONFLICT (orchestrator, digest) DO NOTHING
    RETURNING id
), queued AS (
    INSERT INTO rollup_queue (batch) SELECT id FROM batch
)
SELECT id FROM batch
"""


@dataclass(frozen=True, slots=True)
class Stored:
    samples: int
    duplicate: bool
    """True when an earlier attempt of this request had stored it already."""


async def store(
    db: asyncpg.Pool,
    orchestrator: str,
    digest: bytes,
    chunks: Sequence[Chunk],
    *,
    touch_nodes: Sequence[int] = (),
) -> Stored:
    """Store ``chunks`` (ids resolved) as one batch; set ``last_seen`` of ``touch_nodes``."""
    samples = sum(len(c.offsets) for c in chunks)
    async with db.acquire() as conn:
        try:
            return await _store(conn, orchestrator, digest, chunks, samples, touch_nodes)
        except asyncpg.CheckViolationError as exc:
            if "no partition" not in str(exc):
                raise
        # A day without a partition yet (the maintenance worker creates them ahead; this
        # covers a fresh database or a worker that has not run yet).
        await ensure_partitions(
            conn, {datetime.fromtimestamp(c.minute_ms / 1000, UTC).date() for c in chunks}
        )
        return await _store(conn, orchestrator, digest, chunks, samples, touch_nodes)


async def _store(
    conn: asyncpg.Connection,
    orchestrator: str,
    digest: bytes,
    chunks: Sequence[Chunk],
    samples: int,
    touch_nodes: Sequence[int],
) -> Stored:
    async with conn.transaction():
        batch = await conn.fetchval(_RECORD_BATCH, orchestrator, digest, samples)
        if batch is None:
            earlier = await conn.fetchval(
                "SELECT samples FROM ingest_batches WHERE orchestrator = $1 AND digest = $2",
                orchestrator,
                digest,
            )
            return Stored(earlier, duplicate=True)
        await conn.copy_records_to_table(
            "samples",
            columns=COLUMNS,
            records=[
                (c.node_id(), c.minute, batch, c.gauges, c.series_ids(), c.offsets, c.values)
                for c in chunks
            ],
        )
        if touch_nodes:
            await conn.execute(
                "UPDATE nodes SET last_seen = now() WHERE id = ANY ($1::bigint[])",
                list(touch_nodes),
            )
    return Stored(samples, duplicate=False)
