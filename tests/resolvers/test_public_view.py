"""What anonymous callers get of the scripted network: coarsened figures, regions with
too few orchestrators withheld, and withheld figures that subtraction cannot recover
(from a parent and its shown children, from two levels, from two windows)."""

from __future__ import annotations

import h3
import httpx
import pytest

from tests.support.stats_fixtures import graphql
from tests.support.stats_scenario import Loaded

pytestmark = pytest.mark.usefixtures("scripted")

FIGURES = "currentStreams avgStreams maxStreams capacity pixelsPerSecond precision"


async def test_network_is_coarsened(as_anonymous: httpx.AsyncClient) -> None:
    data = await graphql(as_anonymous, f"{{ network {{ {FIGURES} broadcasters }} }}")
    assert data["network"] == {
        "currentStreams": 24,  # 22 rounded up to a multiple of 8
        "avgStreams": 32,  # 26
        "maxStreams": 32,  # 28
        "capacity": 48,  # 46
        "pixelsPerSecond": 240000.0,  # 238333.3 to 2 significant digits
        "broadcasters": 8,  # 3
        "precision": "COARSENED",
    }


async def test_two_windows_cannot_isolate_one_orchestrator(
    as_anonymous: httpx.AsyncClient,
) -> None:
    # LAST_WEEK minus LAST_DAY would be a1's hour three days ago (orchestrator A
    # alone), LAST_30_DAYS minus LAST_WEEK d1's hour ten days ago: the shorter window of
    # each pair is withheld, what remains differs by six orchestrators' data.
    query = """{ hour: network { avgStreams currentStreams precision }
                 day: network(window: LAST_DAY) { avgStreams currentStreams precision }
                 week: network(window: LAST_WEEK) { avgStreams currentStreams precision }
                 month: network(window: LAST_30_DAYS) { avgStreams currentStreams precision } }"""
    data = await graphql(as_anonymous, query)
    assert data["hour"]["avgStreams"] == 32
    assert data["day"]["avgStreams"] is None and data["day"]["precision"] == "SUPPRESSED"
    assert data["week"]["avgStreams"] is None and data["week"]["precision"] == "SUPPRESSED"
    assert data["month"]["avgStreams"] == 8
    # Streams now are the same in every window, so they are decided once for all.
    assert {w["currentStreams"] for w in data.values()} == {24}


async def test_parent_minus_shown_children_reveals_nothing(
    as_anonymous: httpx.AsyncClient,
) -> None:
    query = f"""{{ countries: regions(level: COUNTRY) {{ code {FIGURES} }}
                 continents: regions(level: CONTINENT) {{ code {FIGURES} }} }}"""
    data = await graphql(as_anonymous, query)
    countries = {r["code"]: r for r in data["countries"]}
    continents = {r["code"]: r for r in data["continents"]}
    # FR (C alone) and BR (D alone) have too few orchestrators. The network minus the
    # countries shown would be C and D together, two orchestrators: DE is withheld too,
    # although three report there.
    for code in ("FR", "BR", "DE"):
        assert countries[code]["avgStreams"] is None, code
        assert countries[code]["precision"] == "SUPPRESSED"
    assert countries["US"]["avgStreams"] == 16  # 14 streams: A, G and H
    # SA is D alone; the network minus NA would be EU and SA, so EU goes too.
    assert continents["SA"]["avgStreams"] is None
    assert continents["EU"]["avgStreams"] is None
    assert continents["NA"]["avgStreams"] == 16
    # Streams now: DE has two current orchestrators (A, B; C moved to Paris) and FR
    # one; the network minus US is then A, B and C: no orchestrator stands alone.
    assert countries["DE"]["currentStreams"] is None
    assert countries["FR"]["currentStreams"] is None
    assert countries["US"]["currentStreams"] == 16
    assert continents["EU"]["currentStreams"] == 8  # A, B and C: 8 streams


async def test_cells_are_never_finer_than_public_resolution(
    as_anonymous: httpx.AsyncClient,
) -> None:
    data = await graphql(as_anonymous, "{ regions(level: CELL, resolution: 9) { code } }")
    assert data["regions"] and all(h3.get_resolution(r["code"]) == 3 for r in data["regions"])
    response = await as_anonymous.post(
        "/graphql",
        json={"query": '{ region(level: CELL, code: "8b1faea4a0c3fff") { code } }'},
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "resolution 3" in error["message"]


async def test_locations_are_cell_centres(as_anonymous: httpx.AsyncClient) -> None:
    data = await graphql(
        as_anonymous,
        '{ region(level: COUNTRY, code: "US") { location { latitude longitude cell } } }',
    )
    location = data["region"]["location"]
    assert h3.get_resolution(location["cell"]) == 3
    assert (location["latitude"], location["longitude"]) == pytest.approx(
        h3.cell_to_latlng(location["cell"])
    )


async def test_series_steps_are_hours(as_anonymous: httpx.AsyncClient) -> None:
    query = """{ series(metric: STREAMS, from: "2024-05-01T10:00:00Z",
                        to: "2024-05-01T12:30:00Z", step: 60) { time value precision } }"""
    data = await graphql(as_anonymous, query)
    assert [p["time"] for p in data["series"]] == [
        "2024-05-01T10:00:00+00:00",
        "2024-05-01T11:00:00+00:00",
        "2024-05-01T12:00:00+00:00",
    ]
    assert [p["precision"] for p in data["series"]] == ["COARSENED"] * 3
    assert data["series"][1]["value"] == 32  # 26.1


async def test_no_per_orchestrator_figures(
    as_anonymous: httpx.AsyncClient, scripted: Loaded
) -> None:
    data = await graphql(
        as_anonymous,
        '{ orchestrator(address: "0x' + "a" * 40 + '") { address } access { precise reason } }',
    )
    assert data == {"orchestrator": None, "access": {"precise": False, "reason": None}}
