"""Where a node, or a client of one, is: a declared position or a GeoIP2 City lookup.

Every aggregation level (continent, country, Livepeer region, H3 cell) is derived
from one ``Location`` so the levels of a node never disagree with each other.

Client IPs are personal data: nothing in this module logs an address or puts one in
an exception message. ``Geolocator.coarse_origin`` is the only thing ingest should
keep of a ``client_ip`` label.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import math
import os
import socket
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

import geoip2.database
import geoip2.errors
import h3
import maxminddb

from api.geo.regions import CONTINENTS, continent_of, is_country, nearest_region

__all__ = ["UNKNOWN", "Geolocator", "Location", "declared"]

logger = logging.getLogger(__name__)

# A slow resolver must not stall a registry sync; an unresolved host is just UNKNOWN.
RESOLVE_TIMEOUT_SECONDS = 2.0

Source = Literal["declared", "geoip", "unknown"]


@dataclass(frozen=True, slots=True)
class Location:
    source: Source
    latitude: float | None
    longitude: float | None
    country: str | None
    continent: str | None
    livepeer_region: str | None

    def cell(self, resolution: int) -> str | None:
        """The H3 cell (hex string) holding this location, None without coordinates."""
        _check_resolution(resolution)
        if self.latitude is None or self.longitude is None:
            return None
        return h3.latlng_to_cell(self.latitude, self.longitude, resolution)

    def codes(self, resolution: int) -> dict[str, str | None]:
        """The code at every aggregation level, keyed by the ``RegionLevel`` member names."""
        return {
            "CONTINENT": self.continent,
            "COUNTRY": self.country,
            "LIVEPEER_REGION": self.livepeer_region,
            "CELL": self.cell(resolution),
        }


UNKNOWN = Location("unknown", None, None, None, None, None)


def _check_resolution(resolution: int) -> None:
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 0 <= resolution <= 15:
        raise ValueError(f"H3 resolution must be an integer from 0 to 15, got {resolution!r}")


def _coordinate(name: str, value: float, limit: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not -limit <= value <= limit:
        raise ValueError(f"{name} must be between -{limit:g} and {limit:g}, got {value!r}")
    return value


def declared(latitude: float, longitude: float, country: str | None = None) -> Location:
    """The location an orchestrator declares for its node.

    ``country`` is an ISO 3166-1 alpha-2 code in any case. It is optional because it
    cannot be derived from coordinates without border data; without it the node has
    no country or continent and counts only in its Livepeer region, its cell and the
    global totals. Raises ``ValueError`` with a message fit for the API caller.
    """
    latitude = _coordinate("latitude", latitude, 90)
    longitude = _coordinate("longitude", longitude, 180)
    if country is not None:
        if not isinstance(country, str) or not is_country(country):
            raise ValueError(
                f"country must be an ISO 3166-1 alpha-2 code such as 'DE', got {country!r}"
            )
        country = country.strip().upper()
    return Location(
        source="declared",
        latitude=latitude,
        longitude=longitude,
        country=country,
        continent=continent_of(country) if country else None,
        livepeer_region=nearest_region(latitude, longitude),
    )


# Addresses that cannot say where anybody is. Documentation prefixes are left to the
# database on purpose: real databases have no entries for them, and tests use them.
_PRIVATE_USE = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


def _routable(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return not (
        address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
        or any(address in net for net in _PRIVATE_USE)
    )


def _parse_ip(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip.strip())
    except (AttributeError, ValueError):
        return None
    # Dual-stack sockets report IPv4 peers as ::ffff:a.b.c.d.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address


def _service_host(uri: str) -> str | None:
    """The host of an on-chain serviceURI, tolerating a missing scheme."""
    if not isinstance(uri, str):
        return None
    uri = uri.strip()
    try:
        host = urlsplit(uri if "//" in uri else f"//{uri}").hostname
    except ValueError:
        return None
    return host or None


class Geolocator:
    """Looks addresses up in a GeoIP2/GeoLite2 City database opened once at start.

    With ``database=None`` (no ``LPM_GEOIP_DB``) every lookup answers ``UNKNOWN``,
    so the service runs without a database and declared locations still work.
    Lookups never raise: anything that cannot be placed is ``UNKNOWN``.
    """

    def __init__(self, database: str | os.PathLike[str] | None) -> None:
        self._reader: geoip2.database.Reader | None = None
        if database is None:
            return
        try:
            reader = geoip2.database.Reader(os.fspath(database))
        except (OSError, ValueError, maxminddb.InvalidDatabaseError) as exc:
            raise ValueError(f"cannot open GeoIP database {os.fspath(database)!r}: {exc}") from exc
        database_type = reader.metadata().database_type
        if "City" not in database_type:
            reader.close()
            raise ValueError(
                f"GeoIP database {os.fspath(database)!r} is a {database_type!r} database;"
                " a GeoIP2 or GeoLite2 City database is needed"
            )
        self._reader = reader

    @property
    def enabled(self) -> bool:
        return self._reader is not None

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def __enter__(self) -> Geolocator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def locate_ip(self, ip: str) -> Location:
        address = _parse_ip(ip)
        if self._reader is None or address is None or not _routable(address):
            return UNKNOWN
        try:
            record = self._reader.city(address)
        except geoip2.errors.AddressNotFoundError:
            return UNKNOWN
        except (geoip2.errors.GeoIP2Error, maxminddb.InvalidDatabaseError, ValueError) as exc:
            # The address stays out of the log; the error type is enough to act on.
            logger.warning("GeoIP lookup failed: %s", type(exc).__name__)
            return UNKNOWN

        country = record.country.iso_code
        country = country.upper() if country and is_country(country) else None
        # Prefer our table so GeoIP and declared locations agree; records without a
        # country (e.g. "Europe" blocks) still carry the database's continent.
        continent = continent_of(country) if country else record.continent.code
        if continent not in CONTINENTS:
            continent = None
        latitude, longitude = record.location.latitude, record.location.longitude
        if latitude is None or longitude is None:
            latitude = longitude = None
        region = nearest_region(latitude, longitude) if latitude is not None else None
        if country is None and continent is None and latitude is None:
            return UNKNOWN
        return Location("geoip", latitude, longitude, country, continent, region)

    async def locate_service_uri(self, uri: str) -> Location:
        """Locate a node from its on-chain serviceURI, e.g. ``https://orch.example:8935``."""
        host = _service_host(uri)
        if self._reader is None or host is None:
            return UNKNOWN
        if _parse_ip(host) is not None:
            return self.locate_ip(host)
        try:
            async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
                infos = await asyncio.get_running_loop().getaddrinfo(
                    host, None, type=socket.SOCK_STREAM
                )
        except (OSError, UnicodeError, ValueError, TimeoutError):
            return UNKNOWN
        # Resolver order is the order a client would connect in; take the first
        # address the database can place.
        for *_, sockaddr in infos:
            location = self.locate_ip(str(sockaddr[0]))
            if location != UNKNOWN:
                return location
        return UNKNOWN

    def coarse_origin(self, ip: str, resolution: int = 3) -> tuple[str | None, str | None]:
        """(country, H3 cell at ``resolution``) of a client IP: all ingest keeps of it."""
        location = self.locate_ip(ip)
        return location.country, location.cell(resolution)
