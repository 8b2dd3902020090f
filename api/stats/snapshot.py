"""One tick's worth of rollups, loaded once per process and tick and shared by every
request (``Ticks.memo``): figures of every window and level are computed from it in
memory, exact; what each caller may see of them is decided later (``api.disclosure.precision``).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from api.core.services import Services
from api.disclosure.audit import Table, protect
from api.disclosure.milp import withhold
from api.geo.grouping import NETWORK, Grouping, Level, Place, grouping
from api.stats import hourly, load
from api.stats.figures import Figures, aggregate
from api.stats.load import NodeNow, Plan, Registered, Usage
from api.stats.ticks import ticks_for
from api.stats.windows import WINDOWS, Window

CURRENT = "current"
WINDOW = "window"
BROADCASTERS = "broadcasters"


@dataclass
class Snapshot:
    tick: datetime
    plan: Plan
    places: dict[int, Place]
    registry: dict[str, Registered]
    usage: dict[tuple[int, int, str], Usage]
    senders: dict[tuple[int, int], frozenset[bytes]]
    current: list[NodeNow]

    def figures(
        self, window: Window, by: Grouping, peaks: dict[tuple[int, str], float]
    ) -> dict[str, Figures]:
        return aggregate(
            window=window,
            by=by,
            places=self.places,
            usage=self.usage,
            senders=self.senders,
            current=self.current,
            registry=self.registry,
            peaks=peaks,
        )

    def withheld(self, k: int, max_resolution: int) -> Withheld:
        """What the public view withholds (``api.disclosure.audit``)."""
        return _disclose(self, k, max_resolution)


@dataclass(frozen=True)
class Withheld:
    current: frozenset[tuple[Grouping, str]]
    window: frozenset[tuple[Window, Grouping, str]]
    broadcasters: frozenset[tuple[Window, Grouping, str]]

    def groups(self, window: Window, by: Grouping, code: str) -> frozenset[str]:
        """Which figure groups of a region are withheld from the public."""
        out = set()
        if (by, code) in self.current:
            out.add(CURRENT)
        if (window, by, code) in self.window:
            out.add(WINDOW)
        if (window, by, code) in self.broadcasters or WINDOW in out:
            out.add(BROADCASTERS)
        return frozenset(out)


def public_groupings(max_resolution: int) -> list[Grouping]:
    return [
        NETWORK,
        grouping(Level.CONTINENT),
        grouping(Level.COUNTRY),
        grouping(Level.LIVEPEER_REGION),
        *(grouping(Level.CELL, r) for r in range(max_resolution + 1)),
    ]


def _disclose(snap: Snapshot, k: int, max_resolution: int) -> Withheld:
    groupings = public_groupings(max_resolution)
    codes: dict[int, dict[Grouping, str]] = {0: {NETWORK: ""}}
    for place in snap.places.values():
        codes[place.id] = {g: code for g in groupings if (code := place.code(g)) is not None}

    now: dict[int, set[str]] = defaultdict(set)
    for node in snap.current:
        now[node.location].add(node.orchestrator)
    current_table = Table(codes, [{a: frozenset(w) for a, w in now.items()}], [(0,)])
    # The least complementary suppression (api.disclosure.milp), the greedy as fallback.
    current = withhold(current_table, groupings, k).cells

    reporting: list[dict[int, set[str]]] = [defaultdict(set) for _ in WINDOWS]
    paying: list[dict[int, set[str]]] = [defaultdict(set) for _ in WINDOWS]
    for (slice_, location, orchestrator), part in snap.usage.items():
        reporting[slice_][location].add(orchestrator)
        if part.has_senders:
            paying[slice_][location].add(orchestrator)
    windows = [w.slices for w in WINDOWS]
    window_table = Table(
        codes, [{a: frozenset(w) for a, w in s.items()} for s in reporting], windows
    )
    window = withhold(window_table, groupings, k).cells
    # Distinct counts do not add up, so subtraction recovers nothing exactly: primary
    # suppression only.
    sender_table = Table(codes, [{a: frozenset(w) for a, w in s.items()} for s in paying], windows)
    broadcasters = protect(sender_table, groupings, k, audit=False)
    return Withheld(
        current=frozenset((g, c) for _, g, c in current),
        window=frozenset((WINDOWS[w], g, c) for w, g, c in window),
        broadcasters=frozenset((WINDOWS[w], g, c) for w, g, c in broadcasters),
    )


async def snapshot(services: Services, tick: datetime) -> Snapshot:
    """The snapshot for ``tick``, loaded once per process."""
    return await ticks_for(services).memo(tick, "snapshot", lambda t: _load(services, t))


async def _load(services: Services, tick: datetime) -> Snapshot:
    db = services.db
    # Dirty hours and hour versions, one snapshot: what the kept hourly sums depend on.
    dirty, versions = await hourly.state(db, load.earliest(tick))
    p = hourly.tick_plan(tick, dirty, versions, hourly.cache_for(services))
    # Separate connections: the reads run side by side.
    places, registry, usage, senders, current = await asyncio.gather(
        load.places(db),
        load.registry(db),
        load.read(db, load.usage, p),
        load.read(db, load.senders, p),
        load.current(db, tick),
    )
    return Snapshot(tick, p, places, registry, usage, senders, current)


async def figures(
    services: Services, tick: datetime, window: Window, by: Grouping
) -> dict[str, Figures]:
    """Exact figures of every region of ``by`` in ``window``."""

    async def produce(t: datetime) -> dict[str, Figures]:
        snap = await snapshot(services, t)
        return snap.figures(window, by, await peaks(services, t, by))

    return await ticks_for(services).memo(tick, ("figures", window, by), produce)


async def peaks(services: Services, tick: datetime, by: Grouping) -> dict[tuple[int, str], float]:
    """Peak sessions per (slice, region code of ``by``), once per tick for every window."""

    async def produce(t: datetime) -> dict[tuple[int, str], float]:
        snap = await snapshot(services, t)
        return await load.read(services.db, load.peaks, snap.plan, by)

    return await ticks_for(services).memo(tick, ("peaks", by), produce)


async def withheld(services: Services, tick: datetime, k: int, max_resolution: int) -> Withheld:
    """What the public view withholds at ``tick``."""

    async def produce(t: datetime) -> Withheld:
        snap = await snapshot(services, t)
        # Seconds of solver time (api.disclosure.milp): off the event loop.
        return await asyncio.to_thread(snap.withheld, k, max_resolution)

    return await ticks_for(services).memo(tick, ("withheld", k, max_resolution), produce)
