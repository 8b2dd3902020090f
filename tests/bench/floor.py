"""The request floor: ``GET /healthz`` of lpmetrics against a bare Starlette app.

    uv run python -m tests.bench.floor [--duration 8] [--repeat 3] [--parts]

Both run under uvicorn in their own process, started the way ``lpmetrics serve``
starts (``--proxy-headers``, log level info), with the access log on and off, and are
driven by ``wrk`` (32 connections) in interleaved runs so a noisy moment hits all of
them alike. Prints the medians and lpmetrics' share of the bare app's requests/s
(target: at least 85 % with the access log on). ``--parts`` adds runs of the lpmetrics
app without its one app-wide middleware (request metrics), to see where the rest goes.
CORS applies to the routes browsers call from other origins only (``api.http.app``).

PostgreSQL and Redis as in ``tests.bench.query`` (the app opens its services at start
even though ``/healthz`` does not use them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time

import asyncpg
import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from api.core.migrate import migrate
from tests.bench.query import (
    Result,
    _free_port,
    _print,
    _with_database,
    create_bench_app,
    median_of,
    run_wrk,
    servers,
)

DATABASE = "lpm_bench_floor"
TARGET = 0.85
LEAVE_OUT = "LPM_BENCH_LEAVE_OUT"
"""Names of middleware classes the lpmetrics app is built without (``--parts``)."""


async def _ok(request) -> PlainTextResponse:
    return PlainTextResponse("ok\n")


def bare_app() -> Starlette:  # uvicorn --factory entry point
    return Starlette(routes=[Route("/healthz", _ok, methods=["GET"])])


def lpmetrics_app() -> Starlette:  # uvicorn --factory entry point
    app = create_bench_app()
    leave_out = set(filter(None, os.environ.get(LEAVE_OUT, "").split(",")))
    app.user_middleware = [m for m in app.user_middleware if m.cls.__name__ not in leave_out]
    return app


def start(factory: str, env: dict[str, str], access_log: bool) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        f"tests.bench.floor:{factory}",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--proxy-headers",
        "--log-level",
        "info",
        "--access-log" if access_log else "--no-access-log",
    ]
    # The access log goes to a pipe that is read, as under systemd or docker.
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _drain(process)
    url = f"http://127.0.0.1:{port}/healthz"
    for _ in range(300):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return process, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{factory} did not start")


def _drain(process: subprocess.Popen) -> None:
    def read() -> None:
        assert process.stderr is not None
        for _ in iter(lambda: process.stderr.read(65536), b""):
            pass

    threading.Thread(target=read, daemon=True).start()


async def prepare(admin_url: str) -> str:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    url = _with_database(admin_url, DATABASE)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return url


async def drop(admin_url: str) -> None:
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    finally:
        await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8, help="seconds per run")
    parser.add_argument("--warm-up", type=int, default=2, help="unmeasured seconds before each")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians printed")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--parts", action="store_true", help="also leave out one part at a time")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    scenarios: list[tuple[str, str, dict[str, str], bool]] = []
    for log in (True, False):
        suffix = "log on" if log else "log off"
        scenarios.append((f"bare, {suffix}", "bare_app", {}, log))
        scenarios.append((f"lpmetrics, {suffix}", "lpmetrics_app", {}, log))
    if args.parts:
        scenarios.append(
            (
                "  without request metrics",
                "lpmetrics_app",
                {LEAVE_OUT: "RequestMetricsMiddleware"},
                True,
            )
        )

    runs: dict[str, list[Result]] = {name: [] for name, *_ in scenarios}
    for admin_url, redis_url in servers(args):
        database_url = asyncio.run(prepare(admin_url))
        # The request path only: every scenario's server is alive for the whole run, and
        # their rollup and sync loops would be noise that one production process has once.
        env = {
            "LPM_DATABASE_URL": database_url,
            "LPM_REDIS_URL": redis_url,
            "LPM_BACKGROUND_WORKERS": "0",
        }
        started = []
        try:
            for name, factory, extra, log in scenarios:
                started.append((name, *start(factory, {**env, **extra}, log)))
            for _ in range(args.repeat):
                for name, _process, url in started:
                    runs[name].append(run_wrk(name, url, args))
        finally:
            for _name, process, _url in started:
                process.terminate()
            for _name, process, _url in started:
                process.wait(timeout=30)
            asyncio.run(drop(admin_url))
    results = {name: median_of(r) for name, r in runs.items()}
    print(f"\n{'run':<28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for r in zip(*runs.values(), strict=True):
        for one in r:
            _print(one)
    print("medians:")
    for r in results.values():
        _print(r)
    rate = {name: r.requests_per_second for name, r in results.items()}
    on = rate["lpmetrics, log on"] / rate["bare, log on"]
    off = rate["lpmetrics, log off"] / rate["bare, log off"]
    print(f"\nmedians of {args.repeat}; lpmetrics / bare: access log on {on:.0%}, off {off:.0%}")
    ok = on >= TARGET
    print(f"{'PASS' if ok else 'FAIL'}  /healthz >= {TARGET:.0%} of bare Starlette, access log on")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
