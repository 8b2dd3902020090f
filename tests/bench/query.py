"""Benchmark of the explorer's dashboard query (not collected by pytest).

    uv run python -m tests.bench.query [--duration 10] [--repeat 3] [--server-workers 1] [--keep]

Builds a database holding a simulated 30-day history of 100 orchestrators and 150
nodes (rollups written in bulk with COPY, hourly aggregates refreshed the way the
worker does it), starts the real server in its own process, and drives it with
``wrk`` (Debian package ``wrk``) at 32 concurrent connections:

1. ``GET /healthz``, the floor: what the same server answers with no work at all;
2. the dashboard query, anonymous (served from the response cache within a tick);
3. the same query signed in with a real session token: the same for every precise
   caller, so computed once per tick and then served from the cache;
4. the same query plus ``viewer { address }`` signed in: about the caller, so GraphQL
   runs on every request (what any query about one's own data costs).

Each run is preceded by a short warm-up (every server process computes its per-tick
results before it is measured), the three runs are repeated ``--repeat`` times
interleaved, so a noisy moment hits all of them alike, and the medians are printed:
requests/s, p50 and p99 of each, checked against the targets: anonymous p99 <= 20 ms
and >= 50 % of the floor's requests/s; signed-in p99 <= 100 ms (the dashboard; the
executed one is reported alongside). The server is built
as ``lpmetrics serve`` builds it (garbage collector frozen after start-up).

PostgreSQL and Redis come from ``LPM_DATABASE_URL`` / ``LPM_REDIS_URL`` (the bench
creates and drops a database ``lpm_bench`` on that server and uses its own Redis
prefix), or are started embedded. ``--keep`` reuses the database of a previous run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

from api.core.embedded import embedded_services
from api.core.migrate import migrate
from api.core.services import open_services
from api.core.settings import Settings, load_settings
from api.http.app import create_app
from api.rollup.hours import refresh
from auth.sessions import create_session
from tests.support.dashboard_query import DASHBOARD
from tests.support.rollup_rows import add_node, add_orchestrator, add_place

DATABASE = "lpm_bench"
PREFIX = "lpmbench:"

# Metro areas nodes are spread around (latitude, longitude, country).
METROS = [
    (50.11, 8.68, "DE"),
    (52.52, 13.40, "DE"),
    (51.51, -0.13, "GB"),
    (48.86, 2.35, "FR"),
    (52.37, 4.90, "NL"),
    (40.42, -3.70, "ES"),
    (50.08, 14.44, "CZ"),
    (59.33, 18.07, "SE"),
    (55.76, 37.62, "RU"),
    (40.71, -74.01, "US"),
    (41.88, -87.63, "US"),
    (34.05, -118.24, "US"),
    (37.34, -121.89, "US"),
    (47.61, -122.33, "US"),
    (25.76, -80.19, "US"),
    (33.75, -84.39, "US"),
    (29.76, -95.37, "US"),
    (43.65, -79.38, "CA"),
    (-23.55, -46.63, "BR"),
    (1.35, 103.82, "SG"),
    (35.68, 139.65, "JP"),
    (-33.87, 151.21, "AU"),
    (19.08, 72.88, "IN"),
    (6.52, 3.38, "NG"),
]


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def build_history(url: str, orchestrators: int, nodes: int, days: int, now: datetime) -> None:
    """Registry, places, nodes and ``days`` of per-minute rollups ending at ``now``."""
    rng = random.Random(42)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        metro_places = []
        for lat, lon, country in METROS:
            places = []
            for _ in range(4):
                places.append(
                    await add_place(
                        conn, lat + rng.uniform(-0.4, 0.4), lon + rng.uniform(-0.4, 0.4), country
                    )
                )
            metro_places.append(places)
        addresses = []
        for i in range(orchestrators):
            metro = metro_places[i % len(metro_places)]
            address = f"0x{rng.getrandbits(160):040x}"
            await add_orchestrator(conn, address, stake=rng.uniform(1e3, 1e6), location=metro[0])
            addresses.append((address, metro))
        for _ in range(int(orchestrators * 0.2)):  # known but not reporting
            await add_orchestrator(conn, f"0x{rng.getrandbits(160):040x}", stake=1e4)
        node_ids = []
        for i in range(nodes):
            address, metro = addresses[i % orchestrators]
            # A third of the second nodes run far from their orchestrator's metro.
            if i >= orchestrators and i % 3 == 0:
                metro = metro_places[(i * 7) % len(metro_places)]
            place = rng.choice(metro)
            node = await add_node(conn, address, f"node-{i}")
            node_ids.append((node, place, i))
        broadcasters = [os.urandom(32) for _ in range(40)]
        minutes = days * 24 * 60
        first = now - timedelta(minutes=minutes - 1)
        columns = [
            "node",
            "minute",
            "location_id",
            "sessions_last",
            "sessions_avg",
            "sessions_max",
            "capacity",
            "mil_pixels",
            "segments",
            "source_seconds",
            "has_senders",
            "has_origins",
        ]
        start = time.perf_counter()
        for node, place, i in node_ids:
            base = 2 + (i % 9)
            senders = i % 3 != 2
            origins = i % 2 == 0

            def rows(node=node, place=place, base=base, senders=senders, origins=origins):
                for m in range(minutes):
                    minute = first + timedelta(minutes=m)
                    daily = 1 + 0.5 * math.sin(
                        (minute.hour + minute.minute / 60) / 24 * 2 * math.pi
                    )
                    streams = float(round(base * daily))
                    yield (
                        node,
                        minute,
                        place,
                        streams,
                        streams,
                        streams,
                        20.0,
                        streams * 124.4,
                        streams * 30,
                        streams * 60.0,
                        senders,
                        origins,
                    )

            await conn.copy_records_to_table("node_minutes", records=rows(), columns=columns)
            extra = []
            origin_rows = []
            for m in range(0, minutes, 5):
                minute = first + timedelta(minutes=m)
                if senders:
                    extra.append((node, minute, broadcasters[(i + m // 60) % len(broadcasters)]))
                if origins:
                    origin_rows.append((node, minute, "DE", "831faefffffffff", 10.0))
            await conn.copy_records_to_table(
                "node_minute_senders", records=extra, columns=["node", "minute", "sender"]
            )
            await conn.copy_records_to_table(
                "node_minute_origins",
                records=origin_rows,
                columns=["node", "minute", "country", "cell", "mil_pixels"],
            )
        print(f"  rollups written in {time.perf_counter() - start:.0f} s", flush=True)
    finally:
        await conn.close()


async def prepare_database(admin_url: str, args: argparse.Namespace, now: datetime) -> str:
    url = _with_database(admin_url, DATABASE)
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        build = not (exists and args.keep)
        if build:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    if build:
        print(
            f"building {args.days} days of {args.nodes} nodes of {args.orchestrators} orchestrators"
        )
        await build_history(url, args.orchestrators, args.nodes, args.days, now)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)  # a kept database may predate the newest migrations
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    start = time.perf_counter()
    hours = await refresh(pool, before=now + timedelta(days=1))
    print(f"  {hours} hourly aggregates refreshed in {time.perf_counter() - start:.0f} s")
    await pool.close()
    return url


def bench_settings() -> Settings:
    return load_settings(redis_prefix=PREFIX, secret="bench-secret")


def create_bench_app():  # uvicorn --factory entry point
    # As `lpmetrics serve` builds it: the start-up heap leaves the garbage collector.
    return create_app(bench_settings(), freeze_gc=True)


@dataclass
class Result:
    name: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    non_2xx: int


def _print(r: Result) -> None:
    print(
        f"{r.name:<24} {r.requests_per_second:>9.0f} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f}"
        f" {r.non_2xx:>8}"
    )


def median_of(results: list[Result]) -> Result:
    """Field by field, the median of repeated runs of one scenario."""
    return Result(
        results[0].name,
        statistics.median(r.requests_per_second for r in results),
        statistics.median(r.p50_ms for r in results),
        statistics.median(r.p99_ms for r in results),
        sum(r.non_2xx for r in results),
    )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip()).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def run_wrk(
    name: str,
    url: str,
    args: argparse.Namespace,
    *,
    body: str | None = None,
    headers: dict[str, str] | None = None,
) -> Result:
    lines = []
    if body is not None:
        lines.append('wrk.method = "POST"')
        lines.append(f"wrk.body = {json.dumps(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/json"')
    for key, value in (headers or {}).items():
        lines.append(f"wrk.headers[{json.dumps(key)}] = {json.dumps(value)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    command = [
        "wrk",
        "--latency",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "-s",
        script.name,
        url,
    ]
    warm_up = [*command[:4], f"-d{args.warm_up}s", *command[5:]]
    subprocess.run(warm_up, capture_output=True, check=True)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    os.unlink(script.name)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return Result(name, rps, p50, p99, int(bad.group(1)) if bad else 0)


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base_url: str


def start_server(database_url: str, redis_url: str, workers: int) -> Server:
    port = _free_port()
    env = {
        **os.environ,
        "LPM_DATABASE_URL": database_url,
        "LPM_REDIS_URL": redis_url,
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "tests.bench.query:create_bench_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(command, env=env)
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return Server(process, base_url)
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def check(response: httpx.Response) -> None:
    payload = response.json()
    if response.status_code != 200 or payload.get("errors"):
        raise SystemExit(f"the dashboard query failed: {response.text[:500]}")


async def signed_in_token(database_url: str, redis_url: str) -> str:
    settings = bench_settings().model_copy(
        update={"database_url": database_url, "redis_url": redis_url}
    )
    async with open_services(settings) as services:
        address = await services.db.fetchval("SELECT orchestrator FROM nodes ORDER BY id LIMIT 1")
        session = await create_session(services, address)
    return session.token


def servers(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    env_db = os.environ.get("LPM_DATABASE_URL") or None
    env_redis = os.environ.get("LPM_REDIS_URL") or None
    data_dir = Path(tempfile.mkdtemp(prefix="lpm-bench-"))
    try:
        with embedded_services(data_dir, postgres=env_db is None, redis=env_redis is None) as u:
            yield (env_db or u.database_url, env_redis or u.redis_url)  # type: ignore[misc]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--warm-up", type=int, default=3, help="unmeasured seconds before each")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; medians printed")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn processes")
    parser.add_argument("--orchestrators", type=int, default=100)
    parser.add_argument("--nodes", type=int, default=150)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse the bench database")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")

    now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    for admin_url, redis_url in servers(args):
        database_url = asyncio.run(prepare_database(admin_url, args, now))
        token = asyncio.run(signed_in_token(database_url, redis_url))
        server = start_server(database_url, redis_url, args.server_workers)
        try:
            to = datetime.now(UTC).replace(second=0, microsecond=0)
            variables = {"from": (to - timedelta(hours=24)).isoformat(), "to": to.isoformat()}
            body = json.dumps({"query": DASHBOARD, "variables": variables})
            own = DASHBOARD.replace("query Dashboard($from", "query Own($from").replace(
                "network { ...figures }", "viewer { address } network { ...figures }", 1
            )
            own_body = json.dumps({"query": own, "variables": variables})
            url = f"{server.base_url}/graphql"
            # The first answers compute the whole tick (cold caches): allow them time.
            check(
                httpx.post(
                    url, content=body, headers={"Content-Type": "application/json"}, timeout=120
                )
            )
            signed = {"Authorization": f"Bearer {token}"}
            for content in (body, own_body):
                check(
                    httpx.post(
                        url,
                        content=content,
                        headers={"Content-Type": "application/json", **signed},
                        timeout=120,
                    )
                )
            runs: list[list[Result]] = []
            for _ in range(args.repeat):
                runs.append(
                    [
                        run_wrk("floor GET /healthz", f"{server.base_url}/healthz", args),
                        run_wrk("dashboard, anonymous", url, args, body=body),
                        run_wrk("dashboard, signed in", url, args, body=body, headers=signed),
                        run_wrk("  + viewer, signed in", url, args, body=own_body, headers=signed),
                    ]
                )
            results = [median_of(list(same)) for same in zip(*runs, strict=True)]
        finally:
            server.process.terminate()
            server.process.wait(timeout=30)
    floor = results[0]
    print(f"\n{'run':<24} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for r in [r for run in runs for r in run]:
        _print(r)
    print(f"medians of {args.repeat}, {args.server_workers} server process(es):")
    for r in results:
        _print(r)
    anonymous, signed_in = results[1], results[2]
    ratio = anonymous.requests_per_second / floor.requests_per_second
    targets = [
        ("anonymous p99 <= 20 ms", anonymous.p99_ms <= 20),
        (f"anonymous >= 50% of floor req/s ({ratio:.0%})", ratio >= 0.5),
        ("signed-in p99 <= 100 ms", signed_in.p99_ms <= 100),
    ]
    print()
    for text, ok in targets:
        print(f"{'PASS' if ok else 'FAIL'}  {text}")
    return 0 if all(ok for _, ok in targets) else 1


if __name__ == "__main__":
    raise SystemExit(main())
