"""What each orchestrator chose to share beyond the required minimum (table ``sharing``).

Optional metric names are checked against ingest's allowlist, so an orchestrator can
only opt in to metrics ingest knows how to keep."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.ingest.allowlist import OPTIONAL, check_optional


@dataclass(frozen=True, slots=True)
class Sharing:
    optional_metrics: tuple[str, ...]
    share_per_node: bool
    # None while the orchestrator never changed the defaults.
    updated_at: datetime | None


DEFAULT = Sharing((), False, None)


async def get_sharing(db: asyncpg.Pool | asyncpg.Connection, address: str) -> Sharing:
    row = await db.fetchrow(
        "SELECT optional_metrics, share_per_node, updated_at FROM sharing WHERE orchestrator = $1",
        address,
    )
    if row is None:
        return DEFAULT
    return Sharing(tuple(row["optional_metrics"]), row["share_per_node"], row["updated_at"])


OPTIONAL_METRICS: tuple[str, ...] = OPTIONAL


async def set_sharing(
    db: asyncpg.Pool,
    address: str,
    *,
    optional_metrics: Sequence[str] | None = None,
    share_per_node: bool | None = None,
) -> Sharing:
    """Change what ``address`` shares; None leaves a setting as it is.

    Raises ``allowlist.UnknownMetric`` (a ``ValueError``) for a metric that is not
    optional."""
    metrics = list(check_optional(optional_metrics)) if optional_metrics is not None else None
    row = await db.fetchrow(
        """
        INSERT INTO sharing AS s (orchestrator, optional_metrics, share_per_node, updated_at)
        VALUES ($1, coalesce($2, '{}'::text[]), coalesce($3, false), now())
        ON CONFLICT (orchestrator) DO UPDATE SET
            optional_metrics = coalesce($2, s.optional_metrics),
            share_per_node = coalesce($3, s.share_per_node),
            updated_at = now()
        RETURNING optional_metrics, share_per_node, updated_at
        """,
        address,
        metrics,
        share_per_node,
    )
    return Sharing(tuple(row["optional_metrics"]), row["share_per_node"], row["updated_at"])
