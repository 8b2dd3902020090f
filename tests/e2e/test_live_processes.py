"""``networkUpdates`` across two ``lpmetrics serve`` processes sharing one PostgreSQL
and one Redis (the test run's database and key prefix, embedded or not).

B runs with ``LPM_BACKGROUND_WORKERS=0``: it serves requests and follows the rollup
ticks, and never rolls up. The deployment's last tick is minutes old, as after its
rollup leader went away, so B answers for that tick and can only move on when a tick
arrives on Redis. A real WebSocket client (graphql-transport-ws) subscribes on B, an
orchestrator's samples go through B's ``POST /api/v1/write``, then A starts with every
worker: it becomes the leader, rolls the queued samples up and publishes the new
minute, and the subscriber on B receives figures of that minute with the samples in
them."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import websockets

from api.core.services import Services
from api.core.settings import Settings
from api.stats.ticks import clock_tick, latest_key
from api.stats.windows import MINUTE
from auth.sessions import create_session
from tests.support.cli_env import env_for
from tests.support.graphql_ws import subscribed
from tests.support.ingest import ADDRESS, NODE, node_series, now_ms, register, send_series
from tests.support.services import free_port
from tests.support.wallet import ORIGIN

SUBSCRIPTION = "subscription { networkUpdates { asOf currentStreams capacity precision } }"
OTHER_NODE = f"{ADDRESS}-orch-nyc-1"
# How old the deployment's last tick is when the test starts.
STALE_MINUTES = 10
READY_SECONDS = 60.0
UPDATE_SECONDS = 30.0


class Server:
    """``lpmetrics serve`` in a process of its own, its output in ``log``."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    async def ready(self) -> None:
        deadline = time.monotonic() + READY_SECONDS
        async with httpx.AsyncClient(base_url=self.url, timeout=2) as http:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"serve exited:\n{self.output()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        raise AssertionError(f"serve was not ready in {READY_SECONDS} s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text()[-4000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@contextlib.contextmanager
def serve(settings: Settings, log: Path, **env: str) -> Iterator[Server]:
    """A server process on ``settings``' database and Redis prefix, always stopped."""
    server = Server({**env_for(settings), "LPM_CORS_ORIGINS": ORIGIN, **env}, log)
    try:
        yield server
    finally:
        server.stop()


async def next_figures(ws: websockets.ClientConnection) -> dict:
    try:
        async with asyncio.timeout(UPDATE_SECONDS):
            message = json.loads(await ws.recv())
    except TimeoutError:
        raise AssertionError(f"no figures from networkUpdates in {UPDATE_SECONDS} s") from None
    assert message["type"] == "next", message
    return message["payload"]["data"]["networkUpdates"]


def gauges(sessions: float, capacity: float, node: str) -> list:
    """Three minutes of a node's gauges up to now, every 15 s: whichever minute the
    leader publishes next, the node was heard from within its last five."""
    stamps = [now_ms() - 15_000 * k for k in range(12, -1, -1)]
    return [
        node_series("livepeer_current_sessions_total", [(t, sessions) for t in stamps], node),
        node_series("livepeer_max_sessions_total", [(t, capacity) for t in stamps], node),
    ]


async def test_a_tick_rolled_up_by_one_process_reaches_a_subscriber_of_another(
    services: Services, settings: Settings, tmp_path: Path
) -> None:
    orchestrator = await register(services, ADDRESS)
    session = await create_session(services, ADDRESS)
    # The deployment's last tick is minutes old, as after its leader went away: B answers
    # for it and leaves it only for a tick from Redis, never for the clock.
    stale = clock_tick() - STALE_MINUTES * MINUTE
    await services.redis.set(latest_key(services), stale.isoformat())

    with serve(settings, tmp_path / "b.log", LPM_BACKGROUND_WORKERS="0") as b:
        await b.ready()
        bearer = {"Authorization": f"Bearer {session.token}"}
        async with subscribed(b.url, SUBSCRIPTION, bearer) as ws:
            # B takes the stored tick when it starts following the channel; until it
            # has, it answers for the clock's minute.
            first = await next_figures(ws)
            while first["asOf"] != stale.isoformat():
                first = await next_figures(ws)
            assert first == {
                "asOf": stale.isoformat(),
                "currentStreams": 0,
                "capacity": 0,
                "precision": "EXACT",
            }

            async with httpx.AsyncClient(base_url=b.url, timeout=30) as http:
                await send_series(
                    http, orchestrator.token, gauges(3, 10, NODE) + gauges(4, 6, OTHER_NODE)
                )
            written = clock_tick()
            # Stored and queued by B, which rolls nothing up.
            assert await services.db.fetchval("SELECT count(*) FROM rollup_queue") > 0
            assert await services.db.fetchval("SELECT count(*) FROM node_minutes") == 0

            # A starts once the samples are queued, so the minute its first pass publishes
            # has them (a process does not take the same minute twice).
            with serve(settings, tmp_path / "a.log") as a:
                await a.ready()
                update = await next_figures(ws)
                assert await services.db.fetchval("SELECT count(*) FROM rollup_queue") == 0

    # The first figures after the stale tick are those of A's first pass: the newest
    # complete minute, with both nodes' latest samples.
    as_of = datetime.fromisoformat(update["asOf"])
    assert written <= as_of <= clock_tick()
    assert update == {
        "asOf": as_of.isoformat(),
        "currentStreams": 7,
        "capacity": 16,
        "precision": "EXACT",
    }
