"""Sign-in, sessions, API tokens and account mutations end to end: eth-account signs
real SIWE messages, everything goes over real HTTP to the running server."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from api.core.services import Services
from api.core.settings import Settings
from auth.sessions import COOKIE_NAME
from tests.support.remote_write_bodies import V1_HEADERS, livepeer_series, v1_body
from tests.support.services import running_server
from tests.support.wallet import (
    ORIGIN,
    SIGN_IN,
    error_codes,
    graphql,
    new_account,
    register,
    request_nonce,
    session_token,
    sign,
    sign_in,
    siwe_message,
)

VIEWER = "{ viewer { role address authenticatedBy precise } }"
CREATE_TOKEN = """
mutation($name: String!, $scopes: [TokenScope!]!) {
  createApiToken(name: $name, scopes: $scopes) { token apiToken { id name scopes revokedAt } }
}
"""
REVOKE_TOKEN = "mutation($id: ID!) { revokeApiToken(id: $id) { id revokedAt } }"
TOKENS = "{ viewer { tokens { id name scopes createdAt lastUsedAt revokedAt } } }"


@pytest.fixture
async def orchestrator(services: Services) -> LocalAccount:
    account = new_account()
    await register(services.db, account.address)
    return account


async def test_a_script_signs_in_creates_a_read_token_and_reads_as_its_orchestrator(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    response = await sign_in(client, orchestrator)
    assert response.status_code == 200
    signed_in = response.json()["data"]["signIn"]
    address = orchestrator.address.lower()
    assert signed_in["viewer"] == {
        "role": "ORCHESTRATOR",
        "address": address,
        "authenticatedBy": "SESSION",
        "precise": True,
        "downgraded": None,
    }
    session = signed_in["token"]

    created = await graphql(
        client, CREATE_TOKEN, {"name": "my script", "scopes": ["READ"]}, token=session
    )
    payload = created.json()["data"]["createApiToken"]
    assert payload["apiToken"]["scopes"] == ["READ"] and payload["apiToken"]["revokedAt"] is None
    read_token = payload["token"]

    # A fresh client: nothing but the API token.
    async with httpx.AsyncClient(base_url=str(client.base_url)) as script:
        viewer = (await graphql(script, VIEWER, token=read_token)).json()["data"]["viewer"]
    assert viewer == {
        "role": "ORCHESTRATOR",
        "address": address,
        "authenticatedBy": "TOKEN",
        "precise": True,
    }


async def test_sign_in_sets_an_httponly_secure_cookie(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    response = await sign_in(client, orchestrator)
    token = response.json()["data"]["signIn"]["token"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}={token};")
    for attribute in ("HttpOnly", "Secure", "SameSite=none", "Path=/"):
        assert attribute in cookie
    viewer = await graphql(
        client, VIEWER, headers={"Cookie": f"{COOKIE_NAME}={token}", "Origin": ORIGIN}
    )
    assert viewer.json()["data"]["viewer"]["address"] == orchestrator.address.lower()


async def test_a_non_orchestrator_is_told_so(client: httpx.AsyncClient) -> None:
    response = await sign_in(client, new_account())
    body = response.json()
    assert error_codes(body) == ["FORBIDDEN"]
    assert "not a registered orchestrator" in body["errors"][0]["message"]
    assert body["data"] is None
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"domain": "evil.test"}, "UNAUTHENTICATED"),
        ({"uri": "https://evil.test"}, "UNAUTHENTICATED"),
        ({"chain_id": 1}, "UNAUTHENTICATED"),
        # Times are offsets from when the test runs, not from when it was collected.
        ({"expiration_time": timedelta(minutes=-1)}, "UNAUTHENTICATED"),
        ({"not_before": timedelta(minutes=5)}, "UNAUTHENTICATED"),
        ({"issued_at": timedelta(minutes=-11)}, "UNAUTHENTICATED"),
    ],
)
async def test_sign_in_refusals_carry_codes(
    client: httpx.AsyncClient, orchestrator: LocalAccount, change: dict, code: str
) -> None:
    now = datetime.now(UTC)
    change = {k: now + v if isinstance(v, timedelta) else v for k, v in change.items()}
    message = siwe_message(orchestrator.address, await request_nonce(client), **change)
    response = await graphql(
        client, SIGN_IN, {"message": message, "signature": sign(orchestrator, message)}
    )
    assert error_codes(response.json()) == [code]


async def test_replay_and_forgery_over_http(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    message = siwe_message(orchestrator.address, await request_nonce(client))
    signature = sign(orchestrator, message)
    forged = await graphql(
        client, SIGN_IN, {"message": message, "signature": sign(new_account(), message)}
    )
    assert error_codes(forged.json()) == ["UNAUTHENTICATED"]
    first = await graphql(client, SIGN_IN, {"message": message, "signature": signature})
    assert first.json()["data"]["signIn"]["token"]
    replay = await graphql(client, SIGN_IN, {"message": message, "signature": signature})
    assert error_codes(replay.json()) == ["UNAUTHENTICATED"]
    garbage = await graphql(client, SIGN_IN, {"message": "hi", "signature": signature})
    assert error_codes(garbage.json()) == ["BAD_USER_INPUT"]


async def test_the_nonce_rest_twin_works_for_sign_in(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    challenge = (await client.get("/auth/nonce")).json()
    message = siwe_message(orchestrator.address, challenge["nonce"])
    signed = await graphql(
        client, SIGN_IN, {"message": message, "signature": sign(orchestrator, message)}
    )
    assert signed.json()["data"]["signIn"]["viewer"]["role"] == "ORCHESTRATOR"


async def test_request_nonce_payload(client: httpx.AsyncClient) -> None:
    response = await graphql(
        client, "mutation { requestNonce { nonce domain uri chainId issuedAt expirationTime } }"
    )
    payload = response.json()["data"]["requestNonce"]
    assert payload["nonce"].isalnum() and len(payload["nonce"]) >= 8
    assert payload["chainId"] == 42161
    issued = datetime.fromisoformat(payload["issuedAt"])
    assert datetime.fromisoformat(payload["expirationTime"]) - issued == timedelta(minutes=10)


# uvicorn trusts X-Forwarded-For from loopback: the test plays a reverse proxy.
CLIENT_A = {"X-Forwarded-For": "203.0.113.7"}
CLIENT_B = {"X-Forwarded-For": "2001:db8:1:2::7"}
NONCE = "mutation { requestNonce { nonce } }"


async def test_request_nonce_is_limited_per_client(client: httpx.AsyncClient) -> None:
    # The defaults: a burst of 10, then 5 a minute.
    for _ in range(10):
        served = await graphql(client, NONCE, headers=CLIENT_A)
        assert served.json()["data"]["requestNonce"]["nonce"]
    refused = await graphql(client, NONCE, headers=CLIENT_A)
    assert refused.status_code == 200
    body = refused.json()
    assert body["data"] is None
    [error] = body["errors"]
    wait = error["extensions"]["retryAfter"]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfter": wait}
    assert 1 <= wait <= 12
    assert f"retry in {wait} s" in error["message"]
    # The REST twin draws on the same bucket.
    rest = await client.get("/auth/nonce", headers=CLIENT_A)
    assert rest.status_code == 429 and 1 <= int(rest.headers["retry-after"]) <= 12
    # Another client is still served.
    other = await graphql(client, NONCE, headers=CLIENT_B)
    assert other.json()["data"]["requestNonce"]["nonce"]


async def test_sign_in_works_next_to_a_limited_client(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    for _ in range(11):
        await graphql(client, NONCE, headers=CLIENT_A)
    assert error_codes((await graphql(client, NONCE, headers=CLIENT_A)).json()) == ["RATE_LIMITED"]
    nonce = (await graphql(client, NONCE, headers=CLIENT_B)).json()["data"]["requestNonce"]
    message = siwe_message(orchestrator.address, nonce["nonce"])
    signed = await graphql(
        client,
        SIGN_IN,
        {"message": message, "signature": sign(orchestrator, message)},
        headers=CLIENT_B,
    )
    assert signed.json()["data"]["signIn"]["viewer"]["role"] == "ORCHESTRATOR"


async def test_mutations_are_refused_over_get(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    token = await session_token(client, orchestrator)
    response = await client.get(
        "/graphql",
        params={"query": "mutation { signOut }"},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
    )
    assert response.status_code == 400
    assert "mutation" in response.text.lower()
    still = await graphql(client, VIEWER, token=token)
    assert still.json()["data"]["viewer"]["role"] == "ORCHESTRATOR"


async def test_sign_out_ends_the_session(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    token = await session_token(client, orchestrator)
    response = await graphql(client, "mutation { signOut }", token=token)
    assert response.json() == {"data": {"signOut": True}}
    cleared = response.headers["set-cookie"]
    assert cleared.startswith(f'{COOKIE_NAME}="";') and "Max-Age=0" in cleared
    ended = await graphql(client, VIEWER, token=token)
    assert ended.status_code == 401
    assert error_codes(ended.json()) == ["UNAUTHENTICATED"]
    anonymous = await graphql(client, "mutation { signOut }")
    assert anonymous.json() == {"data": {"signOut": False}}


async def test_sign_out_by_cookie(client: httpx.AsyncClient, orchestrator: LocalAccount) -> None:
    token = await session_token(client, orchestrator)
    cookie = {"Cookie": f"{COOKIE_NAME}={token}", "Origin": ORIGIN}
    assert (await graphql(client, "mutation { signOut }", headers=cookie)).json()["data"] == {
        "signOut": True
    }
    after = await graphql(client, VIEWER, headers=cookie)
    assert after.json()["data"]["viewer"]["role"] == "ANONYMOUS"


async def test_tokens_are_listed_without_secrets_and_revocable(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    session = await session_token(client, orchestrator)
    created = (
        await graphql(
            client, CREATE_TOKEN, {"name": "reader", "scopes": ["READ", "READ"]}, token=session
        )
    ).json()["data"]["createApiToken"]
    secret, token_id = created["token"], created["apiToken"]["id"]
    await graphql(client, CREATE_TOKEN, {"name": "prom", "scopes": ["INGEST"]}, token=session)
    await graphql(client, VIEWER, token=secret)  # marks it used

    listed = await graphql(client, TOKENS, token=session)
    assert secret not in listed.text
    tokens = {t["name"]: t for t in listed.json()["data"]["viewer"]["tokens"]}
    assert set(tokens) == {"reader", "prom"}
    assert tokens["reader"]["scopes"] == ["READ"] and tokens["prom"]["scopes"] == ["INGEST"]
    assert tokens["reader"]["lastUsedAt"] is not None and tokens["prom"]["lastUsedAt"] is None

    revoked = await graphql(client, REVOKE_TOKEN, {"id": token_id}, token=session)
    assert revoked.json()["data"]["revokeApiToken"]["revokedAt"] is not None
    refused = await graphql(client, VIEWER, token=secret)
    assert refused.status_code == 401
    assert error_codes(refused.json()) == ["UNAUTHENTICATED"]
    again = await graphql(client, REVOKE_TOKEN, {"id": token_id}, token=session)
    assert error_codes(again.json()) == ["BAD_USER_INPUT"]
    listed = (await graphql(client, TOKENS, token=session)).json()["data"]["viewer"]["tokens"]
    assert {t["name"]: t["revokedAt"] is not None for t in listed} == {
        "reader": True,
        "prom": False,
    }


async def test_an_ingest_token_cannot_read(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    session = await session_token(client, orchestrator)
    created = await graphql(
        client, CREATE_TOKEN, {"name": "prom", "scopes": ["INGEST"]}, token=session
    )
    response = await graphql(
        client, VIEWER, token=created.json()["data"]["createApiToken"]["token"]
    )
    assert response.status_code == 403
    assert error_codes(response.json()) == ["FORBIDDEN"]


async def test_account_mutations_need_a_wallet_session(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    anonymous = await graphql(client, CREATE_TOKEN, {"name": "x", "scopes": ["READ"]})
    assert error_codes(anonymous.json()) == ["UNAUTHENTICATED"]

    session = await session_token(client, orchestrator)
    created = await graphql(client, CREATE_TOKEN, {"name": "r", "scopes": ["READ"]}, token=session)
    read_token = created.json()["data"]["createApiToken"]["token"]
    for query, variables in [
        (CREATE_TOKEN, {"name": "escalate", "scopes": ["INGEST"]}),
        (REVOKE_TOKEN, {"id": "1"}),
        ('mutation { deleteMyData(confirm: "x") { nodes } }', {}),
        ("mutation { setSharing(sharePerNode: true) { sharePerNode } }", {}),
    ]:
        refused = await graphql(client, query, variables, token=read_token)
        assert error_codes(refused.json()) == ["FORBIDDEN"], query


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"name": "", "scopes": ["READ"]}, "1 to 100"),
        ({"name": "x" * 101, "scopes": ["READ"]}, "1 to 100"),
        ({"name": "ok", "scopes": []}, "at least one"),
    ],
)
async def test_create_api_token_validates(
    client: httpx.AsyncClient, orchestrator: LocalAccount, variables: dict, complaint: str
) -> None:
    session = await session_token(client, orchestrator)
    body = (await graphql(client, CREATE_TOKEN, variables, token=session)).json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert complaint in body["errors"][0]["message"]


async def test_nobody_revokes_another_orchestrators_token(
    client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    other = new_account()
    await register(services.db, other.address)
    theirs = await session_token(client, other)
    created = await graphql(client, CREATE_TOKEN, {"name": "t", "scopes": ["READ"]}, token=theirs)
    payload = created.json()["data"]["createApiToken"]

    mine = await session_token(client, orchestrator)
    for token_id in (payload["apiToken"]["id"], "abc", "0", "99999999999999999999"):
        refused = await graphql(client, REVOKE_TOKEN, {"id": token_id}, token=mine)
        assert error_codes(refused.json()) == ["BAD_USER_INPUT"], token_id
    still = await graphql(client, VIEWER, token=payload["token"])
    assert still.json()["data"]["viewer"]["address"] == other.address.lower()


SET_LOCATION = """
mutation($node: ID!, $lat: Float, $lon: Float, $country: String) {
  setNodeLocation(node: $node, latitude: $lat, longitude: $lon, country: $country) {
    id name location { source latitude longitude country continent livepeerRegion }
  }
}
"""


async def _add_node(services: Services, address: str, name: str) -> str:
    node_id = await services.db.fetchval(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, $2) RETURNING id", address, name
    )
    return str(node_id)


async def test_set_node_location_declares_and_clears(
    client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    address = orchestrator.address.lower()
    node = await _add_node(services, address, "orch-fra-1")
    session = await session_token(client, orchestrator)
    response = await graphql(
        client,
        SET_LOCATION,
        {"node": node, "lat": 50.11, "lon": 8.68, "country": "de"},
        token=session,
    )
    assert response.json()["data"]["setNodeLocation"] == {
        "id": node,
        "name": "orch-fra-1",
        "location": {
            "source": "DECLARED",
            "latitude": 50.11,
            "longitude": 8.68,
            "country": "DE",
            "continent": "EU",
            "livepeerRegion": "FRA",
        },
    }
    cleared = await graphql(client, SET_LOCATION, {"node": node}, token=session)
    assert cleared.json()["data"]["setNodeLocation"]["location"] is None


@pytest.mark.parametrize(
    ("variables", "complaint"),
    [
        ({"lat": 91, "lon": 0}, "latitude must be between"),
        ({"lat": 0, "lon": -180.5}, "longitude must be between"),
        ({"lat": 10, "lon": 10, "country": "XX"}, "ISO 3166-1"),
        ({"lat": 10, "lon": 10, "country": "DEU"}, "ISO 3166-1"),
        ({"lat": 10}, "both latitude and longitude"),
        ({"country": "DE"}, "needs latitude and longitude"),
    ],
)
async def test_set_node_location_validates(
    client: httpx.AsyncClient,
    services: Services,
    orchestrator: LocalAccount,
    variables: dict,
    complaint: str,
) -> None:
    node = await _add_node(services, orchestrator.address.lower(), "n1")
    session = await session_token(client, orchestrator)
    body = (await graphql(client, SET_LOCATION, {"node": node, **variables}, token=session)).json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert complaint in body["errors"][0]["message"]


async def test_nobody_moves_another_orchestrators_node(
    client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    other = new_account()
    await register(services.db, other.address)
    theirs = await _add_node(services, other.address.lower(), "their-node")
    session = await session_token(client, orchestrator)
    for node in (theirs, "nope", "-1"):
        body = (
            await graphql(client, SET_LOCATION, {"node": node, "lat": 1, "lon": 1}, token=session)
        ).json()
        assert error_codes(body) == ["BAD_USER_INPUT"], node
    declared = await services.db.fetchval(
        "SELECT declared_location_id FROM nodes WHERE id = $1", int(theirs)
    )
    assert declared is None


SET_SHARING = """
mutation($metrics: [String!], $perNode: Boolean) {
  setSharing(optionalMetrics: $metrics, sharePerNode: $perNode) {
    optionalMetrics sharePerNode availableOptionalMetrics updatedAt
  }
}
"""


async def test_set_sharing_changes_only_what_is_given(
    client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    session = await session_token(client, orchestrator)
    first = (
        await graphql(
            client,
            SET_SHARING,
            {"metrics": ["livepeer_value_redeemed", "node_network_receive_bytes_total"]},
            token=session,
        )
    ).json()["data"]["setSharing"]
    assert first["optionalMetrics"] == [
        "livepeer_value_redeemed",
        "node_network_receive_bytes_total",
    ]
    assert first["sharePerNode"] is False and first["updatedAt"] is not None
    assert "livepeer_transcode_time_seconds" in first["availableOptionalMetrics"]

    second = (await graphql(client, SET_SHARING, {"perNode": True}, token=session)).json()
    assert second["data"]["setSharing"]["optionalMetrics"] == first["optionalMetrics"]
    assert second["data"]["setSharing"]["sharePerNode"] is True

    row = await services.db.fetchrow(
        "SELECT optional_metrics, share_per_node FROM sharing WHERE orchestrator = $1",
        orchestrator.address.lower(),
    )
    assert list(row["optional_metrics"]) == first["optionalMetrics"] and row["share_per_node"]


@pytest.mark.parametrize(
    ("metric", "complaint"),
    [
        ("livepeer_current_sessions_total", "is required"),
        ("made_up_metric", "is not an optional metric"),
    ],
)
async def test_set_sharing_validates_against_the_ingest_allowlist(
    client: httpx.AsyncClient, orchestrator: LocalAccount, metric: str, complaint: str
) -> None:
    session = await session_token(client, orchestrator)
    body = (await graphql(client, SET_SHARING, {"metrics": [metric]}, token=session)).json()
    assert error_codes(body) == ["BAD_USER_INPUT"]
    assert complaint in body["errors"][0]["message"]


DELETE = "mutation($confirm: String!) { deleteMyData(confirm: $confirm) { nodes tokens } }"


async def _contribute(client: httpx.AsyncClient, session: str, node: str) -> str:
    """Create an ingest token and push real remote-write data with it; return the token."""
    created = await graphql(
        client, CREATE_TOKEN, {"name": "prom", "scopes": ["INGEST"]}, token=session
    )
    ingest = created.json()["data"]["createApiToken"]["token"]
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    body = v1_body(
        livepeer_series(12, timestamp_ms=now_ms - 60_000, samples_per_series=3, node_id=node)
    )
    response = await client.post(
        "/api/v1/write", content=body, headers={**V1_HEADERS, "Authorization": f"Bearer {ingest}"}
    )
    assert response.status_code == 204, response.text
    return ingest


async def _holdings(services: Services, address: str) -> dict[str, int]:
    counts = {}
    for table, where in [
        ("nodes", "orchestrator = $1"),
        ("series", "node IN (SELECT id FROM nodes WHERE orchestrator = $1)"),
        ("samples", "node IN (SELECT id FROM nodes WHERE orchestrator = $1)"),
        ("node_minutes", "node IN (SELECT id FROM nodes WHERE orchestrator = $1)"),
        ("ingest_batches", "orchestrator = $1"),
        ("api_tokens", "orchestrator = $1"),
        ("sharing", "orchestrator = $1"),
        ("orchestrators", "address = $1"),
    ]:
        counts[table] = await services.db.fetchval(
            f"SELECT count(*) FROM {table} WHERE {where}", address
        )
    return counts


@pytest.fixture
async def quiet_client(services: Services, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A server without background workers, so no rollup changes rows while we count."""
    async with running_server(settings, workers=[]) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_delete_my_data_removes_everything_of_mine_and_nothing_else(
    quiet_client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    client = quiet_client
    other = new_account()
    await register(services.db, other.address)
    me, them = orchestrator.address.lower(), other.address.lower()
    my_session, their_session = (
        await session_token(client, orchestrator),
        await session_token(client, other),
    )
    my_ingest = await _contribute(client, my_session, "orch-mine")
    await _contribute(client, their_session, "orch-theirs")
    await graphql(client, SET_SHARING, {"perNode": True}, token=my_session)
    await graphql(client, SET_SHARING, {"perNode": True}, token=their_session)
    for address in (me, them):
        node = await services.db.fetchval("SELECT id FROM nodes WHERE orchestrator = $1", address)
        await services.db.execute(
            "INSERT INTO node_minutes (node, minute, sessions_last)"
            " VALUES ($1, date_trunc('minute', now()), 1)",
            node,
        )
    my_node = await services.db.fetchval("SELECT id FROM nodes WHERE orchestrator = $1", me)
    await graphql(
        client, SET_LOCATION, {"node": str(my_node), "lat": 1.5, "lon": 2.5}, token=my_session
    )

    before_mine, before_theirs = await _holdings(services, me), await _holdings(services, them)
    assert all(before_mine.values()), before_mine
    assert all(before_theirs.values()), before_theirs

    wrong = await graphql(client, DELETE, {"confirm": them}, token=my_session)
    assert error_codes(wrong.json()) == ["BAD_USER_INPUT"]
    assert await _holdings(services, me) == before_mine

    done = await graphql(client, DELETE, {"confirm": orchestrator.address}, token=my_session)
    assert done.json()["data"]["deleteMyData"] == {"nodes": 1, "tokens": 1}
    after = await _holdings(services, me)
    assert after == {**{table: 0 for table in after}, "orchestrators": 1}
    assert await _holdings(services, them) == before_theirs
    assert not await services.db.fetchval(
        "SELECT count(*) FROM locations WHERE latitude = 1.5 AND longitude = 2.5"
    )

    refused = await client.post(
        "/api/v1/write",
        content=v1_body(livepeer_series(2, node_id="orch-mine")),
        headers={**V1_HEADERS, "Authorization": f"Bearer {my_ingest}"},
    )
    assert refused.status_code == 401
    # Still a registered orchestrator: the session goes on and can contribute again.
    viewer = await graphql(
        client, "{ viewer { role nodes { id } tokens { id } } }", token=my_session
    )
    assert viewer.json()["data"]["viewer"] == {"role": "ORCHESTRATOR", "nodes": [], "tokens": []}


async def test_signing_in_over_an_ended_session_cookie_keeps_the_new_cookie(
    client: httpx.AsyncClient, orchestrator: LocalAccount
) -> None:
    old = await session_token(client, orchestrator)
    await graphql(client, "mutation { signOut }", token=old)
    message = siwe_message(orchestrator.address, await request_nonce(client))
    response = await graphql(
        client,
        SIGN_IN,
        {"message": message, "signature": sign(orchestrator, message)},
        headers={"Cookie": f"{COOKIE_NAME}={old}", "Origin": ORIGIN},
    )
    new = response.json()["data"]["signIn"]["token"]
    cookies = response.headers.get_list("set-cookie")
    assert cookies == [cookies[0]] and cookies[0].startswith(f"{COOKIE_NAME}={new};")
