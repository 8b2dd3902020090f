"""The hourly aggregates follow the minute rollups: triggers mark hours dirty, the
refresher recomputes them, and readers never see the difference."""

from __future__ import annotations

from datetime import UTC, datetime

from api.core.services import Services
from api.rollup.hours import refresh
from tests.support.rollup_rows import (
    add_minutes,
    add_node,
    add_orchestrator,
    add_place,
    at,
    sessions,
)

HOUR = datetime(2024, 5, 1, 10, tzinfo=UTC)


async def _dirty(services: Services) -> list[datetime]:
    return [
        r["hour"] for r in await services.db.fetch("SELECT hour FROM stats_dirty_hours ORDER BY 1")
    ]


async def test_writes_mark_hours_and_refresh_recomputes_them(services: Services) -> None:
    db = services.db
    fra = await add_place(db, 50.11, 8.68, "DE")
    node = await add_node(db, await add_orchestrator(db, "0x" + "a" * 40), "n", location=fra)
    await add_minutes(db, [sessions(node, at(HOUR, m), fra, 2, mil_pixels=1) for m in range(90)])
    assert await _dirty(services) == [HOUR, at(HOUR, 60)]
    assert await refresh(db) == 2
    assert await _dirty(services) == []
    row = await db.fetchrow(
        "SELECT minutes, sessions, sessions_peak, mil_pixels FROM stats_node_hours WHERE hour = $1",
        HOUR,
    )
    assert dict(row) == {"minutes": 60, "sessions": 120.0, "sessions_peak": 2.0, "mil_pixels": 60.0}
    peaks = await db.fetch(
        "SELECT level, code, peak FROM stats_region_hours WHERE hour = $1 ORDER BY level", HOUR
    )
    levels = {r["level"]: (r["code"], r["peak"]) for r in peaks}
    assert levels["GLOBAL"] == ("", 2.0) and levels["COUNTRY"] == ("DE", 2.0)
    assert levels["LIVEPEER_REGION"] == ("FRA", 2.0) and "CELL15" in levels

    # A late sample rewrites a minute: only its hour is done again.
    await db.execute(
        "UPDATE node_minutes SET sessions_avg = 10 WHERE node = $1 AND minute = $2", node, HOUR
    )
    assert await _dirty(services) == [HOUR]
    assert await refresh(db) == 1
    assert await db.fetchval("SELECT sessions FROM stats_node_hours WHERE hour = $1", HOUR) == 128
    assert (
        await db.fetchval(
            "SELECT peak FROM stats_region_hours WHERE hour = $1 AND level = 'GLOBAL'", HOUR
        )
        == 10
    )

    # Deleting a node's data (deleteMyData) empties its hours.
    await db.execute("DELETE FROM nodes WHERE id = $1", node)
    assert await db.fetchval("SELECT count(*) FROM stats_node_hours") == 0
    assert await refresh(db) == 2
    assert await db.fetchval("SELECT count(*) FROM stats_region_hours") == 0


async def test_the_current_hour_waits(services: Services) -> None:
    db = services.db
    node = await add_node(db, await add_orchestrator(db, "0x" + "b" * 40), "n")
    now = await db.fetchval("SELECT date_trunc('minute', now())")
    await add_minutes(db, [sessions(node, now, None, 1)])
    assert await refresh(db) == 0  # still being written; readers take its minutes
    assert len(await _dirty(services)) == 1


async def test_one_refresher_at_a_time(services: Services) -> None:
    async with services.db.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", 0x6C706D68)
        try:
            assert await refresh(services.db) is None
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", 0x6C706D68)


async def _versions(services: Services) -> dict[datetime, int]:
    return dict(await services.db.fetch("SELECT hour, version FROM stats_hour_versions"))


async def test_every_write_of_an_hour_gives_it_a_new_version(services: Services) -> None:
    """Migration 0008: what the snapshot's kept hourly sums are keyed by
    (api/stats/hourly.py). A refreshed hour gets a new version even when the dirty set
    reads the same before and after; hours not written keep theirs."""
    db = services.db
    node = await add_node(db, await add_orchestrator(db, "0x" + "c" * 40), "n")
    await add_minutes(db, [sessions(node, at(HOUR, m), None, 1) for m in range(120)])
    assert await _versions(services) == {}  # minutes alone do not touch the hourly tables
    await refresh(db)
    first = await _versions(services)
    assert first.keys() == {HOUR, at(HOUR, 60)}
    await db.execute("UPDATE node_minutes SET sessions_avg = 3 WHERE minute = $1", HOUR)
    assert await _versions(services) == first  # dirty, not refreshed: no hourly row written
    await refresh(db)
    second = await _versions(services)
    assert second[HOUR] > first[HOUR] and second[at(HOUR, 60)] == first[at(HOUR, 60)]
    await db.execute("TRUNCATE stats_origin_hours")
    assert all(v > second[h] for h, v in (await _versions(services)).items())
