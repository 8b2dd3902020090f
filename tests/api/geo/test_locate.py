import dataclasses
import math

import geoip2.database
import h3
import pytest

from api.geo.locate import UNKNOWN, Geolocator, Location, declared
from tests.support.geoip import CityRecord, build_city_mmdb

BERLIN = Location("geoip", 52.52, 13.405, "DE", "EU", "PRG")
TOKYO = Location("geoip", 35.6762, 139.6503, "JP", "AS", "HND")
SAO_PAULO = Location("geoip", -23.5505, -46.6333, "BR", "SA", "SAO")

# Networks a real database would never place; they are in the test database so that
# the tests prove the geolocator refuses them rather than the lookup missing.
UNPLACEABLE = {
    "10.0.0.0/8": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "172.16.0.0/12": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "192.168.0.0/16": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "100.64.0.0/10": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "127.0.0.0/8": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "169.254.0.0/16": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "0.0.0.0/8": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "240.0.0.0/4": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "fc00::/7": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "fe80::/10": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "ff00::/8": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
    "::1/128": ("DE", "EU", 50.0, 8.0, "Frankfurt"),
}

ENTRIES = {
    "203.0.113.0/24": ("DE", "EU", 52.52, 13.405, "Berlin"),
    "198.51.100.0/24": ("US", "NA", 40.7128, -74.0060, "New York"),
    "192.0.2.0/25": ("BR", "SA", -23.5505, -46.6333, "Sao Paulo"),
    # Country-level record without coordinates, as for IPs MaxMind can only place
    # in a country.
    "192.0.2.128/25": CityRecord("FR", "EU", None, None, None),
    # Continent-only block (MaxMind has these for e.g. "Europe" anycast ranges).
    "185.0.0.0/16": CityRecord(None, "EU", None, None, None),
    # Antarctica is no aggregate continent; the country remains.
    "45.0.0.0/16": ("AQ", "AN", -77.85, 166.67, "McMurdo Station"),
    # The database says NA, our table says EU; the table wins for consistency.
    "46.0.0.0/16": ("GL", "EU", 64.1836, -51.7214, "Nuuk"),
    "2001:db8:1::/48": ("JP", "AS", 35.6762, 139.6503, "Tokyo"),
    **UNPLACEABLE,
}


@pytest.fixture(scope="module")
def mmdb_path(tmp_path_factory):
    return build_city_mmdb(tmp_path_factory.mktemp("geoip") / "city.mmdb", ENTRIES)


@pytest.fixture(scope="module")
def geolocator(mmdb_path):
    with Geolocator(mmdb_path) as geolocator:
        yield geolocator


# -- Location and declared() --------------------------------------------------------


def test_declared_location_derives_every_level():
    location = declared(50.1109, 8.6821, "de")
    assert location == Location("declared", 50.1109, 8.6821, "DE", "EU", "FRA")
    assert location.cell(3) == "831faefffffffff"
    assert location.codes(3) == {
        "CONTINENT": "EU",
        "COUNTRY": "DE",
        "LIVEPEER_REGION": "FRA",
        "CELL": "831faefffffffff",
    }


def test_declared_without_country_has_no_country_or_continent():
    location = declared(-33.8688, 151.2093)
    assert location == Location("declared", -33.8688, 151.2093, None, None, "SYD")


def test_declared_accepts_boundaries_and_integers():
    assert declared(90, 180, "AQ") == Location("declared", 90.0, 180.0, "AQ", None, "STO")
    location = declared(-90, -180, " nz ")
    assert (location.latitude, location.longitude, location.country) == (-90.0, -180.0, "NZ")
    assert isinstance(location.latitude, float)


@pytest.mark.parametrize(
    ("latitude", "longitude", "country", "message"),
    [
        (90.0001, 0.0, "DE", "latitude must be between -90 and 90"),
        (-91, 0.0, "DE", "latitude must be between -90 and 90"),
        (0.0, 180.5, "DE", "longitude must be between -180 and 180"),
        (0.0, -1000, "DE", "longitude must be between -180 and 180"),
        (math.nan, 0.0, "DE", "latitude must be between -90 and 90"),
        (0.0, math.inf, "DE", "longitude must be between -180 and 180"),
        ("50", 8.0, "DE", "latitude must be a number"),
        (50.0, None, "DE", "longitude must be a number"),
        (True, 8.0, "DE", "latitude must be a number"),
        (50.0, 8.0, "UK", "country must be an ISO 3166-1 alpha-2 code"),
        (50.0, 8.0, "DEU", "country must be an ISO 3166-1 alpha-2 code"),
        (50.0, 8.0, "", "country must be an ISO 3166-1 alpha-2 code"),
        (50.0, 8.0, 49, "country must be an ISO 3166-1 alpha-2 code"),
    ],
)
def test_declared_rejects_bad_input(latitude, longitude, country, message):
    with pytest.raises(ValueError, match=message):
        declared(latitude, longitude, country)


def test_cell_matches_h3_at_every_resolution():
    location = declared(52.52, 13.405, "DE")
    assert location.cell(3) == "831f1dfffffffff"
    for resolution in range(16):
        assert location.cell(resolution) == h3.latlng_to_cell(52.52, 13.405, resolution)


@pytest.mark.parametrize("resolution", [-1, 16, 3.0, True, "3"])
def test_cell_rejects_bad_resolutions(resolution):
    with pytest.raises(ValueError, match="H3 resolution must be an integer from 0 to 15"):
        declared(52.52, 13.405).cell(resolution)


def test_unknown_location_has_no_codes():
    assert UNKNOWN.source == "unknown"
    assert UNKNOWN.cell(3) is None
    assert UNKNOWN.codes(5) == dict.fromkeys(("CONTINENT", "COUNTRY", "LIVEPEER_REGION", "CELL"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        UNKNOWN.country = "DE"  # type: ignore[misc]


# -- Geolocator.locate_ip ---------------------------------------------------------------


def test_test_database_is_a_city_database_with_the_records(mmdb_path):
    with geoip2.database.Reader(mmdb_path) as reader:
        assert reader.metadata().database_type == "GeoLite2-City"
        record = reader.city("203.0.113.77")
        assert record.country.iso_code == "DE"
        assert record.country.name == "Germany"
        assert record.continent.code == "EU"
        assert record.city.name == "Berlin"
        # The unplaceable networks really are in the database.
        assert reader.city("10.1.2.3").country.iso_code == "DE"
        assert reader.city("127.0.0.1").country.iso_code == "DE"


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.5", BERLIN),
        ("203.0.113.255", BERLIN),
        (" 203.0.113.5\n", BERLIN),
        ("::ffff:203.0.113.5", BERLIN),
        ("198.51.100.7", Location("geoip", 40.7128, -74.0060, "US", "NA", "NYC")),
        ("192.0.2.1", SAO_PAULO),
        ("2001:db8:1::5", TOKYO),
        ("2001:DB8:1:FFFF::1", TOKYO),
        ("192.0.2.200", Location("geoip", None, None, "FR", "EU", None)),
        ("185.0.3.4", Location("geoip", None, None, None, "EU", None)),
        ("45.0.0.1", Location("geoip", -77.85, 166.67, "AQ", None, "SYD")),
        ("46.0.1.1", Location("geoip", 64.1836, -51.7214, "GL", "NA", "ASH")),
    ],
)
def test_locate_ip(geolocator, ip, expected):
    assert geolocator.locate_ip(ip) == expected


def test_located_ip_has_the_h3_cell_of_its_coordinates(geolocator):
    location = geolocator.locate_ip("203.0.113.5")
    assert location.cell(3) == "831f1dfffffffff" == h3.latlng_to_cell(52.52, 13.405, 3)


@pytest.mark.parametrize(
    "ip",
    [
        "203.0.114.1",  # public but not in the database
        "2001:db8:2::1",
        "8.8.8.8",
    ],
)
def test_ip_not_in_database_is_unknown(geolocator, ip):
    assert geolocator.locate_ip(ip) is UNKNOWN


@pytest.mark.parametrize(
    "ip",
    [
        "10.1.2.3",
        "172.20.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "0.0.0.0",
        "240.0.0.1",
        "::ffff:10.1.2.3",
        "fd00::1",
        "fe80::1",
        "fe80::1%eth0",
        "ff02::1",
        "::1",
    ],
)
def test_private_and_reserved_ips_are_unknown(geolocator, ip):
    assert geolocator.locate_ip(ip) is UNKNOWN


@pytest.mark.parametrize(
    "ip",
    ["", "  ", "not-an-ip", "203.0.113.500", "203.0.113.5:8935", "203.0.113", "[::1]", None, 5],
)
def test_garbage_ip_is_unknown(geolocator, ip):
    assert geolocator.locate_ip(ip) is UNKNOWN


def test_no_database_means_unknown():
    geolocator = Geolocator(None)
    assert not geolocator.enabled
    assert geolocator.locate_ip("203.0.113.5") is UNKNOWN
    assert geolocator.coarse_origin("203.0.113.5") == (None, None)
    geolocator.close()


def test_closed_geolocator_answers_unknown(mmdb_path):
    geolocator = Geolocator(mmdb_path)
    assert geolocator.enabled
    assert geolocator.locate_ip("203.0.113.5") == BERLIN
    geolocator.close()
    geolocator.close()
    assert not geolocator.enabled
    assert geolocator.locate_ip("203.0.113.5") is UNKNOWN


def test_missing_database_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"cannot open GeoIP database .*nope\.mmdb"):
        Geolocator(tmp_path / "nope.mmdb")


def test_corrupt_database_is_a_clear_error(tmp_path):
    path = tmp_path / "corrupt.mmdb"
    path.write_bytes(b"this is not a MaxMind database" * 10)
    with pytest.raises(ValueError, match="cannot open GeoIP database"):
        Geolocator(path)


def test_non_city_database_is_rejected(tmp_path):
    path = build_city_mmdb(
        tmp_path / "country.mmdb",
        {"203.0.113.0/24": ("DE", "EU", None, None, None)},
        database_type="GeoLite2-Country",
    )
    with pytest.raises(ValueError, match="'GeoLite2-Country' database; a GeoIP2 or GeoLite2 City"):
        Geolocator(path)


# -- Geolocator.coarse_origin -----------------------------------------------------------


def test_coarse_origin_is_country_and_cell(geolocator):
    assert geolocator.coarse_origin("203.0.113.5") == ("DE", "831f1dfffffffff")
    assert geolocator.coarse_origin("203.0.113.5", 5) == ("DE", "851f1d4bfffffff")
    assert geolocator.coarse_origin("2001:db8:1::5") == ("JP", "832f5afffffffff")


def test_coarse_origin_of_partial_and_unknown_ips(geolocator):
    assert geolocator.coarse_origin("192.0.2.200") == ("FR", None)
    assert geolocator.coarse_origin("10.1.2.3") == (None, None)
    assert geolocator.coarse_origin("garbage") == (None, None)


def test_coarse_origin_errors_do_not_carry_the_ip(geolocator):
    with pytest.raises(ValueError) as excinfo:
        geolocator.coarse_origin("203.0.113.5", 99)
    assert "203.0.113.5" not in str(excinfo.value)


# -- Geolocator.locate_service_uri ------------------------------------------------------


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("https://203.0.113.5:8935", BERLIN),
        ("https://203.0.113.5:8935/", BERLIN),
        ("http://203.0.113.5", BERLIN),
        ("203.0.113.5:8935", BERLIN),
        ("  https://203.0.113.5:8935  ", BERLIN),
        ("https://[2001:db8:1::5]:8935", TOKYO),
        ("https://192.0.2.200:8935", Location("geoip", None, None, "FR", "EU", None)),
        # Not an IP literal to us, so it goes through the real resolver, which
        # reads the all-digits form as 203.0.113.5 without any DNS traffic.
        ("https://3405803781:8935", BERLIN),
    ],
)
async def test_locate_service_uri(geolocator, uri, expected):
    assert await geolocator.locate_service_uri(uri) == expected


@pytest.mark.parametrize(
    "uri",
    [
        "https://orch.invalid:8935",
        "https://localhost:8935",
        "https://10.0.0.5:8935",
        "https://[::1]:8935",
        "https://203.0.114.1:8935",
    ],
)
async def test_unplaceable_service_uri_is_unknown(geolocator, uri):
    assert await geolocator.locate_service_uri(uri) is UNKNOWN


@pytest.mark.parametrize(
    "uri",
    [
        "",
        "garbage",
        "https://",
        "https://:8935",
        "http://[::1",
        "https://exa mple.com:8935",
        "https://" + "a" * 300 + ".com",
        "https://bad\x00host:8935",
        "://",
        None,
    ],
)
async def test_garbage_service_uri_is_unknown(geolocator, uri):
    assert await geolocator.locate_service_uri(uri) is UNKNOWN


async def test_service_uri_without_database_is_unknown():
    assert await Geolocator(None).locate_service_uri("https://203.0.113.5:8935") is UNKNOWN
