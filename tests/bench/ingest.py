"""Ingest benchmark: stored samples/s and request latency, against Prometheus' own
remote-write receiver on the same payloads.

    uv run python tests/bench/ingest.py [--orchestrators 48] [--rounds 12] [--runs 3]

Starts ``lpmetrics serve`` in its own process on its own database (a fresh database on
``LPM_DATABASE_URL`` / a key prefix on ``LPM_REDIS_URL`` when set, else embedded
PostgreSQL and Redis in a temporary directory), registers the orchestrators with ingest
tokens, and sends realistic go-livepeer batches of 2,000 samples (one orchestrator's
scrape each; every orchestrator sent by one sender, in order, as Prometheus does) from
8 concurrent senders. Then runs ``prometheus --web.enable-remote-write-receiver`` and
sends it the same payloads. Prints the median over ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from api.core.embedded import embedded_services  # noqa: E402
from api.core.migrate import migrate  # noqa: E402
from api.remote_write import remote_v1_pb2  # noqa: E402
from auth.tokens import create_token  # noqa: E402
from tests.support.remote_write_bodies import V1_HEADERS, compress, livepeer_series  # noqa: E402

SCRAPE_MS = 15_000


@dataclass
class Payload:
    orchestrator: int
    body: bytes
    samples: int


@dataclass
class Result:
    seconds: float
    samples: int
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rate(self) -> float:
        return self.samples / self.seconds

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def address(i: int) -> str:
    return "0x" + f"{i + 1:040x}"


def build_payloads(
    orchestrators: int, rounds: int, series: int, start_ms: int
) -> list[list[Payload]]:
    """payloads[round][orchestrator]: one scrape of every series, counters growing."""
    templates = []
    for i in range(orchestrators):
        node = f"{address(i)}-orch-{i}"
        request = remote_v1_pb2.WriteRequest()
        for s in livepeer_series(series, node_id=node):
            ts = request.timeseries.add()
            for name, value in sorted(s.labels.items()):
                ts.labels.add(name=name, value=value)
            ts.samples.add(timestamp=0, value=0.0)
        templates.append(request)
    payloads = []
    for r in range(rounds):
        row = []
        for i, request in enumerate(templates):
            for k, ts in enumerate(request.timeseries):
                sample = ts.samples[0]
                sample.timestamp = start_ms + r * SCRAPE_MS
                sample.value = float(k % 7 + r * (k % 5))
            row.append(Payload(i, compress(request.SerializeToString()), series))
        payloads.append(row)
    return payloads


async def send_all(
    urls: list[str], payloads: list[list[Payload]], tokens: list[str] | None, senders: int
) -> Result:
    """Each sender owns every ``senders``-th orchestrator and sends its scrapes in order,
    to one of ``urls`` (API processes behind a sticky load balancer, in effect)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    stored = 0

    async def sender(k: int) -> None:
        nonlocal stored
        url = urls[k % len(urls)]
        async with httpx.AsyncClient(timeout=60) as client:
            for row in payloads:
                for p in row[k::senders]:
                    headers = dict(V1_HEADERS)
                    if tokens is not None:
                        headers["Authorization"] = f"Bearer {tokens[p.orchestrator]}"
                    while True:
                        t0 = time.perf_counter()
                        response = await client.post(url, content=p.body, headers=headers)
                        latencies.append(time.perf_counter() - t0)
                        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                        if response.status_code < 300:
                            stored += p.samples
                            break
                        if response.status_code not in (429, 503):
                            raise SystemExit(
                                f"{url} answered {response.status_code}: {response.text}"
                            )
                        await asyncio.sleep(0.1)

    start = time.perf_counter()
    await asyncio.gather(*(sender(k) for k in range(senders)))
    return Result(time.perf_counter() - start, stored, latencies, statuses)


def start(command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def wait_http(url: str, proc: subprocess.Popen, within: float = 120) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.2)
    raise SystemExit(f"{url} not ready")


@contextlib.contextmanager
def servers(tmp: Path) -> Iterator[tuple[str, str]]:
    env_db = os.environ.get("LPM_DATABASE_URL") or None
    env_redis = os.environ.get("LPM_REDIS_URL") or None
    with embedded_services(
        tmp / "embedded", postgres=env_db is None, redis=env_redis is None
    ) as urls:
        yield env_db or urls.database_url, env_redis or urls.redis_url  # type: ignore[misc]


def server_env(
    db_url: str, redis_url: str, data_dir: Path, *, dropped: tuple[str, ...] = ("LPM_",)
) -> dict[str, str]:
    """This environment without the variables starting with ``dropped``, plus the
    ``LPM_*`` of a bench server: its database, a Redis prefix and secret of its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        LPM_DATABASE_URL=db_url,
        LPM_REDIS_URL=redis_url,
        LPM_REDIS_PREFIX=f"lpmbench:{secrets.token_hex(4)}:",
        LPM_SECRET="bench-" + secrets.token_hex(8),
        LPM_DATA_DIR=str(data_dir),
    )
    return env


async def prepare_database(admin_url: str, name: str, orchestrators: int) -> tuple[str, list[str]]:
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    conn = await asyncpg.connect(url)
    await migrate(conn)
    tokens = []
    for i in range(orchestrators):
        await conn.execute(
            "INSERT INTO orchestrators (address, active, total_stake) VALUES ($1, true, 1)",
            address(i),
        )
        tokens.append((await create_token(conn, address(i), "bench", ["ingest"]))[1])
    await conn.close()
    return url, tokens


async def drop_database(admin_url: str, name: str) -> None:
    admin = await asyncpg.connect(admin_url)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.close()


async def stored_samples(url: str) -> tuple[int, int]:
    conn = await asyncpg.connect(url)
    try:
        samples = await conn.fetchval("SELECT coalesce(sum(cardinality(series)), 0) FROM samples")
        pending = await conn.fetchval("SELECT count(*) FROM rollup_queue")
        return samples, pending
    finally:
        await conn.close()


async def wait_rollup(url: str) -> float:
    began = time.perf_counter()
    for _ in range(3600):
        if not (await stored_samples(url))[1]:
            break
        await asyncio.sleep(0.5)
    return time.perf_counter() - began


def report(name: str, results: list[Result]) -> float:
    rate = statistics.median(r.rate for r in results)
    p50 = statistics.median(r.quantile(0.5) for r in results) * 1000
    p99 = statistics.median(r.quantile(0.99) for r in results) * 1000
    statuses: dict[int, int] = {}
    for r in results:
        for k, v in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    runs = ", ".join(f"{r.rate:,.0f}" for r in results)
    print(
        f"{name:>12}: {rate:>10,.0f} samples/s (runs: {runs}), p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms, answers {statuses}"
    )
    return rate


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orchestrators", type=int, default=48)
    parser.add_argument("--series", type=int, default=2000, help="samples per request")
    parser.add_argument("--rounds", type=int, default=12, help="scrapes per orchestrator per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument(
        "--processes", type=int, default=1, help="lpmetrics serve processes sharing the load"
    )
    parser.add_argument("--no-prometheus", action="store_true")
    parser.add_argument("--profile", metavar="FILE", help="run the server under cProfile")
    args = parser.parse_args()

    total_rounds = args.rounds * args.runs
    start_ms = (int(time.time() * 1000) - total_rounds * SCRAPE_MS - 60_000) // 1000 * 1000
    print(
        f"building {total_rounds * args.orchestrators} payloads of {args.series} samples ...",
        flush=True,
    )
    payloads = build_payloads(args.orchestrators, total_rounds, args.series, start_ms)
    runs = [payloads[i * args.rounds : (i + 1) * args.rounds] for i in range(args.runs)]

    with (
        tempfile.TemporaryDirectory(prefix="lpm-bench-") as tmp_name,
        servers(Path(tmp_name)) as (admin_url, redis_url),
    ):
        tmp = Path(tmp_name)
        name = f"lpm_bench_{secrets.token_hex(4)}"
        db_url, tokens = await prepare_database(admin_url, name, args.orchestrators)
        env = server_env(db_url, redis_url, tmp / "data")
        ports = [free_port() for _ in range(args.processes)]
        servers_ = []
        for i, port in enumerate(ports):
            profile = ["-m", "cProfile", "-o", f"{args.profile}.{i}"] if args.profile else []
            command = [sys.executable, *profile, "-m", "api.cli", "serve", "--port", str(port)]
            servers_.append(start(command, env))
        ours: list[Result] = []
        theirs: list[Result] = []
        try:
            bases = [f"http://127.0.0.1:{port}" for port in ports]
            for base, server in zip(bases, servers_, strict=True):
                await wait_http(base + "/readyz", server)
            writes = [base + "/api/v1/write" for base in bases]
            # Warm up: first sight of every series (ids created), then steady state.
            warm = build_payloads(args.orchestrators, 1, args.series, start_ms - SCRAPE_MS)
            await send_all(writes, warm, tokens, args.senders)
            for run in runs:
                ours.append(await send_all(writes, run, tokens, args.senders))
                print(f"  lpmetrics run: {ours[-1].rate:,.0f} samples/s", flush=True)
            stored, _ = await stored_samples(db_url)
            expected = args.series * args.orchestrators * (total_rounds + 1)
            print(f"  stored {stored:,} samples in PostgreSQL (sent {expected:,})")
            drained = await wait_rollup(db_url)
            print(f"  rollup drained its backlog {drained:.1f} s after the last request")
        finally:
            for server in servers_:
                server.terminate()
            for server in servers_:
                server.wait(30)
            await drop_database(admin_url, name)

        prometheus = shutil.which("prometheus")
        if args.no_prometheus or prometheus is None:
            report("lpmetrics", ours)
            print("prometheus not run" + ("" if args.no_prometheus else ": binary not found"))
            return
        port = free_port()
        config = tmp / "prometheus.yml"
        config.write_text("global:\n  scrape_interval: 1h\n")
        prom = start(
            [
                prometheus,
                f"--config.file={config}",
                f"--storage.tsdb.path={tmp / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--web.enable-remote-write-receiver",
            ]
        )
        try:
            base = f"http://127.0.0.1:{port}"
            await wait_http(base + "/-/ready", prom)
            await send_all([base + "/api/v1/write"], warm, None, args.senders)
            for run in runs:
                theirs.append(await send_all([base + "/api/v1/write"], run, None, args.senders))
                print(f"  prometheus run: {theirs[-1].rate:,.0f} samples/s", flush=True)
        finally:
            prom.terminate()
            prom.wait(30)
    ours_rate = report("lpmetrics", ours)
    theirs_rate = report("prometheus", theirs)
    print(f"{'ratio':>12}: {ours_rate / theirs_rate:.3f} of Prometheus' receiver")


if __name__ == "__main__":
    asyncio.run(main())
