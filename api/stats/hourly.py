"""The hourly half of each tick's reads, kept between ticks in the process.

Every tick reads, per slice, whole clean hours from the hourly tables and minute ranges
from the minute tables (``api.stats.rows``). Within an hour the whole hours of a slice
do not change, so re-summing them every minute is wasted work: this module keeps their
sums and reads per tick only the minute ranges and the hours it does not hold yet.

A slice's hours are cut into *pieces*: aligned blocks of ``BLOCKS`` hours (a day, four
hours, one hour) lying wholly among them. A piece is keyed by exactly what its sum
depends on: its hours and each hour's *version* (migration 0008: a new, never reused
number whenever a statement writes rows of the hour). A refreshed hour therefore gets
a new key, even when the dirty set looks the same before and after; a dirty hour is in
no piece (it is read from minutes, as before). Versions are read before the rows they
key (``state``), so a kept sum is never older than its key; it may be newer (a refresh
committed in between), which a full read at that moment would have seen too, and its
key, the old version, is never seen again. A slice's sum is the merge of its
pieces (kept too, until its pieces change), and the tick's result is that plus the
minute part: usage added, sender sets united, peaks maxed, origin pixels added.

Memory is bounded: each reader keeps the pieces and slice sums its newest tick used,
and at most ``READERS`` readers of one kind (the first part of their key: ``"usage"``,
``"peaks"`` per grouping, ``"node_usage"`` per orchestrator ...) are kept, the least
recently used dropped, so many orchestrators' per-node reads cannot push out the
snapshot's.

Sums are of floats: merged in another order than PostgreSQL's single ``sum``, they may
differ from a full read in the last bits; counts, sets, flags and maxima are identical.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from api.core.services import Services
from api.stats.rows import Db, Plan, Usage, plan
from api.stats.ticks import Ticks, ticks_for
from api.stats.windows import HOUR, slices, split

V = TypeVar("V")

# Hours per piece, coarsest first; blocks are aligned to EPOCH (UTC midnight).
BLOCKS = (24, 4, 1)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
# Ids of pieces within one read: above any slice index.
FIRST_PIECE = 1000
READERS = 128

Piece = tuple[tuple[datetime, int], ...]  # (hour, version) of each of its hours


@dataclass(frozen=True, slots=True)
class TickPlan(Plan):
    """A tick's plan (still a full ``Plan``), with each slice's hours cut into pieces."""

    tick: datetime
    pieces: tuple[tuple[Piece, ...], ...]  # per slice index
    cache: HourlyCache


async def state(db: Db, since: datetime) -> tuple[frozenset[datetime], dict[datetime, int]]:
    """Dirty hours and hour versions from ``since`` on, in one statement (one snapshot)."""
    row = await db.fetchrow(
        """
        SELECT (SELECT coalesce(array_agg(hour), '{}') FROM stats_dirty_hours
                WHERE hour >= $1) AS dirty,
               (SELECT coalesce(array_agg(hour ORDER BY hour), '{}') FROM stats_hour_versions
                WHERE hour >= $1) AS hours,
               (SELECT coalesce(array_agg(version ORDER BY hour), '{}') FROM stats_hour_versions
                WHERE hour >= $1) AS versions
        """,
        since,
    )
    assert row is not None
    return frozenset(row["dirty"]), dict(zip(row["hours"], row["versions"], strict=True))


def pieces(hours: Sequence[datetime], versions: dict[datetime, int]) -> tuple[Piece, ...]:
    """``hours`` cut into aligned blocks of ``BLOCKS`` hours, each hour versioned."""
    left = set(hours)
    out: list[Piece] = []
    for size in BLOCKS:
        for hour in sorted(left):
            if hour not in left:
                continue
            start = hour - ((hour - EPOCH) // HOUR % size) * HOUR
            block = [start + i * HOUR for i in range(size)]
            if all(h in left for h in block):
                out.append(tuple((h, versions.get(h, 0)) for h in block))
                left.difference_update(block)
    return tuple(sorted(out))


def tick_plan(
    tick: datetime,
    dirty: frozenset[datetime],
    versions: dict[datetime, int],
    cache: HourlyCache,
) -> TickPlan:
    parts = slices(tick)
    full = plan(parts, dirty)
    cut = tuple(pieces(split(s.first, s.last, dirty).hours, versions) for s in parts)
    return TickPlan(
        full.hour_slices, full.hours, full.range_slices, full.firsts, full.lasts, tick, cut, cache
    )


@dataclass(frozen=True, slots=True)
class Kind(Generic[V]):
    """How two parts of one figure combine, and how to hand out a kept one."""

    combine: Callable[[V, V], V]
    copy: Callable[[V], V]


def _same(value: Any) -> Any:
    return value


USAGE: Kind[Usage] = Kind(Usage.plus, Usage.copy)
SETS: Kind[frozenset[bytes]] = Kind(frozenset.union, _same)
MAXIMA: Kind[float] = Kind(max, _same)
SUMS: Kind[float] = Kind(lambda a, b: a + b, _same)
NODE_USAGE: Kind[tuple[Usage, float]] = Kind(
    lambda a, b: (a[0].plus(b[0]), max(a[1], b[1])), lambda a: (a[0].copy(), a[1])
)


class _Reader:
    __slots__ = ("pieces", "slices", "tick")

    def __init__(self) -> None:
        self.pieces: dict[Piece, dict[tuple[Any, ...], Any]] = {}
        self.slices: dict[tuple[Piece, ...], dict[tuple[Any, ...], Any]] = {}
        self.tick: datetime | None = None


def _merge(kind: Kind[Any], parts: list[dict[tuple[Any, ...], Any]]) -> dict[tuple[Any, ...], Any]:
    out: dict[tuple[Any, ...], Any] = {}
    for part in parts:
        for key, value in part.items():
            out[key] = kind.combine(out[key], value) if key in out else value
    return out


def _cover(piece: Piece, kept: Iterable[Piece]) -> tuple[list[Piece], Piece]:
    """Kept pieces lying within ``piece`` (same hours, same versions) that do not
    overlap, largest first, and the hours of ``piece`` they leave to read."""
    hours = set(piece)
    within = sorted((k for k in kept if k[0] in hours and hours.issuperset(k)), key=len)
    parts: list[Piece] = []
    covered: set[tuple[datetime, int]] = set()
    for other in reversed(within):
        if covered.isdisjoint(other):
            parts.append(other)
            covered.update(other)
    return parts, tuple(h for h in piece if h not in covered)


class HourlyCache:
    """One process's kept hourly sums for one deployment, per reader (query and args)."""

    def __init__(self, readers: int = READERS) -> None:
        self._kinds: dict[Hashable, OrderedDict[Hashable, _Reader]] = {}
        self._limit = readers
        self.hours_read = 0  # hours read from the hourly tables so far (for tests, benches)

    def size(self) -> int:
        """Pieces and slice sums held."""
        return sum(len(r.pieces) + len(r.slices) for r in self.readers())

    def readers(self) -> list[_Reader]:
        return [r for kind in self._kinds.values() for r in kind.values()]

    async def read(
        self,
        db: Db,
        key: Hashable,
        query: Callable[..., Awaitable[dict[Any, V]]],
        kind: Kind[V],
        p: TickPlan,
        *args: Any,
    ) -> dict[Any, V]:
        """What ``query(db, p, *args)`` returns, reading only what is not kept."""
        readers = self._kinds.setdefault(key[0] if isinstance(key, tuple) else key, OrderedDict())
        reader = readers.pop(key, None) or _Reader()
        readers[key] = reader
        while len(readers) > self._limit:
            readers.popitem(last=False)
        wanted = {piece for part in p.pieces for piece in part}
        # Taken before the read: a newer tick's read may prune meanwhile.
        have = {piece: reader.pieces[piece] for piece in wanted if piece in reader.pieces}
        # A new piece is made of kept ones where it can be (a day whose hours were kept
        # in blocks of four), and of what is read.
        made: dict[Piece, tuple[list[dict[tuple[Any, ...], V]], Piece]] = {}
        for piece in wanted - have.keys():
            parts, rest = _cover(piece, reader.pieces)
            made[piece] = ([reader.pieces[k] for k in parts], rest)
        missing = sorted({rest for _, rest in made.values() if rest})
        sub = Plan(
            [FIRST_PIECE + i for i, piece in enumerate(missing) for _ in piece],
            [hour for piece in missing for hour, _ in piece],
            p.range_slices,
            p.firsts,
            p.lasts,
        )
        self.hours_read += len(sub.hours)
        rows = await query(db, sub, *args)
        minutes: dict[int, dict[tuple[Any, ...], V]] = defaultdict(dict)
        fetched: dict[int, dict[tuple[Any, ...], V]] = defaultdict(dict)
        for k, value in rows.items():
            if k[0] >= FIRST_PIECE:
                fetched[k[0] - FIRST_PIECE][k[1:]] = value
            else:
                minutes[k[0]][k[1:]] = value
        read = {piece: fetched.get(i, {}) for i, piece in enumerate(missing)}
        for piece, (parts, rest) in made.items():
            if rest:
                parts = [*parts, read[rest]]
            have[piece] = reader.pieces[piece] = (
                parts[0] if len(parts) == 1 else _merge(kind, parts)
            )

        out: dict[Any, V] = {}
        for index, part in enumerate(p.pieces):
            hourly = reader.slices.get(part)
            if hourly is None:
                hourly = reader.slices[part] = _merge(kind, [have[piece] for piece in part])
            for rest, value in hourly.items():
                out[(index, *rest)] = kind.copy(value)
            for rest, value in minutes.get(index, {}).items():
                k = (index, *rest)
                out[k] = kind.combine(out[k], value) if k in out else value

        if reader.tick is None or p.tick >= reader.tick:  # keep what the newest tick uses
            reader.tick = p.tick
            used = set(p.pieces)
            reader.pieces = {k: v for k, v in reader.pieces.items() if k in wanted}
            reader.slices = {k: v for k, v in reader.slices.items() if k in used}
        return out


_CACHES: weakref.WeakKeyDictionary[Ticks, HourlyCache] = weakref.WeakKeyDictionary()


def cache_for(services: Services) -> HourlyCache:
    """The kept hourly sums of ``services``' deployment: as long-lived as its clock
    (``ticks_for``), which is per process and deployment."""
    ticks = ticks_for(services)
    cache = _CACHES.get(ticks)
    if cache is None:
        cache = _CACHES[ticks] = HourlyCache()
    return cache
