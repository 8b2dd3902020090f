from collections.abc import AsyncIterator

import httpx
import pytest
from eth_account.signers.local import LocalAccount

from api.core.services import Services
from api.core.settings import Settings
from api.geo.locate import Location, declared
from api.geo.places import location_id
from auth.identity import RECIPROCITY_MESSAGE
from tests.support.services import running_server
from tests.support.wallet import graphql, new_account, register, session_token, sign_in

FULL_VIEWER = """
{ viewer {
    role address authenticatedBy precise downgraded
    nodes { id name nodeType firstSeen lastSeen
            location { source latitude longitude country continent livepeerRegion } }
    tokens { id }
    sharing { optionalMetrics sharePerNode updatedAt }
} }
"""


@pytest.fixture
async def orchestrator(services: Services) -> LocalAccount:
    account = new_account()
    await register(services.db, account.address)
    return account


async def test_anonymous_viewer(client: httpx.AsyncClient) -> None:
    response = await graphql(client, FULL_VIEWER)
    assert response.json() == {
        "data": {
            "viewer": {
                "role": "ANONYMOUS",
                "address": None,
                "authenticatedBy": None,
                "precise": False,
                "downgraded": None,
                "nodes": [],
                "tokens": [],
                "sharing": None,
            }
        }
    }


async def test_signed_in_viewer_sees_its_own_nodes_and_settings(
    client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    address = orchestrator.address.lower()
    geoip = Location("geoip", 40.7128, -74.006, "US", "NA", "NYC")
    await services.db.execute(
        "UPDATE orchestrators SET location_id = $2 WHERE address = $1",
        address,
        await location_id(services.db, geoip),
    )
    here = await location_id(services.db, declared(50.11, 8.68, "DE"))
    await services.db.execute(
        """
        INSERT INTO nodes (orchestrator, name, declared_location_id, last_seen)
        VALUES ($1, 'a-declared', $2, now()), ($1, 'b-geoip', NULL, NULL)
        """,
        address,
        here,
    )
    other = new_account()
    await register(services.db, other.address)
    await services.db.execute(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, 'not-mine')", other.address.lower()
    )

    token = await session_token(client, orchestrator)
    viewer = (await graphql(client, FULL_VIEWER, token=token)).json()["data"]["viewer"]
    assert viewer["role"] == "ORCHESTRATOR" and viewer["address"] == address
    assert viewer["authenticatedBy"] == "SESSION" and viewer["precise"] is True
    assert viewer["sharing"] == {"optionalMetrics": [], "sharePerNode": False, "updatedAt": None}
    assert viewer["tokens"] == []
    nodes = {n["name"]: n for n in viewer["nodes"]}
    assert set(nodes) == {"a-declared", "b-geoip"}
    assert nodes["a-declared"]["location"] == {
        "source": "DECLARED",
        "latitude": 50.11,
        "longitude": 8.68,
        "country": "DE",
        "continent": "EU",
        "livepeerRegion": "FRA",
    }
    assert nodes["a-declared"]["lastSeen"] is not None
    assert nodes["b-geoip"]["location"]["source"] == "GEOIP"
    assert nodes["b-geoip"]["location"]["livepeerRegion"] == "NYC"
    assert nodes["b-geoip"]["lastSeen"] is None and nodes["b-geoip"]["nodeType"] == "orch"


async def test_a_node_without_any_location(
    client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    await services.db.execute(
        "INSERT INTO nodes (orchestrator, name) VALUES ($1, 'nowhere')",
        orchestrator.address.lower(),
    )
    token = await session_token(client, orchestrator)
    viewer = (await graphql(client, FULL_VIEWER, token=token)).json()["data"]["viewer"]
    assert [n["location"] for n in viewer["nodes"]] == [None]


@pytest.fixture
async def reciprocal_client(
    services: Services, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    reciprocal = settings.model_copy(update={"reciprocity": True})
    async with running_server(reciprocal) as url, httpx.AsyncClient(base_url=url) as http:
        yield http


async def test_reciprocity_shows_the_downgrade(
    reciprocal_client: httpx.AsyncClient, services: Services, orchestrator: LocalAccount
) -> None:
    signed_in = (await sign_in(reciprocal_client, orchestrator)).json()["data"]["signIn"]
    assert signed_in["viewer"]["role"] == "ORCHESTRATOR"
    assert signed_in["viewer"]["precise"] is False
    assert signed_in["viewer"]["downgraded"] == RECIPROCITY_MESSAGE

    await services.db.execute(
        "INSERT INTO nodes (orchestrator, name, last_seen) VALUES ($1, 'live', now())",
        orchestrator.address.lower(),
    )
    response = await graphql(reciprocal_client, FULL_VIEWER, token=signed_in["token"])
    viewer = response.json()["data"]["viewer"]
    assert viewer["precise"] is True and viewer["downgraded"] is None
