"""SIWE nonces: issued by us, kept in Redis for a few minutes, usable once, and limited
per client and in all (docs/auth.md, "Nonce limits").

Redis (not process memory) holds them so any API process can verify a nonce another
one issued. Over a limit, ``issue_nonce`` raises ``RateLimited`` with the seconds until
a nonce can be had; a refused request consumes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import siwe

from api.core.errors import RateLimited
from api.core.metrics import SIGN_IN_NONCES
from api.core.ratelimit import Script
from api.core.services import Services
from auth.session_store import session_store

# Also the longest a signed message may wait between its Issued At and its use.
NONCE_TTL = timedelta(minutes=10)

_OK, _CLIENT_LIMIT, _PENDING_LIMIT, _TAKEN = 0, 1, 2, 3

# KEYS: the nonce, the pending set, the client's bucket (absent: no per-client limit).
# ARGV: nonce, TTL, max pending, rate per second, burst.
_ISSUE = Script("""
local now = clock()
local ttl, max_pending = tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens, rate, burst
if #KEYS > 2 then
  rate, burst = tonumber(ARGV[4]), tonumber(ARGV[5])
  tokens = bucket_level(KEYS[3], rate, burst, now)
  if tokens < 1 then
    return {1, bucket_wait(1, tokens, rate)}
  end
end

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= max_pending then
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
  return {2, math.max(1, math.ceil(tonumber(oldest[2]) - now))}
end

-- NX: a collision of two 17-character random nonces is astronomically unlikely, but
-- must never let two clients share one.
if not redis.call('SET', KEYS[1], '1', 'EX', ttl, 'NX') then
  return {3, 0}
end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[1])
redis.call('EXPIRE', KEYS[2], ttl + 60)
if tokens then
  bucket_take(KEYS[3], tokens - 1, rate, burst, now)
end
return {0, 0}
""")


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


def _pending_key(services: Services) -> str:
    return services.key("siwe-pending")


def bucket_key(services: Services, client: str) -> str:
    """The Redis key of ``client``'s nonce bucket (``client`` is already a keyed hash)."""
    return services.key("siwe-rate", client)


async def issue_nonce(services: Services, client: str | None = None) -> Challenge:
    """A new nonce for ``client``, the ``api.core.ratelimit.client_key`` of who asks.

    Without ``client`` (callers inside the service, tests) only the cap on pending
    nonces applies. Raises ``RateLimited`` over either limit."""
    settings = services.settings
    now = datetime.now(UTC).replace(microsecond=0)
    limits = [
        int(NONCE_TTL.total_seconds()),
        settings.nonce_max_pending,
        settings.nonce_per_minute / 60,
        settings.nonce_burst,
    ]
    bucket = [] if client is None else [bucket_key(services, client)]
    while True:
        nonce = siwe.generate_nonce()
        keys = [_key(services, nonce), _pending_key(services), *bucket]
        with session_store("issuing a sign-in nonce"):
            answer = await _ISSUE(services.redis, keys, [nonce, *limits])
        status, wait = (int(v) for v in answer)
        if status != _TAKEN:
            break
    if status == _CLIENT_LIMIT:
        SIGN_IN_NONCES.labels("client_limit").inc()
        raise RateLimited(
            f"too many sign-in nonces requested from your address (at most "
            f"{settings.nonce_burst} at once, then {settings.nonce_per_minute} a minute);"
            f" retry in {wait} s",
            wait,
        )
    if status == _PENDING_LIMIT:
        SIGN_IN_NONCES.labels("pending_limit").inc()
        raise RateLimited(
            f"too many sign-ins are in progress on this service; retry in {wait} s", wait
        )
    SIGN_IN_NONCES.labels("issued").inc()
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
    with session_store("signing in"):
        return bool(await services.redis.exists(_key(services, nonce)))


async def consume_nonce(services: Services, nonce: str) -> bool:
    """Use ``nonce`` up; True for exactly one caller even when many race for it."""
    with session_store("signing in"):
        async with services.redis.pipeline(transaction=True) as pipe:
            pipe.delete(_key(services, nonce))
            pipe.zrem(_pending_key(services), nonce)  # a used nonce no longer counts
            deleted, _ = await pipe.execute()
    return deleted == 1
