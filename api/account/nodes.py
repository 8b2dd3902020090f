"""An orchestrator's own nodes, and the locations it declares for them.

A declared location wins over the GeoIP location of the orchestrator's serviceURI:
the operator knows where the machine is, GeoIP only guesses from an address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from api.geo.locate import Location
from api.geo.places import location_id


@dataclass(frozen=True, slots=True)
class OwnNode:
    id: int
    name: str
    node_type: str
    first_seen: datetime
    last_seen: datetime | None
    # Declared, else the orchestrator's GeoIP location, else None.
    location: Location | None


_SELECT = """
    SELECT n.id, n.name, n.node_type, n.first_seen, n.last_seen,
           l.source, l.latitude, l.longitude, l.country, l.continent, l.livepeer_region
    FROM nodes n
    JOIN orchestrators o ON o.address = n.orchestrator
    LEFT JOIN locations l ON l.id = coalesce(n.declared_location_id, o.location_id)
    WHERE n.orchestrator = $1
"""


def _node(row: asyncpg.Record) -> OwnNode:
    location = None
    if row["source"] is not None:
        location = Location(
            row["source"],
            row["latitude"],
            row["longitude"],
            row["country"],
            row["continent"],
            row["livepeer_region"],
        )
    return OwnNode(
        row["id"], row["name"], row["node_type"], row["first_seen"], row["last_seen"], location
    )


async def own_nodes(db: asyncpg.Pool | asyncpg.Connection, address: str) -> list[OwnNode]:
    rows = await db.fetch(_SELECT + " ORDER BY n.name, n.id", address)
    return [_node(r) for r in rows]


async def own_node(
    db: asyncpg.Pool | asyncpg.Connection, address: str, node_id: int
) -> OwnNode | None:
    row = await db.fetchrow(_SELECT + " AND n.id = $2", address, node_id)
    return _node(row) if row is not None else None


async def declare_location(
    db: asyncpg.Pool, address: str, node_id: int, location: Location | None
) -> OwnNode | None:
    """Set (or with None, clear) the declared location of ``address``'s node ``node_id``.

    Returns the node as it is now, or None when ``address`` has no such node."""
    async with db.acquire() as conn, conn.transaction():
        place = await location_id(conn, location) if location is not None else None
        updated = await conn.fetchval(
            """
            UPDATE nodes SET declared_location_id = $3
            WHERE id = $1 AND orchestrator = $2
            RETURNING id
            """,
            node_id,
            address,
            place,
        )
        if updated is None:
            return None
        return await own_node(conn, address, node_id)
