"""Keeping an open subscription honest: its credential is followed while it runs.

A WebSocket connection is authenticated once, at its handshake. ``watch`` follows the
session or API token it was opened with, so a subscription serves exact figures only
while that credential lives:

* ``check`` asks the store (one Redis or PostgreSQL round trip per call); a
  subscription calls it before every push, so no push follows an ended credential.
* ``wait`` wakes up to ``check`` as soon as an end is announced (``auth.revocations``:
  ``signOut`` or a revocation on any process), when a session reaches its expiry, and
  after the listening connection was lost (an announcement may have been missed).

Each process holds one ``LISTEN`` connection, open only while it has signed-in
subscriptions; a notification wakes only the watches of the credential it names."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import asyncpg

from api.core.errors import Unauthenticated
from api.core.services import Services
from auth.identity import Identity
from auth.revocations import CHANNEL, session_credential, token_credential
from auth.sessions import session_seconds_left
from auth.tokens import token_is_live

log = logging.getLogger(__name__)

T = TypeVar("T")

SESSION_ENDED = "the session has ended or expired; sign in again"
TOKEN_ENDED = "the API token is unknown or revoked"
# A first watch waits this long for the listener before going on without it (checks
# before each push still apply).
READY_SECONDS = 5.0
RETRY_SECONDS = 5.0
# How often an idle listening connection is checked to be alive.
PING_SECONDS = 30.0


def credential_of(identity: Identity) -> str | None:
    """The credential ``identity`` was established with; None for anonymous callers."""
    if identity.via == "session" and identity.session is not None:
        return session_credential(identity.session)
    if identity.via == "token" and identity.token_id is not None:
        return token_credential(identity.token_id)
    return None


async def seconds_left(services: Services, identity: Identity) -> float:
    """How long ``identity``'s credential has left (``inf``: no expiry, or anonymous);
    ``Unauthenticated`` once it has ended. One round trip."""
    if identity.via == "session" and identity.session is not None:
        left = await session_seconds_left(services, identity.session)
        if left is None:
            raise Unauthenticated(SESSION_ENDED)
        return left
    if identity.via == "token" and identity.token_id is not None:
        if not await token_is_live(services.db, identity.token_id, "read"):
            raise Unauthenticated(TOKEN_ENDED)
    return math.inf


class Watch:
    """The credential of one subscription, followed while it runs."""

    def __init__(self, services: Services, identity: Identity) -> None:
        self.services = services
        self.identity = identity
        self.alarm = asyncio.Event()  # set when the credential may have ended
        self._expires: float | None = None  # loop time a session expires at

    async def check(self) -> None:
        """``Unauthenticated`` if the credential has ended."""
        if credential_of(self.identity) is None:
            return
        self.alarm.clear()
        left = await seconds_left(self.services, self.identity)
        loop = asyncio.get_running_loop()
        self._expires = None if math.isinf(left) else loop.time() + left

    async def wait(self, awaitable: Awaitable[T]) -> T:
        """``awaitable``'s result; meanwhile ``check`` whenever the credential may have
        ended (and raise ``Unauthenticated`` if it has)."""
        if credential_of(self.identity) is None:
            return await awaitable
        waiting = asyncio.ensure_future(awaitable)
        loop = asyncio.get_running_loop()
        try:
            while True:
                alarm = asyncio.ensure_future(self.alarm.wait())
                timeout = None
                if self._expires is not None:
                    # Redis expires the key at that moment; a little after, it is gone.
                    timeout = max(self._expires - loop.time(), 0.0) + 0.05
                try:
                    await asyncio.wait(
                        (waiting, alarm), timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    alarm.cancel()
                if waiting.done():
                    return waiting.result()
                await self.check()
        finally:
            waiting.cancel()


@contextlib.asynccontextmanager
async def watch(services: Services, identity: Identity) -> AsyncIterator[Watch]:
    """Follow ``identity``'s credential for the duration of the block; raises
    ``Unauthenticated`` at once if it has already ended. Anonymous: nothing to follow."""
    followed = Watch(services, identity)
    credential = credential_of(identity)
    if credential is None:
        yield followed
        return
    listener = _listener_for(services)
    listener.add(credential, followed.alarm)
    try:
        # Listening before the first check: an end announced after it cannot be missed.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_SECONDS):
                await listener.listening.wait()
        await followed.check()
        yield followed
    finally:
        listener.remove(credential, followed.alarm)


class _Listener:
    """This process's ``LISTEN`` on the credentials channel of one database, running
    while any watch needs it."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.alarms: dict[str, set[asyncio.Event]] = {}
        self.listening = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def add(self, credential: str, alarm: asyncio.Event) -> None:
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            # Watches of another (finished) event loop cannot be woken any more.
            self.alarms = {}
            self.listening = asyncio.Event()
            self.task = loop.create_task(self._run())
        self.alarms.setdefault(credential, set()).add(alarm)

    def remove(self, credential: str, alarm: asyncio.Event) -> None:
        alarms = self.alarms.get(credential)
        if alarms is not None:
            alarms.discard(alarm)
            if not alarms:
                del self.alarms[credential]
        if not self.alarms and self.task is not None:
            self.task.cancel()
            self.task = None

    def _ring(self, credential: str | None = None) -> None:
        """Wake the watches of ``credential`` (of every credential if None)."""
        if credential is None:
            chosen = [a for alarms in self.alarms.values() for a in alarms]
        else:
            chosen = list(self.alarms.get(credential, ()))
        for alarm in chosen:
            alarm.set()

    def _notified(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._ring(payload)

    async def _run(self) -> None:
        while True:
            try:
                await self._listen()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("lost the credentials channel, listening again in 5 s: %s", exc)
            self.listening.clear()
            self._ring()  # ends announced while nobody listened: every watch checks
            await asyncio.sleep(RETRY_SECONDS)

    async def _listen(self) -> None:
        conn = await asyncpg.connect(self.database_url, timeout=5)
        try:
            lost = asyncio.Event()
            conn.add_termination_listener(lambda _conn: lost.set())
            await conn.add_listener(CHANNEL, self._notified)
            # Until now announcements went unheard (a reconnection): every watch checks.
            self._ring()
            self.listening.set()
            while not lost.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(PING_SECONDS):
                        await lost.wait()
                if not lost.is_set():
                    await conn.execute("SELECT 1", timeout=5)
            raise ConnectionError("the listening connection closed")
        finally:
            self.listening.clear()
            conn.terminate()


_LISTENERS: dict[str, _Listener] = {}


def _listener_for(services: Services) -> _Listener:
    url = services.settings.database_url or ""
    listener = _LISTENERS.get(url)
    if listener is None:
        listener = _LISTENERS[url] = _Listener(url)
    return listener
