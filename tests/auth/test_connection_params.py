"""Credentials in graphql-transport-ws's ``connection_init`` payload (the browser's
way across sites): checked as the Authorization header is, refused with 4403, and
followed while the subscription runs. Every frame is text."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from api.core.errors import Unauthenticated
from api.core.services import Services
from api.core.settings import Settings
from api.stats.ticks import publish_tick
from auth.connection_params import authorization_param
from tests.support.graphql_ws import subscribed
from tests.support.services import running_server
from tests.support.stats_fixtures import TICK
from tests.support.stats_scenario import load, scenario
from tests.support.wallet import ORIGIN, error_codes, graphql, new_account, register, session_token

SUBSCRIPTION = "subscription { networkUpdates { asOf precision } }"
CREATE_TOKEN = 'mutation { createApiToken(name: "ws", scopes: [READ]) { token apiToken { id } } }'
INGEST_TOKEN = 'mutation { createApiToken(name: "in", scopes: [INGEST]) { token } }'
SIGN_OUT = "mutation { signOut }"
DEADLINE = 10  # bounds a test that would otherwise hang


def test_the_key_is_case_insensitive() -> None:
    assert authorization_param({"authorization": "Bearer a"}) == "Bearer a"
    assert authorization_param({"Authorization": "Bearer b"}) == "Bearer b"
    assert authorization_param({"AUTHORIZATION": "Bearer c", "other": 1}) == "Bearer c"
    assert authorization_param({}) is None
    with pytest.raises(Unauthenticated):
        authorization_param({"authorization": 42})


@pytest.fixture
async def server(services: Services, settings: Settings) -> tuple[str, str]:
    """(server URL, session token of a registered orchestrator), figures loaded."""
    await load(services.db, scenario(), TICK)
    await publish_tick(services, TICK)
    account = new_account()
    await register(services.db, account.address)
    async with running_server(settings, workers=[]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            session = await session_token(http, account)
        yield url, session


async def _first(ws: websockets.ClientConnection) -> dict:
    frame = await ws.recv()
    assert isinstance(frame, str), "binary frame"
    message = json.loads(frame)
    assert message["type"] == "next", message
    return message["payload"]["data"]["networkUpdates"]


async def _closed_with(url: str, params: dict[str, object], origin: str = ORIGIN) -> tuple:
    async with websockets.connect(
        url.replace("http", "ws", 1) + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        origin=origin,  # type: ignore[arg-type]
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": params}))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            async with asyncio.timeout(DEADLINE):
                await ws.recv()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_session_and_api_tokens_in_the_payload_are_exact(server: tuple[str, str]) -> None:
    url, session = server
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        token = (await graphql(http, CREATE_TOKEN, token=session)).json()["data"]
    api_token = token["createApiToken"]["token"]
    for params in (
        {"authorization": f"Bearer {session}"},
        {"Authorization": f"Bearer {api_token}"},
    ):
        async with subscribed(url, SUBSCRIPTION, params=params) as ws:
            assert (await _first(ws))["precision"] == "EXACT"
    async with subscribed(url, SUBSCRIPTION, params={}) as ws:
        assert (await _first(ws))["precision"] == "COARSENED"


async def test_the_payload_replaces_the_handshake_credential(server: tuple[str, str]) -> None:
    url, session = server
    headers = {"Authorization": f"Bearer {session}"}
    code, _ = await _closed_with(url, {"authorization": "Bearer lpm_nonsense"})
    assert code == 4403
    async with subscribed(url, SUBSCRIPTION, headers, {"authorization": f"Bearer {session}"}) as ws:
        assert (await _first(ws))["precision"] == "EXACT"


async def test_refused_credentials_close_with_4403(server: tuple[str, str]) -> None:
    url, session = server
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        ingest = (await graphql(http, INGEST_TOKEN, token=session)).json()["data"]
        await graphql(http, SIGN_OUT, token=session)
    for params, words in (
        ({"authorization": "Bearer lpm_nonsense"}, "unknown or revoked"),
        ({"authorization": f"Bearer {session}"}, "session has ended"),
        ({"authorization": f"Bearer {ingest['createApiToken']['token']}"}, "no READ scope"),
        ({"authorization": "Basic dXNlcjpwdw=="}, "must be 'Bearer <token>'"),
        ({"authorization": ["Bearer x"]}, "must be 'Bearer <token>'"),
    ):
        code, reason = await _closed_with(url, params)
        assert code == 4403, params
        assert reason.startswith("Forbidden: ") and words in reason, reason


async def test_an_origin_not_allowed_cannot_connect(server: tuple[str, str]) -> None:
    url, session = server
    with pytest.raises(websockets.InvalidStatus) as refused:
        await _closed_with(url, {"authorization": f"Bearer {session}"}, "https://evil.test")
    assert refused.value.response.status_code == 403


async def test_signing_out_ends_a_subscription_signed_in_by_payload(
    server: tuple[str, str],
) -> None:
    url, session = server
    async with subscribed(url, SUBSCRIPTION, params={"authorization": f"Bearer {session}"}) as ws:
        assert (await _first(ws))["precision"] == "EXACT"
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            assert (await graphql(http, SIGN_OUT, token=session)).json()["data"]["signOut"]
        async with asyncio.timeout(DEADLINE):
            ended = json.loads(await ws.recv())
            assert json.loads(await ws.recv()) == {"id": "1", "type": "complete"}
        assert error_codes(ended["payload"]) == ["UNAUTHENTICATED"]
