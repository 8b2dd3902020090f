"""Anonymous callers cannot recover a withheld orchestrator by subtracting figures of
levels that do not nest: the Livepeer region PRG holds all of CZ and the part of DE
around Dresden, where orchestrator D runs alone."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from api.core.services import Services
from tests.support.differencing import LEVELS, add_city, place_codes
from tests.support.rollup_rows import add_minutes
from tests.support.stats_fixtures import graphql, pin

PLACES = {  # name: (latitude, longitude, country, orchestrators)
    "PRAGUE": (50.08, 14.44, "CZ", "ABC"),
    "DRESDEN": (51.05, 13.74, "DE", "D"),
    "FRANKFURT": (50.11, 8.68, "DE", "EFG"),
}


def codes(place: str) -> dict[tuple[str, int | None], str | None]:
    latitude, longitude, country, _ = PLACES[place]
    return place_codes(latitude, longitude, country)


async def cities(services: Services, places: dict[str, tuple[float, float, str, str]]) -> None:
    """Each place's orchestrators (one letter each) reporting for the last 90 minutes."""
    minutes = []
    for i, (name, (latitude, longitude, country, letters)) in enumerate(places.items()):
        every = {letter: range(-89, 1) for letter in letters}
        minutes += await add_city(services.db, i, name, latitude, longitude, country, every)
    await add_minutes(services.db, minutes)
    await pin(services)


@pytest.fixture
async def split_region(services: Services) -> None:
    await cities(services, PLACES)


@pytest.mark.usefixtures("split_region")
async def test_a_region_minus_a_country_reveals_no_orchestrator(
    as_anonymous: httpx.AsyncClient,
) -> None:
    # Here every region would have at least 3 orchestrators but Dresden's cells; the
    # nested levels alone would publish PRG and CZ, whose difference is D alone.
    assert codes("DRESDEN")[("LIVEPEER_REGION", None)] == "PRG"
    assert codes("PRAGUE")[("LIVEPEER_REGION", None)] == "PRG"
    fields = "code avgStreams currentStreams precision"
    query = "{ network { avgStreams currentStreams } " + " ".join(
        f"l{i}: regions(level: {level}{f', resolution: {r}' if r is not None else ''})"
        f" {{ {fields} }}"
        for i, (level, r) in enumerate(LEVELS)
    )
    data = await graphql(as_anonymous, query + " }")
    assert data["network"]["avgStreams"] is not None
    published: dict[str, list[tuple[str, int | None, str]]] = {"avg": [], "current": []}
    for i, (level, r) in enumerate(LEVELS):
        for region in data[f"l{i}"]:
            if region["avgStreams"] is not None:
                published["avg"].append((level, r, region["code"]))
            if region["currentStreams"] is not None:
                published["current"].append((level, r, region["code"]))
    shown = {code for level, _, code in published["avg"] if level != "CELL"}
    assert not {"PRG", "CZ"} <= shown
    assert not {"DE", "FRA"} <= shown
    # No sum or difference of published figures isolates Dresden: its place is not in
    # the span of the published regions' place vectors (the network holds all three).
    names = list(PLACES)
    dresden = np.array([name == "DRESDEN" for name in names], dtype=float)
    for group, regions in published.items():
        rows = [np.ones(len(names))] + [
            np.array([codes(name)[(level, r)] == code for name in names], dtype=float)
            for level, r, code in regions
        ]
        matrix = np.array(rows)
        extended = np.vstack([matrix, dresden])
        assert np.linalg.matrix_rank(extended) > np.linalg.matrix_rank(matrix), group


SEVEN = {  # three orchestrators in Frankfurt, three in Los Angeles, one in New York
    "FRANKFURT": (50.11, 8.68, "DE", "ABC"),
    "LOS_ANGELES": (34.05, -118.24, "US", "DEF"),
    "NEW_YORK": (40.71, -74.00, "US", "G"),
}


@pytest.fixture
async def seven(services: Services) -> None:
    await cities(services, SEVEN)


@pytest.mark.usefixtures("seven")
async def test_one_lone_orchestrator_hides_one_region_not_the_network(
    as_anonymous: httpx.AsyncClient,
) -> None:
    # New York's single orchestrator is withheld everywhere, and so is one
    # complementary region per level that would give it away (North America or the
    # network minus Los Angeles); the network, Europe, Germany, FRA and the US stay.
    where = {name: place_codes(lat, lng, c) for name, (lat, lng, c, _) in SEVEN.items()}
    assert where["NEW_YORK"][("LIVEPEER_REGION", None)] == "NYC"
    fields = "code avgStreams currentStreams precision"
    query = "{ network { avgStreams currentStreams } " + " ".join(
        f"l{i}: regions(level: {level}{f', resolution: {r}' if r is not None else ''})"
        f" {{ {fields} }}"
        for i, (level, r) in enumerate(LEVELS)
    )
    data = await graphql(as_anonymous, query + " }")
    assert data["network"]["avgStreams"] is not None
    assert data["network"]["currentStreams"] is not None
    for i, (level, r) in enumerate(LEVELS):
        shown = {x["code"] for x in data[f"l{i}"] if x["avgStreams"] is not None}
        current = {x["code"] for x in data[f"l{i}"] if x["currentStreams"] is not None}
        assert shown == current, (level, r)
        frankfurt, la, ny = (where[n][(level, r)] for n in SEVEN)
        assert frankfurt in shown, (level, r)
        if la == ny:  # the US, North America: both cities, 4 orchestrators
            assert la in shown, (level, r)
        else:  # New York; and the network minus Frankfurt minus Los Angeles is New York
            assert ny not in shown and la not in shown, (level, r)
        withheld = [x for x in data[f"l{i}"] if x["avgStreams"] is None]
        assert all(x["precision"] == "SUPPRESSED" for x in withheld)
    assert {x["code"] for x in data["l0"] if x["avgStreams"] is not None} == {"EU", "NA"}
    assert {x["code"] for x in data["l1"] if x["avgStreams"] is not None} == {"DE", "US"}
    assert {x["code"] for x in data["l2"] if x["avgStreams"] is not None} == {"FRA"}
