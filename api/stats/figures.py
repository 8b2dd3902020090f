"""The exact figures of every region, computed from one tick's snapshot.

Definitions (the GraphQL descriptions repeat them):

* currentStreams: sum over the region's nodes heard from in the last 5 minutes of their
  latest sessions sample; a node counts where its latest minute places it.
* capacity: the same nodes' latest max-sessions samples, summed.
* avgStreams: the region's summed sessions (per-minute means of the samples), averaged
  over every minute of the window; minutes without data count as zero.
* maxStreams: the highest of those one-minute sums in the window.
* pixelsPerSecond, transcodedMinutes, segments: counter increases over the window
  (pixels divided by the window's seconds).
* broadcasters: distinct sender hashes with a ticket-counter increase in the window on
  any node of the region, each counted once however many orchestrators it paid.
* coverage: orchestrators with data in the window in the region (reporting), against
  those active in the registry and located there, plus the reporting ones (known);
  stake share = reporting stake / known stake.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from api.geo.grouping import UNKNOWN_LOCATION, Grouping, Place
from api.stats.load import NodeNow, Registered, Usage
from api.stats.windows import Window


@dataclass(slots=True)
class Contributors:
    """How many reporting orchestrators could contribute to each figure."""

    current_streams: int = 0
    capacity: int = 0
    avg_streams: int = 0
    max_streams: int = 0
    pixels_per_second: int = 0
    transcoded_minutes: int = 0
    segments: int = 0
    broadcasters: int = 0
    demand_origins: int = 0


@dataclass(slots=True)
class Figures:
    """Exact figures of one region (code '' for the whole network) in one window."""

    by: Grouping
    code: str
    window: Window
    current_streams: float = 0.0
    capacity: float = 0.0
    avg_streams: float = 0.0
    max_streams: float = 0.0
    pixels_per_second: float = 0.0
    transcoded_minutes: float = 0.0
    segments: float = 0.0
    broadcasters: int = 0
    reporting: frozenset[str] = frozenset()
    current: frozenset[str] = frozenset()
    known: frozenset[str] = frozenset()
    stake_share: float | None = None
    contributors: Contributors = field(default_factory=Contributors)
    # Mean position of the region's places (for levels without a fixed centre).
    centroid: tuple[float, float] | None = None


@dataclass(slots=True)
class _Acc:
    usage: Usage = field(default_factory=Usage)
    reporting: set[str] = field(default_factory=set)
    sessions: set[str] = field(default_factory=set)
    senders_from: set[str] = field(default_factory=set)
    origins_from: set[str] = field(default_factory=set)
    senders: set[bytes] = field(default_factory=set)
    places: set[int] = field(default_factory=set)
    current_streams: float = 0.0
    capacity: float = 0.0
    current: set[str] = field(default_factory=set)
    current_sessions: set[str] = field(default_factory=set)
    current_capacity: set[str] = field(default_factory=set)
    known: set[str] = field(default_factory=set)


def code_of(places: dict[int, Place], location: int, by: Grouping) -> str | None:
    if by.level is None:
        return ""
    if location == UNKNOWN_LOCATION:
        return None
    place = places.get(location)
    return place.code(by) if place is not None else None


def aggregate(
    *,
    window: Window,
    by: Grouping,
    places: dict[int, Place],
    usage: dict[tuple[int, int, str], Usage],
    senders: dict[tuple[int, int], frozenset[bytes]],
    current: list[NodeNow],
    registry: dict[str, Registered],
    peaks: dict[tuple[int, str], float],
) -> dict[str, Figures]:
    """Figures of every region of ``by`` that has data in ``window`` or a known
    orchestrator, keyed by region code."""
    wanted = set(window.slices)
    accs: dict[str, _Acc] = defaultdict(_Acc)
    for (slice_, location, orchestrator), part in usage.items():
        if slice_ not in wanted:
            continue
        code = code_of(places, location, by)
        if code is None:
            continue
        acc = accs[code]
        acc.usage.add(part)
        acc.reporting.add(orchestrator)
        if part.sessions_minutes:
            acc.sessions.add(orchestrator)
        if part.has_senders:
            acc.senders_from.add(orchestrator)
        if part.has_origins:
            acc.origins_from.add(orchestrator)
        if location != UNKNOWN_LOCATION:
            acc.places.add(location)
    for (slice_, location), hashes in senders.items():
        if slice_ in wanted and (code := code_of(places, location, by)) is not None:
            accs[code].senders.update(hashes)
    for node in current:
        code = code_of(places, node.location, by)
        if code is None:
            continue
        acc = accs[code]
        acc.current.add(node.orchestrator)
        if node.sessions is not None:
            acc.current_streams += node.sessions
            acc.current_sessions.add(node.orchestrator)
        if node.capacity is not None:
            acc.capacity += node.capacity
            acc.current_capacity.add(node.orchestrator)
    for o in registry.values():
        if not o.active:
            continue
        code = code_of(places, o.location, by)
        if code is not None:
            accs[code].known.add(o.address)
            if o.location != UNKNOWN_LOCATION:
                accs[code].places.add(o.location)
    if by.level is None:
        accs[""]  # the network always has its figures, even with no data at all
    peak_by_code: dict[str, float] = {}
    for (slice_, code), peak in peaks.items():
        if slice_ in wanted:
            peak_by_code[code] = max(peak_by_code.get(code, 0.0), peak)
    return {
        code: _figures(by, code, window, acc, registry, places, peak_by_code.get(code, 0.0))
        for code, acc in accs.items()
    }


def _figures(
    by: Grouping,
    code: str,
    window: Window,
    acc: _Acc,
    registry: dict[str, Registered],
    places: dict[int, Place],
    peak: float,
) -> Figures:
    u = acc.usage
    minutes = window.minutes
    known = acc.known | acc.reporting
    known_stake = sum(registry[a].stake for a in known if a in registry)
    reporting_stake = sum(registry[a].stake for a in acc.reporting if a in registry)
    reporting = len(acc.reporting)
    centroid = None
    if acc.places:
        points = [places[i] for i in acc.places if i in places]
        if points:
            centroid = (
                sum(p.latitude for p in points) / len(points),
                sum(p.longitude for p in points) / len(points),
            )
    return Figures(
        by=by,
        code=code,
        window=window,
        current_streams=acc.current_streams,
        capacity=acc.capacity,
        avg_streams=u.sessions / minutes,
        max_streams=peak,
        pixels_per_second=u.mil_pixels * 1e6 / (minutes * 60),
        transcoded_minutes=u.source_seconds / 60,
        segments=u.segments,
        broadcasters=len(acc.senders),
        reporting=frozenset(acc.reporting),
        current=frozenset(acc.current),
        known=frozenset(known),
        stake_share=reporting_stake / known_stake if known_stake > 0 else None,
        contributors=Contributors(
            current_streams=len(acc.current_sessions),
            capacity=len(acc.current_capacity),
            avg_streams=len(acc.sessions),
            max_streams=len(acc.sessions),
            pixels_per_second=reporting,
            transcoded_minutes=reporting,
            segments=reporting,
            broadcasters=len(acc.senders_from),
            demand_origins=len(acc.origins_from),
        ),
        centroid=centroid,
    )
