"""The response cache for GraphQL queries, per tick, in the process and in Redis
(docs/statistics.md, "Caching").

Only answers that are the same for every caller of a view class are stored: anonymous
callers', and signed-in callers' for documents that ask nothing about who is calling
(``api.http.graphql._shared_key``); the key names the view class.

While Redis is away each process keeps only its own dictionary (``api.core.outage``: no
connection attempt per request, one log line per outage); every miss is answered from
PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from api.core.metrics import GRAPHQL_CACHE, REDIS_FALLBACKS
from api.core.outage import REDIS_AWAY, Outage
from api.core.services import Services

# Requests and responses beyond these sizes are answered but not cached.
MAX_REQUEST_BYTES = 64 * 1024
MAX_RESPONSE_BYTES = 1024 * 1024
LOCAL_ENTRIES = 1024
# A tick lasts a minute; entries of older ticks are never read again.
REDIS_TTL_SECONDS = 180


@dataclass(frozen=True, slots=True)
class Cached:
    body: bytes
    content_type: bytes


def request_key(method: str, content: bytes) -> str:
    """What identifies a request: its method and its raw body (POST) or query string."""
    return hashlib.sha256(method.encode() + b"\0" + content).hexdigest()


class ResponseCache:
    """One process's cache for one deployment."""

    def __init__(self) -> None:
        self._tick: datetime | None = None
        self._local: OrderedDict[str, Cached] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Cached | None]] = {}
        self._outage = Outage("Redis (response cache)", "caching in each process only")

    def _roll(self, tick: datetime) -> None:
        if tick != self._tick:
            self._tick = tick
            self._local.clear()
            self._inflight = {}

    def _redis_key(self, services: Services, tick: datetime, key: str) -> str:
        return services.key("gqlcache", tick.strftime("%Y%m%dT%H%M"), key)

    async def get(self, services: Services, tick: datetime, key: str) -> Cached | None:
        self._roll(tick)
        found = self._local.get(key)
        if found is not None:
            GRAPHQL_CACHE.labels("hit").inc()
            return found
        if self._outage.skip():
            REDIS_FALLBACKS.labels("response_cache").inc()
            GRAPHQL_CACHE.labels("miss").inc()
            return None
        try:
            raw = await services.redis.hgetall(self._redis_key(services, tick, key))
        except REDIS_AWAY as exc:
            self._outage.failed(exc)
            REDIS_FALLBACKS.labels("response_cache").inc()
            GRAPHQL_CACHE.labels("miss").inc()
            return None
        self._outage.succeeded()
        if raw:
            found = Cached(raw[b"body"], raw[b"type"])
            self._remember(key, found)
            GRAPHQL_CACHE.labels("shared_hit").inc()
            return found
        GRAPHQL_CACHE.labels("miss").inc()
        return None

    def _remember(self, key: str, cached: Cached) -> None:
        self._local[key] = cached
        if len(self._local) > LOCAL_ENTRIES:
            self._local.popitem(last=False)

    async def put(self, services: Services, tick: datetime, key: str, cached: Cached) -> None:
        self._roll(tick)
        self._remember(key, cached)
        if self._outage.skip():
            return
        redis_key = self._redis_key(services, tick, key)
        try:
            async with services.redis.pipeline(transaction=True) as pipe:
                pipe.hset(redis_key, mapping={"body": cached.body, "type": cached.content_type})
                pipe.expire(redis_key, REDIS_TTL_SECONDS)
                await pipe.execute()
        except REDIS_AWAY as exc:
            self._outage.failed(exc)
        else:
            self._outage.succeeded()

    def leader(self, tick: datetime, key: str) -> asyncio.Future[Cached | None] | None:
        """Single flight: None when the caller should compute (and later ``settle``),
        else a future for the response another request is computing right now."""
        self._roll(tick)
        running = self._inflight.get(key)
        if running is not None:
            return running
        self._inflight[key] = asyncio.get_running_loop().create_future()
        return None

    def settle(self, tick: datetime, key: str, cached: Cached | None) -> None:
        if tick != self._tick:
            return
        future = self._inflight.pop(key, None)
        if future is not None and not future.done():
            future.set_result(cached)


_BY_CHANNEL: dict[str, ResponseCache] = {}


def cache_for(services: Services) -> ResponseCache:
    channel = services.key("rollups")
    cache = _BY_CHANNEL.get(channel)
    if cache is None:
        cache = _BY_CHANNEL[channel] = ResponseCache()
    return cache
