"""Disclosure control of public series points, per bucket."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from api.core.services import Services
from api.geo.grouping import NETWORK, Level, grouping
from api.rollup.hours import refresh
from api.stats import series, series_disclosure
from api.stats.load import read
from api.stats.series_disclosure import contributors, protected
from tests.support.rollup_rows import Minute, add_minutes, add_node, add_orchestrator, add_place, at
from tests.support.stats_fixtures import TICK

CONTINENT = grouping(Level.CONTINENT)
COUNTRY = grouping(Level.COUNTRY)
GROUPINGS = [NETWORK, CONTINENT, COUNTRY]
K = 3


@pytest.fixture(autouse=True)
def empty_memo() -> None:
    series_disclosure._RESULTS.clear()


def test_a_parent_minus_its_shown_children_withholds_the_shown_one() -> None:
    bucket = {
        ("", "EU", "DE"): {"a", "b", "c"},
        ("", "EU", "FR"): {"d"},
        ("", "NA", "US"): {"e", "f", "g"},
    }
    # FR is withheld (one orchestrator); EU minus DE would be FR, so DE goes too.
    assert protected(bucket, GROUPINGS, K) == {(COUNTRY, "FR"), (COUNTRY, "DE")}


def test_a_healthy_bucket_withholds_nothing() -> None:
    bucket = {
        ("", "EU", "DE"): {"a", "b", "c"},
        ("", "EU", "FR"): {"d", "h", "i"},
        ("", "NA", "US"): {"e", "f", "g"},
    }
    assert protected(bucket, GROUPINGS, K) == frozenset()


def test_unknown_places_count_in_the_network_only() -> None:
    bucket = {("", None, None): {"x"}, ("", "EU", "DE"): {"a", "b", "c"}}
    # The network minus DE (and minus EU) would be x's unlocated node.
    assert protected(bucket, GROUPINGS, K) == {(COUNTRY, "DE"), (CONTINENT, "EU")}


def test_results_are_shared_by_buckets_with_the_same_table() -> None:
    first = protected({("", "EU", "DE"): ["a", "b", "a"]}, GROUPINGS, K)
    assert len(series_disclosure._RESULTS) == 1
    again = protected({("", "EU", "DE"): {"b", "a"}}, GROUPINGS, K)
    assert again is first
    assert len(series_disclosure._RESULTS) == 1
    protected({("", "EU", "DE"): {"b", "a"}}, GROUPINGS, 2)  # another k: its own entry
    assert len(series_disclosure._RESULTS) == 2


async def test_contributors_are_those_of_the_points(services: Services) -> None:
    # Two places; orchestrator B moves from one to the other at 11:30, C stops at 11:10.
    here = await add_place(services.db, 50.11, 8.68, "DE")
    there = await add_place(services.db, 48.86, 2.35, "FR")
    rows = []
    for letter, where in [("a", lambda m: here), ("b", lambda m: here if m < -30 else there)]:
        address = await add_orchestrator(services.db, "0x" + letter * 40)
        node = await add_node(services.db, address, letter)
        rows += [Minute(node, at(TICK, m), where(m), 1, 1, 1, 2) for m in range(-119, 1)]
    address = await add_orchestrator(services.db, "0x" + "c" * 40)
    node = await add_node(services.db, address, "c")
    rows += [Minute(node, at(TICK, m), None, 1, 1, 1, 2) for m in range(-119, -49)]
    await add_minutes(services.db, rows)
    req = series.request(
        series.Metric.STREAMS,
        NETWORK,
        "",
        TICK - timedelta(hours=2),
        TICK + timedelta(hours=1),
        3600,
    )
    a, b, c = ("0x" + x * 40 for x in "abc")
    expected = {
        TICK - timedelta(hours=2): {(here, a), (here, b), (0, c)},
        TICK - timedelta(hours=1): {(here, a), (here, b), (there, b), (0, c)},
        TICK: {(here, a), (there, b)},
    }
    from_minutes = await read(services.db, contributors, req, TICK)
    await refresh(services.db)
    from_hours = await read(services.db, contributors, req, TICK)
    for found in (from_minutes, from_hours):
        assert {t: set(pairs) for t, pairs in found.items()} == expected
    points = await read(services.db, series.points, req, TICK)
    assert [p.contributors for p in points] == [
        len({o for _, o in expected[p.time]}) for p in points
    ]


@pytest.fixture
async def lone_hour(services: Services) -> None:
    """Frankfurt, Paris and New York with three orchestrators each (abc, def, 123), one
    minute an hour from 2024-04-30 00:00 to 11:00 on May 1, but at 05:00 on May 1 only
    d is in Paris."""
    cities = [(50.11, 8.68, "DE", "abc"), (48.86, 2.35, "FR", "def"), (40.71, -74.01, "US", "123")]
    rows = []
    for latitude, longitude, country, letters in cities:
        place = await add_place(services.db, latitude, longitude, country)
        for letter in letters:
            address = await add_orchestrator(services.db, "0x" + letter * 40)
            node = await add_node(services.db, address, letter)
            rows += [
                Minute(node, at(TICK, 60 * hour), place, 1, 1, 1, 2)
                for hour in range(-36, 0)
                if not (letter in "ef" and hour == -7)
            ]
    await add_minutes(services.db, rows)
    await refresh(services.db)


MAY_1 = TICK.replace(hour=0)


async def _withheld_countries(services: Services, step: int) -> dict[datetime, set[str]]:
    req = series.request(series.Metric.STREAMS, NETWORK, "", MAY_1 - timedelta(days=1), TICK, step)
    found = await read(services.db, series_disclosure._withheld, req, TICK, K, 0)
    return {time: {c for g, c in regions if g == COUNTRY} for time, regions in found.items()}


@pytest.mark.usefixtures("lone_hour")
async def test_a_bucket_holding_a_withheld_hour_is_withheld(services: Services) -> None:
    hourly = await _withheld_countries(services, 3600)
    # d alone in France at 05:00; Germany too (Europe minus Germany would be France).
    assert {t: c for t, c in hourly.items() if c} == {MAY_1.replace(hour=5): {"FR", "DE"}}
    # May 1 has d, e and f in France: on its own contributors its point would be
    # shown, and minus its other hours it would give 05:00's.
    assert (await _withheld_countries(services, 86400))[MAY_1] == {"FR", "DE"}
    three_hours = await _withheld_countries(services, 3 * 3600)
    assert {t: c for t, c in three_hours.items() if c} == {MAY_1.replace(hour=3): {"FR", "DE"}}
    # Hours and buckets share the memo by table: every orchestrator, or d without e, f.
    assert len(series_disclosure._RESULTS) == 2


@pytest.mark.usefixtures("lone_hour")
async def test_a_day_whose_hours_are_all_fine_is_not_withheld(services: Services) -> None:
    daily = await _withheld_countries(services, 86400)
    assert daily == {MAY_1 - timedelta(days=1): set(), MAY_1: {"FR", "DE"}}
    # Two-hour buckets: only 04:00 to 05:59 on May 1, of 18, holds the lone hour.
    two_hours = await _withheld_countries(services, 2 * 3600)
    assert len(two_hours) == 18
    assert {t: c for t, c in two_hours.items() if c} == {MAY_1.replace(hour=4): {"FR", "DE"}}
