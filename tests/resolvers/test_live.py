"""``networkUpdates``: a tick published on Redis reaches a subscriber of another server
process (graphql-transport-ws)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from api.core.services import Services
from api.core.settings import Settings
from api.stats.ticks import publish_tick, rollups_channel
from api.stats.windows import MINUTE
from auth.sessions import COOKIE_NAME
from tests.support.graphql_ws import subscribed
from tests.support.services import running_server
from tests.support.stats_fixtures import TICK
from tests.support.stats_scenario import load, scenario
from tests.support.stats_server import server_process
from tests.support.wallet import error_codes, graphql, new_account, register, session_token

SUBSCRIPTION = "subscription { networkUpdates { asOf currentStreams precision } }"


async def _next(ws: websockets.ClientConnection) -> dict:
    message = json.loads(await ws.recv())
    assert message["type"] == "next", message
    return message["payload"]["data"]["networkUpdates"]


async def test_ticks_reach_subscribers_of_other_processes(
    services: Services, settings: Settings
) -> None:
    await load(services.db, scenario(), TICK)
    with server_process(settings) as url:
        async with subscribed(url, SUBSCRIPTION) as ws:
            first = await _next(ws)  # the figures now, whatever the tick
            assert first["precision"] in ("COARSENED", "SUPPRESSED")
            # The server process follows the channel once it has subscribed to it.
            while (await services.redis.pubsub_numsub(rollups_channel(services)))[0][1] < 1:
                pass
            await publish_tick(services, TICK)
            update = await _next(ws)
            while update["asOf"] != TICK.isoformat():
                update = await _next(ws)
            assert update == {
                "asOf": "2024-05-01T12:00:00+00:00",
                "currentStreams": 24,
                "precision": "COARSENED",
            }


# --- Credentials that end under an open subscription (auth.watch) --------------------
#
# The WebSocket is held by a server process of its own; signOut and revokeApiToken go to
# another server, as behind a load balancer. The tick is published before the process
# starts, so nothing but the credential's end can make it send anything more.

SIGN_OUT = "mutation { signOut }"
CREATE_TOKEN = 'mutation { createApiToken(name: "live", scopes: [READ]) { token apiToken { id } } }'
REVOKE_TOKEN = "mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }"
# Only bounds a test that would otherwise hang: an announced end arrives at once, while
# without the announcement nothing would come before the next tick (never, here).
DEADLINE = 10


@contextlib.asynccontextmanager
async def _other_server(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        running_server(settings, workers=[]) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        yield http


async def _read_token(settings: Settings, session: str) -> dict:
    """A new READ token of the signed-in orchestrator: {token, apiToken {id}}."""
    async with _other_server(settings) as http:
        created = (await graphql(http, CREATE_TOKEN, token=session)).json()["data"]
    return created["createApiToken"]


async def _ended(ws: websockets.ClientConnection) -> list[str]:
    """Read operation 1 to its end (any further figures fail); the error codes it
    ended with."""
    async with asyncio.timeout(DEADLINE):
        message = json.loads(await ws.recv())
        assert message["type"] == "next", message
        assert message["payload"]["data"] is None, message  # no figures, only the error
        assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}
    return error_codes(message["payload"])


async def _refused(ws: websockets.ClientConnection) -> list[str]:
    """Operation 2, started on the same connection after its credential ended."""
    await ws.send(json.dumps({"id": "2", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}))
    message = json.loads(await ws.recv())
    assert message["type"] == "error" and message["id"] == "2", message
    return error_codes({"errors": message["payload"]})


@pytest.fixture
async def signed_in(services: Services, settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """(session token, URL of the process to subscribe to), figures loaded, tick set."""
    await load(services.db, scenario(), TICK)
    await publish_tick(services, TICK)
    account = new_account()
    await register(services.db, account.address)
    async with _other_server(settings) as http:
        session = await session_token(http, account)
    with server_process(settings) as url:
        yield session, url


async def test_signing_out_ends_the_subscription_of_the_session(
    settings: Settings, signed_in: tuple[str, str]
) -> None:
    session, url = signed_in
    # The explorer's way: the session cookie, sent with the handshake.
    async with subscribed(url, SUBSCRIPTION, {"Cookie": f"{COOKIE_NAME}={session}"}) as ws:
        first = await _next(ws)
        assert (first["asOf"], first["precision"]) == (TICK.isoformat(), "EXACT")
        async with _other_server(settings) as http:
            signed_out = await graphql(http, SIGN_OUT, token=session)
        assert signed_out.json() == {"data": {"signOut": True}}
        assert await _ended(ws) == ["UNAUTHENTICATED"]
        assert await _refused(ws) == ["UNAUTHENTICATED"]


async def test_revoking_the_token_ends_its_subscription(
    settings: Settings, signed_in: tuple[str, str]
) -> None:
    session, url = signed_in
    token = await _read_token(settings, session)
    async with subscribed(url, SUBSCRIPTION, {"Authorization": f"Bearer {token['token']}"}) as ws:
        assert (await _next(ws))["precision"] == "EXACT"
        async with _other_server(settings) as http:
            revoked = await graphql(
                http, REVOKE_TOKEN, {"id": token["apiToken"]["id"]}, token=session
            )
        assert revoked.json()["data"]["revokeApiToken"]["revokedAt"] is not None
        assert await _ended(ws) == ["UNAUTHENTICATED"]
        assert await _refused(ws) == ["UNAUTHENTICATED"]


async def test_an_end_nobody_announced_is_caught_before_the_next_push(
    services: Services, settings: Settings, signed_in: tuple[str, str]
) -> None:
    session, url = signed_in
    token = await _read_token(settings, session)
    async with subscribed(url, SUBSCRIPTION, {"Authorization": f"Bearer {token['token']}"}) as ws:
        assert (await _next(ws))["precision"] == "EXACT"
        # deleteMyData removes tokens without announcing anything.
        await services.db.execute(
            "DELETE FROM api_tokens WHERE id = $1", int(token["apiToken"]["id"])
        )
        # The server process follows the channel once it has subscribed to it.
        while (await services.redis.pubsub_numsub(rollups_channel(services)))[0][1] < 1:
            pass
        await publish_tick(services, TICK + MINUTE)
        assert await _ended(ws) == ["UNAUTHENTICATED"]


async def test_anonymous_subscriptions_run_on(
    services: Services, settings: Settings, signed_in: tuple[str, str]
) -> None:
    session, url = signed_in
    async with (
        subscribed(url, SUBSCRIPTION) as anonymous,
        subscribed(url, SUBSCRIPTION, {"Authorization": f"Bearer {session}"}) as signed,
    ):
        assert (await _next(anonymous))["precision"] == "COARSENED"
        assert (await _next(signed))["precision"] == "EXACT"
        async with _other_server(settings) as http:
            await graphql(http, SIGN_OUT, token=session)
        assert await _ended(signed) == ["UNAUTHENTICATED"]
        # The anonymous one gets the next tick, as before.
        while (await services.redis.pubsub_numsub(rollups_channel(services)))[0][1] < 1:
            pass
        await publish_tick(services, TICK + MINUTE)
        update = await _next(anonymous)
        assert (update["asOf"], update["precision"]) == (
            (TICK + MINUTE).isoformat(),
            "COARSENED",
        )
