"""``convergence`` through GraphQL: per node for whoever sees the node's figures, counts
on network and region statistics for everyone (coarsened and withheld like any count)."""

from __future__ import annotations

import httpx
import pytest

from api.core.services import Services
from tests.support.stats_fixtures import TICK, graphql
from tests.support.stats_scenario import Loaded, address

# Per minute, the scenario's a1/g1/h1 process 2 million pixels and 2 source seconds
# (g1, h1: 2 and 3), so with these models they are expected to move
# 1,000 B per source second received, 100 B per million pixels and 10 B/s sent.
MODEL = ([0.0, 1000.0, 0.0], [100.0, 0.0, 10.0])
CALIBRATED = TICK.replace(hour=3)

NODES = """query($address: String!) {
  orchestrator(address: $address) {
    nodes {
      name
      convergence { status errorPercent measuredBytes expectedBytes source calibratedAt }
    }
  }
}"""
COUNTS = """{
  network { convergence { converged diverged calibrating } }
  regions(level: COUNTRY) { code precision convergence { converged diverged calibrating } }
}"""


async def _nic(services: Services, node: int, rx: str, tx: str, column: str = "nic") -> None:
    await services.db.execute(
        f"UPDATE node_minutes SET {column}_rx_bytes = {rx}, {column}_tx_bytes = {tx}"
        " WHERE node = $1 AND minute > $2::timestamptz - interval '1 hour'",
        node,
        TICK,
    )


async def _calibrate(services: Services, node: int, source: str) -> None:
    await services.db.execute(
        "INSERT INTO convergence_calibrations (node, source, calibrated_at, data_from,"
        " data_to, minutes, rx_coef, tx_coef, fit_error) VALUES ($1, $2, $3, $3, $3, 420,"
        " $4, $5, 0.004)",
        node,
        source,
        CALIBRATED,
        *MODEL,
    )


@pytest.fixture
async def counters(services: Services, scripted: Loaded) -> Loaded:
    n = scripted.nodes
    # a1: bytes exactly as its model expects.
    await _nic(services, n["a1"], "1000 * source_seconds", "100 * mil_pixels + 600")
    await _calibrate(services, n["a1"], "NIC")
    # a2 (New York): counters, no model yet.
    await _nic(services, n["a2"], "5000", "5000")
    # b1: NIC and port counters; its port counters carry 20 % more than expected.
    await _nic(services, n["b1"], "1000 * source_seconds", "100 * mil_pixels + 600")
    await _nic(
        services, n["b1"], "1.2 * 1000 * source_seconds", "1.2 * (100 * mil_pixels + 600)", "port"
    )
    await _calibrate(services, n["b1"], "NIC")
    await _calibrate(services, n["b1"], "PORT")
    # g1, h1 (New York): converged.
    for name in ("g1", "h1"):
        await _nic(services, n[name], "1000 * source_seconds", "100 * mil_pixels + 600")
        await _calibrate(services, n[name], "NIC")
    # a2's first model is fitted after the tick: not the tick's.
    await services.db.execute(
        "INSERT INTO convergence_calibrations SELECT $1, source, $2::timestamptz + interval"
        " '1 minute', data_from, data_to, minutes, rx_coef, tx_coef, fit_error"
        " FROM convergence_calibrations WHERE node = $3",
        n["a2"],
        TICK,
        n["a1"],
    )
    return scripted


async def test_own_nodes_in_full(counters: Loaded, as_orchestrator: httpx.AsyncClient) -> None:
    data = await graphql(as_orchestrator, NODES, {"address": address("A")})
    a1, a2 = data["orchestrator"]["nodes"]
    # Each of a1's 60 minutes: 2 source seconds, 2 million pixels.
    assert a1["convergence"] == {
        "status": "CONVERGED",
        "errorPercent": 0.0,
        "measuredBytes": 60 * 2800.0,
        "expectedBytes": 60 * 2800.0,
        "source": "NIC",
        "calibratedAt": CALIBRATED.isoformat(),
    }
    assert a2["convergence"] == {
        "status": "CALIBRATING",
        "errorPercent": None,
        "measuredBytes": 60 * 10000.0,
        "expectedBytes": None,
        "source": "NIC",
        "calibratedAt": None,
    }


async def test_port_counters_preferred_and_divergence_shown(
    services: Services, counters: Loaded, as_orchestrator: httpx.AsyncClient
) -> None:
    await services.db.execute(
        "INSERT INTO sharing (orchestrator, share_per_node) VALUES ($1, true)", address("B")
    )
    data = await graphql(as_orchestrator, NODES, {"address": address("B")})
    (b1,) = data["orchestrator"]["nodes"]
    c = b1["convergence"]
    assert (c["status"], c["source"]) == ("DIVERGED", "PORT")
    assert c["measuredBytes"] == pytest.approx(1.2 * c["expectedBytes"])
    assert c["errorPercent"] == pytest.approx(100 * 0.2 / 1.2)
    # C shares its nodes too; c1 has no byte counters.
    await services.db.execute(
        "INSERT INTO sharing (orchestrator, share_per_node) VALUES ($1, true)", address("C")
    )
    data = await graphql(as_orchestrator, NODES, {"address": address("C")})
    assert data["orchestrator"]["nodes"][0]["convergence"] == {
        "status": "NO_SOURCE",
        "errorPercent": None,
        "measuredBytes": None,
        "expectedBytes": None,
        "source": None,
        "calibratedAt": None,
    }


async def test_counts_exact_for_orchestrators(
    counters: Loaded, as_orchestrator: httpx.AsyncClient
) -> None:
    data = await graphql(as_orchestrator, COUNTS)
    assert data["network"]["convergence"] == {"converged": 3, "diverged": 1, "calibrating": 1}
    regions = {r["code"]: r["convergence"] for r in data["regions"]}
    assert regions["DE"] == {"converged": 1, "diverged": 1, "calibrating": 0}
    assert regions["US"] == {"converged": 2, "diverged": 0, "calibrating": 1}
    # Nodes without byte counters are not counted.
    assert regions["BR"] == {"converged": 0, "diverged": 0, "calibrating": 0}


async def test_counts_for_the_public(counters: Loaded, as_anonymous: httpx.AsyncClient) -> None:
    data = await graphql(as_anonymous, COUNTS)
    # Rounded up to multiples of LPM_PUBLIC_COUNT_BIN like every public count; 0 stays 0.
    assert data["network"]["convergence"] == {"converged": 8, "diverged": 8, "calibrating": 8}
    regions = {r["code"]: r for r in data["regions"]}
    assert regions["US"]["convergence"] == {"converged": 8, "diverged": 0, "calibrating": 8}
    # Germany and Brazil have fewer than three reporting orchestrators: withheld.
    for code in ("DE", "BR"):
        assert regions[code]["precision"] == "SUPPRESSED"
        assert regions[code]["convergence"] is None
    # Per-node verdicts are never public.
    nodes = await graphql(as_anonymous, NODES, {"address": address("A")})
    assert nodes["orchestrator"] is None
