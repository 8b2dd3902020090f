"""Anonymous series points cannot be recovered by subtracting other regions' points of
the same bucket: Paris has one orchestrator (D) from 11:00 on, so Europe's point minus
Germany's would be D's; nor by subtracting points of another step: a two-hour point
minus one of its hours is the other hour."""

from __future__ import annotations

import httpx
import numpy as np
import pytest

from api.core.services import Services
from api.rollup.hours import refresh
from tests.support.differencing import LEVELS, add_city, place_codes
from tests.support.rollup_rows import add_minutes
from tests.support.stats_fixtures import graphql, pin

PLACES = {  # name: (latitude, longitude, country, orchestrators, first minute before TICK)
    "FRANKFURT": (50.11, 8.68, "DE", "ABC", 150),
    "PARIS": (48.86, 2.35, "FR", "D", 60),
    "NEW_YORK": (40.71, -74.01, "US", "EFG", 150),
}
QUERY = """query($level: RegionLevel, $code: String, $step: Int!) {
  series(metric: STREAMS, level: $level, code: $code, from: "2024-05-01T09:00:00Z",
         to: "2024-05-01T13:00:00Z", step: $step) { time value precision }
}"""


def codes(place: str) -> dict[tuple[str, int | None], str | None]:
    latitude, longitude, country, _, _ = PLACES[place]
    return place_codes(latitude, longitude, country)


async def _load(services: Services, minutes_of: dict[str, dict[str, range]]) -> None:
    minutes = []
    for i, (name, (latitude, longitude, country, _, _)) in enumerate(PLACES.items()):
        city = minutes_of[name]
        minutes += await add_city(services.db, i, name, latitude, longitude, country, city)
    await add_minutes(services.db, minutes)
    await refresh(services.db)  # 09:00 to 11:00 from the hourly tables, 12:00 from minutes
    await pin(services)


@pytest.fixture
async def lone_paris(services: Services) -> None:
    await _load(
        services,
        {
            name: {letter: range(-since + 1, 1) for letter in letters}
            for name, (_, _, _, letters, since) in PLACES.items()
        },
    )


@pytest.fixture
async def paris_thins_out(services: Services) -> None:
    """Everyone from 09:31, and E and F with D in Paris up to 10:59: France has three
    orchestrators in any bucket holding 10:00 and 11:00, D alone at 11:00."""
    minutes_of = {
        name: {letter: range(-149, 1) for letter in letters}
        for name, (_, _, _, letters, _) in PLACES.items()
    }
    minutes_of["PARIS"] |= {"E": range(-149, -60), "F": range(-149, -60)}
    await _load(services, minutes_of)


async def _series(
    http: httpx.AsyncClient, level: str | None, code: str | None, step: int = 3600
) -> list[dict]:
    data = await graphql(http, QUERY, {"level": level, "code": code, "step": step})
    return data["series"]


@pytest.mark.usefixtures("lone_paris")
async def test_a_continent_minus_a_country_reveals_no_point(
    as_anonymous: httpx.AsyncClient,
) -> None:
    network = await _series(as_anonymous, None, None)
    assert [p["time"][11:16] for p in network] == ["09:00", "10:00", "11:00", "12:00"]
    assert all(p["precision"] == "COARSENED" for p in network)
    france = await _series(as_anonymous, "COUNTRY", "FR")
    germany = await _series(as_anonymous, "COUNTRY", "DE")
    # D alone in France from 11:00: withheld (primary); Germany too, or Europe minus
    # Germany would be France.
    for points in (france, germany):
        assert [(p["value"], p["precision"]) for p in points[2:]] == [(None, "SUPPRESSED")] * 2
    # Before D came there is nothing to protect: Germany is shown.
    assert [p["precision"] for p in germany[:2]] == ["COARSENED"] * 2
    assert all(p["value"] for p in germany[:2])

    # No sum or difference of the points published for a bucket isolates Paris.
    names = list(PLACES)
    paris = np.array([name == "PARIS" for name in names], dtype=float)
    published: dict[int, list[np.ndarray]] = {b: [np.ones(len(names))] for b in range(4)}
    regions = {(level, r, codes(name)[(level, r)]) for name in names for level, r in LEVELS}
    for level, r, code in sorted(regions, key=str):
        points = await _series(as_anonymous, level, code)
        vector = np.array([codes(name)[(level, r)] == code for name in names], dtype=float)
        for b, point in enumerate(points):
            if point["value"] is not None:
                published[b].append(vector)
    for b in (2, 3):
        matrix = np.array(published[b])
        extended = np.vstack([matrix, paris])
        assert np.linalg.matrix_rank(extended) > np.linalg.matrix_rank(matrix), b


@pytest.mark.usefixtures("paris_thins_out")
async def test_a_coarser_point_minus_its_hours_reveals_no_hour(
    as_anonymous: httpx.AsyncClient,
) -> None:
    france = {s: await _series(as_anonymous, "COUNTRY", "FR", s) for s in (3600, 7200, 86400)}
    shown = {
        s: [p["time"][11:16] for p in ps if p["value"] is not None] for s, ps in france.items()
    }
    # On their own contributors the 10:00 two-hour point (D, E, F) and the day's would
    # be shown; minus the 10:00 hour they would give D's 11:00.
    assert shown == {3600: ["09:00", "10:00"], 7200: ["08:00"], 86400: []}
    assert all(p["precision"] == "SUPPRESSED" for p in france[7200][1:] + france[86400])

    # No sum or difference of the points published at any step isolates Paris at
    # 11:00. Coordinates: (hour from 09:00, place); a point is the sum over its hours
    # and places (a mean over its minutes: the same span).
    names = list(PLACES)
    hours = [9, 10, 11, 12]

    def vector(inside: list[bool], first: int, step: int) -> np.ndarray:
        spans = [first <= h < first + step // 3600 for h in hours]
        return np.array([s and i for s in spans for i in inside], dtype=float)

    target = vector([name == "PARIS" for name in names], 11, 3600)
    regions = {(None, None, None)} | {
        (level, r, codes(name)[(level, r)]) for name in names for level, r in LEVELS
    }
    published = []
    for level, r, code in sorted(regions, key=str):
        inside = [level is None or codes(name)[(level, r)] == code for name in names]
        for step in (3600, 7200, 86400):
            for point in await _series(as_anonymous, level, code, step):
                if point["value"] is not None:
                    first = int(point["time"][11:13]) if step < 86400 else 0
                    published.append(vector(inside, first, step))
    matrix = np.array(published)
    extended = np.vstack([matrix, target])
    assert np.linalg.matrix_rank(extended) > np.linalg.matrix_rank(matrix)
