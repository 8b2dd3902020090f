"""Remembering that Redis is away, for the callers that can do without it.

Redis holds nothing the statistics or ingest need for correctness: rate limits, the
response cache and the rollup ticks all have a per-process stand-in. While Redis is
away such a caller should not pay a connection attempt (or, when Redis hangs, a socket
timeout) on every request, nor log every one: an ``Outage`` lets it skip Redis for
``RETRY_SECONDS`` after a failure, and logs once when an outage starts and once when it
ends. Nothing needs a restart: the first call after the pause tries Redis again.
"""

from __future__ import annotations

import logging
import time

import asyncpg
import redis.exceptions

log = logging.getLogger(__name__)

RETRY_SECONDS = 2.0

REDIS_AWAY = (OSError, TimeoutError, redis.exceptions.RedisError)
"""What Redis being away (stopped, restarting, unreachable, busy loading) raises."""
POSTGRES_AWAY: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    # A connection cut in the middle of a message (a server crash) surfaces as a
    # protocol error of the client.
    asyncpg.InternalClientError,
)
"""What PostgreSQL being away (restarting, crashed, unreachable, out of connections)
raises; also any error a statement gets, which callers treat alike: try again later."""
STORAGE_AWAY = (*POSTGRES_AWAY, redis.exceptions.RedisError)
"""PostgreSQL or Redis away: answered 503 (HTTP) or SERVICE_UNAVAILABLE (GraphQL)."""


class Outage:
    """The state of one dependency as one caller of one process sees it."""

    def __init__(self, what: str, fallback: str) -> None:
        self.what = what
        self.fallback = fallback
        self.since: float | None = None  # monotonic start of the current outage
        self._retry_at = 0.0
        self._clock = time.monotonic

    @property
    def down(self) -> bool:
        return self.since is not None

    def skip(self) -> bool:
        """True while the dependency is known to be away and not yet due another try."""
        return self.since is not None and self._clock() < self._retry_at

    def failed(self, exc: BaseException) -> None:
        now = self._clock()
        if self.since is None:
            self.since = now
            log.warning(
                "%s unavailable (%s: %s); %s until it is back",
                self.what,
                type(exc).__name__,
                exc,
                self.fallback,
            )
        self._retry_at = now + RETRY_SECONDS

    def succeeded(self) -> None:
        if self.since is not None:
            log.warning("%s is back after %.0f s", self.what, self._clock() - self.since)
            self.since = None
