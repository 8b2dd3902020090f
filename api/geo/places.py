"""Storing locations: one row per distinct place, shared by orchestrators, nodes and
rollups."""

from __future__ import annotations

import asyncpg

from api.geo.locate import Location

_MAX_RES = 15


async def location_id(conn: asyncpg.Connection | asyncpg.Pool, location: Location) -> int | None:
    """The id of ``location``'s row, inserted if new; None for an unknown location."""
    if location.source == "unknown" or location.latitude is None or location.longitude is None:
        return None
    cells = [location.cell(res) for res in range(_MAX_RES + 1)]
    return await conn.fetchval(
        """
        WITH ins AS (
            INSERT INTO locations
                (source, latitude, longitude, country, continent, livepeer_region, cells)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT DO NOTHING
            RETURNING id)
        SELECT id FROM ins
        UNION ALL
        SELECT id FROM locations
        WHERE source = $1 AND latitude = $2 AND longitude = $3
          AND country IS NOT DISTINCT FROM $4
        LIMIT 1
        """,
        location.source,
        location.latitude,
        location.longitude,
        location.country,
        location.continent,
        location.livepeer_region,
        cells,
    )
