"""Day partitions created ahead and dropped after the retention, with what goes with them."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from api.core.services import Services
from api.ingest.partitions import DAYS_AHEAD, ensure_partitions, existing_partitions, maintain

TODAY = date(2030, 6, 15)


@pytest.fixture(autouse=True)
async def no_partitions(services: Services) -> None:
    """Partitions outlive the per-test TRUNCATE: start each test without any."""
    for name in (await existing_partitions(services.db)).values():
        await services.db.execute(f"DROP TABLE {name}")


async def test_maintain_keeps_the_retention_window(services: Services) -> None:
    async with services.db.acquire() as conn:
        created, dropped = await maintain(conn, retention_days=3, today=TODAY)
        assert dropped == []
        days = sorted(await existing_partitions(conn))
        assert days[0] == TODAY - timedelta(days=3)
        assert days[-1] == TODAY + timedelta(days=DAYS_AHEAD)
        assert len(created) == len(days) == 3 + 1 + DAYS_AHEAD

        created, dropped = await maintain(conn, retention_days=3, today=TODAY + timedelta(days=2))
        assert dropped == ["samples_p20300612", "samples_p20300613"]
        assert created == ["samples_p20300618", "samples_p20300619"]
        assert min(await existing_partitions(conn)) == date(2030, 6, 14)


async def test_maintain_forgets_old_batches_and_ended_series(services: Services) -> None:
    address = "0x" + "3" * 40
    db = services.db
    await db.execute("INSERT INTO orchestrators (address) VALUES ($1)", address)
    node = await db.fetchval(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, 'n') RETURNING id", address
    )
    old = "2030-06-01 00:00:00+00"
    await db.execute(
        "INSERT INTO ingest_batches (orchestrator, digest, samples, received_at)"
        " VALUES ($1, 'a', 1, $2::text::timestamptz), ($1, 'b', 1, '2030-06-14 00:00:00+00')",
        address,
        old,
    )
    ended, active, fresh = [
        await db.fetchval(
            "INSERT INTO series (node, digest, metric, first_seen)"
            " VALUES ($1, $2, 'm', $3::text::timestamptz) RETURNING id",
            node,
            digest,
            seen,
        )
        for digest, seen in [(b"1", old), (b"2", old), (b"3", "2030-06-14 00:00:00+00")]
    ]
    await db.execute(
        "INSERT INTO series_cursors (series, ts, val) VALUES ($1, $2::text::timestamptz, 1),"
        " ($3, '2030-06-15 10:00:00+00', 1)",
        ended,
        old,
        active,
    )
    async with db.acquire() as conn:
        await maintain(conn, retention_days=7, today=TODAY)
    assert await db.fetchval("SELECT array_agg(digest ORDER BY digest) FROM ingest_batches") == [
        b"b"
    ]
    assert await db.fetchval("SELECT array_agg(id ORDER BY id) FROM series") == [active, fresh]


async def test_concurrent_creation_is_safe(services: Services) -> None:
    async def create() -> list[str]:
        async with services.db.acquire() as conn:
            return await ensure_partitions(conn, [TODAY, TODAY + timedelta(days=1)])

    first, second = await asyncio.gather(create(), create())
    assert sorted(first + second) == ["samples_p20300615", "samples_p20300616"]
