"""Where the demo network's addresses are: a small GeoIP2 City database of its own.

Gateways' client IPs and orchestrators' serviceURI hosts in the demo are documentation
addresses (RFC 5737) that no real GeoIP database knows, so without ``LPM_GEOIP_DB``
``serve --demo`` writes this database for them (``demo-geoip.mmdb`` in
``LPM_DATA_DIR``) and geolocates with it, through the same code as a GeoLite2 file:
demand origins, coverage gaps and the map then have data.

Each orchestrator's host is in its home region's city. Most gateways are in their
broadcaster's region; about one in three is in a city with no orchestrator within
1,000 km (Johannesburg, Lagos, Mumbai, Buenos Aires, Mexico City), as real gateways
serve viewers where nobody transcodes, so the demo has coverage gaps to show. An
address that is both a host and a gateway is placed at the orchestrator's home.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NamedTuple

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from api.demo.network import DEMO_REGIONS, Network
from api.geo.regions import REGIONS, continent_name, continent_of, country_name

FILE_NAME = "demo-geoip.mmdb"
REMOTE_SHARE = 0.35


class City(NamedTuple):
    country: str
    latitude: float
    longitude: float
    name: str


# Far (over 1,000 km) from every Livepeer region the demo puts orchestrators in.
REMOTE_CITIES: tuple[City, ...] = (
    City("ZA", -26.2041, 28.0473, "Johannesburg"),
    City("NG", 6.5244, 3.3792, "Lagos"),
    City("IN", 19.0760, 72.8777, "Mumbai"),
    City("AR", -34.6037, -58.3816, "Buenos Aires"),
    City("MX", 19.4326, -99.1332, "Mexico City"),
)


def region_city(region: str) -> City:
    found = next(r for r in REGIONS if r.code == region)
    return City(dict(DEMO_REGIONS)[region], found.latitude, found.longitude, found.city)


def _draw(seed: int, ip: str) -> float:
    digest = hashlib.sha256(f"lpmetrics-demo:{seed}:gateway:{ip}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def places(network: Network) -> dict[str, City]:
    """The city of every address the demo network uses."""
    out: dict[str, City] = {}
    for broadcaster in network.broadcasters:
        for ip in broadcaster.gateway_ips:
            draw = _draw(network.seed, ip)
            if draw < REMOTE_SHARE:
                out[ip] = REMOTE_CITIES[int(draw / REMOTE_SHARE * len(REMOTE_CITIES))]
            else:
                out[ip] = region_city(broadcaster.region)
    for o in network.orchestrators:
        host = o.service_uri.split("//", 1)[1].rsplit(":", 1)[0]
        out[host] = region_city(o.home)
    return out


def _record(city: City) -> dict[str, object]:
    continent = continent_of(city.country) or ""
    country = {"iso_code": city.country, "names": {"en": country_name(city.country) or ""}}
    return {
        "continent": {"code": continent, "names": {"en": continent_name(continent) or ""}},
        "country": country,
        "registered_country": country,
        "location": {"latitude": city.latitude, "longitude": city.longitude, "accuracy_radius": 20},
        "city": {"names": {"en": city.name}},
    }


def write_database(network: Network, path: str | os.PathLike[str]) -> Path:
    """Write the City database of ``network``'s addresses to ``path``."""
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type="GeoLite2-City",
        languages=["en"],
        description="lpmetrics demo network addresses",
    )
    for ip, city in sorted(places(network).items()):
        writer.insert_network(IPSet([f"{ip}/32"]), _record(city))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer.to_db_file(os.fspath(path))
    return path
