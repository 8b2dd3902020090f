"""Rows for the rollup tables, written straight into PostgreSQL: for tests and
benchmarks of what reads the rollups (the statistics API) without going through ingest.

    minute = at(tick, -3)              # three minutes before the tick
    node = await add_node(db, addr, "orch-fra-1", location=fra)
    await add_minutes(db, [Minute(node, minute, fra, sessions=4)])
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import asyncpg

from api.geo.locate import declared
from api.geo.places import location_id

Db = asyncpg.Pool | asyncpg.Connection


def at(tick: datetime, minutes: int) -> datetime:
    return tick + timedelta(minutes=minutes)


async def add_place(db: Db, latitude: float, longitude: float, country: str | None) -> int:
    place = await location_id(db, declared(latitude, longitude, country))
    assert place is not None
    return place


async def add_orchestrator(
    db: Db,
    address: str,
    *,
    stake: float = 0,
    active: bool = True,
    location: int | None = None,
    share_per_node: bool | None = None,
) -> str:
    await db.execute(
        "INSERT INTO orchestrators (address, active, total_stake, location_id)"
        " VALUES ($1, $2, $3, $4)",
        address,
        active,
        stake,
        location,
    )
    if share_per_node is not None:
        await db.execute(
            "INSERT INTO sharing (orchestrator, share_per_node) VALUES ($1, $2)",
            address,
            share_per_node,
        )
    return address


async def add_node(db: Db, orchestrator: str, name: str, *, location: int | None = None) -> int:
    return await db.fetchval(
        "INSERT INTO nodes (orchestrator, name, declared_location_id, last_seen)"
        " VALUES ($1, $2, $3, now()) RETURNING id",
        orchestrator,
        name,
        location,
    )


@dataclass
class Minute:
    node: int
    minute: datetime
    location_id: int | None
    sessions_last: float | None = None
    sessions_avg: float | None = None
    sessions_max: float | None = None
    capacity: float | None = None
    mil_pixels: float = 0
    segments: float = 0
    source_seconds: float = 0
    tickets: float = 0
    ticket_value: float = 0
    winning_tickets: float = 0
    value_redeemed: float = 0
    failed_segments: float = 0
    nic_rx_bytes: float | None = None
    nic_tx_bytes: float | None = None
    has_senders: bool = False
    has_origins: bool = False


def sessions(
    node: int, minute: datetime, place: int | None, streams: float, **other: object
) -> Minute:
    """A minute whose sessions samples all read ``streams``."""
    return Minute(
        node,
        minute,
        place,
        sessions_last=streams,
        sessions_avg=streams,
        sessions_max=streams,
        **other,  # type: ignore[arg-type]
    )


_COLUMNS = [f.name for f in fields(Minute)]


async def add_minutes(db: Db, rows: list[Minute]) -> None:
    records = [tuple(getattr(r, c) for c in _COLUMNS) for r in rows]
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn:
            await conn.copy_records_to_table("node_minutes", records=records, columns=_COLUMNS)
    else:
        await db.copy_records_to_table("node_minutes", records=records, columns=_COLUMNS)


async def add_senders(db: Db, rows: list[tuple[int, datetime, bytes]]) -> None:
    await db.executemany(
        "INSERT INTO node_minute_senders (node, minute, sender) VALUES ($1, $2, $3)", rows
    )


async def add_origins(db: Db, rows: list[tuple[int, datetime, str, str, float]]) -> None:
    await db.executemany(
        "INSERT INTO node_minute_origins (node, minute, country, cell, mil_pixels)"
        " VALUES ($1, $2, $3, $4, $5)",
        rows,
    )
