"""The rollup clock: which minute the figures describe.

Every figure is "as of" a *tick*, the newest complete minute the rollup has
published on the Redis channel ``<prefix>rollups`` (docs/architecture.md). Each process
follows the channel (``follow_rollups``, a worker), so all processes answer for the
same tick, and caches keyed by the tick stay coherent without talking to each other.
Until a tick has been published anywhere, the tick is the last complete minute by the
clock.

The tick is also stored under ``<prefix>rollups:latest``, so a process that starts
between two ticks knows the current one.

While Redis is away a process cannot hear the ticks: it follows the clock instead (the
rollup runs on regardless, and publishes the same minute a few seconds after the clock
reaches it), and takes the published tick again once Redis is back.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable
from datetime import UTC, datetime
from typing import Any, TypeVar

import redis.exceptions

from api.core.services import Services
from api.stats.windows import MINUTE, floor_minute

log = logging.getLogger(__name__)

T = TypeVar("T")

# Results kept per tick; beyond this the oldest are dropped (series with arbitrary
# ranges must not grow the memo without bound).
MEMO_ENTRIES = 512
RETRY_SECONDS = 5.0
# On a new tick, this many of the results last asked for are computed before switching.
WARM_KEYS = 64


def parse_tick(raw: bytes | str) -> datetime | None:
    """The minute of a published tick (ISO 8601), None when it is not one."""
    text = raw.decode() if isinstance(raw, bytes) else raw
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return floor_minute(moment)


class Ticks:
    """One process's view of the rollup clock of one deployment, and the results
    computed per tick (shared by every request of the process).

    When the tick moves on, the process keeps answering for the tick it has until the
    results last used are computed for the new one (``_warm``), then switches: no
    request waits for a reload, and all of them still see one consistent tick."""

    def __init__(self) -> None:
        self.latest: datetime | None = None  # the newest published tick
        self.ready: datetime | None = None  # the tick requests are answered for
        self._event = asyncio.Event()
        self._memo: dict[datetime, dict[Hashable, asyncio.Future[Any]]] = {}
        self._producers: dict[Hashable, Callable[[datetime], Awaitable[Any]]] = {}
        self._warming: asyncio.Task[None] | None = None

    def now(self) -> datetime:
        """The tick to answer for."""
        target = self.latest if self.latest is not None else clock_tick()
        if target != self.ready:
            if self.ready is None or not self._producers:
                self._switch(target)
            elif self._warming is None:
                self._warming = asyncio.get_running_loop().create_task(self._warm(target))
        return self.ready  # type: ignore[return-value]

    def advance(self, minute: datetime) -> bool:
        """Take ``minute`` as the newest tick; False if it already was."""
        if minute == self.latest:
            return False
        self.latest = minute
        self.now()  # start moving to it
        return True

    def follow_clock(self) -> None:
        """Answer for the clock's tick until a tick is published again."""
        self.latest = None
        self.now()

    async def wait_next(self, seconds: float | None = None) -> bool:
        """Wait until requests are answered for a new tick; False after ``seconds``."""
        event = self._event
        try:
            async with asyncio.timeout(seconds):
                await event.wait()
        except TimeoutError:
            return False
        return True

    def _switch(self, tick: datetime) -> None:
        self.ready = tick
        self._producers = {}
        for old in [t for t in self._memo if t != tick]:
            del self._memo[old]
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def _warm(self, target: datetime) -> None:
        try:
            recent = list(self._producers.items())
            await asyncio.gather(
                *(self.memo(target, key, produce) for key, produce in recent),
                return_exceptions=True,
            )
            latest = self.latest if self.latest is not None else clock_tick()
            if latest == target:
                self._switch(target)
        finally:
            self._warming = None

    async def memo(
        self, tick: datetime, key: Hashable, produce: Callable[[datetime], Awaitable[T]]
    ) -> T:
        """``produce(tick)`` once per (tick, key) in this process; concurrent callers
        share one computation, and a failure is not remembered."""
        entries = self._memo.setdefault(tick, {})
        if tick == self.ready:  # what to compute ahead for the next tick
            self._producers.pop(key, None)
            self._producers[key] = produce
            if len(self._producers) > WARM_KEYS:
                del self._producers[next(iter(self._producers))]
        future = entries.get(key)
        if future is None:
            if len(entries) >= MEMO_ENTRIES:
                del entries[next(iter(entries))]
            future = asyncio.ensure_future(produce(tick))
            entries[key] = future

            def forget_failure(done: asyncio.Future[Any]) -> None:
                if (done.cancelled() or done.exception() is not None) and entries.get(key) is done:
                    del entries[key]

            future.add_done_callback(forget_failure)
        return await asyncio.shield(future)


def clock_tick() -> datetime:
    """The tick when none was published: the last complete minute by the clock."""
    return floor_minute(datetime.now(UTC)) - MINUTE


_BY_CHANNEL: dict[str, Ticks] = {}


def ticks_for(services: Services) -> Ticks:
    """The clock of ``services``' deployment in this process."""
    channel = rollups_channel(services)
    ticks = _BY_CHANNEL.get(channel)
    if ticks is None:
        ticks = _BY_CHANNEL[channel] = Ticks()
    return ticks


def rollups_channel(services: Services) -> str:
    return services.key("rollups")


def latest_key(services: Services) -> str:
    return services.key("rollups", "latest")


async def publish_tick(services: Services, minute: datetime) -> None:
    """Announce ``minute`` as the newest complete minute (what the rollup does)."""
    text = floor_minute(minute).isoformat()
    await services.redis.set(latest_key(services), text)
    await services.redis.publish(rollups_channel(services), text)


async def follow_rollups(services: Services) -> None:
    """Worker: follow the rollup channel and move this process's tick along."""
    ticks = ticks_for(services)
    lost = False
    while True:
        try:
            await _follow(services, ticks, resumed=lost)
        except (OSError, redis.exceptions.RedisError) as exc:
            if not lost:
                log.warning(
                    "lost the rollup channel (%s); following the clock, and the channel"
                    " again every %.0f s",
                    exc,
                    RETRY_SECONDS,
                )
            lost = True
            ticks.follow_clock()
            await asyncio.sleep(RETRY_SECONDS)


async def _follow(services: Services, ticks: Ticks, *, resumed: bool = False) -> None:
    pubsub = services.redis.pubsub(ignore_subscribe_messages=True)
    try:
        await pubsub.subscribe(rollups_channel(services))
        stored = await services.redis.get(latest_key(services))
        if resumed:
            log.warning("following the rollup channel again")
        if stored is not None and (minute := parse_tick(stored)) is not None:
            # Back from an outage, the stored tick may be older than the clock's.
            if not (resumed and ticks.latest is None and minute < ticks.now()):
                ticks.advance(minute)
        async for message in pubsub.listen():
            if message.get("type") != "message":
                continue
            minute = parse_tick(message["data"])
            if minute is None:
                log.warning("ignoring a rollup tick that is not an ISO 8601 time")
                continue
            if ticks.advance(minute):
                # For processes that start later. Every process writes the same value.
                await services.redis.set(latest_key(services), minute.isoformat())
    finally:
        await pubsub.aclose()
