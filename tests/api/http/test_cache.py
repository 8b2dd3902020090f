"""The response cache: served without GraphQL within a tick, shared through Redis,
dropped when the tick moves; signed-in answers only where they are the same for every
caller of the view class, never answers about the caller, never mutations."""

from __future__ import annotations

import httpx

from api.core.services import Services
from api.http import cache
from tests.support.rollup_rows import at
from tests.support.stats_fixtures import TICK, forget_process_state, graphql, pin, signed_in
from tests.support.stats_scenario import Loaded

QUERY = {"query": "{ network { asOf currentStreams precision } }"}


async def test_repeated_anonymous_queries_are_cached(
    scripted: Loaded, as_anonymous: httpx.AsyncClient
) -> None:
    first = await as_anonymous.post("/graphql", json=QUERY)
    assert "x-lpm-cache" not in first.headers
    second = await as_anonymous.post("/graphql", json=QUERY)
    assert second.headers["x-lpm-cache"] == "hit"
    assert second.content == first.content
    assert second.headers["content-type"] == first.headers["content-type"]
    # GET is cached on its own.
    got = await as_anonymous.get("/graphql", params=QUERY)
    assert "x-lpm-cache" not in got.headers
    again = await as_anonymous.get("/graphql", params=QUERY)
    assert again.headers["x-lpm-cache"] == "hit"
    assert again.json() == first.json()


async def test_shared_through_redis(
    services: Services, scripted: Loaded, as_anonymous: httpx.AsyncClient
) -> None:
    first = await as_anonymous.post("/graphql", json=QUERY)
    keys = [k async for k in services.redis.scan_iter(match=services.key("gqlcache", "*"))]
    assert len(keys) == 1 and b"20240501T1200" in keys[0]
    # Another process: nothing in its memory, the tick from the rollup channel.
    forget_process_state()
    await pin(services)
    second = await as_anonymous.post("/graphql", json=QUERY)
    assert second.headers["x-lpm-cache"] == "hit"
    assert second.content == first.content


async def test_a_new_tick_is_answered_anew(
    services: Services, scripted: Loaded, as_anonymous: httpx.AsyncClient
) -> None:
    before = (await as_anonymous.post("/graphql", json=QUERY)).json()
    assert before["data"]["network"]["asOf"] == "2024-05-01T12:00:00+00:00"
    await pin(services, at(TICK, 1))
    after = await as_anonymous.post("/graphql", json=QUERY)
    assert "x-lpm-cache" not in after.headers
    assert after.json()["data"]["network"]["asOf"] == "2024-05-01T12:01:00+00:00"


async def _cache_keys(services: Services) -> list[bytes]:
    return [k async for k in services.redis.scan_iter(match=services.key("gqlcache", "*"))]


async def test_signed_in_callers_share_answers_that_are_the_same_for_everyone(
    services: Services, scripted: Loaded, quiet_url: str, as_anonymous: httpx.AsyncClient
) -> None:
    public = await as_anonymous.post("/graphql", json=QUERY)
    exact = {"asOf": "2024-05-01T12:00:00+00:00", "currentStreams": 22, "precision": "EXACT"}
    async with (
        await signed_in(services, quiet_url, "A") as as_a,
        await signed_in(services, quiet_url, "B") as as_b,
    ):
        first = await as_a.post("/graphql", json=QUERY)
        assert "x-lpm-cache" not in first.headers
        assert first.json()["data"]["network"] == exact
        # Another orchestrator, the same precise view: computed once for both.
        second = await as_b.post("/graphql", json=QUERY)
        assert second.headers["x-lpm-cache"] == "hit"
        assert second.content == first.content
    # The public answer is its own entry, never the precise one.
    again = await as_anonymous.post("/graphql", json=QUERY)
    assert again.headers["x-lpm-cache"] == "hit"
    assert again.content == public.content != first.content
    assert len(await _cache_keys(services)) == 2


async def test_answers_about_the_caller_are_never_shared(
    services: Services, scripted: Loaded, quiet_url: str
) -> None:
    documents = [
        "{ viewer { address } network { asOf } }",
        "{ access { precise reason } }",
        '{ orchestrator(address: "%s") { address } }',
        "query Q { ...Me } fragment Me on Query { viewer { nodes { name } } }",
    ]
    async with (
        await signed_in(services, quiet_url, "A") as as_a,
        await signed_in(services, quiet_url, "B") as as_b,
    ):
        a_address = (await graphql(as_a, "{ viewer { address } }"))["viewer"]["address"]
        for document in documents:
            query = {"query": document.replace("%s", a_address)}
            for http in (as_a, as_a, as_b):
                response = await http.post("/graphql", json=query)
                assert response.status_code == 200, response.text
                assert "x-lpm-cache" not in response.headers, document
        b = await graphql(as_b, "{ viewer { address } network { asOf } }")
        assert b["viewer"]["address"] != a_address
    assert await _cache_keys(services) == []


async def test_mutations_and_errors_are_not_cached(as_anonymous: httpx.AsyncClient) -> None:
    nonce = {"query": "mutation { requestNonce { nonce } }"}
    first = await graphql(as_anonymous, nonce["query"])
    second = await as_anonymous.post("/graphql", json=nonce)
    assert "x-lpm-cache" not in second.headers
    assert second.json()["data"]["requestNonce"]["nonce"] != first["requestNonce"]["nonce"]
    bad = {"query": '{ region(level: COUNTRY, code: "ZZ") { code } }'}
    await as_anonymous.post("/graphql", json=bad)
    assert "x-lpm-cache" not in (await as_anonymous.post("/graphql", json=bad)).headers


def test_request_keys() -> None:
    assert cache.request_key("POST", b"a") != cache.request_key("GET", b"a")
    assert cache.request_key("POST", b"a") == cache.request_key("POST", b"a")
