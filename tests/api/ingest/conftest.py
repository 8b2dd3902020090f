"""Fixtures of the ingest tests: a registered orchestrator with an ingest token and a
server without background workers (tests run the rollup themselves)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.services import Services
from api.settings import Settings
from tests.api.ingest.helpers import ADDRESS, Orchestrator, register
from tests.conftest import running_server


@pytest.fixture
async def orch(services: Services) -> Orchestrator:
    return await register(services, ADDRESS)


@pytest.fixture
async def ingest_url(services: Services, settings: Settings) -> AsyncIterator[str]:
    """A server whose rollup and partition workers do not run: tests drive them."""
    async with running_server(settings, workers=[]) as url:
        yield url


@pytest.fixture
async def http(ingest_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=ingest_url, timeout=30) as client:
        yield client
