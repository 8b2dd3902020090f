"""Benchmark of the per-tick snapshot reload, full vs incremental (not collected by pytest).

    uv run python -m tests.bench.snapshot [--ticks 10] [--source lpm_bench] [--keep]
                                          [--parts all|snapshot|peaks]

Copies the query benchmark's database (``--source``, built by ``tests.bench.query``;
``CREATE DATABASE ... TEMPLATE``, the source is only read) to ``lpm_snapshot_bench``, or
builds a smaller history there itself (``build_history``) when the copy cannot be made,
and applies the migrations to the copy. Then, for ``--ticks`` consecutive ticks ending
near the newest data (minute by minute, across an hour), it reloads what every tick
reloads -- the snapshot (``api.stats.snapshot._load``), the peaks of three groupings,
the origins and one orchestrator's per-node figures -- twice per tick, in turns:

* full: every read sums the hourly tables again (plain ``Plan``), as before;
* incremental: the same reads through the kept hourly sums (``api.stats.hourly``),
  warmed by one tick before the first measured one.

Per tick it measures wall time, PostgreSQL time (``pg_stat_database.active_time`` of
the bench database: time its backends spent executing statements, summed; every
backend's statistics flushed before reading them) and the bench process's CPU time
(Python: decoding rows, merging), prints the medians, and
checks the two results are equal (floats within 1e-9 relative: sums in another order).

``LPM_DATABASE_URL`` names the server (any database on it); ``LPM_REDIS_URL`` a Redis
(the snapshot's tick memo lives next to it, under its own prefix).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from api.core.migrate import migrate
from api.core.services import Services, open_services
from api.core.settings import load_settings
from api.geo.grouping import NETWORK, Level, grouping
from api.rollup.hours import refresh
from api.stats import hourly, load, snapshot
from api.stats.load import NodeUsage, Plan, Usage
from api.stats.windows import HOUR, MINUTE
from tests.bench.query import build_history

DATABASE = "lpm_snapshot_bench"
GROUPINGS = (NETWORK, grouping(Level.COUNTRY), grouping(Level.LIVEPEER_REGION))


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def prepare(admin_url: str, source: str, keep: bool) -> str:
    url = _with_database(admin_url, DATABASE)
    admin = await asyncpg.connect(admin_url)
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", DATABASE)
        if exists and keep:
            built = True
        else:
            await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            start = time.perf_counter()
            try:
                await admin.execute(f'CREATE DATABASE "{DATABASE}" TEMPLATE "{source}"')
                print(f"copied {source} in {time.perf_counter() - start:.0f} s")
                built = True
            except asyncpg.PostgresError as exc:
                print(f"cannot copy {source} ({exc}); building a 7-day history instead")
                await admin.execute(f'CREATE DATABASE "{DATABASE}"')
                built = False
    finally:
        await admin.close()
    if not built:
        now = datetime.now().astimezone().replace(second=0, microsecond=0) - MINUTE
        await build_history(url, 100, 150, 7, now)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await refresh(pool, before=datetime.now().astimezone() + timedelta(days=1))
    finally:
        await pool.close()
    return url


POOL = 8


async def _postgres_ms(services: Services, probe: asyncpg.Connection) -> float:
    """Milliseconds PostgreSQL has spent executing statements in the bench database
    (``pg_stat_database.active_time``, summed over backends), every pool connection's
    pending statistics flushed first."""
    conns = [await services.db.acquire() for _ in range(POOL)]
    try:
        for conn in conns:
            await conn.execute("SELECT pg_stat_force_next_flush()")
    finally:
        for conn in conns:
            await services.db.release(conn)
    await asyncio.sleep(0.02)
    await probe.execute("SELECT pg_stat_clear_snapshot()")
    return await probe.fetchval(
        "SELECT active_time FROM pg_stat_database WHERE datname = current_database()"
    )


@dataclass
class Sample:
    wall_ms: float
    postgres_ms: float
    python_ms: float


async def _reload(
    services: Services, tick: datetime, incremental: bool, parts: str = "all"
) -> dict[str, Any]:
    """Everything a tick reloads (``parts``: all, snapshot or peaks); with
    ``incremental`` through the kept hourly sums."""
    db = services.db
    out: dict[Any, Any] = {}
    if incremental and parts == "peaks":
        dirty, versions = await hourly.state(db, load.earliest(tick))
        p: Plan = hourly.tick_plan(tick, dirty, versions, hourly.cache_for(services))
    elif incremental:
        snap = await snapshot._load(services, tick)
        p = snap.plan
    else:
        p = load.window_plan(tick, await load.dirty_hours(db, load.earliest(tick)))
    if parts != "peaks":
        if not incremental:
            places, registry, usage, senders, current = await asyncio.gather(
                load.places(db),
                load.registry(db),
                load.read(db, load.usage, p),
                load.read(db, load.senders, p),
                load.current(db, tick),
            )
            snap = snapshot.Snapshot(tick, p, places, registry, usage, senders, current)
        out["usage"], out["senders"] = snap.usage, snap.senders
    if parts != "snapshot":
        peaks = await asyncio.gather(*(load.read(db, load.peaks, p, by) for by in GROUPINGS))
        out.update({("peaks", by): v for by, v in zip(GROUPINGS, peaks, strict=True)})
    if parts == "all":
        out["origins"] = await load.read(db, load.origins, p)
        orchestrator = min(snap.registry)
        out["nodes"] = await load.read(db, load.node_usage, p, orchestrator, tick)
    return out


async def _timed(
    services: Services, probe: asyncpg.Connection, run: Callable[[], Awaitable[dict[str, Any]]]
) -> tuple[Sample, dict[str, Any]]:
    pg = await _postgres_ms(services, probe)
    cpu = time.process_time()
    start = time.perf_counter()
    result = await run()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    return Sample(wall * 1e3, await _postgres_ms(services, probe) - pg, cpu * 1e3), result


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, Usage | NodeUsage) and type(a) is type(b):
        return _close(astuple(a), astuple(b))
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    return bool(a == b)


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.wall_ms for s in samples),
        statistics.median(s.postgres_ms for s in samples),
        statistics.median(s.python_ms for s in samples),
    )


def _short(s: Sample) -> str:
    return f"{s.wall_ms:4.0f} / {s.postgres_ms:4.0f} / {s.python_ms:3.0f} ms"


def _line(name: str, s: Sample) -> str:
    return (
        f"  {name:<12} wall {s.wall_ms:7.1f} ms   PostgreSQL {s.postgres_ms:7.1f} ms"
        f"   Python {s.python_ms:6.1f} ms"
    )


async def bench(url: str, redis_url: str, ticks: int, parts: str) -> int:
    settings = load_settings(
        database_url=url, redis_url=redis_url, redis_prefix="lpmsnapbench:", secret="bench"
    )
    async with open_services(settings) as opened:
        pool = await asyncpg.create_pool(url, min_size=POOL, max_size=POOL)
        services = dataclasses.replace(opened, db=pool)
        probe = await asyncpg.connect(url)
        newest = await services.db.fetchval("SELECT max(minute) FROM node_minutes")
        # Consecutive ticks crossing an hour: the last ``ticks`` minutes up to 5 after it.
        first = newest.replace(minute=0) - (ticks - 5) * MINUTE
        if first + (ticks - 1) * MINUTE > newest:
            first -= HOUR
        cache = hourly.cache_for(services)
        cold, _ = await _timed(
            services, probe, lambda: _reload(services, first - MINUTE, True, parts)
        )
        print(f"{parts}: {ticks} ticks from {first:%Y-%m-%d %H:%M} (UTC), every minute;")
        print("per tick: wall / PostgreSQL statement time / bench process CPU")
        print(_line("first fill", cold), f"  ({cache.hours_read} hours read)")
        full: list[Sample] = []
        inc: list[Sample] = []
        equal = True
        for i in range(ticks):
            tick = first + i * MINUTE
            f, want = await _timed(
                services, probe, lambda t=tick: _reload(services, t, False, parts)
            )
            before = cache.hours_read
            n, got = await _timed(services, probe, lambda t=tick: _reload(services, t, True, parts))
            full.append(f)
            inc.append(n)
            same = _close(got, want)
            equal = equal and same
            print(
                f"  {tick:%H:%M}  full {_short(f)}   incremental {_short(n)}"
                f"   hours read {cache.hours_read - before:4d}   equal {same}"
            )
        print("medians (wall, PostgreSQL statement time, bench process CPU):")
        print(_line("full", _median(full)))
        print(_line("incremental", _median(inc)))
        print(f"  cache: {cache.size()} pieces and slice sums; results equal: {equal}")
        await probe.close()
        await pool.close()
        return 0 if equal else 1


async def main_async(args: argparse.Namespace) -> int:
    admin_url = os.environ.get("LPM_DATABASE_URL")
    redis_url = os.environ.get("LPM_REDIS_URL")
    if not admin_url or not redis_url:
        print("set LPM_DATABASE_URL (a server holding --source) and LPM_REDIS_URL")
        return 2
    url = await prepare(admin_url, args.source, args.keep)
    try:
        return await bench(url, redis_url, args.ticks, args.parts)
    finally:
        if not args.keep:
            admin = await asyncpg.connect(admin_url)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            finally:
                await admin.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ticks", type=int, default=10)
    parser.add_argument("--source", default="lpm_bench", help="database to copy")
    parser.add_argument("--keep", action="store_true", help="reuse and keep the copy")
    parser.add_argument(
        "--parts",
        choices=["all", "snapshot", "peaks"],
        default="all",
        help="what to reload: everything, the snapshot alone (_load), or the peaks alone",
    )
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
