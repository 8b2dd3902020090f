"""Disclosure control of public series points: a point survives differencing, across
regions and across steps (docs/statistics.md, "Series points"; cost:
tests/bench/README.md).

Each bucket runs the windows' protection (``api.disclosure.audit.protect``, steps 1 to
3) on its own contributors; for steps over one hour a point is also withheld when any
hour inside it withholds the region. Results are kept in a process-wide LRU keyed by a
digest of exactly the (place codes, orchestrators) table they depend on, so none is
ever stale.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from api.core.services import Services
from api.disclosure.audit import Table, protect
from api.geo.grouping import Grouping
from api.stats import load
from api.stats.load import Db, dirty_hours, minute_rows
from api.stats.series import Request
from api.stats.snapshot import public_groupings
from api.stats.ticks import ticks_for
from api.stats.windows import MINUTE, split

Region = tuple[Grouping, str]
# A bucket's place: its region code in each public grouping, None where it has none.
Atom = tuple[str | None, ...]

HOUR_SECONDS = 3600

# Buckets' results kept per process (a digest and the withheld regions each).
LRU_ENTRIES = 8192

_RESULTS: OrderedDict[tuple[int, bytes], frozenset[Region]] = OrderedDict()


async def withheld(
    services: Services, tick: datetime, req: Request, k: int, max_resolution: int
) -> dict[datetime, frozenset[Region]]:
    """Per bucket start of ``req`` (region aside), the regions whose point the public
    view withholds beyond primary suppression; computed once per tick and range."""
    key = ("series-withheld", req.start, req.end, req.step, k, max_resolution)

    async def produce(t: datetime) -> dict[datetime, frozenset[Region]]:
        return await load.read(services.db, _withheld, req, t, k, max_resolution)

    return await ticks_for(services).memo(tick, key, produce)


async def _withheld(
    db: Db, req: Request, tick: datetime, k: int, max_resolution: int
) -> dict[datetime, frozenset[Region]]:
    # Whole-hour steps read hours and build their buckets from them: the hours are
    # needed anyway for steps over one hour (the hour rule in the module docstring).
    grain = HOUR_SECONDS if req.step % HOUR_SECONDS == 0 else req.step
    tables = await contributors(db, req, tick, grain)
    if not tables:
        return {}
    groupings = public_groupings(max_resolution)
    places = await load.places(db)
    # Places with the same codes are one atom (protect would merge them anyway), so
    # the digest does not depend on location ids. Unknown places: the network only.
    unknown = ("",) + (None,) * (len(groupings) - 1)
    atoms = {i: tuple(p.code(g) for g in groupings) for i, p in places.items()}
    parts: dict[datetime, dict[Atom, set[str]]] = {}
    for time, pairs in tables.items():
        parts[time] = defaultdict(set)
        for location, orchestrator in pairs:
            parts[time][atoms.get(location, unknown)].add(orchestrator)
    if grain == req.step:
        return {time: protected(p, groupings, k) for time, p in parts.items()}
    buckets: dict[datetime, list[datetime]] = defaultdict(list)
    for hour in parts:
        buckets[_floor(hour, req.step)].append(hour)
    out = {}
    for time, hours in buckets.items():
        union: dict[Atom, set[str]] = defaultdict(set)
        for hour in hours:
            for atom, who in parts[hour].items():
                union[atom] |= who
        # The bucket's own protection, and every hour's in it (the same computation
        # as the hourly series', shared through the memo): a shown coarse point is
        # then shown at every hour it spans, so no finer step isolates a withheld hour.
        out[time] = protected(union, groupings, k).union(
            *(protected(parts[hour], groupings, k) for hour in hours)
        )
    return out


def _floor(moment: datetime, step: int) -> datetime:
    return datetime.fromtimestamp(int(moment.timestamp()) // step * step, UTC)


def protected(
    parts: Mapping[Atom, Iterable[str]], groupings: list[Grouping], k: int
) -> frozenset[Region]:
    """What ``protect`` withholds of one bucket whose place ``atom`` (its codes in
    ``groupings`` order, None for none) holds orchestrators ``parts[atom]``; memoised."""
    # Canonical order (codes may be None, which does not compare with text).
    table = sorted(((atom, sorted(set(who))) for atom, who in parts.items()), key=repr)
    digest = hashlib.blake2b(repr((groupings, table)).encode(), digest_size=20).digest()
    key = (k, digest)
    found = _RESULTS.get(key)
    if found is not None:
        _RESULTS.move_to_end(key)
        return found
    codes = {
        a: {g: c for g, c in zip(groupings, a, strict=True) if c is not None} for a, _ in table
    }
    slice_ = {a: frozenset(who) for a, who in table}
    cells = protect(Table(codes, [slice_], [(0,)]), groupings, k, window_differences=False)
    found = frozenset((g, c) for _, g, c in cells)
    _RESULTS[key] = found
    if len(_RESULTS) > LRU_ENTRIES:
        _RESULTS.popitem(last=False)
    return found


async def contributors(
    db: Db, req: Request, tick: datetime, grain: int | None = None
) -> dict[datetime, list[tuple[int, str]]]:
    """Per bucket start (up to the tick), the (location, orchestrator) pairs with rows in
    it: the contributors of ``api.stats.series`` points, network-wide, in one statement.
    With ``grain`` (a divisor of the step), per sub-bucket of that many seconds instead:
    the contributors a series of that step would count over the same minutes."""
    grain = grain or req.step
    last = min(req.end - MINUTE, tick)
    if last < req.start:
        return {}
    if req.step % HOUR_SECONDS == 0:  # whole hours from the hourly table, as the points do
        cut = split(req.start, last, await dirty_hours(db, req.start))
        hours, ranges = list(cut.hours), list(cut.minute_ranges)
    else:
        hours, ranges = [], [(req.start, last)]
    rows = await db.fetch(
        f"""
        WITH h AS (SELECT unnest($1::timestamptz[]) AS hour),
             m AS (SELECT * FROM unnest($2::timestamptz[], $3::timestamptz[]) AS m(first, last))
        SELECT bucket, array_agg(location_id) AS locations, array_agg(orchestrator) AS who
        FROM (
            SELECT floor(extract(epoch FROM nh.hour) / $4)::bigint AS bucket,
                   nh.location_id, nh.orchestrator
            FROM h JOIN stats_node_hours nh ON nh.hour = h.hour
            UNION
            SELECT floor(extract(epoch FROM nm.minute) / $4)::bigint,
                   coalesce(nm.location_id, 0), n.orchestrator
            FROM {minute_rows("node_minutes", "nm")}
            JOIN nodes n ON n.id = nm.node
        ) AS pairs GROUP BY bucket
        """,
        hours,
        [r[0] for r in ranges],
        [r[1] for r in ranges],
        grain,
    )
    return {
        datetime.fromtimestamp(r["bucket"] * grain, UTC): list(
            zip(r["locations"], r["who"], strict=True)
        )
        for r in rows
    }
