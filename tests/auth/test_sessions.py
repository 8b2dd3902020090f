from datetime import UTC, datetime, timedelta

from starlette.responses import Response

from api.core.services import Services
from auth.sessions import (
    COOKIE_NAME,
    clear_session_cookie,
    create_session,
    end_session,
    is_session_token,
    session_address,
    session_id,
    set_session_cookie,
)

ADDRESS = "0x" + "ab" * 20


async def test_a_session_names_its_address_until_it_ends(services: Services) -> None:
    session = await create_session(services, ADDRESS)
    assert is_session_token(session.token)
    assert await session_address(services, session.token) == ADDRESS
    assert await end_session(services, session_id(session.token))
    assert await session_address(services, session.token) is None
    assert not await end_session(services, session_id(session.token))


async def test_sessions_live_for_the_configured_ttl(services: Services) -> None:
    session = await create_session(services, ADDRESS)
    ttl = services.settings.session_ttl_seconds
    remaining = await services.redis.ttl(services.key("session", session_id(session.token)))
    assert ttl - 60 < remaining <= ttl
    expected = datetime.now(UTC) + timedelta(seconds=ttl)
    assert abs((session.expires_at - expected).total_seconds()) < 60


async def test_redis_never_holds_the_token_itself(services: Services) -> None:
    session = await create_session(services, ADDRESS)
    keys = [k.decode() async for k in services.redis.scan_iter(match=services.key("*"))]
    assert keys and not any(session.token in k for k in keys)
    for key in keys:
        value = await services.redis.get(key)
        assert value is None or session.token.encode() not in value


async def test_tokens_that_are_not_session_tokens_open_nothing(services: Services) -> None:
    session = await create_session(services, ADDRESS)
    assert await session_address(services, session.token.removeprefix("lpms_")) is None
    assert await session_address(services, session.token + "x") is None


async def test_sessions_are_random(services: Services) -> None:
    tokens = {(await create_session(services, ADDRESS)).token for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) > 40 for t in tokens)


def test_the_cookie_is_httponly_secure_with_the_configured_samesite(services: Services) -> None:
    response = Response()
    settings = services.settings.model_copy(update={"cookie_samesite": "Strict"})
    from auth.sessions import Session

    session = Session("lpms_abc", ADDRESS, datetime.now(UTC))
    set_session_cookie(response, settings, session)
    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE_NAME}=lpms_abc;")
    for attribute in ("HttpOnly", "Secure", "SameSite=strict", "Path=/"):
        assert attribute in header
    assert f"Max-Age={settings.session_ttl_seconds}" in header

    cleared = Response()
    clear_session_cookie(cleared, settings)
    header = cleared.headers["set-cookie"]
    assert header.startswith(f'{COOKIE_NAME}="";') and "Max-Age=0" in header
