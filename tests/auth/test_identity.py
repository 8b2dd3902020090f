import dataclasses

import pytest
from starlette.requests import HTTPConnection

from api.core.errors import Forbidden, Unauthenticated
from api.core.services import Services
from auth import tokens
from auth.identity import ANONYMOUS, RECIPROCITY_MESSAGE, STALE_COOKIE_KEY, Identity, identify
from auth.sessions import COOKIE_NAME, create_session, end_session, session_address, session_id
from tests.support.wallet import ORIGIN, new_account, register


def _connection(method: str = "POST", **headers: str) -> HTTPConnection:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return HTTPConnection({"type": "http", "method": method, "path": "/graphql", "headers": raw})


@pytest.fixture
async def address(services: Services) -> str:
    account = new_account()
    await register(services.db, account.address)
    return account.address.lower()


async def test_no_credentials_is_anonymous(services: Services) -> None:
    identity = await identify(_connection(), services)
    assert identity == ANONYMOUS
    assert not identity.precise and identity.address is None


async def test_a_session_bearer_is_its_orchestrator(services: Services, address: str) -> None:
    session = await create_session(services, address)
    identity = await identify(_connection(authorization=f"Bearer {session.token}"), services)
    assert identity.role == "ORCHESTRATOR" and identity.address == address
    assert identity.via == "session" and identity.session == session_id(session.token)
    assert identity.precise and identity.downgraded is None


async def test_the_identity_is_settled_once_per_request(services: Services, address: str) -> None:
    session = await create_session(services, address)
    connection = _connection(authorization=f"Bearer {session.token}")
    first = await identify(connection, services)
    await end_session(services, session_id(session.token))
    # Same request: the answer does not change halfway through.
    assert await identify(connection, services) is first
    with pytest.raises(Unauthenticated, match="ended or expired"):
        await identify(_connection(authorization=f"Bearer {session.token}"), services)


async def test_a_read_token_is_its_orchestrator(services: Services, address: str) -> None:
    record, secret = await tokens.create_token(services.db, address, "script", ["read"])
    identity = await identify(_connection(authorization=f"Bearer {secret}"), services)
    assert identity == Identity("ORCHESTRATOR", address, via="token", token_id=record.id)
    [listed] = await tokens.list_tokens(services.db, address)
    assert listed.last_used_at is not None


async def test_an_ingest_only_token_grants_no_read_access(services: Services, address: str) -> None:
    _, secret = await tokens.create_token(services.db, address, "prometheus", ["ingest"])
    with pytest.raises(Forbidden, match="no READ scope"):
        await identify(_connection(authorization=f"Bearer {secret}"), services)
    _, both = await tokens.create_token(services.db, address, "both", ["ingest", "read"])
    assert (await identify(_connection(authorization=f"Bearer {both}"), services)).precise


async def test_a_revoked_token_is_refused(services: Services, address: str) -> None:
    record, secret = await tokens.create_token(services.db, address, "script", ["read"])
    assert await tokens.revoke_token(services.db, record.id, orchestrator=address)
    with pytest.raises(Unauthenticated, match="unknown or revoked"):
        await identify(_connection(authorization=f"Bearer {secret}"), services)


async def test_an_unknown_token_is_refused(services: Services) -> None:
    with pytest.raises(Unauthenticated, match="unknown or revoked"):
        await identify(_connection(authorization="Bearer lpm_" + "A" * 43), services)


@pytest.mark.parametrize("header", ["Token abc", "Bearer", "Bearer   ", "lpms_abc"])
async def test_a_malformed_authorization_header_is_refused(services: Services, header: str) -> None:
    with pytest.raises(Unauthenticated, match="Bearer <token>"):
        await identify(_connection(authorization=header), services)


async def test_the_session_cookie_from_the_explorer(services: Services, address: str) -> None:
    session = await create_session(services, address)
    cookie = f"{COOKIE_NAME}={session.token}"
    identity = await identify(_connection(cookie=cookie, origin=ORIGIN), services)
    assert identity.address == address and identity.via == "session"
    with pytest.raises(Forbidden):
        await identify(_connection(cookie=cookie, origin="https://evil.test"), services)


async def test_an_ended_cookie_session_is_anonymous_and_marked_stale(
    services: Services, address: str
) -> None:
    session = await create_session(services, address)
    await end_session(services, session_id(session.token))
    connection = _connection(cookie=f"{COOKIE_NAME}={session.token}", origin=ORIGIN)
    assert await identify(connection, services) == ANONYMOUS
    assert connection.scope[STALE_COOKIE_KEY]


async def test_an_orchestrator_gone_from_the_registry_is_signed_out(
    services: Services, address: str
) -> None:
    session = await create_session(services, address)
    await services.db.execute("DELETE FROM orchestrators WHERE address = $1", address)
    with pytest.raises(Unauthenticated, match="no longer a registered orchestrator"):
        await identify(_connection(authorization=f"Bearer {session.token}"), services)


def _reciprocal(services: Services) -> Services:
    settings = services.settings.model_copy(update={"reciprocity": True})
    return dataclasses.replace(services, settings=settings)


async def _node(services: Services, address: str, name: str, last_seen_sql: str | None) -> None:
    last_seen = f"now() - interval '{last_seen_sql}'" if last_seen_sql else "NULL"
    await services.db.execute(
        f"INSERT INTO nodes (orchestrator, name, last_seen) VALUES ($1, $2, {last_seen})",
        address,
        name,
    )


async def test_reciprocity_downgrades_orchestrators_that_deliver_nothing(
    services: Services, address: str
) -> None:
    session = await create_session(services, address)
    header = f"Bearer {session.token}"
    reciprocal = _reciprocal(services)

    identity = await identify(_connection(authorization=header), reciprocal)
    assert identity.role == "ORCHESTRATOR" and identity.address == address
    assert identity.downgraded == RECIPROCITY_MESSAGE and not identity.precise

    await _node(services, address, "silent", None)
    await _node(services, address, "stale", "25 hours")
    assert not (await identify(_connection(authorization=header), reciprocal)).precise

    await _node(services, address, "live", "5 minutes")
    identity = await identify(_connection(authorization=header), reciprocal)
    assert identity.precise and identity.downgraded is None


async def test_without_reciprocity_nobody_is_downgraded(services: Services, address: str) -> None:
    session = await create_session(services, address)
    identity = await identify(_connection(authorization=f"Bearer {session.token}"), services)
    assert identity.precise and identity.downgraded is None


async def test_a_cookie_of_an_orchestrator_gone_from_the_registry_is_dropped(
    services: Services, address: str
) -> None:
    session = await create_session(services, address)
    await services.db.execute("DELETE FROM orchestrators WHERE address = $1", address)
    connection = _connection(cookie=f"{COOKIE_NAME}={session.token}", origin=ORIGIN)
    assert await identify(connection, services) == ANONYMOUS
    assert connection.scope[STALE_COOKIE_KEY]
    assert await session_address(services, session.token) is None


async def test_a_precise_standing_is_trusted_for_a_while_then_read_again(
    services: Services, address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from auth import identity as module

    session = await create_session(services, address)
    header = f"Bearer {session.token}"
    assert (await identify(_connection(authorization=header), services)).precise
    await services.db.execute("DELETE FROM orchestrators WHERE address = $1", address)
    # Within STANDING_SECONDS no query is made: still precise.
    assert (await identify(_connection(authorization=header), services)).precise
    later = module._clock() + module.STANDING_SECONDS + 1
    monkeypatch.setattr(module, "_clock", lambda: later)
    with pytest.raises(Unauthenticated, match="no longer a registered orchestrator"):
        await identify(_connection(authorization=header), services)
