"""A scripted network for the statistics tests, and the figures it should produce.

Seven orchestrators in five places on three continents, every minute relative to the
tick (offset 0 = the tick):

* A (stake 400): a1 in Frankfurt (also an hour 3 days ago), a2 in New York;
  broadcaster X pays a1, Y pays a2. a1 reports demand origins.
* B (stake 300): b1 in Frankfurt; no ``sender`` labels (cannot count broadcasters);
  its pixel counter resets 40 minutes before the tick.
* C (stake 200): c1 in Berlin, moves to Paris 30 minutes before the tick; X pays it
  too, so X is one broadcaster paying two orchestrators.
* D (stake 100): d1 in Sao Paulo, silent for the last 20 minutes; also an hour 10
  days ago; broadcaster Z; demand origins.
* G (stake 80), H (stake 60): g1, h1 in New York.
* E (stake 50): active, located in New York, never reports. F: inactive.

``truth()`` computes every figure straight from these rows with plain loops, sharing no
code with the service, as the tests' reference.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from api.geo.locate import declared
from tests.support.rollup_rows import (
    Db,
    Minute,
    add_minutes,
    add_node,
    add_orchestrator,
    add_origins,
    add_place,
    add_senders,
    at,
)

PLACES = {
    "FRA": (50.11, 8.68, "DE"),
    "BER": (52.52, 13.40, "DE"),
    "PAR": (48.86, 2.35, "FR"),
    "NYC": (40.71, -74.00, "US"),
    "NYC2": (40.73, -73.99, "US"),
    "SAO": (-23.55, -46.63, "BR"),
}


_HEX = {"A": "a", "B": "b", "C": "c", "D": "d", "E": "e", "F": "f", "G": "1", "H": "2"}


def address(letter: str) -> str:
    """The Ethereum address of orchestrator ``letter``."""
    return "0x" + _HEX[letter] * 40


ORCHESTRATORS = {  # letter: (stake, active, registry place)
    "A": (400, True, "FRA"),
    "B": (300, True, "FRA"),
    "C": (200, True, "BER"),
    "D": (100, True, "SAO"),
    "G": (80, True, "NYC"),
    "H": (60, True, "NYC"),
    "E": (50, True, "NYC"),
    "F": (40, False, "FRA"),
}

NODES = {"a1": "A", "a2": "A", "b1": "B", "c1": "C", "d1": "D", "g1": "G", "h1": "H"}
SENDER_NAMES = {"X": b"X" * 32, "Y": b"Y" * 32, "Z": b"Z" * 32}


@dataclass(frozen=True)
class Row:
    node: str
    offset: int  # minutes after the tick (<= 0)
    place: str
    sessions: float
    capacity: float
    mil_pixels: float
    segments: float
    source_seconds: float
    has_senders: bool = False
    has_origins: bool = False


@dataclass
class Scenario:
    rows: list[Row] = field(default_factory=list)
    senders: list[tuple[str, int, str]] = field(default_factory=list)  # node, offset, X|Y|Z
    # node, offset, origin country, origin cell (resolution 3), millions of pixels
    origins: list[tuple[str, int, str, str, float]] = field(default_factory=list)


ORIGIN_DE = declared(50.11, 8.68, "DE").cell(3) or ""
ORIGIN_BR = declared(-23.55, -46.63, "BR").cell(3) or ""


def scenario() -> Scenario:
    s = Scenario()

    def run(node: str, place: str, offsets: range, values: tuple[float, ...], **flags: bool):
        for offset in offsets:
            s.rows.append(Row(node, offset, place, *values, **flags))

    recent = range(-89, 1)
    run("a1", "FRA", recent, (3, 10, 2, 1, 2), has_senders=True, has_origins=True)
    run("a1", "FRA", range(-4320, -4260), (5, 10, 1, 1, 1))
    run("a2", "NYC", recent, (2, 8, 1, 1, 2), has_senders=True)
    for offset in recent:
        # The counter reset shows in the rollups as an ordinary increase.
        pixels = 3.0 if offset != -40 else 1.0
        s.rows.append(Row("b1", offset, "FRA", 4, 6, pixels, 2, 4))
    run("c1", "BER", range(-89, -30), (1, 4, 1, 1, 1), has_senders=True)
    run("c1", "PAR", range(-30, 1), (1, 4, 1, 1, 1), has_senders=True)
    run("d1", "SAO", range(-89, -19), (6, 12, 5, 3, 6), has_senders=True, has_origins=True)
    run("d1", "SAO", range(-14400, -14340), (2, 12, 1, 1, 1))
    run("g1", "NYC2", recent, (5, 9, 2, 2, 3))
    run("h1", "NYC", recent, (7, 9, 2, 2, 3))
    for offset in recent:
        if offset % 10 == 0:
            s.senders += [("a1", offset, "X"), ("c1", offset, "X")]
        if offset % 15 == 0:
            s.senders.append(("a2", offset, "Y"))
        if offset % 10 == 0 and offset >= -89 and offset < -19:
            s.senders.append(("d1", offset, "Z"))
        s.origins += [("a1", offset, "DE", ORIGIN_DE, 1.5), ("a1", offset, "", "", 0.5)]
        if offset < -19:
            s.origins.append(("d1", offset, "BR", ORIGIN_BR, 5.0))
    return s


WINDOW_MINUTES = {"LAST_HOUR": 60, "LAST_DAY": 1440, "LAST_WEEK": 10080, "LAST_30_DAYS": 43200}


def place_code(place: str, level: str | None, resolution: int | None = None) -> str | None:
    """The region code of a place (None for the network: code '')."""
    if level is None:
        return ""
    latitude, longitude, country = PLACES[place]
    location = declared(latitude, longitude, country)
    return location.codes(resolution if resolution is not None else 0)[level]


def truth(
    s: Scenario, level: str | None, window: str, resolution: int | None = None
) -> dict[str, dict[str, object]]:
    """Every figure of every region of ``level`` (None: the network) in ``window``."""
    minutes = WINDOW_MINUTES[window]
    first = -(minutes - 1)

    def code(place: str) -> str | None:
        return place_code(place, level, resolution)

    in_window = [r for r in s.rows if first <= r.offset <= 0]
    where = {(r.node, r.offset): r.place for r in s.rows}
    regions: dict[str, dict[str, object]] = defaultdict(
        lambda: {
            "sessions": 0.0,
            "per_minute": defaultdict(float),
            "mil_pixels": 0.0,
            "segments": 0.0,
            "source_seconds": 0.0,
            "reporting": set(),
            "with_sessions": set(),
            "with_senders": set(),
            "with_origins": set(),
            "senders": set(),
            "current_streams": 0.0,
            "capacity": 0.0,
            "current_sessions": set(),
            "current_capacity": set(),
            "known": set(),
        }
    )
    for r in in_window:
        c = code(r.place)
        if c is None:
            continue
        g = regions[c]
        orch = NODES[r.node]
        g["sessions"] += r.sessions
        g["per_minute"][r.offset] += r.sessions
        g["mil_pixels"] += r.mil_pixels
        g["segments"] += r.segments
        g["source_seconds"] += r.source_seconds
        g["reporting"].add(orch)
        g["with_sessions"].add(orch)
        if r.has_senders:
            g["with_senders"].add(orch)
        if r.has_origins:
            g["with_origins"].add(orch)
    for node, offset, sender in s.senders:
        if first <= offset <= 0 and (c := code(where[(node, offset)])) is not None:
            regions[c]["senders"].add(sender)
    for node in NODES:
        recent = [r for r in s.rows if r.node == node and -4 <= r.offset <= 0]
        if not recent:
            continue
        latest = max(recent, key=lambda r: r.offset)
        c = code(latest.place)
        if c is None:
            continue
        regions[c]["current_streams"] += latest.sessions
        regions[c]["capacity"] += latest.capacity
        regions[c]["current_sessions"].add(NODES[node])
        regions[c]["current_capacity"].add(NODES[node])
    for letter, (_, active, place) in ORCHESTRATORS.items():
        if active and (c := code(place)) is not None:
            regions[c]["known"].add(letter)
    if level is None:
        regions[""]
    out = {}
    for c, g in regions.items():
        known = g["known"] | g["reporting"]
        known_stake = sum(ORCHESTRATORS[o][0] for o in known)
        reporting_stake = sum(ORCHESTRATORS[o][0] for o in g["reporting"])
        reporting = len(g["reporting"])
        out[c] = {
            "currentStreams": round(g["current_streams"]),
            "avgStreams": g["sessions"] / minutes,
            "maxStreams": max(g["per_minute"].values(), default=0.0),
            "capacity": round(g["capacity"]),
            "broadcasters": len(g["senders"]),
            "pixelsPerSecond": g["mil_pixels"] * 1e6 / (minutes * 60),
            "transcodedMinutes": g["source_seconds"] / 60,
            "segments": g["segments"],
            "coverage": {
                "reportingOrchestrators": reporting,
                "knownOrchestrators": len(known),
                "stakeShare": reporting_stake / known_stake if known_stake else None,
                "contributors": {
                    "currentStreams": len(g["current_sessions"]),
                    "capacity": len(g["current_capacity"]),
                    "avgStreams": len(g["with_sessions"]),
                    "maxStreams": len(g["with_sessions"]),
                    "pixelsPerSecond": reporting,
                    "transcodedMinutes": reporting,
                    "segments": reporting,
                    "broadcasters": len(g["with_senders"]),
                    "demandOrigins": len(g["with_origins"]),
                },
            },
        }
    return out


@dataclass
class Loaded:
    places: dict[str, int]
    nodes: dict[str, int]


async def load(db: Db, s: Scenario, tick: datetime) -> Loaded:
    """Write the registry and the scenario's rollups (as the rollup would) for ``tick``."""
    places = {name: await add_place(db, *PLACES[name]) for name in PLACES}
    for letter, (stake, active, place) in ORCHESTRATORS.items():
        await add_orchestrator(
            db, address(letter), stake=stake, active=active, location=places[place]
        )
    nodes = {name: await add_node(db, address(o), name) for name, o in NODES.items()}
    await add_minutes(
        db,
        [
            Minute(
                nodes[r.node],
                at(tick, r.offset),
                places[r.place],
                sessions_last=r.sessions,
                sessions_avg=r.sessions,
                sessions_max=r.sessions,
                capacity=r.capacity,
                mil_pixels=r.mil_pixels,
                segments=r.segments,
                source_seconds=r.source_seconds,
                has_senders=r.has_senders,
                has_origins=r.has_origins,
            )
            for r in s.rows
        ],
    )
    await add_senders(db, [(nodes[n], at(tick, o), SENDER_NAMES[x]) for n, o, x in s.senders])
    await add_origins(
        db, [(nodes[n], at(tick, o), country, cell, m) for n, o, country, cell, m in s.origins]
    )
    return Loaded(places, nodes)
