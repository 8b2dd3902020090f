"""The per-process rollup clock: memo, switching ticks, following the Redis channel."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from api.core.services import Services
from api.stats.ticks import (
    Ticks,
    follow_rollups,
    latest_key,
    parse_tick,
    publish_tick,
    rollups_channel,
    ticks_for,
)
from tests.support.rollup_rows import at

T = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
# A bound on waits that should end within milliseconds: past it the test fails, not hangs.
DEADLINE = 30


async def _subscribed(services: Services) -> bool:
    """Whether anything listens on the rollups channel, waiting up to ``DEADLINE``."""
    channel = rollups_channel(services)
    for _ in range(DEADLINE * 100):
        if (await services.redis.pubsub_numsub(channel))[0][1]:
            return True
        await asyncio.sleep(0.01)
    return False


async def _until_latest(clock: Ticks, tick: datetime) -> None:
    async with asyncio.timeout(DEADLINE):
        while clock.latest != tick:
            await clock.wait_next(1)


def test_parse_tick() -> None:
    assert parse_tick(b"2024-05-01T12:00:00+00:00") == T
    assert parse_tick("2024-05-01T12:00:42Z") == T
    assert parse_tick("2024-05-01T14:00:00+02:00") == T
    assert parse_tick("2024-05-01T12:00:00") == T  # naive: UTC
    assert parse_tick(b"soon") is None


async def test_memo_computes_once_and_forgets_failures() -> None:
    ticks = Ticks()
    ticks.advance(T)
    calls = 0
    gate = asyncio.Event()

    async def slow(tick: datetime) -> int:
        nonlocal calls
        calls += 1
        await gate.wait()
        return tick.minute

    waiting = [asyncio.create_task(ticks.memo(T, "k", slow)) for _ in range(5)]
    await asyncio.sleep(0)
    gate.set()
    assert await asyncio.gather(*waiting) == [0] * 5
    assert calls == 1

    async def broken(tick: datetime) -> int:
        raise OSError("database away")

    with pytest.raises(OSError):
        await ticks.memo(T, "b", broken)
    assert await ticks.memo(T, "b", slow) == 0  # the failure was not kept


async def test_a_new_tick_is_served_once_computed() -> None:
    ticks = Ticks()
    ticks.advance(T)
    gate = asyncio.Event()
    seen = []

    async def produce(tick: datetime) -> datetime:
        seen.append(tick)
        if tick != T:
            await gate.wait()
        return tick

    assert await ticks.memo(ticks.now(), "figures", produce) == T
    later = at(T, 1)
    ticks.advance(later)
    # While the figures of the new tick are computed, requests get the old one ...
    assert ticks.now() == T
    assert await ticks.memo(ticks.now(), "figures", produce) == T
    gate.set()
    assert await ticks.wait_next(10)
    # ... then the new one, already computed.
    assert ticks.now() == later
    assert seen == [T, later]
    assert await ticks.memo(later, "figures", produce) == later
    assert seen == [T, later]


async def test_follows_the_rollup_channel(services: Services) -> None:
    task = asyncio.create_task(follow_rollups(services))
    try:
        assert await _subscribed(services), "follow_rollups never subscribed"
        clock = ticks_for(services)
        await services.redis.publish(rollups_channel(services), "not a time")
        await publish_tick(services, T)
        await _until_latest(clock, T)
        assert clock.now() == T
        assert await services.redis.get(latest_key(services)) == T.isoformat().encode()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_starting_process_takes_the_stored_tick(services: Services) -> None:
    await services.redis.set(latest_key(services), T.isoformat())
    task = asyncio.create_task(follow_rollups(services))
    try:
        await _until_latest(ticks_for(services), T)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
