"""``origins``: demand by where the gateways are."""

from __future__ import annotations

import httpx
import pytest

from tests.support.stats_fixtures import graphql
from tests.support.stats_scenario import ORIGIN_BR, ORIGIN_DE

pytestmark = pytest.mark.usefixtures("scripted")

QUERY = """query($level: RegionLevel!, $window: Window, $resolution: Int) {
  origins(level: $level, window: $window, resolution: $resolution) {
    level code name window pixelsPerSecond orchestrators precision
  }
}"""


async def _origins(http: httpx.AsyncClient, **variables: object) -> dict[str, dict]:
    data = await graphql(http, QUERY, variables)
    return {o["code"]: o for o in data["origins"]}


async def test_by_country_for_orchestrators(as_orchestrator: httpx.AsyncClient) -> None:
    found = await _origins(as_orchestrator, level="COUNTRY")
    # a1: 1.5 million pixels a minute from Germany (and 0.5 from nowhere known);
    # d1: 5 from Brazil, for the 40 minutes of the hour before it went silent.
    assert found.keys() == {"DE", "BR"}
    assert found["DE"]["pixelsPerSecond"] == pytest.approx(1.5e6 * 60 / 3600)
    assert found["BR"]["pixelsPerSecond"] == pytest.approx(5e6 * 40 / 3600)
    assert found["DE"]["name"] == "Germany" and found["DE"]["orchestrators"] == 1
    assert found["DE"]["precision"] == "EXACT"


async def test_every_level(as_orchestrator: httpx.AsyncClient) -> None:
    assert (await _origins(as_orchestrator, level="CONTINENT")).keys() == {"EU", "SA"}
    assert (await _origins(as_orchestrator, level="LIVEPEER_REGION")).keys() == {"FRA", "SAO"}
    assert (await _origins(as_orchestrator, level="CELL")).keys() == {ORIGIN_DE, ORIGIN_BR}
    coarse = await _origins(as_orchestrator, level="CELL", resolution=1)
    assert len(coarse) == 2 and all(code.startswith("81") for code in coarse)
    day = await _origins(as_orchestrator, level="COUNTRY", window="LAST_DAY")
    assert day["BR"]["pixelsPerSecond"] == pytest.approx(5e6 * 70 / 86400)


async def test_public_view_withholds_single_orchestrators(as_anonymous: httpx.AsyncClient) -> None:
    found = await _origins(as_anonymous, level="COUNTRY")
    assert {o["precision"] for o in found.values()} == {"SUPPRESSED"}
    assert {o["pixelsPerSecond"] for o in found.values()} == {None}


async def test_finer_cells_than_kept(as_orchestrator: httpx.AsyncClient) -> None:
    response = await as_orchestrator.post(
        "/graphql", json={"query": QUERY, "variables": {"level": "CELL", "resolution": 5}}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
