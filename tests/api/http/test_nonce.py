from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.core.services import Services
from api.core.settings import Settings
from auth.nonces import nonce_pending
from tests.support.proxy import proxied
from tests.support.services import running_server

# uvicorn trusts X-Forwarded-For from loopback (--forwarded-allow-ips defaults to
# 127.0.0.1), so the test plays a reverse proxy serving several clients.
A, B, C = ({"X-Forwarded-For": ip} for ip in ("203.0.113.7", "198.51.100.4", "192.0.2.9"))


@pytest.fixture
async def limited(services: Services, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with 3 nonces per client at once, 1 a minute, and 5 pending in all."""
    limits = {"nonce_burst": 3, "nonce_per_minute": 1, "nonce_max_pending": 5}
    async with (
        running_server(settings.model_copy(update=limits)) as url,
        httpx.AsyncClient(base_url=url) as http,
    ):
        yield http


def assert_rate_limited(response: httpx.Response, most: int) -> int:
    """Check a 429 and return its Retry-After, which must be 1..``most`` seconds."""
    assert response.status_code == 429
    assert response.headers["cache-control"] == "no-store"
    wait = int(response.headers["retry-after"])
    assert 1 <= wait <= most
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": wait}
    assert f"retry in {wait} s" in error["message"]
    return wait


async def test_get_auth_nonce_issues_a_usable_nonce(
    client: httpx.AsyncClient, services: Services
) -> None:
    response = await client.get("/auth/nonce")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"nonce", "domain", "uri", "chainId", "issuedAt", "expirationTime"}
    assert body["domain"] == "explorer.test" and body["uri"] == "https://explorer.test"
    assert body["chainId"] == 42161
    issued = datetime.fromisoformat(body["issuedAt"])
    assert datetime.fromisoformat(body["expirationTime"]) - issued == timedelta(minutes=10)
    assert await nonce_pending(services, body["nonce"])
    second = (await client.get("/auth/nonce")).json()["nonce"]
    assert second != body["nonce"]


async def test_post_is_not_allowed(client: httpx.AsyncClient) -> None:
    assert (await client.post("/auth/nonce")).status_code == 405


async def test_allowed_origins_may_fetch_it(client: httpx.AsyncClient) -> None:
    response = await client.get("/auth/nonce", headers={"Origin": "https://explorer.test"})
    assert response.headers["access-control-allow-origin"] == "https://explorer.test"


async def test_a_client_gets_its_burst_then_429_with_retry_after(
    limited: httpx.AsyncClient, services: Services
) -> None:
    for _ in range(3):
        assert (await limited.get("/auth/nonce", headers=A)).status_code == 200
    refused = await limited.get("/auth/nonce", headers=A)
    assert_rate_limited(refused, 60)
    assert "from your address" in refused.json()["errors"][0]["message"]
    # Another client is still served, and its nonce works.
    served = await limited.get("/auth/nonce", headers=B)
    assert served.status_code == 200
    assert await nonce_pending(services, served.json()["nonce"])


async def test_redis_keeps_no_client_address(
    limited: httpx.AsyncClient, services: Services
) -> None:
    for headers in (A, B, {}):
        assert (await limited.get("/auth/nonce", headers=headers)).status_code == 200
    keys = [k async for k in services.redis.scan_iter(match=services.key("*"))]
    buckets = [k for k in keys if k.startswith(services.key("siwe-rate").encode())]
    assert len(buckets) == 3  # one per client, under a keyed hash
    for key in keys:
        stored = key + (await services.redis.dump(key) or b"")
        for address in (b"203.0.113.7", b"198.51.100.4", b"127.0.0.1"):
            assert address not in stored
    for bucket in buckets:
        assert await services.redis.ttl(bucket) > 0


async def test_the_pending_cap_refuses_every_client_with_429(limited: httpx.AsyncClient) -> None:
    for headers in (A, A, A, B, B):
        assert (await limited.get("/auth/nonce", headers=headers)).status_code == 200
    refused = await limited.get("/auth/nonce", headers=C)  # a client never seen
    assert_rate_limited(refused, 600)
    assert "too many sign-ins are in progress" in refused.json()["errors"][0]["message"]


async def _nonce_counts(http: httpx.AsyncClient) -> dict[str, float]:
    text = (await http.get("/metrics")).text
    return {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "lpm_sign_in_nonces"
        for sample in family.samples
        if sample.name == "lpm_sign_in_nonces_total"
    }


async def test_operators_see_refusals_in_metrics(limited: httpx.AsyncClient) -> None:
    before = await _nonce_counts(limited)
    for headers in (A, A, A, A, B, B, C):  # 3 issued, 1 over A's bucket, 2 issued, 1 over cap
        await limited.get("/auth/nonce", headers=headers)
    after = await _nonce_counts(limited)
    gained = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    assert gained == {"issued": 5, "client_limit": 1, "pending_limit": 1}


async def test_redis_down_is_a_503_not_a_traceback(services: Services, settings: Settings) -> None:
    async with proxied(settings.redis_url) as (redis_proxy, redis_url):
        app_settings = settings.model_copy(update={"redis_url": redis_url})
        async with running_server(app_settings) as url, httpx.AsyncClient(base_url=url) as http:
            await redis_proxy.cut()
            response = await http.get("/auth/nonce")
            assert response.status_code == 503
            assert response.headers["retry-after"]
            [error] = response.json()["errors"]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
