"""``orchestrator(address)``: per-node figures, for whom they may be shown."""

from __future__ import annotations

import httpx
import pytest

from api.core.services import Services
from api.core.settings import Settings
from tests.support.services import running_server
from tests.support.stats_fixtures import graphql, signed_in
from tests.support.stats_scenario import Loaded, address

QUERY = """query($address: String!, $window: Window) {
  orchestrator(address: $address, window: $window) {
    address currentStreams capacity avgStreams broadcasters precision
    nodes { name currentStreams capacity avgStreams maxStreams broadcasters lastSeen
            location { latitude longitude cell } }
  }
  access { precise reason }
}"""


async def test_own_nodes_in_full(as_orchestrator: httpx.AsyncClient) -> None:
    data = await graphql(
        as_orchestrator, QUERY, {"address": address("A").upper().replace("0X", "0x")}
    )
    own = data["orchestrator"]
    assert own["address"] == address("A")
    assert own["precision"] == "EXACT"
    assert own["currentStreams"] == 5 and own["capacity"] == 18
    assert own["avgStreams"] == pytest.approx(5.0)
    assert own["broadcasters"] == 2  # X and Y
    a1, a2 = own["nodes"]
    assert (a1["name"], a2["name"]) == ("a1", "a2")
    assert a1["currentStreams"] == 3 and a1["maxStreams"] == 3 and a1["broadcasters"] == 1
    assert a1["lastSeen"] == "2024-05-01T12:00:00+00:00"
    # Exact position for its owner.
    assert (a1["location"]["latitude"], a1["location"]["longitude"]) == (50.11, 8.68)
    assert data["access"] == {"precise": True, "reason": None}


async def test_other_orchestrators_only_where_shared(
    services: Services, as_orchestrator: httpx.AsyncClient
) -> None:
    data = await graphql(as_orchestrator, QUERY, {"address": address("B")})
    # Not shared: the address and (DESIGN §9) the verification status, no figures.
    hidden = data["orchestrator"]
    assert hidden["address"] == address("B") and hidden["nodes"] == []
    assert hidden["currentStreams"] is None and hidden["avgStreams"] is None
    await services.db.execute(
        "INSERT INTO sharing (orchestrator, share_per_node) VALUES ($1, true)", address("B")
    )
    data = await graphql(as_orchestrator, QUERY, {"address": address("B"), "window": "LAST_DAY"})
    shared = data["orchestrator"]
    assert [n["name"] for n in shared["nodes"]] == ["b1"]
    assert shared["nodes"][0]["currentStreams"] == 4
    # b1 reports no senders.
    assert shared["broadcasters"] == 0


async def test_bad_address(as_orchestrator: httpx.AsyncClient) -> None:
    response = await as_orchestrator.post(
        "/graphql", json={"query": '{ orchestrator(address: "nope") { address } }'}
    )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_reciprocity_serves_the_public_view(
    services: Services, settings: Settings, scripted: Loaded
) -> None:
    reciprocal = settings.model_copy(update={"reciprocity": True})
    async with running_server(reciprocal, workers=[]) as url:
        # E is registered but none of its nodes ever delivered anything.
        async with await signed_in(services, url, "E") as as_e:
            data = await graphql(as_e, QUERY, {"address": address("E")})
            assert data["orchestrator"] is None
            assert data["access"]["precise"] is False
            assert "24 hours" in data["access"]["reason"]
            network = await graphql(as_e, "{ network { currentStreams precision } }")
            assert network["network"] == {"currentStreams": 24, "precision": "COARSENED"}
        # A delivers, so it stays precise.
        async with await signed_in(services, url, "A") as as_a:
            network = await graphql(as_a, "{ network { currentStreams precision } }")
            assert network["network"] == {"currentStreams": 22, "precision": "EXACT"}
