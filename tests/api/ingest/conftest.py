"""Fixtures of the ingest tests: a registered orchestrator with an ingest token and a
server without background workers (tests run the rollup themselves)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.core.services import Services
from tests.support.ingest import ADDRESS, Orchestrator, register


@pytest.fixture
async def orch(services: Services) -> Orchestrator:
    return await register(services, ADDRESS)


@pytest.fixture
async def http(quiet_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as client:
        yield client
