"""``deleteMyData``: remove everything an orchestrator contributed.

Gone: its nodes and, through their foreign keys (``ON DELETE CASCADE``), every
sample, series and rollup of them; the record of its write requests (``ingest_batches``,
with their place in the rollup queue); its API tokens; its sharing choices; locations
it declared that nothing else uses. Kept: the orchestrator's registry row, which is
public on-chain information, so it can sign in and contribute again."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Erased:
    nodes: int
    tokens: int


async def erase_orchestrator_data(db: asyncpg.Pool, address: str) -> Erased:
    async with db.acquire() as conn, conn.transaction():
        declared = await conn.fetch(
            "SELECT DISTINCT declared_location_id FROM nodes"
            " WHERE orchestrator = $1 AND declared_location_id IS NOT NULL",
            address,
        )
        nodes = await conn.fetchval(
            "WITH gone AS (DELETE FROM nodes WHERE orchestrator = $1 RETURNING 1)"
            " SELECT count(*) FROM gone",
            address,
        )
        tokens = await conn.fetchval(
            "WITH gone AS (DELETE FROM api_tokens WHERE orchestrator = $1 RETURNING 1)"
            " SELECT count(*) FROM gone",
            address,
        )
        await conn.execute("DELETE FROM sharing WHERE orchestrator = $1", address)
        # Counted for the transparency page; whose data it was is not kept.
        await conn.execute("INSERT INTO deletions_served DEFAULT VALUES")
        await conn.execute(
            "WITH gone AS (DELETE FROM ingest_batches WHERE orchestrator = $1 RETURNING id)"
            " DELETE FROM rollup_queue WHERE batch IN (SELECT id FROM gone)",
            address,
        )
        for row in declared:
            # Another orchestrator may have declared the very same place, or history
            # may point at it; then it stays (the savepoint keeps the rest going).
            try:
                async with conn.transaction():
                    await conn.execute(
                        "DELETE FROM locations WHERE id = $1 AND NOT EXISTS"
                        " (SELECT 1 FROM nodes WHERE declared_location_id = $1)",
                        row["declared_location_id"],
                    )
            except asyncpg.ForeignKeyViolationError:
                pass
    return Erased(nodes=nodes, tokens=tokens)
