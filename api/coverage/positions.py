"""Where the known orchestrators are: every place the service can put one of them.

An orchestrator is *known* when it is active in the registry or reported data in the
window (the same rule as ``coverage.knownOrchestrators``). Its places are the one its
on-chain serviceURI geolocates to, the locations its nodes declare, and wherever its
nodes reported from in the window; an orchestrator that does not report still has
the first two, so it still serves demand near it, and is marked as not reporting.

The public view never measures from an orchestrator's own coordinates: it gets the
centre of the orchestrator's cell at ``LPM_PUBLIC_H3_RES`` (the position
``regions(level: CELL)`` already publishes with its orchestrator counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import h3

from api.geo.grouping import UNKNOWN_LOCATION, Place
from api.stats.load import Db, Registered
from api.stats.windows import Window


@dataclass(frozen=True, slots=True)
class Position:
    latitude: float
    longitude: float
    region: str  # Livepeer region code of the place
    reports: bool  # some orchestrator here reported data in the window


async def declared_places(db: Db) -> list[tuple[str, int]]:
    """(orchestrator, location id) of every node with a declared location."""
    rows = await db.fetch(
        "SELECT DISTINCT orchestrator, declared_location_id FROM nodes"
        " WHERE declared_location_id IS NOT NULL"
    )
    return [(r["orchestrator"], r["declared_location_id"]) for r in rows]


def positions(
    *,
    window: Window,
    places: dict[int, Place],
    registry: dict[str, Registered],
    usage: Iterable[tuple[int, int, str]],
    declared: Iterable[tuple[str, int]],
    resolution: int | None,
) -> list[Position]:
    """The distinct places of known orchestrators, at the centre of their cell of
    ``resolution`` (None: exact)."""
    wanted = set(window.slices)
    reporting: set[str] = set()
    at: set[tuple[str, int]] = set()
    for slice_, location, orchestrator in usage:
        if slice_ in wanted:
            reporting.add(orchestrator)
            at.add((orchestrator, location))
    known = reporting | {o.address for o in registry.values() if o.active}
    at.update((o.address, o.location) for o in registry.values())
    at.update(declared)
    by_point: dict[tuple[float, float], Position] = {}
    for orchestrator, location in at:
        place = places.get(location)
        if orchestrator not in known or location == UNKNOWN_LOCATION or place is None:
            continue
        if resolution is None:
            point = (place.latitude, place.longitude)
        else:
            point = h3.cell_to_latlng(place.cells[resolution])
        reports = orchestrator in reporting
        seen = by_point.get(point)
        if seen is None or (reports and not seen.reports):
            by_point[point] = Position(*point, place.livepeer_region, reports)
    return sorted(by_point.values(), key=lambda p: (p.latitude, p.longitude))
