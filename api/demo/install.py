"""Putting the demo network in the database: its registry, where its nodes are, what
its orchestrators share, and ingest tokens for those that report.

This runs in whatever process holds the database (``serve --demo``, or ``demo-load``
connecting with the server's ``LPM_*`` settings), through the same functions as
``lpmetrics registry import`` and ``lpmetrics token create``.
"""

from __future__ import annotations

from dataclasses import dataclass

from api.core.services import Services
from api.demo.network import Network
from api.geo.locate import declared
from api.geo.places import location_id
from api.ingest.allowlist import NIC_METRICS
from api.ingest.sharing import set_shared_metrics
from api.registry.subgraph import ImportSummary, Transcoder, apply, parse_transcoders
from auth.tokens import create_token, list_tokens, revoke_token

TOKEN_NAME = "demo-load"


@dataclass(frozen=True, slots=True)
class Installed:
    registry: ImportSummary
    tokens: dict[str, str]
    """Ingest token of each reporting orchestrator, by checksummed address."""


def subgraph_payload(network: Network) -> dict[str, object]:
    """The demo registry in the Livepeer subgraph's shape (``registry import`` input)."""
    return {
        "data": {
            "transcoders": [
                {
                    "id": o.address.lower(),
                    "serviceURI": o.service_uri,
                    "active": True,
                    "status": "Registered",
                    "totalStake": str(o.total_stake),
                }
                for o in network.orchestrators
            ]
        }
    }


def transcoders(network: Network) -> list[Transcoder]:
    return parse_transcoders(subgraph_payload(network))


async def install(services: Services, network: Network) -> Installed:
    """Import the registry, declare node locations, set sharing, and mint fresh ingest
    tokens (revoking the previous demo tokens of the same orchestrators)."""
    summary = await apply(services.db, transcoders(network), services.geolocator)
    async with services.db.acquire() as conn, conn.transaction():
        for orchestrator in network.reporting:
            address = orchestrator.address.lower()
            for node in orchestrator.nodes:
                place = await location_id(
                    conn, declared(node.latitude, node.longitude, node.country)
                )
                await conn.execute(
                    """
                    INSERT INTO nodes (orchestrator, name, node_type, declared_location_id)
                    VALUES ($1, $2, 'orch', $3)
                    ON CONFLICT (orchestrator, name)
                        DO UPDATE SET declared_location_id = EXCLUDED.declared_location_id
                    """,
                    address,
                    node.node_id,
                    place,
                )
            optional = sorted(NIC_METRICS) if orchestrator.shares_nic else []
            await set_shared_metrics(conn, address, optional)
    tokens = {}
    for orchestrator in network.reporting:
        address = orchestrator.address.lower()
        for old in await list_tokens(services.db, address):
            if old.name == TOKEN_NAME:
                await revoke_token(services.db, old.id)
        _, secret = await create_token(services.db, address, TOKEN_NAME, ["ingest"])
        tokens[orchestrator.address] = secret
    return Installed(summary, tokens)
