"""What a running process holds open: the settings, the PostgreSQL pool, the Redis
client and the GeoIP reader. Built once by the app's lifespan (or a CLI command) and
passed to whatever needs them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import redis.asyncio as aioredis

from api.core.database import create_pool
from api.core.settings import Settings
from api.geo.locate import Geolocator


@dataclass
class Services:
    settings: Settings
    db: asyncpg.Pool
    redis: aioredis.Redis
    geolocator: Geolocator
    secret: bytes

    def key(self, *parts: str) -> str:
        """A Redis key under this deployment's prefix (tests use their own prefix)."""
        return self.settings.redis_prefix + ":".join(parts)


def connect_redis(url: str) -> aioredis.Redis:
    return aioredis.from_url(
        url,
        socket_timeout=5,
        socket_connect_timeout=5,
        health_check_interval=15,
        retry_on_timeout=True,
    )


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open connections for ``settings`` whose URLs must already be set."""
    if settings.database_url is None or settings.redis_url is None:
        raise RuntimeError("open_services needs LPM_DATABASE_URL and LPM_REDIS_URL resolved")
    pool = await create_pool(settings.database_url)
    client = connect_redis(settings.redis_url)
    geolocator = Geolocator(settings.geoip_db)
    try:
        yield Services(settings, pool, client, geolocator, settings.secret_key())
    finally:
        geolocator.close()
        await client.aclose()
        await pool.close()
