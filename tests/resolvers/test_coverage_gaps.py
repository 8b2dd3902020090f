"""``coverageGaps`` on a scripted network sent through the real ingest path.

Three reporting orchestrators (P, Q, R) have nodes in Frankfurt and export
``client_ip``; their gateways are in Frankfurt, Johannesburg, Sydney and (for P only)
Sao Paulo, placed by a GeoIP database of the test's own. S is active in the registry,
located in Sydney, and never reports; T is active and located nowhere.

* demand near an orchestrator (Frankfurt) is no gap;
* demand from a continent without one (Johannesburg) is, nearest FRA;
* Sydney's demand is served by S, which does not report: no gap at 1,000 km, and at
  0 km it is listed with S named as not reporting; without S it is a gap;
* the public view: shares rounded, distances to cell centres, too few orchestrators
  (Sao Paulo: P alone) withheld and listed last.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import h3
import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from api.coverage.distance import distances_km
from api.disclosure.precision import coarse_point, significant
from api.geo.locate import declared
from api.rollup.minutes import roll_up
from auth.sessions import create_session
from auth.tokens import create_token
from tests.support.geoip import build_city_mmdb
from tests.support.remote_write_bodies import V1_HEADERS, Series, v1_body
from tests.support.rollup_rows import add_node, add_orchestrator, add_place
from tests.support.services import running_server
from tests.support.stats_fixtures import forget_answers, graphql, pin

FRANKFURT = (50.1109, 8.6821)
GATEWAYS = {  # client IP: (country, continent, latitude, longitude, city), mil pixels/minute
    "198.51.100.10": (("DE", "EU", *FRANKFURT, "Frankfurt"), 1.0),
    "198.51.100.20": (("ZA", "AF", -26.2041, 28.0473, "Johannesburg"), 3.0),
    "198.51.100.30": (("AU", "OC", -33.8688, 151.2093, "Sydney"), 2.0),
    "198.51.100.40": (("BR", "SA", -23.5505, -46.6333, "Sao Paulo"), 0.5),
}
ONLY_P = "198.51.100.40"
REPORTING = {"P": "0x" + "3" * 40, "Q": "0x" + "4" * 40, "R": "0x" + "5" * 40}
SILENT = "0x" + "6" * 40  # S: Sydney, registry only
NOWHERE = "0x" + "7" * 40  # T: no location
MINUTES = 30

QUERY = """query($min: Float) {
  coverageGaps(minDistanceKm: $min) {
    cell location { latitude longitude cell } window demandShare
    nearestOrchestratorKm nearestRegion nearestOrchestratorReports precision
  }
}"""


def cell_of(ip: str) -> str:
    (_, _, latitude, longitude, _), _ = GATEWAYS[ip]
    return h3.latlng_to_cell(latitude, longitude, 3)


def _node_place(i: int) -> tuple[float, float]:
    return (FRANKFURT[0] + 0.01 * i, FRANKFURT[1] + 0.01 * i)


@pytest.fixture
async def network(
    services: Services, settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[str, datetime]]:
    """The network written through /api/v1/write and rolled up; yields the server URL
    and the tick."""
    db = services.db
    mmdb = build_city_mmdb(
        tmp_path / "city.mmdb", {f"{ip}/32": record for ip, (record, _) in GATEWAYS.items()}
    )
    tick = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    tokens = {}
    for i, (letter, address) in enumerate(REPORTING.items()):
        place = await add_place(db, *_node_place(i), "DE")
        await add_orchestrator(db, address, stake=100, location=place)
        await add_node(db, address, f"{letter.lower()}1", location=place)
        _, tokens[letter] = await create_token(db, address, "prometheus", ["ingest"])
    sydney = await add_place(db, -33.87, 151.21, "AU")
    await add_orchestrator(db, SILENT, stake=100, location=sydney)
    await add_orchestrator(db, NOWHERE, stake=100)

    ingest = settings.model_copy(update={"geoip_db": Path(mmdb)})
    async with running_server(ingest, workers=[]) as url:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            for letter, token in tokens.items():
                series = []
                for ip, (_, rate) in GATEWAYS.items():
                    if ip == ONLY_P and letter != "P":
                        continue
                    samples = [(_ms(tick, -MINUTES + m), rate * m) for m in range(MINUTES + 1)]
                    labels = {
                        "__name__": "livepeer_mil_pixels_processed",
                        "node_id": f"{letter.lower()}1",
                        "node_type": "orch",
                        "client_ip": ip,
                    }
                    series.append(Series(labels, samples))
                response = await http.post(
                    "/api/v1/write",
                    content=v1_body(series),
                    headers={**V1_HEADERS, "Authorization": f"Bearer {token}"},
                )
                assert response.status_code == 204, response.text
        async with db.acquire() as conn:
            assert await roll_up(conn) > 0
        await pin(services, tick)
        yield url, tick


def _ms(tick: datetime, offset: int) -> int:
    return int((tick + timedelta(minutes=offset, seconds=20)).timestamp() * 1000)


async def _gaps(http: httpx.AsyncClient, minimum: float | None = None) -> list[dict]:
    data = await graphql(http, QUERY, {} if minimum is None else {"min": minimum})
    return data["coverageGaps"]


def _km(cell: str, point: tuple[float, float]) -> float:
    import numpy as np

    return float(
        distances_km(*h3.cell_to_latlng(cell), np.array([point[0]]), np.array([point[1]]))[0]
    )


def _shares() -> dict[str, float]:
    demand = {
        cell_of(ip): rate * (1 if ip == ONLY_P else len(REPORTING))
        for ip, (_, rate) in GATEWAYS.items()
    }
    total = sum(demand.values())
    return {cell: d / total for cell, d in demand.items()}


async def test_gaps_for_an_orchestrator(network: tuple[str, datetime], services: Services) -> None:
    url, _ = network
    shares = _shares()
    frankfurt, johannesburg, sydney = (cell_of(ip) for ip in list(GATEWAYS)[:3])
    sao_paulo = cell_of(ONLY_P)
    nearest_o = _node_place(0)  # P's node is the nearest Frankfurt node to them all
    session = await create_session(services, REPORTING["P"])
    headers = {"Authorization": f"Bearer {session.token}"}
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=headers) as as_p:
        gaps = await _gaps(as_p)
        # Frankfurt is served; Sydney by S (not reporting); Johannesburg and Sao Paulo
        # by nobody within 1,000 km.
        assert [g["cell"] for g in gaps] == [johannesburg, sao_paulo]
        first = gaps[0]
        assert first["demandShare"] == pytest.approx(shares[johannesburg])
        assert first["nearestRegion"] == "FRA" and first["nearestOrchestratorReports"] is True
        distances = [_km(johannesburg, _node_place(i)) for i in range(len(REPORTING))]
        assert first["nearestOrchestratorKm"] == pytest.approx(min(distances))
        assert first["nearestOrchestratorKm"] == pytest.approx(
            h3.great_circle_distance(h3.cell_to_latlng(johannesburg), nearest_o, unit="km"),
            abs=20,
        )
        assert first["precision"] == "EXACT" and first["window"] == "LAST_DAY"
        assert first["location"]["cell"] == johannesburg

        every = await _gaps(as_p, 0)
        assert [g["cell"] for g in every] == [johannesburg, sydney, frankfurt, sao_paulo]
        assert sum(g["demandShare"] for g in every) == pytest.approx(1.0)
        by_cell = {g["cell"]: g for g in every}
        assert by_cell[sydney]["nearestRegion"] == "SYD"
        assert by_cell[sydney]["nearestOrchestratorReports"] is False
        assert by_cell[sydney]["nearestOrchestratorKm"] < 100
        assert by_cell[frankfurt]["nearestOrchestratorReports"] is True
        assert by_cell[frankfurt]["nearestOrchestratorKm"] < 100

        # Without S, Sydney's demand is a gap served from Frankfurt.
        await services.db.execute(
            "UPDATE orchestrators SET active = false WHERE address = $1", SILENT
        )
        await forget_answers(services)
        await pin(services, network[1])
        gaps = await _gaps(as_p)
        assert [g["cell"] for g in gaps] == [johannesburg, sydney, sao_paulo]
        assert gaps[1]["nearestRegion"] == "FRA"


async def test_public_view(network: tuple[str, datetime]) -> None:
    url, _ = network
    shares = _shares()
    johannesburg, sao_paulo = cell_of("198.51.100.20"), cell_of(ONLY_P)
    async with httpx.AsyncClient(base_url=url, timeout=30) as anonymous:
        every = await _gaps(anonymous, 0)
    by_cell = {g["cell"]: g for g in every}
    assert set(by_cell) == set(shares)
    # P alone serves Sao Paulo: withheld, listed last. The shares reveal the network
    # total, so at least one other cell goes with it (whichever the least suppression
    # picks): the total minus the published cells is never Sao Paulo alone.
    assert by_cell[sao_paulo]["demandShare"] is None
    assert by_cell[sao_paulo]["precision"] == "SUPPRESSED"
    suppressed = [g["cell"] for g in every if g["precision"] == "SUPPRESSED"]
    assert len(suppressed) >= 2 and every[-len(suppressed) :] == [
        g for g in every if g["precision"] == "SUPPRESSED"
    ]
    published = [g for g in every if g["precision"] == "COARSENED"]
    assert published, "the public view shows the shares of well-covered cells"
    for g in published:
        assert g["demandShare"] == significant(shares[g["cell"]])
    assert [g["demandShare"] for g in published] == sorted(
        (g["demandShare"] for g in published), reverse=True
    )
    gap = by_cell[johannesburg]
    # Measured to the centre of the nearest orchestrator's resolution-3 cell, rounded.
    coarse = coarse_point(declared(*_node_place(0)).cell(15) or "", 3)
    assert gap["nearestOrchestratorKm"] == significant(_km(johannesburg, coarse))
    assert (gap["location"]["latitude"], gap["location"]["longitude"]) == pytest.approx(
        h3.cell_to_latlng(johannesburg)
    )


@pytest.mark.parametrize("bad", [-1.0, 1e9])
async def test_bad_distance(network: tuple[str, datetime], bad: float) -> None:
    url, _ = network
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        response = await http.post("/graphql", json={"query": QUERY, "variables": {"min": bad}})
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
