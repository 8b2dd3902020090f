"""The demo's own GeoIP database: every address it uses is located, some gateways
far from every orchestrator."""

from pathlib import Path

import geoip2.database
import h3

from api.demo.geoip import REMOTE_CITIES, places, write_database
from api.demo.network import build_network
from api.geo.locate import Geolocator


def test_every_demo_address_is_located(tmp_path: Path) -> None:
    network = build_network()
    path = write_database(network, tmp_path / "demo.mmdb")
    with geoip2.database.Reader(str(path)) as reader:
        assert reader.metadata().database_type == "GeoLite2-City"
    located = places(network)
    with Geolocator(path) as geolocator:
        for broadcaster in network.broadcasters:
            for ip in broadcaster.gateway_ips:
                country, cell = geolocator.coarse_origin(ip)
                assert country == located[ip].country and cell
        for o in network.orchestrators:
            host = o.service_uri.split("//")[1].rsplit(":", 1)[0]
            assert geolocator.locate_ip(host).livepeer_region == o.home
    remote = {c.name for c in REMOTE_CITIES}
    gateways = [located[ip] for b in network.broadcasters for ip in b.gateway_ips]
    far = [c for c in gateways if c.name in remote]
    assert 0 < len(far) < len(gateways)
    nodes = [(n.latitude, n.longitude) for _, n in network.nodes]
    for city in REMOTE_CITIES:
        nearest = min(
            h3.great_circle_distance((city.latitude, city.longitude), n, unit="km") for n in nodes
        )
        assert nearest > 1000, city
