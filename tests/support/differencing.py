"""Shared by the differencing tests (tests/resolvers/test_*_differencing.py): cities of
a few orchestrators each, and the codes of a place at every public level."""

from __future__ import annotations

from collections.abc import Mapping

from api.geo.locate import declared
from tests.support.rollup_rows import Db, Minute, add_node, add_orchestrator, add_place, at
from tests.support.stats_fixtures import TICK

LEVELS = [("CONTINENT", None), ("COUNTRY", None), ("LIVEPEER_REGION", None)] + [
    ("CELL", r) for r in range(4)
]


def place_codes(
    latitude: float, longitude: float, country: str
) -> dict[tuple[str, int | None], str | None]:
    """A place's region code at every level of ``LEVELS``."""
    location = declared(latitude, longitude, country)
    return {(level, r): location.codes(r or 0)[level] for level, r in LEVELS}  # type: ignore[misc]


async def add_city(
    db: Db,
    index: int,
    name: str,
    latitude: float,
    longitude: float,
    country: str,
    minutes: Mapping[str, range],
) -> list[Minute]:
    """A place with one orchestrator (staked, located there) and one node per letter of
    ``minutes``; returns the node's rows at the minutes ``minutes[letter]`` from the
    tick, with sessions growing with the letter's rank so that no two are alike."""
    place = await add_place(db, latitude, longitude, country)
    rows = []
    for j, (letter, offsets) in enumerate(minutes.items()):
        address = "0x" + f"{index}{j}" * 20
        await add_orchestrator(db, address, stake=100, location=place)
        node = await add_node(db, address, f"{name}-{letter}")
        rows += [Minute(node, at(TICK, m), place, 2 + j, 2 + j, 2 + j, 10) for m in offsets]
    return rows
