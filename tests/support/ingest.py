"""Helpers and fixtures of the ingest tests: registered orchestrators with ingest tokens
(fixture ``orch``), a server without background workers (fixture ``http``: tests run the
rollup themselves), series shaped like go-livepeer's, and sending remote-write bodies."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass

import httpx
import pytest

from api.core.services import Services
from api.geo.locate import declared
from api.geo.places import location_id
from auth.tokens import create_token
from tests.support.remote_write_bodies import V1_HEADERS, Series, v1_body

ADDRESS = "0x5be44e23041e93cdf9bcd5a0968524e104e38ae1"
OTHER_ADDRESS = "0x" + "7" * 40
NODE = f"{ADDRESS}-orch-fra-1"


@dataclass
class Orchestrator:
    address: str
    token: str
    location_id: int | None


async def register(services: Services, address: str, *, located: bool = True) -> Orchestrator:
    loc = await location_id(services.db, declared(50.11, 8.68, "DE")) if located else None
    await services.db.execute(
        "INSERT INTO orchestrators (address, active, total_stake, location_id)"
        " VALUES ($1, true, 1000, $2)",
        address,
        loc,
    )
    _, token = await create_token(services.db, address, "prometheus", ["ingest"])
    return Orchestrator(address, token, loc)


def now_ms() -> int:
    return int(time.time() * 1000)


def minute_start_ms(offset_minutes: int = 0) -> int:
    """The start of a whole minute a little in the past, for samples in known minutes."""
    return (now_ms() // 60_000 - 10 + offset_minutes) * 60_000


def node_series(
    name: str, samples: Sequence[tuple[int, float]], node: str = NODE, **labels: str
) -> Series:
    return Series({"__name__": name, "node_id": node, "node_type": "orch", **labels}, samples)


async def send(
    http: httpx.AsyncClient,
    token: str | None,
    body: bytes,
    headers: Mapping[str, str] = V1_HEADERS,
) -> httpx.Response:
    all_headers = dict(headers)
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return await http.post("/api/v1/write", content=body, headers=all_headers)


async def send_series(
    http: httpx.AsyncClient, token: str, series: Sequence[Series]
) -> httpx.Response:
    response = await send(http, token, v1_body(series))
    assert response.status_code == 204, response.text
    return response


@pytest.fixture
async def orch(services: Services) -> Orchestrator:
    return await register(services, ADDRESS)


@pytest.fixture
async def http(quiet_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=quiet_url, timeout=30) as client:
        yield client
