"""Which optional metrics each orchestrator chose to share (table ``sharing``)."""

from __future__ import annotations

from collections.abc import Iterable

import asyncpg

from api.ingest.allowlist import check_optional


class NotRegistered(LookupError):
    """The address is not an orchestrator of the registry."""


async def shared_metrics(
    conn: asyncpg.Connection | asyncpg.Pool, orchestrator: str
) -> frozenset[str]:
    """The optional metric families ``orchestrator`` shares (empty when never set)."""
    value = await conn.fetchval(
        "SELECT optional_metrics FROM sharing WHERE orchestrator = $1", orchestrator
    )
    return frozenset(value or ())


async def set_shared_metrics(
    conn: asyncpg.Connection | asyncpg.Pool, orchestrator: str, metrics: Iterable[str]
) -> tuple[str, ...]:
    """Share exactly ``metrics`` (optional families) from now on; return them sorted.

    Raises ``allowlist.UnknownMetric`` for a name that is not optional and
    ``NotRegistered`` for an address outside the registry."""
    chosen = check_optional(metrics)
    stored = await conn.fetchval(
        """
        INSERT INTO sharing (orchestrator, optional_metrics)
        SELECT address, $2 FROM orchestrators WHERE address = $1
        ON CONFLICT (orchestrator) DO UPDATE
            SET optional_metrics = EXCLUDED.optional_metrics, updated_at = now()
        RETURNING optional_metrics
        """,
        orchestrator,
        list(chosen),
    )
    if stored is None:
        raise NotRegistered(f"{orchestrator} is not a registered orchestrator")
    return tuple(stored)
