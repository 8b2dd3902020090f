"""Following a subscription's credential (``auth.watch``): an end announced from another
process (another PostgreSQL and Redis client here, as ``signOut`` on another server or
``lpmetrics token revoke`` would be) wakes the watch, which then refuses; a session's
expiry does too; anonymous callers have nothing to follow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from api.core.errors import Unauthenticated
from api.core.services import Services, open_services
from api.core.settings import Settings
from auth.identity import ANONYMOUS, Identity
from auth.revocations import CHANNEL
from auth.sessions import create_session, end_session, session_id
from auth.tokens import create_token, revoke_token
from auth.watch import Watch, watch

ADDR = "0x" + "ab" * 20
# Only bounds a test that would otherwise hang; an announced end arrives at once.
DEADLINE = 10


@pytest.fixture
async def elsewhere(services: Services, settings: Settings) -> AsyncIterator[Services]:
    """Connections of their own, standing for another server process or the CLI."""
    await services.db.execute("INSERT INTO orchestrators (address) VALUES ($1)", ADDR)
    async with open_services(settings) as other:
        yield other


def session_identity(sid: str) -> Identity:
    return Identity("ORCHESTRATOR", ADDR, via="session", session=sid)


def token_identity(token_id: int) -> Identity:
    return Identity("ORCHESTRATOR", ADDR, via="token", token_id=token_id)


async def forever() -> None:
    await asyncio.Event().wait()


async def woken(probe: Watch, value: str) -> str:
    """``value`` once ``probe`` has been woken: the announcement it waits for has reached
    this process, and every watch it concerns has been woken with it."""
    async with asyncio.timeout(DEADLINE):
        await probe.alarm.wait()
    return value


async def test_signing_out_elsewhere_ends_a_watched_session(
    services: Services, elsewhere: Services
) -> None:
    session = await create_session(services, ADDR)
    sid = session_id(session.token)
    other = session_id((await create_session(services, ADDR)).token)
    async with (
        watch(services, session_identity(sid)) as followed,
        watch(services, session_identity(other)) as probe,
    ):
        waiting = asyncio.ensure_future(followed.wait(forever()))
        # The watch is waiting: another session's end reaches it and leaves it waiting.
        assert await end_session(elsewhere, other)
        await woken(probe, "other session ended")
        assert not waiting.done()
        assert await end_session(elsewhere, sid)
        with pytest.raises(Unauthenticated, match="session has ended"):
            async with asyncio.timeout(DEADLINE):
                await waiting
        with pytest.raises(Unauthenticated):
            await followed.check()


async def test_revoking_a_token_like_the_cli_ends_a_watched_token(
    services: Services, elsewhere: Services
) -> None:
    record, secret = await create_token(services.db, ADDR, "script", ["read"])
    other, _ = await create_token(services.db, ADDR, "other", ["read"])
    async with (
        watch(services, token_identity(record.id)) as followed,
        watch(services, token_identity(other.id)) as probe,
    ):
        # Another token's revocation leaves this one alone.
        assert await revoke_token(elsewhere.db, other.id)
        assert await followed.wait(woken(probe, "still open")) == "still open"
        await followed.check()
        assert await revoke_token(elsewhere.db, secret)  # what `lpmetrics token revoke` runs
        with pytest.raises(Unauthenticated, match="unknown or revoked"):
            async with asyncio.timeout(DEADLINE):
                await followed.wait(forever())


async def test_a_watched_session_ends_when_it_expires(services: Services) -> None:
    session = await create_session(services, ADDR)
    sid = session_id(session.token)
    await services.redis.pexpire(services.key("session", sid), 300)
    async with watch(services, session_identity(sid)) as followed:
        # Nothing is announced when Redis expires a key: the watch knows when it will.
        with pytest.raises(Unauthenticated, match="session has ended"):
            async with asyncio.timeout(DEADLINE):
                await followed.wait(forever())


async def test_a_credential_that_already_ended_is_refused_at_once(services: Services) -> None:
    session = await create_session(services, ADDR)
    sid = session_id(session.token)
    await end_session(services, sid)
    with pytest.raises(Unauthenticated):
        async with watch(services, session_identity(sid)):
            pytest.fail("an ended session must not be watched as if it lived")


async def test_anonymous_callers_have_nothing_to_follow(services: Services) -> None:
    async with watch(services, ANONYMOUS) as followed:
        await followed.check()
        assert await followed.wait(asyncio.sleep(0, "done")) == "done"


async def test_ending_a_session_and_revoking_a_token_are_announced(
    services: Services, elsewhere: Services, settings: Settings
) -> None:
    heard: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(settings.database_url)
    try:
        await listener.add_listener(CHANNEL, lambda *args: heard.put_nowait(args[3]))
        session = await create_session(services, ADDR)
        sid = session_id(session.token)
        record, _ = await create_token(services.db, ADDR, "script", ["read"])
        assert await end_session(elsewhere, sid)
        assert not await end_session(elsewhere, sid)  # nothing left to announce
        assert await revoke_token(elsewhere.db, record.id)
        assert not await revoke_token(elsewhere.db, record.id)
        async with asyncio.timeout(DEADLINE):
            assert [await heard.get(), await heard.get()] == [
                f"session:{sid}",
                f"token:{record.id}",
            ]
        assert heard.empty()
    finally:
        await listener.close()
