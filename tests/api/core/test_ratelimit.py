"""The shared Redis token bucket and the client keys buckets are filed under."""

from __future__ import annotations

import secrets

import pytest
from starlette.requests import HTTPConnection

from api.core.ratelimit import Script, client_key
from api.core.services import Services

SECRET = b"test-secret"

# Takes ARGV[3] tokens from the bucket KEYS[1] (rate ARGV[1]/s, burst ARGV[2]), or
# answers how many seconds to wait.
_TAKE = """
local now = clock()
local rate, burst, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = bucket_level(KEYS[1], rate, burst, now)
if cost > tokens then return bucket_wait(cost, tokens, rate) end
bucket_take(KEYS[1], tokens - cost, rate, burst, now)
return 0
"""


def connection(host: str | None) -> HTTPConnection:
    client = None if host is None else (host, 50000)
    return HTTPConnection({"type": "http", "client": client, "headers": []})


async def test_bucket_allows_its_burst_then_says_how_long_to_wait(services: Services) -> None:
    take = Script(_TAKE)
    key = services.key("test-bucket")
    # 1 token a minute, burst 3.
    results = [await take(services.redis, [key], [1 / 60, 3, 1]) for _ in range(4)]
    assert results[:3] == [0, 0, 0]
    assert 1 <= results[3] <= 60
    # The bucket disappears once it would be full again (plus a margin).
    assert 0 < await services.redis.ttl(key) <= 3 * 60 + 60


async def test_a_script_unknown_to_redis_is_loaded_on_first_use(services: Services) -> None:
    # A body no Redis has seen yet: the first call cannot find it by its SHA-1.
    script = Script(_TAKE + f"-- {secrets.token_hex(8)}\n")
    assert not (await services.redis.script_exists(script.sha))[0]
    assert await script(services.redis, [services.key("test-bucket")], [1, 5, 1]) == 0
    assert (await services.redis.script_exists(script.sha))[0]


def test_client_key_is_a_keyed_hash_without_the_address() -> None:
    key = client_key(SECRET, connection("203.0.113.7"))
    assert len(key) == 32 and set(key) <= set("0123456789abcdef")
    assert key == client_key(SECRET, connection("203.0.113.7"))
    assert key != client_key(SECRET, connection("203.0.113.8"))
    # Without the secret nobody can compute (or test guesses against) the key.
    assert key != client_key(b"another secret", connection("203.0.113.7"))


@pytest.mark.parametrize(
    ("one", "other", "same"),
    [
        # A host usually holds a whole IPv6 /64: it gets one bucket, not 2**64.
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", True),
        ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
        # An IPv4 client seen through an IPv6 socket is still the IPv4 client.
        ("::ffff:198.51.100.4", "198.51.100.4", True),
        ("198.51.100.4", "198.51.100.5", False),
    ],
)
def test_client_key_groups_addresses_of_one_client(one: str, other: str, same: bool) -> None:
    assert (client_key(SECRET, connection(one)) == client_key(SECRET, connection(other))) is same


def test_clients_without_an_address_share_one_key() -> None:
    assert client_key(SECRET, connection(None)) == client_key(SECRET, connection(None))
    assert client_key(SECRET, connection(None)) != client_key(SECRET, connection("127.0.0.1"))
