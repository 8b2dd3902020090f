"""The hourly sums kept between ticks (api/stats/hourly.py): every tick's result equals
a full read, whatever happened to the hourly tables in between, and the cache stays
bounded.

Figures are dyadic (halves, quarters), so sums are exact in any order and the
incremental result must equal the full read exactly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from api.core.services import Services
from api.geo.grouping import NETWORK, Level, grouping
from api.rollup.hours import refresh
from api.stats import hourly, load, snapshot
from api.stats.hourly import HourlyCache, pieces
from api.stats.windows import HOUR, MINUTE
from tests.support.rollup_rows import (
    add_minutes,
    add_node,
    add_orchestrator,
    add_origins,
    add_place,
    add_senders,
    sessions,
)

START = datetime(2024, 5, 6, tzinfo=UTC)
END = datetime(2024, 5, 11, 2, tzinfo=UTC)  # minutes from START up to here (excluded)
TICK = datetime(2024, 5, 10, 12, 55, tzinfo=UTC)
A, B = "0x" + "a" * 40, "0x" + "b" * 40
GROUPINGS = (NETWORK, grouping(Level.COUNTRY), grouping(Level.CELL, 3))


@dataclass
class History:
    nodes: dict[str, int]
    places: dict[str, int]


async def _history(services: Services) -> History:
    db = services.db
    fra = await add_place(db, 50.11, 8.68, "DE")
    nyc = await add_place(db, 40.71, -74.0, "US")
    a = await add_node(db, await add_orchestrator(db, A), "a1", location=fra)
    b = await add_node(db, await add_orchestrator(db, B), "b1", location=nyc)
    minutes, senders, origins = [], [], []
    minute, i = START, 0
    while minute < END:
        for node, place, k in ((a, fra, 1), (b, nyc, 3)):
            streams = ((i * k) % 7) / 2
            minutes.append(
                sessions(node, minute, place, streams, capacity=8, mil_pixels=(i * k) % 5 / 4)
            )
            if (i + k) % 7 == 0:
                senders.append((node, minute, bytes([(i // 7 + k) % 5])))
            if (i + k) % 11 == 0:
                origins.append((node, minute, "DE" if i % 2 else "FR", "", 0.25 * (i % 3)))
        minute += MINUTE
        i += 1
    await add_minutes(db, minutes)
    await add_senders(db, senders)
    await add_origins(db, origins)
    await refresh(db)
    return History({A: a, B: b}, {"fra": fra, "nyc": nyc})


async def _reads(services: Services, tick: datetime) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(incremental, full) results of every windowed read at ``tick``."""
    db = services.db
    snap = await snapshot._load(services, tick)
    full_plan = load.window_plan(tick, await load.dirty_hours(db, load.earliest(tick)))
    inc: dict[Any, Any] = {"usage": snap.usage, "senders": snap.senders}
    full: dict[Any, Any] = {
        "usage": await load.read(db, load.usage, full_plan),
        "senders": await load.read(db, load.senders, full_plan),
    }
    for p, out in ((snap.plan, inc), (full_plan, full)):
        for by in GROUPINGS:
            out["peaks", by] = await load.read(db, load.peaks, p, by)
        out["origins"] = await load.read(db, load.origins, p)
        for o in (A, B):
            out["nodes", o] = await load.read(db, load.node_usage, p, o, tick)
    return inc, full


def _assert_same(inc: dict[Any, Any], full: dict[Any, Any]) -> None:
    assert inc.keys() == full.keys()
    for key, want in full.items():
        assert inc[key] == want, key
    assert full["usage"] and full["senders"] and full["origins"]  # not vacuous


async def test_incremental_equals_full_read_tick_after_tick(services: Services) -> None:
    await _history(services)
    cache = hourly.cache_for(services)
    ticks = [TICK + i * MINUTE for i in range(10)]  # across 13:00
    ticks += [datetime(2024, 5, 10, 23, 58, tzinfo=UTC) + i * MINUTE for i in range(4)]  # a day
    read: list[int] = []
    for tick in ticks:
        before = cache.hours_read
        inc, full = await _reads(services, tick)
        _assert_same(inc, full)
        read.append(cache.hours_read - before)
    readers = 3 + len(GROUPINGS) + 4  # usage, senders, origins; peaks; nodes of A and B
    whole = len(load.window_plan(TICK, frozenset()).hours)
    assert read[0] == whole * readers  # the first tick reads every whole hour
    # Within an hour no hour is read again. At :59 the newest hour of each slice becomes
    # whole: four new hours per reader, and nothing else is read again.
    assert read[1:4] == [0, 0, 0] and read[5:10] == [0] * 5 and read[13] == 0
    assert read[4] == read[11] == 4 * readers
    # Once a day the oldest day block of each slice loses its first hour: the other 23
    # are read again, in smaller pieces.
    assert read[12] <= 50 * readers


async def test_an_hour_dirtied_and_refreshed_between_ticks_is_read_again(
    services: Services,
) -> None:
    history = await _history(services)
    db = services.db
    cache = hourly.cache_for(services)
    first, _ = await _reads(services, TICK)
    old = datetime(2024, 5, 8, 3, 10, tzinfo=UTC)
    await db.execute(
        "UPDATE node_minutes SET sessions_avg = 100, mil_pixels = 64 WHERE node = $1"
        " AND minute = $2",
        history.nodes[A],
        old,
    )
    assert await refresh(db) == 1
    # The dirty set is the same (empty) at both reads; the hour's version is not.
    assert await load.dirty_hours(db, load.earliest(TICK)) == frozenset()
    before = cache.hours_read
    inc, full = await _reads(services, TICK + MINUTE)
    _assert_same(inc, full)
    assert 0 < cache.hours_read - before <= 3 * 24 * 9  # the pieces holding that hour
    i = (old - START) // MINUTE
    assert inc["peaks", NETWORK][2, ""] == 100 + (i * 3) % 7 / 2  # plus b's streams
    assert inc["peaks", NETWORK][2, ""] > first["peaks", NETWORK][2, ""]


async def test_a_late_minute_in_an_old_hour_shows_at_the_next_tick(services: Services) -> None:
    history = await _history(services)
    db = services.db
    first, _ = await _reads(services, TICK)
    late = datetime(2024, 5, 7, 5, 30, tzinfo=UTC)
    c = await add_node(db, await add_orchestrator(db, "0x" + "c" * 40), "c1")
    await add_minutes(db, [sessions(c, late, history.places["fra"], 2, mil_pixels=3)])
    inc, full = await _reads(services, TICK + MINUTE)  # the hour is dirty: from minutes
    _assert_same(inc, full)
    key = (2, history.places["fra"], "0x" + "c" * 40)
    assert key not in first["usage"] and inc["usage"][key].mil_pixels == 3
    await refresh(db)  # back to the hourly table, with a new version
    inc, full = await _reads(services, TICK + 2 * MINUTE)
    _assert_same(inc, full)
    assert inc["usage"][key].mil_pixels == 3


async def test_deleting_a_node_changes_versions(services: Services) -> None:
    history = await _history(services)
    db = services.db
    await _reads(services, TICK)
    versions = dict(await db.fetch("SELECT hour, version FROM stats_hour_versions"))
    assert len(versions) == (END - START) // HOUR
    await db.execute("DELETE FROM nodes WHERE id = $1", history.nodes[B])  # cascades
    after = dict(await db.fetch("SELECT hour, version FROM stats_hour_versions"))
    assert all(after[h] != v for h, v in versions.items())
    await refresh(db)
    inc, full = await _reads(services, TICK + MINUTE)
    _assert_same(inc, full)
    assert not any(k[2] == B for k in inc["usage"])


async def test_the_cache_is_bounded(services: Services) -> None:
    await _history(services)
    cache = hourly.cache_for(services)
    sizes = []
    for i in range(60):  # two and a half days, an hour at a time
        tick = datetime(2024, 5, 9, 0, 30, tzinfo=UTC) + i * HOUR
        snap = await snapshot._load(services, tick)
        await load.read(services.db, load.peaks, snap.plan, NETWORK)
        sizes.append(cache.size())
    assert max(sizes[30:]) <= max(sizes[:30])
    # Three readers, each: the pieces of four slices (at most 29 days of 24 hours and
    # two ragged ends of at most 3 + 4 + ... hours per slice) and four slice sums.
    assert max(sizes) <= 3 * (4 * (30 + 2 * (5 + 3)) + 4)

    # At most so many readers of a kind: three groupings' peaks keep two, and do not
    # push out the usage reader (another kind).
    small = HourlyCache(readers=2)
    plan = hourly.tick_plan(TICK, frozenset(), {}, small)
    assert await load.read(services.db, load.usage, plan)  # the history is there
    for by in GROUPINGS:
        await load.read(services.db, load.peaks, plan, by)
    assert len(small.readers()) == 3
    before = small.hours_read
    await load.read(services.db, load.usage, plan)
    assert small.hours_read == before  # still kept


def test_pieces_tile_the_hours_in_aligned_blocks() -> None:
    base = datetime(2024, 5, 1, tzinfo=UTC)
    hours = [base + (5 + i) * HOUR for i in range(50)]
    dirty = base + 52 * HOUR
    hours.remove(dirty)
    versions = {h: i for i, h in enumerate(hours)}
    cut = pieces(hours, versions)
    covered = [h for piece in cut for h, _ in piece]
    assert sorted(covered) == hours  # every hour once
    assert all(v == versions[h] for piece in cut for h, v in piece)
    for piece in cut:
        size = len(piece)
        assert size in (24, 4, 1)
        assert (piece[0][0] - base) // HOUR % size == 0  # aligned
    assert [len(p) for p in cut].count(24) == 1  # 2024-05-02 00:00 ... 23:00
    assert len(cut) <= 1 + 2 * (5 + 3) + 2  # the dirty hour splits a block
