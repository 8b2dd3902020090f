"""``GET /map`` in headless Debian chromium against a real ``lpmetrics serve`` with the
demo network's data (``map.mjs`` holds the checks).

The server runs in its own process on this run's database, with the demo's own GeoIP
database and the explorer's origin in ``LPM_CORS_ORIGINS``. The demo network writes
half an hour of history through ``/api/v1/write``, as ``serve --demo`` does for six
hours; the test then rolls it up and publishes the tick (the server's background
workers are off). ``.ci/run`` installs chromium and the npm packages (``npm ci``
here); without them this test skips."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.core.services import open_services
from api.core.settings import Settings
from api.demo.geoip import write_database
from api.demo.install import install
from api.demo.network import build_network
from api.demo.runner import DemoLoad, DemoOptions
from api.demo.writer import RemoteWriter
from api.rollup.minutes import roll_up
from api.stats.ticks import publish_tick
from tests.support.browser import missing, run_node
from tests.support.processes import lpmetrics_serve, ready_server, server_env
from tests.support.services import empty_database, free_port

# Bounds that only stop a run that would otherwise hang.
RUN_SECONDS = 240
READY_SECONDS = 120
HISTORY_SECONDS = 1800

READY_QUERY = """{ coverageGaps { cell } origins(level: CELL, window: LAST_DAY) { code }
  regions(level: LIVEPEER_REGION) { code capacity } }"""


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    """(server URL, the explorer's port, a port of an origin not allowed)."""
    if (reason := missing()) is not None:
        pytest.skip(reason)
    network = build_network()
    geoip = write_database(network, tmp_path / "demo-geoip.mmdb")
    frame_port, refused_port, port = free_port(), free_port(), free_port()
    env = server_env(
        settings,
        LPM_DATA_DIR=str(tmp_path / "data"),
        LPM_GEOIP_DB=str(geoip),
        LPM_CORS_ORIGINS=f"http://localhost:{frame_port}",
        # The test rolls up and publishes the tick itself, at once, rather than wait
        # for the rollup worker's cadence.
        LPM_BACKGROUND_WORKERS="false",
    )
    log = (tmp_path / "serve.log").open("w+")
    try:
        with ready_server(
            lpmetrics_serve(port),
            port,
            env,
            name="lpmetrics serve",
            ready_seconds=READY_SECONDS,
            output=log,
        ) as (url, process):
            _load_demo(settings.model_copy(update={"geoip_db": geoip}), network, url)
            _wait(lambda: _has_data(url), process)
            yield url, frame_port, refused_port
    finally:
        log.seek(0)
        output = log.read()
        assert "Traceback" not in output, output


def _wait(ready, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while True:
        assert process.poll() is None, "lpmetrics serve exited"
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.5)


def _has_data(url: str) -> bool:
    data = httpx.post(f"{url}/graphql", json={"query": READY_QUERY}, timeout=30).json()["data"]
    return bool(
        data["coverageGaps"] and data["origins"] and any(r["capacity"] for r in data["regions"])
    )


def _load_demo(settings: Settings, network, url: str) -> None:
    """Registry, tokens and half an hour of the demo network, through the real ingest."""

    async def run() -> None:
        async with open_services(settings) as services:
            await empty_database(services.db)
            installed = await install(services, network)
            now = time.time()
            async with RemoteWriter(url) as writer:
                load = DemoLoad(network, installed.tokens, writer, DemoOptions())
                await load.run(start=now - HISTORY_SECONDS, until=now)
            async with services.db.acquire() as conn:
                await roll_up(conn)
            await publish_tick(services, datetime.fromtimestamp(now, UTC) - timedelta(minutes=1))

    asyncio.run(run())


@pytest.mark.skipif(missing() is not None, reason=missing() or "")
def test_map_page_in_chromium(served: tuple[str, int, int]) -> None:
    url, frame_port, refused_port = served
    run = run_node(
        "map.mjs",
        env={
            "LPM_API_URL": url,
            "LPM_FRAME_PORT": str(frame_port),
            "LPM_REFUSED_PORT": str(refused_port),
        },
        timeout=RUN_SECONDS,
    )
    lines = run.stdout.strip().splitlines()
    assert lines, run.stderr
    results = json.loads(lines[-1])["results"]
    failed = [r for r in results if not r["ok"]]
    assert not failed, json.dumps(failed, indent=2)
    assert run.returncode == 0, run.stderr
    assert len(results) == 9
