import asyncio

import pytest

from api.core.errors import RateLimited
from api.core.services import Services, open_services
from api.core.settings import Settings
from auth.nonces import NONCE_TTL, bucket_key, consume_nonce, issue_nonce, nonce_pending

CLIENT, OTHER = "a" * 32, "b" * 32  # what api.core.ratelimit.client_key gives


async def test_issued_nonce_is_pending_until_consumed_once(services: Services) -> None:
    challenge = await issue_nonce(services)
    assert challenge.nonce.isalnum() and len(challenge.nonce) >= 8
    assert challenge.domain == services.settings.siwe_domain
    assert challenge.uri == services.settings.siwe_uri
    assert challenge.chain_id == services.settings.chain_id
    assert challenge.expiration_time - challenge.issued_at == NONCE_TTL
    assert await nonce_pending(services, challenge.nonce)
    assert await consume_nonce(services, challenge.nonce)
    assert not await nonce_pending(services, challenge.nonce)
    assert not await consume_nonce(services, challenge.nonce)


async def test_nonces_expire_in_redis(services: Services) -> None:
    challenge = await issue_nonce(services)
    ttl = await services.redis.ttl(services.key("siwe-nonce", challenge.nonce))
    assert 0 < ttl <= NONCE_TTL.total_seconds()


async def test_a_nonce_never_issued_is_not_pending(services: Services) -> None:
    assert not await nonce_pending(services, "neverIssued12345")
    assert not await consume_nonce(services, "neverIssued12345")


async def test_every_nonce_is_different(services: Services) -> None:
    nonces = {(await issue_nonce(services)).nonce for _ in range(50)}
    assert len(nonces) == 50


async def test_exactly_one_of_many_racing_consumers_wins(services: Services) -> None:
    challenge = await issue_nonce(services)
    results = await asyncio.gather(*(consume_nonce(services, challenge.nonce) for _ in range(20)))
    assert results.count(True) == 1


async def test_a_client_gets_its_burst_then_a_refusal_saying_when_to_retry(
    services: Services, settings: Settings
) -> None:
    services.settings = settings.model_copy(update={"nonce_burst": 3, "nonce_per_minute": 2})
    for _ in range(3):
        await issue_nonce(services, CLIENT)
    with pytest.raises(RateLimited) as refused:
        await issue_nonce(services, CLIENT)
    # The next token comes within 30 s (2 a minute).
    assert 1 <= refused.value.retry_after <= 30
    assert refused.value.extensions == {
        "code": "RATE_LIMITED",
        "retryAfter": refused.value.retry_after,
    }
    assert refused.value.status_code == 429
    assert f"retry in {refused.value.retry_after} s" in refused.value.message
    # Other clients, and the service itself, are still served.
    await issue_nonce(services, OTHER)
    await issue_nonce(services)


async def test_a_refused_request_takes_nothing(services: Services, settings: Settings) -> None:
    services.settings = settings.model_copy(update={"nonce_burst": 1, "nonce_per_minute": 1})
    await issue_nonce(services, CLIENT)
    bucket = await services.redis.hgetall(bucket_key(services, CLIENT))
    for _ in range(3):
        with pytest.raises(RateLimited):
            await issue_nonce(services, CLIENT)
    assert await services.redis.hgetall(bucket_key(services, CLIENT)) == bucket
    assert await services.redis.zcard(services.key("siwe-pending")) == 1


async def test_a_bucket_expires_once_it_would_be_full_again(
    services: Services, settings: Settings
) -> None:
    services.settings = settings.model_copy(update={"nonce_burst": 10, "nonce_per_minute": 5})
    await issue_nonce(services, CLIENT)
    # Full again after 2 minutes; a minute's margin.
    assert 0 < await services.redis.ttl(bucket_key(services, CLIENT)) <= 180


async def test_the_pending_cap_refuses_every_client_until_a_nonce_is_used(
    services: Services, settings: Settings
) -> None:
    services.settings = settings.model_copy(update={"nonce_max_pending": 3})
    first = await issue_nonce(services, CLIENT)
    await issue_nonce(services, OTHER)
    await issue_nonce(services)
    for client in (CLIENT, "c" * 32, None):
        with pytest.raises(RateLimited) as refused:
            await issue_nonce(services, client)
        # Until the oldest pending nonce expires.
        assert 0 < refused.value.retry_after <= NONCE_TTL.total_seconds()
        assert "too many sign-ins are in progress" in refused.value.message
    assert await consume_nonce(services, first.nonce)
    await issue_nonce(services, "c" * 32)


async def test_the_pending_cap_is_shared_by_processes(
    services: Services, settings: Settings
) -> None:
    services.settings = settings.model_copy(update={"nonce_max_pending": 2})
    async with open_services(services.settings) as other_process:
        await issue_nonce(services, CLIENT)
        await issue_nonce(other_process, OTHER)
        with pytest.raises(RateLimited):
            await issue_nonce(services, "c" * 32)


async def test_expired_nonces_leave_the_pending_count(
    services: Services, settings: Settings
) -> None:
    services.settings = settings.model_copy(update={"nonce_max_pending": 1})
    stale = await issue_nonce(services)
    # What ten minutes do: Redis drops the nonce, and its entry in the count is past
    # its expiry.
    await services.redis.delete(services.key("siwe-nonce", stale.nonce))
    await services.redis.zadd(services.key("siwe-pending"), {stale.nonce: 1.0})
    fresh = await issue_nonce(services)
    assert await services.redis.zrange(services.key("siwe-pending"), 0, -1) == [
        fresh.nonce.encode()
    ]
