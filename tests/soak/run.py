"""The soak: ``lpmetrics serve`` on a private PostgreSQL and Redis, ``lpmetrics
demo-load --orchestrators 100`` writing, the explorer's queries at ``--rate`` per second
(anonymous, signed in with a session and with an API token, subscriptions), while a
fault schedule restarts PostgreSQL, restarts Redis and pauses the server (SIGSTOP /
SIGCONT) in turn.

It reports requests by status, samples sent and stored, rollup lag, and the server's
RSS and open file descriptors over time; it fails on any sample lost or stored twice,
any 5xx or failed request outside the fault windows (each fault plus ``GRACE``
seconds), or RSS growing more than 10 % after the warm-up.

PostgreSQL and Redis are its own processes in a temporary directory (``tests.servers``),
never the machine's shared ones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from api.services import open_services
from api.settings import load_settings
from auth.sessions import create_session
from auth.tokens import create_token
from tests.servers import PostgresServer, RedisServer, free_port
from tests.soak.load import MAX_IN_FLIGHT, Readers, outside

GRACE = 15.0
"""Seconds after a fault in which errors are still the fault's (clients retry, pools
reconnect, the rollup catches up)."""
RSS_GROWTH_LIMIT = 0.10
RSS_MIN_SECONDS = 300.0
"""Shorter runs report RSS but do not judge it: caches are still filling then."""
SAMPLE_EVERY = 5.0
ORIGIN = "https://explorer.soak"


@dataclass
class SoakOptions:
    seconds: float = 1800.0
    rate: float = 50.0
    orchestrators: int = 100
    fault_every: float | None = None
    keep: bool = False


@dataclass
class Sample:
    at: float  # seconds since the start
    rss_kb: int | None
    fds: int | None
    rollup_queue: int | None
    tick_lag: float | None  # seconds between the published tick and the clock's minute


@dataclass
class Run:
    options: SoakOptions
    directory: Path
    start: float = field(default_factory=time.monotonic)
    faults: list[dict] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.start


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
        report = _report(run, readers, sent, stored, drained)
        (directory / "report.json").write_text(json.dumps(report, indent=2, default=str))
        print(f"soak: report in {directory / 'report.json'}")
        return report["passed"]
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
    warm_up = _warm_up(seconds)
    quiet_from = seconds * 0.85
    every = run.options.fault_every or max(15.0, min(60.0, (quiet_from - warm_up) / 3))
    pause = min(10.0, every / 2)
    kinds = ["postgres-restart", "redis-restart", "server-pause"]
    at, index = warm_up, 0
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


def _warm_up(seconds: float) -> float:
    return min(120.0, max(30.0, seconds * 0.25))


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


def _report(
    run: Run, readers: Readers, sent: dict[str, int], stored: dict[str, int], drained: bool
) -> dict:
    windows = [(f["start"] + run.start, f["end"] + run.start + GRACE) for f in run.faults]
    calm = outside(windows)
    by_kind: dict[str, Counter[str]] = {}
    for result in readers.results:
        by_kind.setdefault(result.kind, Counter())[result.outcome] += 1
    bad_outside = Counter(r.outcome for r in readers.results if calm(r) and not _ok(r.outcome))
    latencies = sorted(r.ended - r.started for r in readers.results if calm(r))
    warm_up = _warm_up(run.options.seconds)
    after = [s for s in run.samples if s.at >= warm_up and s.rss_kb]
    baseline = statistics.median(s.rss_kb for s in after[:3]) if after else None
    final = statistics.median(s.rss_kb for s in after[-3:]) if after else None
    growth = (final / baseline - 1) if baseline and final else None
    lags = [s.tick_lag for s in run.samples if s.tick_lag is not None]
    queues = [s.rollup_queue for s in run.samples if s.rollup_queue is not None]
    # What the server keeps of what was delivered: all but what it leaves out on
    # purpose (not allowlisted, not shared, ...). A retried batch it had stored already
    # is dropped as a duplicate and was counted once by the writer.
    left_out = sum(
        n for reason, n in sent["dropped_by_server"].items() if reason != "duplicate_batch"
    )
    expected = sent["samples"] - left_out
    lost = expected - stored["samples_in_table"]
    problems = []
    if sent["refused"]:
        problems.append(f"{sent['refused']} batches refused (4xx): lost")
    if stored["samples_recorded"] != stored["samples_in_table"]:
        problems.append("ingest_batches and samples disagree")
    if stored["duplicate_samples"]:
        problems.append(f"{stored['duplicate_samples']} samples stored twice")
    if lost:
        problems.append(
            f"delivered {sent['samples']} samples, {left_out} left out on purpose, stored"
            f" {stored['samples_in_table']}: {lost} {'lost' if lost > 0 else 'too many'}"
        )
    if bad_outside:
        problems.append(f"failed requests outside the fault windows: {dict(bad_outside)}")
    if growth is not None and growth > RSS_GROWTH_LIMIT and run.options.seconds >= RSS_MIN_SECONDS:
        problems.append(f"RSS grew {growth:.1%} after the warm-up")
    if not drained:
        problems.append("the rollup did not catch up after the run")
    if sent["exit_status"] != 0:
        problems.append(f"demo-load exited with {sent['exit_status']}")
    report = {
        "passed": not problems,
        "problems": problems,
        "minutes": run.options.seconds / 60,
        "rate": run.options.rate,
        "requests": {k: dict(v) for k, v in sorted(by_kind.items())},
        "requests_total": len(readers.results),
        "arrivals_skipped": readers.skipped,
        "keepalive_retries": readers.keepalive_retries,
        "failed_outside_faults": [
            {"at": r.started - run.start, "kind": r.kind, "outcome": r.outcome}
            for r in readers.results
            if calm(r) and not _ok(r.outcome)
        ][:50],
        "latency_outside_faults_s": {
            "p50": _quantile(latencies, 0.5),
            "p99": _quantile(latencies, 0.99),
            "max": latencies[-1] if latencies else None,
        },
        "subscriptions": readers.subscription_events,
        "samples": {"sent": sent, "stored": stored, "expected": expected, "lost": lost},
        "rollup": {
            "tick_lag_s_max": max(lags, default=None),
            "tick_lag_s_final": lags[-1] if lags else None,
            "queue_max": max(queues, default=None),
            "drained_after_run": drained,
        },
        "rss": {"baseline_kb": baseline, "final_kb": final, "growth": growth},
        "faults": run.faults,
        "timeline": [s.__dict__ for s in run.samples],
    }
    _print(report)
    return report


def _ok(outcome: str) -> bool:
    """A full answer, or one whose errors are the caller's (none should be)."""
    if outcome == "200":
        return True
    return outcome.startswith("200+") and not any(
        code in outcome for code in ("SERVICE_UNAVAILABLE", "INTERNAL_SERVER_ERROR")
    )


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))]


def _print(report: dict) -> None:
    print("\n== soak report")
    print(f"{report['minutes']:.1f} min at {report['rate']:.0f} queries/s; faults:")
    for fault in report["faults"]:
        print(f"  {fault['start']:7.1f}-{fault['end']:7.1f} s  {fault['kind']}")
    print(
        f"requests ({report['requests_total']}; {report['arrivals_skipped']} arrivals skipped"
        f" with {MAX_IN_FLIGHT} in flight; {report['keepalive_retries']} keep-alive retries):"
    )
    for kind, outcomes in report["requests"].items():
        print(f"  {kind:22} {outcomes}")
    for failure in report["failed_outside_faults"]:
        print(f"  failed outside the fault windows: {failure}")
    latency = report["latency_outside_faults_s"]
    print(f"latency outside faults: p50 {latency['p50']} s, p99 {latency['p99']} s")
    print(f"subscriptions: {report['subscriptions']}")
    samples = report["samples"]
    print(f"samples: sent {samples['sent']}")
    print(f"         stored {samples['stored']}")
    print(f"rollup: {report['rollup']}")
    print("time     rss_kb   fds  queue  tick_lag_s")
    for row in report["timeline"][:: max(1, len(report["timeline"]) // 30)]:
        print(
            f"{row['at']:6.0f} {row['rss_kb'] or '-':>8} {row['fds'] or '-':>5}"
            f" {row['rollup_queue'] if row['rollup_queue'] is not None else '-':>6}"
            f" {row['tick_lag'] if row['tick_lag'] is not None else '-':>10}"
        )
    rss = report["rss"]
    growth = f"{rss['growth']:.1%}" if rss["growth"] is not None else "-"
    print(f"RSS after warm-up: {rss['baseline_kb']} kB -> {rss['final_kb']} kB ({growth})")
    print("PASSED" if report["passed"] else "FAILED: " + "; ".join(report["problems"]))
