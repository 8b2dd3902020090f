"""The demo network: deterministic, and shaped so anonymous figures are not suppressed."""

from collections import defaultdict

import h3
from eth_account import Account
from eth_utils import is_checksum_address

from api.demo.network import (
    DEFAULT_ORCHESTRATORS,
    DEMO_REGIONS,
    MIN_PER_REGION,
    build_network,
    orchestrator_key,
)
from api.geo.regions import nearest_region


def test_the_same_seed_gives_the_same_network() -> None:
    assert build_network(12, seed=7) == build_network(12, seed=7)
    other = build_network(12, seed=8)
    assert {o.address for o in other.orchestrators}.isdisjoint(
        o.address for o in build_network(12, seed=7).orchestrators
    )


def test_every_region_used_has_enough_reporting_orchestrators() -> None:
    network = build_network()
    assert len(network.orchestrators) == DEFAULT_ORCHESTRATORS
    assert len(network.regions) >= 5
    reporting_in: dict[str, set[str]] = defaultdict(set)
    with_senders_in: dict[str, set[str]] = defaultdict(set)
    for orchestrator, node in network.nodes:
        reporting_in[node.region].add(orchestrator.address)
        if orchestrator.per_stream:
            with_senders_in[node.region].add(orchestrator.address)
    assert set(reporting_in) == set(network.regions)
    assert all(len(os) >= MIN_PER_REGION for os in reporting_in.values()), reporting_in
    assert all(len(os) >= 3 for os in with_senders_in.values()), with_senders_in


def test_nodes_are_declared_where_their_region_is() -> None:
    countries = dict(DEMO_REGIONS)
    cells: dict[str, set[str]] = defaultdict(set)
    for _, node in build_network().nodes:
        assert nearest_region(node.latitude, node.longitude) == node.region
        assert node.country == countries[node.region]
        assert node.capacity > 0 and 0 < node.load <= 1 and node.ladders
        cells[node.region].add(h3.latlng_to_cell(node.latitude, node.longitude, 3))
    # The public CELL level (resolution 3) has each region's orchestrators together.
    assert all(len(c) == 1 for c in cells.values()), cells
    # Nodes are not all on one spot.
    assert len({(n.latitude, n.longitude) for _, n in build_network().nodes}) > 20


def test_it_has_silent_orchestrators_and_ones_without_per_stream_labels() -> None:
    network = build_network()
    silent = [o for o in network.orchestrators if not o.reports]
    assert silent and all(not o.nodes for o in silent)
    assert all(o.nodes for o in network.reporting)
    assert any(not o.per_stream for o in network.reporting)
    assert any(o.per_stream and o.client_ip for o in network.reporting)
    assert any(o.shares_nic for o in network.reporting)


def test_addresses_are_checksummed_keys_derived_from_the_seed() -> None:
    network = build_network(5, seed=3)
    for o in network.orchestrators:
        assert is_checksum_address(o.address)
        assert Account.from_key(orchestrator_key(3, o.index)).address == o.address
    assert all(is_checksum_address(b.address) for b in network.broadcasters)
    assert len({b.address for b in network.broadcasters}) == len(network.broadcasters)


def test_node_ids_are_unique_per_orchestrator_and_gateways_use_documentation_ranges() -> None:
    network = build_network()
    for o in network.reporting:
        assert len({n.node_id for n in o.nodes}) == len(o.nodes)
    blocks = ("198.51.100.", "203.0.113.", "192.0.2.")
    assert all(ip.startswith(blocks) for b in network.broadcasters for ip in b.gateway_ips)
    uris = tuple("https://" + b for b in blocks)
    assert all(o.service_uri.startswith(uris) for o in network.orchestrators)


def test_a_tiny_network_still_works() -> None:
    network = build_network(1)
    assert len(network.reporting) == 1 and network.regions == ("FRA",)
