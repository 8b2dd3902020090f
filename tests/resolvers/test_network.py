"""``network``, ``regions`` and ``region`` against the scripted network: every figure of
every level and window, as an orchestrator sees it (exact)."""

from __future__ import annotations

import httpx
import pytest

from api.core.services import Services
from api.rollup.hours import refresh
from tests.support.stats_fixtures import forget_answers, graphql, pin
from tests.support.stats_scenario import WINDOW_MINUTES, Loaded, scenario, truth

FIGURES = """
fragment figures on Stats {
  currentStreams avgStreams maxStreams capacity broadcasters pixelsPerSecond
  transcodedMinutes segments
  coverage {
    reportingOrchestrators knownOrchestrators stakeShare
    contributors {
      currentStreams capacity avgStreams maxStreams pixelsPerSecond transcodedMinutes
      segments broadcasters demandOrigins
    }
  }
}
"""

NETWORK = "query($window: Window!) { network(window: $window) { asOf precision ...figures } }"
REGIONS = """
query($level: RegionLevel!, $window: Window!, $resolution: Int) {
  regions(level: $level, window: $window, resolution: $resolution) {
    level code name precision ...figures
  }
}"""

LEVELS = [
    ("CONTINENT", None),
    ("COUNTRY", None),
    ("LIVEPEER_REGION", None),
    ("CELL", 0),
    ("CELL", 3),
    ("CELL", 7),
]


def _figures(item: dict) -> dict:
    return {
        k: v for k, v in item.items() if k not in ("asOf", "precision", "level", "code", "name")
    }


def _assert_same(got: dict, want: dict, where: str) -> None:
    assert got.keys() == want.keys(), where
    for key, value in want.items():
        if isinstance(value, dict):
            _assert_same(got[key], value, f"{where}.{key}")
        elif isinstance(value, float):
            assert got[key] == pytest.approx(value, rel=1e-9, abs=1e-12), f"{where}.{key}"
        else:
            assert got[key] == value, f"{where}.{key}"


async def test_network_last_hour_by_hand(as_orchestrator: httpx.AsyncClient) -> None:
    data = await graphql(as_orchestrator, NETWORK + FIGURES, {"window": "LAST_HOUR"})
    network = data["network"]
    assert network["asOf"] == "2024-05-01T12:00:00+00:00"
    assert network["precision"] == "EXACT"
    # a1 3 + a2 2 + b1 4 + c1 1 + g1 5 + h1 7; d1 went silent 20 minutes ago.
    assert network["currentStreams"] == 22
    assert network["capacity"] == 10 + 8 + 6 + 4 + 9 + 9
    # 22 streams every minute, and d1's 6 in the 40 minutes before it went silent.
    assert network["avgStreams"] == pytest.approx(22 + 6 * 40 / 60)
    assert network["maxStreams"] == 28
    # X pays a1 and c1 (two orchestrators), Y pays a2, Z pays d1.
    assert network["broadcasters"] == 3
    # Per minute 2+1+3+1+2+2 = 11, plus d1's 5 for 40 minutes, minus b1's reset (3 -> 1).
    pixels = 11 * 60 + 5 * 40 - 2
    assert network["pixelsPerSecond"] == pytest.approx(pixels * 1e6 / 3600)
    assert network["transcodedMinutes"] == pytest.approx(
        (2 + 2 + 4 + 1 + 3 + 3) * 60 / 60 + 6 * 40 / 60
    )
    assert network["segments"] == (1 + 1 + 2 + 1 + 2 + 2) * 60 + 3 * 40
    coverage = network["coverage"]
    assert coverage["reportingOrchestrators"] == 6  # A B C D G H
    assert coverage["knownOrchestrators"] == 7  # and E, which never reports; F is inactive
    assert coverage["stakeShare"] == pytest.approx((400 + 300 + 200 + 100 + 80 + 60) / 1190)
    assert coverage["contributors"] == {
        "currentStreams": 5,  # A B C G H: D is silent
        "capacity": 5,
        "avgStreams": 6,
        "maxStreams": 6,
        "pixelsPerSecond": 6,
        "transcodedMinutes": 6,
        "segments": 6,
        "broadcasters": 3,  # A C D; B sends no sender labels, G and H neither
        "demandOrigins": 2,  # A D
    }


async def test_longer_windows_by_hand(as_orchestrator: httpx.AsyncClient) -> None:
    # 30 minutes before the last hour: 28 streams a minute (d1 included).
    last_90 = 26 * 60 + 28 * 30
    expected = {
        "LAST_DAY": last_90 / 1440,
        "LAST_WEEK": (last_90 + 5 * 60) / 10080,  # a1's hour 3 days ago
        "LAST_30_DAYS": (last_90 + 5 * 60 + 2 * 60) / 43200,  # and d1's 10 days ago
    }
    for window, avg in expected.items():
        data = await graphql(as_orchestrator, NETWORK + FIGURES, {"window": window})
        assert data["network"]["avgStreams"] == pytest.approx(avg), window
        # The current figures do not depend on the window.
        assert data["network"]["currentStreams"] == 22


async def test_a_node_counts_where_it_was(as_orchestrator: httpx.AsyncClient) -> None:
    query = """{ de: region(level: COUNTRY, code: "de") { code currentStreams avgStreams }
                 fr: region(level: COUNTRY, code: "FR") { code currentStreams avgStreams } }"""
    data = await graphql(as_orchestrator, query)
    # c1 (1 stream) was in Berlin for 29 minutes of the hour, then 31 in Paris.
    assert data["de"] == {
        "code": "DE",
        "currentStreams": 7,
        "avgStreams": pytest.approx(7 + 29 / 60),
    }
    assert data["fr"] == {"code": "FR", "currentStreams": 1, "avgStreams": pytest.approx(31 / 60)}


async def _check_every_level_and_window(http: httpx.AsyncClient) -> int:
    s = scenario()
    checked = 0
    for window in WINDOW_MINUTES:
        data = await graphql(http, NETWORK + FIGURES, {"window": window})
        _assert_same(_figures(data["network"]), truth(s, None, window)[""], f"network {window}")
        checked += 1
        for level, resolution in LEVELS:
            variables = {"level": level, "window": window, "resolution": resolution}
            data = await graphql(http, REGIONS + FIGURES, variables)
            want = truth(s, level, window, resolution)
            got = {r["code"]: r for r in data["regions"]}
            assert sorted(got) == sorted(want), f"{level} {resolution} {window}"
            assert [r["code"] for r in data["regions"]] == sorted(want)
            for code, figures in want.items():
                _assert_same(_figures(got[code]), figures, f"{level}{resolution} {window} {code}")
                assert got[code]["precision"] == "EXACT"
                checked += 1
    return checked


async def test_every_figure_of_every_level_and_window(
    services: Services, scripted: Loaded, as_orchestrator: httpx.AsyncClient
) -> None:
    # First every hour is dirty, so all of it is read from the minute rollups ...
    assert await services.db.fetchval("SELECT count(*) FROM stats_node_hours") == 0
    checked = await _check_every_level_and_window(as_orchestrator)
    assert checked > 100
    # ... then from the hourly aggregates, which must agree to the last digit.
    assert await refresh(services.db) > 0
    assert await services.db.fetchval("SELECT count(*) FROM stats_dirty_hours") == 0
    await forget_answers(services)
    await pin(services)
    assert await _check_every_level_and_window(as_orchestrator) == checked


async def test_region_without_data_has_zero_figures(as_orchestrator: httpx.AsyncClient) -> None:
    data = await graphql(
        as_orchestrator,
        '{ region(level: COUNTRY, code: "JP") { code name'
        " currentStreams avgStreams coverage { reportingOrchestrators"
        " knownOrchestrators stakeShare } } }",
    )
    assert data["region"] == {
        "code": "JP",
        "name": "Japan",
        "currentStreams": 0,
        "avgStreams": 0.0,
        "coverage": {"reportingOrchestrators": 0, "knownOrchestrators": 0, "stakeShare": None},
    }


async def test_region_locations(as_orchestrator: httpx.AsyncClient) -> None:
    query = """{
      fra: region(level: LIVEPEER_REGION, code: "FRA") { name location { latitude longitude } }
      cell: region(level: CELL, code: "831faefffffffff") { location { cell } }
      de: region(level: COUNTRY, code: "DE") { location { latitude longitude } }
    }"""
    data = await graphql(as_orchestrator, query)
    assert data["fra"] == {
        "name": "Frankfurt",
        "location": {"latitude": 50.1109, "longitude": 8.6821},
    }
    assert data["cell"]["location"]["cell"] == "831faefffffffff"
    # Mean of the places of the orchestrators there: Frankfurt and Berlin.
    assert data["de"]["location"]["latitude"] == pytest.approx((50.11 + 52.52) / 2)
