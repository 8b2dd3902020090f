"""The soak: ``lpmetrics serve`` on a private PostgreSQL and Redis, ``lpmetrics
demo-load --orchestrators 100`` writing, the explorer's queries at ``--rate`` per second
(anonymous, signed in with a session and with an API token, subscriptions), while a
fault schedule restarts PostgreSQL, restarts Redis and pauses the server (SIGSTOP /
SIGCONT) in turn.

It reports requests by status, samples sent and stored, rollup lag, and the server's
RSS and open file descriptors over time; it fails on any sample lost or stored twice,
any 5xx or failed request outside the fault windows (each fault plus ``GRACE``
seconds), or RSS growing more than 10 % after the warm-up.

PostgreSQL and Redis are its own processes in a temporary directory (``tests.support.servers``),
never the machine's shared ones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from api.core.services import open_services
from api.core.settings import load_settings
from auth.sessions import create_session
from auth.tokens import create_token
from tests.soak.load import Readers
from tests.soak.report import Run, Sample, SoakOptions, report, warm_up
from tests.support.servers import PostgresServer, RedisServer, free_port

SAMPLE_EVERY = 5.0
ORIGIN = "https://explorer.soak"


async def soak(options: SoakOptions) -> bool:
    directory = Path(tempfile.mkdtemp(prefix="lpm-soak-"))
    os.chmod(directory, 0o755)
    run = Run(options, directory)
    pg = PostgresServer(directory / "postgres")
    redis = RedisServer(directory / "redis")
    processes: list[subprocess.Popen[bytes]] = []
    try:
        pg.init()
        pg.start()
        redis.start()
        admin = await asyncpg.connect(pg.url)
        await admin.execute("CREATE DATABASE lpmetrics")
        await admin.close()
        database_url = pg.url.rsplit("/", 1)[0] + "/lpmetrics"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "LPM_DATABASE_URL": database_url,
            "LPM_REDIS_URL": redis.url,
            "LPM_DATA_DIR": str(directory / "data"),
            "LPM_SECRET": "soak-secret-0123456789abcdef",
            "LPM_CORS_ORIGINS": ORIGIN,
        }
        cli = [sys.executable, "-m", "api.cli"]
        server = _spawn([*cli, "serve", "--port", str(port)], env, directory / "serve.log")
        processes.append(server)
        await _wait_healthy(url, server)
        minutes = f"{options.seconds / 60:.2f}m"
        writer = _spawn(
            [*cli, "demo-load", "--url", url, "--orchestrators", str(options.orchestrators),
             "--duration", minutes],
            env,
            directory / "demo-load.log",
        )  # fmt: skip
        processes.append(writer)
        # Faults start once demo-load has registered its network and is writing.
        await _wait_for_line(writer, directory / "demo-load.log", "demo network:")
        session, token = await _callers(database_url, redis.url, env)
        print(f"soak: {options.seconds / 60:.1f} min in {directory}; server pid {server.pid}")
        run.start = time.monotonic()
        until = run.start + options.seconds
        readers = Readers(url, session, token, options.rate, ORIGIN)
        await asyncio.gather(
            readers.run(until),
            _faults(run, pg, redis, server, until),
            _sampler(run, server.pid, database_url, redis.url, until),
        )
        sent = await _wait_writer(writer, directory / "demo-load.log", options.seconds)
        sent["dropped_by_server"] = await _server_drops(url)
        drained = await _drain_rollup(database_url)
        stored = await _stored(database_url)
        server_log = (directory / "serve.log").read_text(errors="replace")
        summary = report(run, readers, sent, stored, drained, server_log)
        (directory / "report.json").write_text(json.dumps(summary, indent=2, default=str))
        print(f"soak: report in {directory / 'report.json'}")
        return summary["passed"]
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.send_signal(signal.SIGCONT)
                    process.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(30)
                if process.poll() is None:
                    process.kill()
        redis.stop()
        pg.stop("immediate")
        if not options.keep:
            shutil.rmtree(directory, ignore_errors=True)


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    output = log.open("wb")
    return subprocess.Popen(args, env=env, stdout=output, stderr=subprocess.STDOUT)


async def _wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=5) as http:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError("the server exited during start-up (see serve.log)")
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError("the server never became ready")


async def _wait_for_line(process: subprocess.Popen[bytes], log: Path, text: str) -> None:
    for _ in range(3000):
        if text in await asyncio.to_thread(log.read_text, errors="replace"):
            return
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[3]} exited (see {log})")
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{process.args[3]} never said {text!r} (see {log})")


async def _callers(database_url: str, redis_url: str, env: dict[str, str]) -> tuple[str, str]:
    """A session and a READ token of a registered orchestrator (once demo-load has
    registered the network)."""
    settings = load_settings(
        database_url=database_url,
        redis_url=redis_url,
        secret=env["LPM_SECRET"],
        data_dir=Path(env["LPM_DATA_DIR"]),
    )
    async with open_services(settings) as services:
        for _ in range(600):
            address = await services.db.fetchval(
                "SELECT orchestrator FROM api_tokens ORDER BY id LIMIT 1"
            )
            if address:
                break
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("demo-load registered no orchestrator (see demo-load.log)")
        session = await create_session(services, address)
        _, token = await create_token(services.db, address, "soak", ["read"])
    return session.token, token


async def _faults(
    run: Run, pg: PostgresServer, redis: RedisServer, server: subprocess.Popen[bytes], until: float
) -> None:
    """Restart PostgreSQL, restart Redis, pause the server: in turn, from the end of the
    warm-up to the last 15 % of the run (which stays quiet, to see everything recover)."""
    seconds = run.options.seconds
    warmed = warm_up(seconds)
    quiet_from = seconds * 0.85
    every = run.options.fault_every or max(15.0, min(60.0, (quiet_from - warmed) / 3))
    pause = min(10.0, every / 2)
    kinds = ["postgres-restart", "redis-restart", "server-pause"]
    at, index = warmed, 0
    while at + pause < quiet_from and time.monotonic() < until:
        await asyncio.sleep(max(0.0, at - run.now()))
        kind = kinds[index % len(kinds)]
        crash = (index // len(kinds)) % 2 == 1  # every other round: as a crash
        started = run.now()
        if kind == "postgres-restart":
            await asyncio.to_thread(pg.restart, "immediate" if crash else "fast")
        elif kind == "redis-restart":
            await asyncio.to_thread(redis.stop, signal.SIGKILL if crash else signal.SIGTERM)
            await asyncio.sleep(3)
            await asyncio.to_thread(redis.start)
        else:
            server.send_signal(signal.SIGSTOP)
            await asyncio.sleep(pause)
            server.send_signal(signal.SIGCONT)
        ended = run.now()
        run.faults.append(
            {"kind": kind + (" (crash)" if crash else ""), "start": started, "end": ended}
        )
        print(f"soak: {kind}{' (crash)' if crash else ''} at {started:.0f}-{ended:.0f} s")
        index += 1
        at += every


async def _sampler(run: Run, pid: int, database_url: str, redis_url: str, until: float) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        while time.monotonic() < until:
            run.samples.append(
                Sample(
                    run.now(),
                    _rss_kb(pid),
                    _fds(pid),
                    await _safely(_queue_length(database_url)),
                    await _safely(_tick_lag(client)),
                )
            )
            await asyncio.sleep(SAMPLE_EVERY)
    finally:
        await client.aclose()


async def _safely(coroutine):  # type: ignore[no-untyped-def]
    try:
        async with asyncio.timeout(3):
            return await coroutine
    except Exception:
        return None


async def _queue_length(database_url: str) -> int:
    conn = await asyncpg.connect(database_url, timeout=2)
    try:
        return await conn.fetchval("SELECT count(*) FROM rollup_queue")
    finally:
        await conn.close()


async def _tick_lag(client) -> float | None:  # type: ignore[no-untyped-def]
    raw = await client.get("lpm:rollups:latest")
    if raw is None:
        return None
    tick = datetime.fromisoformat(raw.decode())
    expected = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    return (expected - tick).total_seconds()


def _rss_kb(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def _fds(pid: int) -> int | None:
    with contextlib.suppress(OSError):
        return len(os.listdir(f"/proc/{pid}/fd"))
    return None


_SENT = re.compile(r"sent (\d+) samples in (\d+) requests \((\d+) retries, (\d+) refused\)")
_DROPPED = re.compile(r"(\d+) dropped so far")


async def _wait_writer(
    writer: subprocess.Popen[bytes], log: Path, seconds: float
) -> dict[str, int]:
    """demo-load's own account of what it delivered (it ends after its --duration,
    once its queues are sent)."""
    for _ in range(int(max(120, seconds / 4) * 10)):
        if writer.poll() is not None:
            break
        await asyncio.sleep(0.1)
    else:
        writer.terminate()
        raise RuntimeError("demo-load did not finish delivering its queues")
    text = await asyncio.to_thread(log.read_text, errors="replace")
    match = _SENT.search(text)
    if match is None:
        raise RuntimeError(f"demo-load ended without its summary:\n{text[-2000:]}")
    dropped = [int(m) for m in _DROPPED.findall(text)]
    return {
        "samples": int(match[1]),
        "requests": int(match[2]),
        "retries": int(match[3]),
        "refused": int(match[4]),
        "dropped_by_writer": dropped[-1] if dropped else 0,
        "exit_status": writer.returncode,
    }


_DROPS = re.compile(r'^lpm_ingest_samples_total\{outcome="dropped",reason="([^"]*)"\} (\S+)$', re.M)


async def _server_drops(url: str) -> dict[str, int]:
    """Samples the server left out of accepted requests, by reason (its /metrics)."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        text = (await http.get("/metrics")).text
    return {reason: int(float(count)) for reason, count in _DROPS.findall(text)}


async def _drain_rollup(database_url: str) -> bool:
    conn = await asyncpg.connect(database_url)
    try:
        for _ in range(1200):
            if await conn.fetchval("SELECT count(*) FROM rollup_queue") == 0:
                return True
            await asyncio.sleep(0.1)
        return False
    finally:
        await conn.close()


async def _stored(database_url: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        return {
            "batches": await conn.fetchval("SELECT count(*) FROM ingest_batches"),
            "samples_recorded": await conn.fetchval(
                "SELECT coalesce(sum(samples), 0) FROM ingest_batches"
            ),
            "samples_in_table": await conn.fetchval(
                "SELECT coalesce(sum(cardinality(series)), 0) FROM samples"
            ),
            "duplicate_samples": await conn.fetchval(
                """
                SELECT coalesce(sum(n - 1), 0) FROM (
                    SELECT count(*) AS n FROM samples, unnest(series, offsets) AS u(s, o)
                    GROUP BY node, minute, s, o HAVING count(*) > 1
                ) d
                """
            ),
            "node_minutes": await conn.fetchval("SELECT count(*) FROM node_minutes"),
        }
    finally:
        await conn.close()
