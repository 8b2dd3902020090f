"""Reads of the synced chain data: where the sync stands and the face value redeemed
to each orchestrator over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.chain.sync import SyncState, state

Db = asyncpg.Pool | asyncpg.Connection


@dataclass(frozen=True, slots=True)
class Redeemed:
    """Winning tickets redeemed on chain to one orchestrator."""

    face_value: float  # ETH
    tickets: int


def unavailable_reason(sync: SyncState) -> str | None:
    """Why there is no chain data to use, or None when there is."""
    if sync.synced_at is not None:
        return None
    if sync.last_error:
        return f"no chain data: the subgraph sync has not succeeded yet ({sync.last_error})"
    return "no chain data: the subgraph has not been synced (LPM_SUBGRAPH_URL unset or pending)"


async def sync_state(db: Db) -> SyncState:
    return await state(db)


async def redeemed(db: Db, start: datetime, end: datetime) -> dict[str, Redeemed]:
    """Per recipient, the tickets redeemed in [start, end)."""
    rows = await db.fetch(
        """
        SELECT recipient, sum(face_value)::float8 AS face, count(*) AS n
        FROM chain_redemptions WHERE ts >= $1 AND ts < $2 GROUP BY recipient
        """,
        start,
        end,
    )
    return {r["recipient"]: Redeemed(r["face"], r["n"]) for r in rows}


async def redeemed_since(db: Db, firsts: dict[str, datetime], end: datetime) -> dict[str, Redeemed]:
    """Per orchestrator, the tickets redeemed to it from its own start to ``end``."""
    if not firsts:
        return {}
    rows = await db.fetch(
        """
        SELECT r.recipient, sum(r.face_value)::float8 AS face, count(*) AS n
        FROM unnest($1::text[], $2::timestamptz[]) AS o (address, first)
        JOIN chain_redemptions r ON r.recipient = o.address AND r.ts >= o.first AND r.ts < $3
        GROUP BY r.recipient
        """,
        list(firsts),
        list(firsts.values()),
        end,
    )
    return {r["recipient"]: Redeemed(r["face"], r["n"]) for r in rows}
