"""The demo registry in a real database: orchestrators, declared node locations,
sharing, and ingest tokens the server accepts."""

from api.core.services import Services
from api.demo.install import TOKEN_NAME, install
from api.demo.network import build_network
from api.ingest.allowlist import NIC_METRICS
from api.ingest.sharing import shared_metrics
from auth.tokens import list_tokens, verify_token


async def test_install_registers_locates_and_mints_tokens(services: Services) -> None:
    network = build_network(12, seed=5)
    installed = await install(services, network)
    assert (installed.registry.total, installed.registry.inserted) == (12, 12)

    registered = {
        r["address"]: r
        for r in await services.db.fetch("SELECT address, total_stake, active FROM orchestrators")
    }
    assert set(registered) == {o.address.lower() for o in network.orchestrators}
    assert all(r["active"] and r["total_stake"] > 0 for r in registered.values())

    rows = await services.db.fetch(
        """
        SELECT n.orchestrator, n.name, l.source, l.livepeer_region, l.country, l.continent
        FROM nodes n JOIN locations l ON l.id = n.declared_location_id
        """
    )
    located = {(r["orchestrator"], r["name"]): r for r in rows}
    expected = {(o.address.lower(), n.node_id): n for o, n in network.nodes}
    assert set(located) == set(expected)
    for key, node in expected.items():
        row = located[key]
        assert row["source"] == "declared"
        assert (row["livepeer_region"], row["country"]) == (node.region, node.country)
        assert row["continent"] is not None

    assert set(installed.tokens) == {o.address for o in network.reporting}
    for orchestrator in network.reporting:
        record = await verify_token(services, installed.tokens[orchestrator.address], "ingest")
        assert record is not None and record.orchestrator == orchestrator.address.lower()
        shared = await shared_metrics(services.db, orchestrator.address.lower())
        assert shared == (NIC_METRICS if orchestrator.shares_nic else frozenset())
    silent = [o for o in network.orchestrators if not o.reports]
    assert silent
    for orchestrator in silent:
        assert await list_tokens(services.db, orchestrator.address.lower()) == []


async def test_installing_again_replaces_the_demo_tokens(services: Services) -> None:
    network = build_network(6, seed=5)
    first = await install(services, network)
    second = await install(services, network)
    assert (second.registry.inserted, second.registry.updated) == (0, 6)
    address = network.reporting[0].address
    assert await verify_token(services, first.tokens[address], "ingest") is None
    assert await verify_token(services, second.tokens[address], "ingest") is not None
    live = await list_tokens(services.db, address.lower())
    assert [t.name for t in live] == [TOKEN_NAME]
    nodes = await services.db.fetchval("SELECT count(*) FROM nodes")
    assert nodes == len(network.nodes)
