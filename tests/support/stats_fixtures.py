"""Fixtures of the statistics API tests: a fresh per-process tick and caches, the
scripted network of ``tests.support.stats_scenario`` and callers of every kind.

A plugin of ``tests/conftest.py`` (``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from api.core.services import Services
from api.http import cache
from api.stats import ticks
from auth.sessions import create_session
from tests.support.stats_scenario import Loaded, address, load, scenario

TICK = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def forget_process_state() -> None:
    """Drop this process's ticks, memo and response cache (tests share one process and
    one Redis prefix, so one test's tick must not leak into the next)."""
    ticks._BY_CHANNEL.clear()
    cache._BY_CHANNEL.clear()


async def forget_answers(services: Services) -> None:
    """Drop every process's process state and the answers shared through Redis: what a
    test that changes data within a tick does before asking again (in service, answers
    follow such changes at the next tick)."""
    forget_process_state()
    keys = [k async for k in services.redis.scan_iter(match=services.key("gqlcache", "*"))]
    if keys:
        await services.redis.delete(*keys)


@pytest.fixture(autouse=True)
def fresh_process_state() -> Iterator[None]:
    forget_process_state()
    yield
    forget_process_state()


async def pin(services: Services, tick: datetime = TICK) -> None:
    """Answer for ``tick`` in this process, as if the rollup had published it, once the
    process has moved to it (it first computes what the old tick served)."""
    clock = ticks.ticks_for(services)
    clock.advance(tick)
    while clock.now() != tick:
        assert await clock.wait_next(10), f"the process never moved to tick {tick}"


@pytest.fixture
async def scripted(services: Services) -> Loaded:
    loaded = await load(services.db, scenario(), TICK)
    await pin(services)
    return loaded


@pytest.fixture
async def as_anonymous(quiet_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as http:
        yield http


async def signed_in(services: Services, quiet_url: str, letter: str) -> httpx.AsyncClient:
    session = await create_session(services, address(letter))
    return httpx.AsyncClient(
        base_url=quiet_url,
        timeout=30,
        headers={"Authorization": f"Bearer {session.token}"},
    )


@pytest.fixture
async def as_orchestrator(
    services: Services, quiet_url: str, scripted: Loaded
) -> AsyncIterator[httpx.AsyncClient]:
    """Signed in as orchestrator A."""
    async with await signed_in(services, quiet_url, "A") as http:
        yield http


async def graphql(
    http: httpx.AsyncClient, query: str, variables: dict[str, object] | None = None
) -> dict:
    response = await http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    payload = response.json()
    assert not payload.get("errors"), payload["errors"]
    return payload["data"]


__all__ = [
    "TICK",
    "as_anonymous",
    "as_orchestrator",
    "forget_answers",
    "forget_process_state",
    "fresh_process_state",
    "graphql",
    "pin",
    "scripted",
    "signed_in",
]
