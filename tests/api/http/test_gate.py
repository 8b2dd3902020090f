"""The /graphql gate over real HTTP and WebSocket: refusals are GraphQL-shaped, carry
the right status and code, and good credentials reach the resolvers."""

import json

import asyncpg
import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from api.core.services import Services
from api.core.settings import Settings
from auth import tokens
from auth.sessions import COOKIE_NAME, create_session, end_session, session_id
from auth.tokens import create_token
from tests.support.proxy import proxied
from tests.support.services import running_server
from tests.support.wallet import ORIGIN, error_codes, graphql, new_account, register

VIEWER = "{ viewer { role address authenticatedBy } }"


@pytest.fixture
async def address(services: Services) -> str:
    account = new_account()
    await register(services.db, account.address)
    return account.address.lower()


async def test_anonymous_callers_pass(client: httpx.AsyncClient) -> None:
    response = await graphql(client, VIEWER)
    assert response.status_code == 200
    assert response.json()["data"]["viewer"] == {
        "role": "ANONYMOUS",
        "address": None,
        "authenticatedBy": None,
    }


@pytest.mark.parametrize(
    ("authorization", "complaint"),
    [
        ("Bearer lpms_nosuchsession", "session has ended or expired"),
        ("Bearer not-a-token-at-all", "unknown or revoked"),
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
        ("Bearer", "must be 'Bearer <token>'"),
    ],
)
async def test_bad_bearers_get_401_with_a_graphql_error(
    client: httpx.AsyncClient, authorization: str, complaint: str
) -> None:
    response = await graphql(client, VIEWER, headers={"Authorization": authorization})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    body = response.json()
    assert "data" not in body
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert complaint in body["errors"][0]["message"]


async def test_an_ended_session_is_refused(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    response = await graphql(client, VIEWER, token=session.token)
    assert response.json()["data"]["viewer"]["address"] == address
    await end_session(services, session_id(session.token))
    response = await graphql(client, VIEWER, token=session.token)
    assert response.status_code == 401
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]


async def test_the_cookie_works_from_allowed_origins(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    cookie = f"{COOKIE_NAME}={session.token}"
    for origin in (ORIGIN, str(client.base_url)):
        response = await graphql(client, VIEWER, headers={"Cookie": cookie, "Origin": origin})
        assert response.json()["data"]["viewer"] == {
            "role": "ORCHESTRATOR",
            "address": address,
            "authenticatedBy": "SESSION",
        }
    response = await client.get(
        "/graphql",
        params={"query": VIEWER},
        headers={"Cookie": cookie, "Accept": "application/json"},
    )
    assert response.json()["data"]["viewer"]["address"] == address


async def test_the_cookie_from_a_foreign_origin_is_refused(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    headers = {"Cookie": f"{COOKIE_NAME}={session.token}", "Origin": "https://evil.test"}
    response = await graphql(client, VIEWER, headers=headers)
    assert response.status_code == 403
    body = response.json()
    assert error_codes(body) == ["FORBIDDEN"]
    assert "LPM_CORS_ORIGINS" in body["errors"][0]["message"]
    assert "access-control-allow-origin" not in response.headers


async def test_a_cookie_post_without_origin_is_refused(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    response = await graphql(client, VIEWER, headers={"Cookie": f"{COOKIE_NAME}={session.token}"})
    assert response.status_code == 403
    assert error_codes(response.json()) == ["FORBIDDEN"]


async def test_a_cross_site_navigation_is_served_anonymously(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    response = await client.get(
        "/graphql",
        params={"query": VIEWER},
        headers={
            "Cookie": f"{COOKIE_NAME}={session.token}",
            "Sec-Fetch-Site": "cross-site",
            "Accept": "application/json",
        },
    )
    assert response.json()["data"]["viewer"]["role"] == "ANONYMOUS"
    assert "set-cookie" not in response.headers  # the session is fine; it stays


async def test_an_ended_session_cookie_is_served_anonymously_and_removed(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    await end_session(services, session_id(session.token))
    response = await graphql(
        client, VIEWER, headers={"Cookie": f"{COOKIE_NAME}={session.token}", "Origin": ORIGIN}
    )
    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["role"] == "ANONYMOUS"
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(f'{COOKIE_NAME}="";') and "Max-Age=0" in cleared


async def test_a_bearer_wins_over_a_cookie(
    client: httpx.AsyncClient, services: Services, address: str
) -> None:
    other = new_account()
    await register(services.db, other.address)
    mine = await create_session(services, address)
    theirs = await create_session(services, other.address.lower())
    response = await graphql(
        client,
        VIEWER,
        token=mine.token,
        headers={"Cookie": f"{COOKIE_NAME}={theirs.token}", "Origin": "https://evil.test"},
    )
    assert response.json()["data"]["viewer"]["address"] == address


async def test_errors_reach_allowed_origins_with_cors_headers(client: httpx.AsyncClient) -> None:
    response = await graphql(client, VIEWER, token="lpms_gone", headers={"Origin": ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == ORIGIN


def _ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/graphql"


async def _ws_viewer(base_url: str, headers: dict[str, str], origin: str | None = None) -> dict:
    async with websockets.connect(
        _ws_url(base_url),
        subprotocols=["graphql-transport-ws"],
        additional_headers=headers,
        origin=origin,
    ) as ws:
        await ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": VIEWER}}))
        return json.loads(await ws.recv())["payload"]["data"]["viewer"]


async def test_websockets_authenticate_like_http(
    base_url: str, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    viewer = await _ws_viewer(base_url, {"Authorization": f"Bearer {session.token}"})
    assert viewer["address"] == address
    cookie = {"Cookie": f"{COOKIE_NAME}={session.token}"}
    assert (await _ws_viewer(base_url, cookie, origin=ORIGIN))["address"] == address
    assert (await _ws_viewer(base_url, {}))["role"] == "ANONYMOUS"


async def test_websockets_with_bad_credentials_are_refused(
    base_url: str, services: Services, address: str
) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await _ws_viewer(base_url, {"Authorization": "Bearer lpms_gone"})
    assert refused.value.response.status_code == 401
    assert error_codes(json.loads(refused.value.response.body)) == ["UNAUTHENTICATED"]

    session = await create_session(services, address)
    with pytest.raises(InvalidStatus) as refused:
        await _ws_viewer(
            base_url, {"Cookie": f"{COOKIE_NAME}={session.token}"}, origin="https://evil.test"
        )
    assert refused.value.response.status_code == 403


async def test_websockets_from_foreign_origins_are_refused(base_url: str) -> None:
    with pytest.raises(InvalidStatus) as refused:
        await _ws_viewer(base_url, {}, origin="https://evil.test")
    assert refused.value.response.status_code == 403


async def test_storage_down_is_a_503_not_a_traceback(
    settings: Settings, services: Services, address: str
) -> None:
    session = await create_session(services, address)
    async with proxied(settings.redis_url) as (redis_proxy, redis_url):
        app_settings = settings.model_copy(update={"redis_url": redis_url})
        async with running_server(app_settings) as url, httpx.AsyncClient(base_url=url) as http:
            await redis_proxy.cut()
            response = await graphql(http, VIEWER, token=session.token)
            assert response.status_code == 503
            assert error_codes(response.json()) == ["SERVICE_UNAVAILABLE"]
            assert response.headers["retry-after"]


async def test_a_connection_cut_mid_message_is_a_503_too(
    settings: Settings, services: Services, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A PostgreSQL crash can cut a reply in the middle: asyncpg reports a protocol
    # error of its own (not a PostgresError), which must still read as "unavailable".
    _, token = await create_token(services.db, address, "script", ["read"])

    async def cut(*_: object, **__: object) -> None:
        raise asyncpg.exceptions.ProtocolError("unexpected end of message")

    monkeypatch.setattr(tokens, "verify_token", cut)
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url) as http:
        response = await graphql(http, VIEWER, token=token)
    assert response.status_code == 503
    assert error_codes(response.json()) == ["SERVICE_UNAVAILABLE"]
