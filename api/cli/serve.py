"""``lpmetrics serve``: run the HTTP server (migrations first)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import tempfile
from types import FrameType
from typing import TYPE_CHECKING, Any

from api.cli.common import UsageError

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from api.core.settings import Settings
    from api.demo.runner import DemoOptions

log = logging.getLogger(__name__)


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("serve", help="run the HTTP and GraphQL server")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="also load a demo registry and keep a simulated network of orchestrators "
        "writing through the ingest endpoint (for trying the API out)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (stateless; they share PostgreSQL and"
        " Redis, like processes behind a load balancer); default 1",
    )
    parser.set_defaults(func=run)


# Beyond this many processes per machine, more processes only fight over its cores.
MAX_WORKERS = 64


async def _prepare(settings) -> None:
    from api.core.database import wait_for_database
    from api.core.migrate import migrate
    from api.core.services import open_services

    try:
        await wait_for_database(settings.database_url)
    except OSError as exc:
        raise UsageError(str(exc)) from None
    async with open_services(settings) as services, services.db.acquire() as conn:
        applied = await migrate(conn)
        if applied:
            log.info("applied %d migrations", len(applied))


def run(args: argparse.Namespace) -> int:
    if not 0 < args.port < 65536:
        raise UsageError(f"--port must be between 1 and 65535, not {args.port}")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise UsageError(f"--workers must be between 1 and {MAX_WORKERS}, not {args.workers}")
    if args.demo and args.workers > 1:
        raise UsageError("--demo runs in one process; leave out --workers")
    import asyncio

    import uvicorn

    from api.core.embedded import resolved
    from api.core.settings import load_settings
    from api.demo.runner import DemoOptions
    from api.demo.worker import DEFAULT_BACKFILL_SECONDS, demo_worker, loopback_url
    from api.http.app import create_app
    from api.rollup.workers import default_workers

    settings = load_settings()
    with resolved(settings) as settings:
        asyncio.run(_prepare(settings))
        workers = None
        if args.demo:
            options = DemoOptions(backfill_seconds=DEFAULT_BACKFILL_SECONDS)
            settings = with_demo_geoip(settings, options)
            chain_port = None
            if settings.subgraph_url is None:
                # The demo's simulated subgraph (DESIGN §9), synced like a real one.
                chain_port = _free_port()
                settings = settings.model_copy(
                    update={
                        "subgraph_url": f"http://127.0.0.1:{chain_port}/",
                        "subgraph_sync_seconds": min(
                            settings.subgraph_sync_seconds, DEMO_SYNC_SECONDS
                        ),
                    }
                )
            workers = [
                *default_workers(settings),
                demo_worker(loopback_url(args.host, args.port), options, chain_port),
            ]
        options = {
            "host": args.host,
            "port": args.port,
            "proxy_headers": True,
            "log_level": "info",
            # The demo network posts dozens of requests every scrape interval.
            "access_log": not args.demo,
            "ws": "websockets-sansio",
        }
        # uvicorn re-raises the signal that stopped it once it has shut down; with
        # Python's default handlers that would kill us before the embedded servers
        # are stopped, so the re-raised signal lands in a handler that ignores it.
        previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            if args.workers == 1:
                app = create_app(settings, workers=workers, freeze_gc=True)
                uvicorn.Server(uvicorn.Config(app, **options)).run()
            else:
                _serve_processes(settings, args.workers, options)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    return 0


def with_demo_geoip(settings: Settings, options: DemoOptions) -> Settings:
    """Without LPM_GEOIP_DB, the demo locates its own addresses (``api.demo.geoip``)."""
    if settings.geoip_db is not None:
        return settings
    from api.demo.geoip import FILE_NAME, write_database
    from api.demo.network import build_network

    path = write_database(
        build_network(options.orchestrators, options.seed), settings.data_dir / FILE_NAME
    )
    log.info("demo: no LPM_GEOIP_DB; the demo's own addresses are located with %s", path)
    return settings.model_copy(update={"geoip_db": path})


DEMO_SYNC_SECONDS = 60


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve_processes(settings: Settings, count: int, options: dict[str, Any]) -> None:
    """Run ``count`` server processes on one socket (uvicorn's supervisor restarts
    any that dies). They are started afresh and read their settings from the
    environment, so the URLs resolved here (embedded servers included) go there, and
    so does a fresh directory for their shared metrics (``api.core.metrics``)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from api.core.metrics import MULTIPROCESS_DIR

    os.environ["LPM_DATABASE_URL"] = settings.database_url or ""
    os.environ["LPM_REDIS_URL"] = settings.redis_url or ""
    with tempfile.TemporaryDirectory(prefix="lpmetrics-metrics-") as metrics:
        os.environ[MULTIPROCESS_DIR] = metrics
        config = uvicorn.Config("api.cli.serve:process_app", factory=True, workers=count, **options)
        Multiprocess(config, sockets=[config.bind_socket()]).run()


def process_app() -> Starlette:
    """The app of one of the processes of ``serve --workers N`` (uvicorn factory)."""
    from api.core.settings import load_settings
    from api.http.app import create_app

    return create_app(load_settings(), freeze_gc=True)


def _ignore(signum: int, frame: FrameType | None) -> None:
    pass
