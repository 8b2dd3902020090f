"""Token buckets in Redis, shared by every API process, and the keys they are filed under.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens per second; a
request takes its cost or is refused. A bucket is a Redis hash ``{tokens, at}`` that
expires once it would be full again, so idle callers cost nothing. The clock is
Redis's, the same for all processes.

The bucket is Lua, not Python, so that one script can check it together with whatever
else a caller limits (ingest's active series, the pending-nonce cap) and then take
from it or not, atomically: ``Script`` prepends ``BUCKET`` to a caller's script body,
which uses these functions:

* ``clock()``: Redis's time in seconds;
* ``bucket_level(key, rate, burst, now)``: the tokens in the bucket now;
* ``bucket_wait(need, tokens, rate)``: whole seconds until ``need`` tokens are there;
* ``bucket_take(key, left, rate, burst, now)``: store what is left after a take.

``client_key`` names the bucket of an HTTP client without storing its address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import redis.exceptions
from starlette.requests import HTTPConnection

BUCKET = """
local function clock()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1e6
end

local function bucket_level(key, rate, burst, now)
  local bucket = redis.call('HMGET', key, 'tokens', 'at')
  local tokens = tonumber(bucket[1]) or burst
  local at = tonumber(bucket[2]) or now
  return math.min(burst, tokens + math.max(0, now - at) * rate)
end

local function bucket_wait(need, tokens, rate)
  return math.max(1, math.ceil((need - tokens) / rate))
end

local function bucket_take(key, left, rate, burst, now)
  redis.call('HSET', key, 'tokens', tostring(left), 'at', tostring(now))
  redis.call('EXPIRE', key, math.ceil(burst / rate) + 60)
end
"""

IPV6_PREFIX = 64
"""IPv6 clients are limited per /64: one host usually holds a whole /64, so limiting
single addresses would give it 2**64 buckets."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a limit refused a request, and when trying again can succeed."""

    reason: str
    retry_after: int
    message: str


class Script:
    """A Lua script body using the ``BUCKET`` functions, run by its SHA-1 on any Redis
    client (loaded on first use per server)."""

    def __init__(self, body: str) -> None:
        self.source = BUCKET + body
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def __call__(
        self, client: aioredis.Redis, keys: Sequence[str], args: Sequence[object]
    ) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except redis.exceptions.NoScriptError:
            # EVAL caches the script too: the next EVALSHA finds it.
            return await client.eval(self.source, len(keys), *keys, *args)


def client_key(secret: bytes, connection: HTTPConnection) -> str:
    """A keyed hash naming the client of ``connection``, for rate-limit keys.

    Client addresses are never stored, not even in Redis: only this HMAC, which nobody
    without the server's secret can link back to an address. The address is what the
    server saw, or, behind a reverse proxy uvicorn trusts (``--forwarded-allow-ips``),
    the one the proxy reports. Clients without an address (a Unix socket without proxy
    headers) share one key."""
    host = connection.client.host if connection.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host
    else:
        if isinstance(address, ipaddress.IPv6Address):
            if address.ipv4_mapped is not None:
                name = str(address.ipv4_mapped)
            else:
                name = str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
        else:
            name = str(address)
    mac = hmac.new(secret, b"rate-limit-client\0" + name.encode(), hashlib.sha256)
    # 128 bits: collisions between clients are out of reach, keys stay short.
    return mac.hexdigest()[:32]
