"""What each orchestrator chose to share beyond the required minimum (table ``sharing``):
the one reader and the one writer, used by ingest, the account API, the CLI and the demo
(docs/orchestrators.md).

Optional metric names are checked against ingest's allowlist, so an orchestrator can
only opt in to metrics ingest knows how to keep."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.ingest.allowlist import OPTIONAL, check_optional

Db = asyncpg.Pool | asyncpg.Connection

OPTIONAL_METRICS: tuple[str, ...] = OPTIONAL


class NotRegistered(LookupError):
    """The address is not an orchestrator of the registry."""


@dataclass(frozen=True, slots=True)
class Sharing:
    optional_metrics: tuple[str, ...]
    share_per_node: bool
    # None while the orchestrator never changed the defaults.
    updated_at: datetime | None


DEFAULT = Sharing((), False, None)


async def get_sharing(db: Db, address: str) -> Sharing:
    row = await db.fetchrow(
        "SELECT optional_metrics, share_per_node, updated_at FROM sharing WHERE orchestrator = $1",
        address,
    )
    if row is None:
        return DEFAULT
    return Sharing(tuple(row["optional_metrics"]), row["share_per_node"], row["updated_at"])


async def shared_metrics(db: Db, orchestrator: str) -> frozenset[str]:
    """The optional metric families ``orchestrator`` shares (empty when never set)."""
    value = await db.fetchval(
        "SELECT optional_metrics FROM sharing WHERE orchestrator = $1", orchestrator
    )
    return frozenset(value or ())


async def set_sharing(
    db: Db,
    address: str,
    *,
    optional_metrics: Iterable[str] | None = None,
    share_per_node: bool | None = None,
) -> Sharing:
    """Change what ``address`` shares; None leaves a setting as it is.

    Raises ``allowlist.UnknownMetric`` (a ``ValueError``) for a metric that is not
    optional and ``NotRegistered`` for an address outside the registry."""
    metrics = list(check_optional(optional_metrics)) if optional_metrics is not None else None
    row = await db.fetchrow(
        """
        INSERT INTO sharing AS s (orchestrator, optional_metrics, share_per_node, updated_at)
        SELECT address, coalesce($2, '{}'::text[]), coalesce($3, false), now()
        FROM orchestrators WHERE address = $1
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
    if row is None:
        raise NotRegistered(f"{address} is not a registered orchestrator")
    return Sharing(tuple(row["optional_metrics"]), row["share_per_node"], row["updated_at"])


async def set_shared_metrics(db: Db, orchestrator: str, metrics: Iterable[str]) -> tuple[str, ...]:
    """Share exactly ``metrics`` (optional families) from now on; return them sorted."""
    return (await set_sharing(db, orchestrator, optional_metrics=metrics)).optional_metrics
