"""SIWE nonces: issued by us, kept in Redis for a few minutes, usable once.

A nonce is what makes a signed sign-in message worthless to anybody who intercepts
it: the message names the nonce, and the nonce is deleted the moment a signature
over it is accepted. Redis (not process memory) holds them so any API process can
verify a nonce another one issued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import siwe

from api.services import Services

# Also the longest a signed message may wait between its Issued At and its use.
NONCE_TTL = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Challenge:
    """A fresh nonce and the values a client puts in the message it signs."""

    nonce: str
    domain: str
    uri: str
    chain_id: int
    issued_at: datetime
    expiration_time: datetime


def _key(services: Services, nonce: str) -> str:
    return services.key("siwe-nonce", nonce)


async def issue_nonce(services: Services) -> Challenge:
    now = datetime.now(UTC).replace(microsecond=0)
    nonce = siwe.generate_nonce()
    # NX: a collision of two 17-character random nonces is astronomically unlikely,
    # but must never let two clients share one.
    while not await services.redis.set(
        _key(services, nonce), b"1", ex=int(NONCE_TTL.total_seconds()), nx=True
    ):
        nonce = siwe.generate_nonce()
    settings = services.settings
    return Challenge(
        nonce=nonce,
        domain=settings.siwe_domain,
        uri=settings.siwe_uri,
        chain_id=settings.chain_id,
        issued_at=now,
        expiration_time=now + NONCE_TTL,
    )


async def nonce_pending(services: Services, nonce: str) -> bool:
    """True when ``nonce`` was issued, has not expired and has not been used."""
    return bool(await services.redis.exists(_key(services, nonce)))


async def consume_nonce(services: Services, nonce: str) -> bool:
    """Use ``nonce`` up; True for exactly one caller even when many race for it."""
    return await services.redis.delete(_key(services, nonce)) == 1
