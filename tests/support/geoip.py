"""Build real GeoIP2-City-shaped .mmdb files for tests.

The files are written with ``mmdb-writer`` in the layout MaxMind ships: an IPv6 tree
with IPv4 networks at ``::/96``, so ``geoip2.database.Reader(path).city("203.0.113.5")``
works exactly as against a GeoLite2-City download.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import NamedTuple

from mmdb_writer import MMDBWriter
from netaddr import IPSet

from api.geo.regions import continent_name, country_name

DATABASE_TYPE = "GeoLite2-City"


class CityRecord(NamedTuple):
    """What a City record says about a network; None leaves that part out."""

    country: str | None
    continent: str | None
    latitude: float | None
    longitude: float | None
    city: str | None


def _record(entry: CityRecord) -> dict[str, object]:
    record: dict[str, object] = {}
    if entry.continent is not None:
        record["continent"] = {
            "code": entry.continent,
            "names": {"en": continent_name(entry.continent) or entry.continent},
        }
    if entry.country is not None:
        country = {"iso_code": entry.country, "names": {"en": country_name(entry.country) or ""}}
        record["country"] = country
        record["registered_country"] = country
    if entry.latitude is not None and entry.longitude is not None:
        record["location"] = {
            "latitude": float(entry.latitude),
            "longitude": float(entry.longitude),
            "accuracy_radius": 20,
        }
    if entry.city is not None:
        record["city"] = {"names": {"en": entry.city}}
    return record


def build_city_mmdb(
    path: str | os.PathLike[str],
    entries: Mapping[str, CityRecord | tuple],
    *,
    database_type: str = DATABASE_TYPE,
) -> str:
    """Write a City database mapping each CIDR (IPv4 or IPv6) to its record.

    ``entries`` values are ``CityRecord`` or plain tuples
    ``(country iso, continent code, latitude, longitude, city name)``.
    Returns the path as a string.
    """
    writer = MMDBWriter(
        ip_version=6,
        ipv4_compatible=True,
        database_type=database_type,
        languages=["en"],
        description="lpmetrics test database",
    )
    for cidr, entry in entries.items():
        writer.insert_network(IPSet([cidr]), _record(CityRecord(*entry)))
    path = os.fspath(path)
    writer.to_db_file(path)
    return path
