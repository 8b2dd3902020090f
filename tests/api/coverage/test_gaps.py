"""``cell_coverage`` and the distances it measures."""

from __future__ import annotations

import h3
import numpy as np
import pytest

from api.coverage.distance import distances_km
from api.coverage.gaps import Demand, cell_coverage
from api.coverage.positions import Position


def test_distances_are_h3s() -> None:
    points = [(50.11, 8.68), (-33.87, 151.21), (0.0, 179.9), (89.9, -10.0)]
    origin = (40.71, -74.0)
    found = distances_km(
        *origin, np.array([p[0] for p in points]), np.array([p[1] for p in points])
    )
    for km, point in zip(found, points, strict=True):
        assert km == pytest.approx(h3.great_circle_distance(origin, point, unit="km"), rel=1e-9)


def _cell(latitude: float, longitude: float) -> str:
    return h3.latlng_to_cell(latitude, longitude, 3)


def test_nearest_place_share_and_order() -> None:
    frankfurt, johannesburg = _cell(50.11, 8.68), _cell(-26.2, 28.05)
    demand = {
        frankfurt: Demand(1.0, frozenset("P")),
        johannesburg: Demand(3.0, frozenset("P")),
        _cell(0, 0): Demand(0.0, frozenset("P")),  # no demand: not a cell with demand
    }
    places = [
        Position(50.0, 8.5, "FRA", True),
        Position(-33.87, 151.21, "SYD", False),
    ]
    found = cell_coverage(demand, places)
    assert [c.cell for c in found] == [johannesburg, frankfurt]
    assert [c.share for c in found] == [0.75, 0.25]
    assert found[0].nearest_region == "FRA" and found[0].nearest_reports is True
    assert found[0].nearest_km == pytest.approx(
        h3.great_circle_distance(h3.cell_to_latlng(johannesburg), (50.0, 8.5), unit="km")
    )


def test_a_reporting_orchestrator_wins_a_tie_and_nobody_located() -> None:
    cell = _cell(50.11, 8.68)
    demand = {cell: Demand(1.0, frozenset("P"))}
    same = [Position(50.0, 8.5, "FRA", False), Position(50.0, 8.5, "FRA", True)]
    assert cell_coverage(demand, same)[0].nearest_reports is True
    (alone,) = cell_coverage(demand, [])
    assert alone.nearest_km is None and alone.nearest_region is None and alone.share == 1.0
