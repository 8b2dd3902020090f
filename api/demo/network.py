"""Who is in the demo network: orchestrators, their nodes and the broadcasters paying
them. Everything is derived from a seed, so two processes (``serve --demo`` and a
later ``demo-load``, or a test) build the same network.

The shape is chosen so every aggregation level has data that anonymous callers may
see: orchestrators are spread round-robin over ``DEMO_REGIONS`` with at least four
reporting in each region used (fewer than ``LPM_PUBLIC_MIN_ORCHESTRATORS``, 3 by
default, would be suppressed), and every node has a declared location, so nothing
depends on a GeoIP database. A region's nodes share one resolution-3 H3 cell, so the
public CELL level shows them too. It also has what real networks have: orchestrators that
run go-livepeer without ``-metricsPerStream`` (no ``sender``/``manifest_id`` labels) or
without ``-metricsClientIP``, registered orchestrators that never report, and
broadcasters that pay many orchestrators in several regions.

Addresses are real key pairs derived from the seed (``orchestrator_key``), so a
developer can sign in as a demo orchestrator against a demo server. The keys are
public knowledge: never use them for anything else.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import random
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import h3
from eth_account import Account
from eth_utils import to_checksum_address

from api.demo.ladders import LADDERS, Ladder
from api.geo.regions import REGIONS, continent_of

DEFAULT_ORCHESTRATORS = 40
DEFAULT_SEED = 1
MIN_PER_REGION = 4
INFLATION = 3.0
"""The inflating orchestrator reports this many times its true ticket figures."""
"""Reporting orchestrators whose main node is in each region used."""

# (Livepeer region, ISO country of its city), ordered so that the first few regions
# already span the continents.
DEMO_REGIONS: tuple[tuple[str, str], ...] = (
    ("FRA", "DE"),
    ("NYC", "US"),
    ("SIN", "SG"),
    ("LAX", "US"),
    ("LON", "GB"),
    ("SAO", "BR"),
    ("HND", "JP"),
    ("MDW", "US"),
    ("SYD", "AU"),
    ("STO", "SE"),
    ("MIA", "US"),
    ("PRG", "CZ"),
    ("TOR", "CA"),
    ("SEA", "US"),
    ("MAD", "ES"),
    ("HOU", "US"),
    ("SJO", "US"),
    ("ASH", "US"),
)
# Nodes of a region sit around the centre of the H3 resolution-3 cell holding its city
# (data centres cluster in a metro area), close enough to stay in that cell: every
# region then shows at CELL level too, where the public view is resolution 3.
_PUBLIC_RESOLUTION = 3
_ANCHOR = {
    r.code: h3.cell_to_latlng(h3.latlng_to_cell(r.latitude, r.longitude, _PUBLIC_RESOLUTION))
    for r in REGIONS
}
_SPREAD_DEGREES = 0.05

# Documentation address blocks (RFC 5737), one per part of the world, used as data
# only: gateways' client IPs and orchestrators' serviceURI hosts.
_ADDRESS_BLOCKS = {"EU": "198.51.100", "NA": "203.0.113"}
_OTHER_BLOCK = "192.0.2"

_CAPACITIES = (8, 12, 16, 20, 24, 32)
_CAPACITY_WEIGHTS = (2, 3, 4, 3, 2, 1)
_NODES_PER_ORCHESTRATOR = (1, 2, 3, 4)
_NODES_WEIGHTS = (3, 4, 2, 1)
_HOST_STYLES = ("orch-{r}-{n}", "lp-{r}{n}", "{r}{n}", "transcoder-{r}-{n}")


@dataclass(frozen=True, slots=True)
class Node:
    node_id: str
    """The ``node_id`` label: ``<checksummed address>-<hostname>`` or a hostname."""
    host: str
    region: str
    country: str
    latitude: float
    longitude: float
    capacity: int
    """``-maxSessions``: streams beyond it are refused."""
    load: float
    """Share of its capacity in use at the daily peak of demand."""
    ladders: tuple[Ladder, ...]
    """The rendition ladders it is set up for."""


@dataclass(frozen=True, slots=True)
class Orchestrator:
    index: int
    address: str
    """Checksummed, as go-livepeer prints it; the registry keeps it lower-cased."""
    service_uri: str
    total_stake: Decimal
    reports: bool
    """False: registered on chain but not sharing data (opt-in is never 100%)."""
    per_stream: bool
    """Runs ``-metricsPerStream``: ``manifest_id`` and ``sender`` labels."""
    client_ip: bool
    """Runs ``-metricsClientIP``: a ``client_ip`` label on pixel counters."""
    shares_nic: bool
    """Also ships node_exporter's NIC counters (an optional metric)."""
    price_wei_per_pixel: int
    nodes: tuple[Node, ...]
    home: str = ""
    """The Livepeer region of its serviceURI host (its first node's, when it reports)."""
    inflation: float = 1.0
    """Factor its nodes multiply their ticket figures by (1: honest). The demo has
    one that inflates, for verification against the simulated chain to catch."""


@dataclass(frozen=True, slots=True)
class Broadcaster:
    address: str
    """Checksummed, as the ``sender`` label carries it."""
    region: str
    gateway_ips: tuple[str, ...]
    weight: float
    """Share of all streams, relative to the other broadcasters."""
    tickets_per_segment: int


@dataclass(frozen=True)
class Network:
    seed: int
    orchestrators: tuple[Orchestrator, ...]
    broadcasters: tuple[Broadcaster, ...]
    regions: tuple[str, ...]
    """The Livepeer regions that have nodes."""

    @cached_property
    def reporting(self) -> tuple[Orchestrator, ...]:
        return tuple(o for o in self.orchestrators if o.reports)

    @cached_property
    def nodes(self) -> tuple[tuple[Orchestrator, Node], ...]:
        return tuple((o, n) for o in self.reporting for n in o.nodes)


def orchestrator_key(seed: int, index: int) -> bytes:
    """The private key of demo orchestrator ``index`` (public knowledge: demo only)."""
    return hashlib.sha256(f"lpmetrics-demo:{seed}:orchestrator:{index}".encode()).digest()


def _address(secret: bytes) -> str:
    return Account.from_key(secret).address


def _hashed_address(seed: int, what: str, index: int) -> str:
    digest = hashlib.sha256(f"lpmetrics-demo:{seed}:{what}:{index}".encode()).digest()
    return to_checksum_address(digest[:20])


def address_block(region: str) -> str:
    """The first three octets of the documentation block used for ``region``."""
    country = dict(DEMO_REGIONS)[region]
    return _ADDRESS_BLOCKS.get(continent_of(country) or "", _OTHER_BLOCK)


def build_network(orchestrators: int = DEFAULT_ORCHESTRATORS, seed: int = DEFAULT_SEED) -> Network:
    """The demo network of ``orchestrators`` registered orchestrators for ``seed``."""
    if orchestrators < 1:
        raise ValueError("a demo network needs at least one orchestrator")
    rng = random.Random(f"lpmetrics-demo:{seed}:network")
    silent = max(1, round(orchestrators / 9)) if orchestrators >= 4 else 0
    reporting = orchestrators - silent
    used = tuple(
        code
        for code, _ in DEMO_REGIONS[: max(1, min(len(DEMO_REGIONS), reporting // MIN_PER_REGION))]
    )
    silent_indices = set(rng.sample(range(orchestrators), silent))

    result = []
    slot = 0  # position among reporting orchestrators
    for index in range(orchestrators):
        address = _address(orchestrator_key(seed, index))
        reports = index not in silent_indices
        home = used[slot % len(used)] if reports else rng.choice(used)
        rank = slot // len(used)  # how many reporting O's had this home region before
        nodes = _nodes(rng, address, home, used) if reports else ()
        if reports:
            slot += 1
        host = f"{address_block(home)}.{1 + index % 254}"
        result.append(
            Orchestrator(
                index=index,
                address=address,
                service_uri=f"https://{host}:8935",
                total_stake=Decimal(f"{math.exp(rng.gauss(math.log(40_000), 1.3)):.4f}"),
                reports=reports,
                # One in four per region runs without per-stream labels, so each
                # region keeps at least three that can count broadcasters.
                per_stream=not reports or rank % MIN_PER_REGION != MIN_PER_REGION - 1,
                client_ip=rng.random() < 0.75,
                shares_nic=rng.random() < 0.35,
                price_wei_per_pixel=rng.choice((800, 1000, 1200, 1500, 2000)),
                nodes=nodes,
                home=home,
            )
        )
    reporting_indices = [o.index for o in result if o.reports]
    if len(reporting_indices) >= 4:
        cheat = reporting_indices[-1]
        result[cheat] = dataclasses.replace(result[cheat], inflation=INFLATION)
    return Network(
        seed=seed,
        orchestrators=tuple(result),
        broadcasters=_broadcasters(rng, seed, orchestrators, used),
        regions=used,
    )


def _nodes(rng: random.Random, address: str, home: str, used: tuple[str, ...]) -> tuple[Node, ...]:
    count = rng.choices(_NODES_PER_ORCHESTRATOR, _NODES_WEIGHTS)[0]
    style = rng.choice(_HOST_STYLES)
    with_address = rng.random() < 0.5
    per_region: dict[str, int] = {}
    nodes = []
    for i in range(count):
        region = home if i == 0 or rng.random() < 0.5 else rng.choice(used)
        per_region[region] = per_region.get(region, 0) + 1
        host = style.format(r=region.lower(), n=per_region[region])
        latitude, longitude = _ANCHOR[region]
        nodes.append(
            Node(
                node_id=f"{address}-{host}" if with_address else host,
                host=host,
                region=region,
                country=dict(DEMO_REGIONS)[region],
                latitude=round(latitude + rng.uniform(-_SPREAD_DEGREES, _SPREAD_DEGREES), 4),
                longitude=round(longitude + rng.uniform(-_SPREAD_DEGREES, _SPREAD_DEGREES), 4),
                capacity=rng.choices(_CAPACITIES, _CAPACITY_WEIGHTS)[0],
                load=rng.uniform(0.5, 0.9),
                ladders=tuple(
                    ladder for ladder in LADDERS if ladder is LADDERS[0] or rng.random() < 0.6
                ),
            )
        )
    return tuple(nodes)


def _broadcasters(
    rng: random.Random, seed: int, orchestrators: int, used: tuple[str, ...]
) -> tuple[Broadcaster, ...]:
    result = []
    for i in range(max(6, orchestrators // 2)):
        region = used[i % len(used)] if i < len(used) else rng.choice(used)
        block = address_block(region)
        ips = tuple(f"{block}.{rng.randint(1, 254)}" for _ in range(rng.randint(1, 3)))
        result.append(
            Broadcaster(
                address=_hashed_address(seed, "broadcaster", i),
                region=region,
                gateway_ips=ips,
                # A few large gateways carry most streams (Zipf-like).
                weight=1.0 / (i + 1) ** 0.8,
                tickets_per_segment=rng.randint(1, 3),
            )
        )
    return tuple(result)
