"""One leader at a time, loops that retry after the database failed, and stop when
cancelled."""

import asyncio

import asyncpg
import pytest

from api.core.leader import lead_forever, leading, wait_to_lead
from api.core.services import Services

KEY = 0x7465_7374  # used by nothing else
DEADLINE = 30


async def test_one_connection_leads_until_its_block_ends(services: Services) -> None:
    async with services.db.acquire() as a, services.db.acquire() as b:
        async with leading(a, KEY) as first:
            async with leading(b, KEY) as second:
                assert first and not second
        async with leading(b, KEY) as after:
            assert after


async def test_waiting_to_lead_returns_once_the_leader_lets_go(services: Services) -> None:
    refusals = 0
    refused_twice = asyncio.Event()

    def waiting() -> None:
        nonlocal refusals
        refusals += 1
        if refusals == 2:
            refused_twice.set()

    async with services.db.acquire() as leader, services.db.acquire() as follower:
        async with leading(leader, KEY) as held:
            assert held
            task = asyncio.create_task(
                wait_to_lead(follower, KEY, retry_seconds=0.01, waiting=waiting)
            )
            async with asyncio.timeout(DEADLINE):
                await refused_twice.wait()
            assert not task.done()
        async with asyncio.timeout(DEADLINE):
            await task
        assert await follower.fetchval("SELECT pg_advisory_unlock($1)", KEY)


async def test_a_failed_leader_retries_and_a_cancelled_one_lets_go(services: Services) -> None:
    calls = 0
    leads = asyncio.Event()

    async def lead(conn: asyncpg.Connection) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("connection lost")
        leads.set()
        await asyncio.Event().wait()

    task = asyncio.create_task(lead_forever(services, KEY, lead, name="test", retry_seconds=0.01))
    async with asyncio.timeout(DEADLINE):
        await leads.wait()
    assert calls == 2
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with services.db.acquire() as conn, leading(conn, KEY) as held:
        assert held
