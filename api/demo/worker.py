"""The background worker of ``lpmetrics serve --demo``: the demo network writing to
the server it runs in, over loopback HTTP, through the real ingest path.

It waits until the server answers, installs the demo registry and tokens, backfills
recent history and keeps scraping. One process at a time runs it (a PostgreSQL
advisory lock), so several ``serve --demo`` on one database do not double the data.
After a restart it backfills only what is missing since the newest demo sample.
"""

from __future__ import annotations

import asyncio
import logging
import time

import asyncpg
import httpx

from api.core.leader import wait_to_lead
from api.core.services import Services
from api.demo.install import install
from api.demo.network import build_network
from api.demo.runner import DemoLoad, DemoOptions
from api.demo.writer import RemoteWriter
from api.rollup.workers import Worker

log = logging.getLogger(__name__)

LOCK_KEY = 0x6C706D64  # "lpmd"
LOCK_RETRY_SECONDS = 30.0
DEFAULT_BACKFILL_SECONDS = 6 * 3600.0


def loopback_url(host: str, port: int) -> str:
    """Where this process reaches its own server listening on ``host:port``."""
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def wait_listening(base_url: str, poll_seconds: float = 0.2) -> None:
    """Return once ``base_url`` answers ``/healthz``."""
    async with httpx.AsyncClient(timeout=5) as client:
        while True:
            try:
                if (await client.get(base_url + "/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(poll_seconds)


async def newest_sample(services: Services, addresses: list[str]) -> float | None:
    """Unix time of the newest raw sample minute of these orchestrators' nodes."""
    newest = await services.db.fetchval(
        """
        SELECT max(s.minute) FROM samples s
        JOIN nodes n ON n.id = s.node
        WHERE n.orchestrator = ANY ($1::text[])
        """,
        addresses,
    )
    return newest.timestamp() if newest is not None else None


def demo_worker(base_url: str, options: DemoOptions, chain_port: int | None = None) -> Worker:
    """A worker (see ``api.rollup.workers``) running the demo network against ``base_url``,
    and with ``chain_port`` its simulated subgraph on that loopback port."""

    async def demo(services: Services) -> None:
        await wait_listening(base_url)
        # A connection of its own holds the lock, not one of the pool's few.
        lock = await asyncpg.connect(services.settings.database_url)
        try:
            await wait_to_lead(
                lock,
                LOCK_KEY,
                retry_seconds=LOCK_RETRY_SECONDS,
                waiting=lambda: log.info("demo: another process runs the demo network; waiting"),
            )
            await _run(services, base_url, options, chain_port)
        finally:
            await lock.close()  # releases the lock

    demo.__qualname__ = "demo_worker"
    return demo


async def _run(
    services: Services, base_url: str, options: DemoOptions, chain_port: int | None = None
) -> None:
    network = build_network(options.orchestrators, options.seed)
    installed = await install(services, network)
    log.info(
        "demo: %d orchestrators registered (%d reporting, %d silent) in %s",
        len(network.orchestrators),
        len(network.reporting),
        len(network.orchestrators) - len(network.reporting),
        ", ".join(network.regions),
    )
    log.info(
        "demo: registered orchestrators that never report (stand-ins for yours): %s",
        ", ".join(o.address for o in network.orchestrators if not o.reports),
    )
    start = time.time() - options.backfill_seconds
    newest = await newest_sample(services, [o.address.lower() for o in network.reporting])
    if newest is not None:
        start = max(start, newest + 60)
    async with RemoteWriter(base_url) as writer:
        load = DemoLoad(network, installed.tokens, writer, options)
        if chain_port is None:
            await load.run(start=start)
            return
        from api.demo import chain as chain_demo

        chain = asyncio.create_task(
            chain_demo.serve(chain_demo.DemoChain(network), chain_port, lambda: load.simulation)
        )
        try:
            await load.run(start=start)
        finally:
            chain.cancel()
            await asyncio.gather(chain, return_exceptions=True)
