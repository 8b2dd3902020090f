import asyncio

from api.services import Services
from auth.nonces import NONCE_TTL, consume_nonce, issue_nonce, nonce_pending


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
