import csv
import math
from pathlib import Path

import pytest

from api.geo import regions
from api.geo.regions import (
    CONTINENTS,
    COUNTRIES,
    REGIONS,
    continent_name,
    continent_of,
    country_name,
    is_continent,
    is_country,
    is_region,
    nearest_region,
    region_name,
)

SHARED_REGIONS_CSV = (
    Path(__file__).resolve().parents[4] / "shared" / "data" / "livepeer_regions.csv"
)


@pytest.mark.parametrize(
    ("city", "latitude", "longitude", "expected"),
    [
        # Berlin is 281 km from Prague and 424 km from Frankfurt.
        ("Berlin", 52.5200, 13.4050, "PRG"),
        ("Sydney", -33.8688, 151.2093, "SYD"),
        ("Sao Paulo", -23.5505, -46.6333, "SAO"),
        # A close call: Munich is 300 km from Prague and 305 km from Frankfurt.
        ("Munich", 48.1351, 11.5820, "PRG"),
        ("Paris", 48.8566, 2.3522, "LON"),
        ("Helsinki", 60.1699, 24.9384, "STO"),
        ("Lisbon", 38.7223, -9.1393, "MAD"),
        ("Boston", 42.3601, -71.0589, "ASH"),
        ("Vancouver", 49.2827, -123.1207, "SEA"),
        ("Denver", 39.7392, -104.9903, "LAX"),
        ("Mexico City", 19.4326, -99.1332, "HOU"),
        ("Buenos Aires", -34.6037, -58.3816, "SAO"),
        ("Seoul", 37.5665, 126.9780, "HND"),
        ("Mumbai", 19.0760, 72.8777, "SIN"),
        ("Auckland", -36.8485, 174.7633, "SYD"),
        ("Dubai", 25.2048, 55.2708, "MOS2"),
    ],
)
def test_nearest_region_of_cities(city, latitude, longitude, expected):
    assert nearest_region(latitude, longitude) == expected


def test_nearest_region_matches_an_independent_haversine():
    def haversine(lat1, lon1, lat2, lon2):
        p1, p2 = math.radians(lat1), math.radians(lat2)
        dp, dl = p2 - p1, math.radians(lon2 - lon1)
        a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        return 2 * math.asin(math.sqrt(a))

    # A coarse grid over the globe, including the poles and the antimeridian.
    for latitude in range(-90, 91, 15):
        for longitude in range(-180, 181, 20):
            expected = min(
                REGIONS, key=lambda r: haversine(latitude, longitude, r.latitude, r.longitude)
            ).code
            assert nearest_region(latitude, longitude) == expected, (latitude, longitude)


def test_tie_goes_to_the_first_region_in_file_order():
    atl = next(r for r in REGIONS if r.code == "ATL")
    atl2 = next(r for r in REGIONS if r.code == "ATL2")
    assert (atl.latitude, atl.longitude) == (atl2.latitude, atl2.longitude)
    assert nearest_region(atl.latitude, atl.longitude) == "ATL"
    assert nearest_region(33.7, -84.4) == "ATL"


def test_every_region_is_its_own_nearest_except_duplicates():
    for region in REGIONS:
        if region.code == "ATL2":
            continue
        assert nearest_region(region.latitude, region.longitude) == region.code


def test_regions_are_the_shared_list_in_file_order():
    assert len(REGIONS) == 21
    assert [r.code for r in REGIONS[:4]] == ["ATL", "ATL2", "MDW", "FRA"]
    fra = REGIONS[3]
    assert (fra.city, fra.latitude, fra.longitude) == ("Frankfurt", 50.1109, 8.6821)
    if SHARED_REGIONS_CSV.exists():
        with SHARED_REGIONS_CSV.open(encoding="utf-8") as fh:
            shared = [row["code"] for row in csv.DictReader(fh)]
        assert [r.code for r in REGIONS] == shared


def test_region_names():
    assert region_name("FRA") == "Frankfurt"
    assert region_name("mos2") == "Moscow"
    assert region_name("HND") == "Tokyo"
    assert region_name("XXX") is None
    assert region_name("") is None
    assert is_region("lax")
    assert not is_region("DE")


@pytest.mark.parametrize(
    ("country", "continent"),
    [
        ("DE", "EU"),
        ("us", "NA"),
        ("BR", "SA"),
        ("JP", "AS"),
        ("NG", "AF"),
        ("AU", "OC"),
        ("NZ", "OC"),
        ("RU", "EU"),
        ("TR", "AS"),
        ("EG", "AF"),
        ("MX", "NA"),
        ("PA", "NA"),
        ("GL", "NA"),
        ("CY", "EU"),
        ("XK", "EU"),
        (" sg ", "AS"),
    ],
)
def test_continent_of_countries(country, continent):
    assert continent_of(country) == continent


@pytest.mark.parametrize("code", ["AQ", "BV", "GS", "HM", "TF"])
def test_antarctic_territories_are_countries_without_a_continent(code):
    assert is_country(code)
    assert continent_of(code) is None


@pytest.mark.parametrize("code", ["UK", "EU", "ZZ", "DEU", "", "D", "AN", "CS"])
def test_unknown_country_codes(code):
    assert not is_country(code)
    assert continent_of(code) is None
    assert country_name(code) is None


def test_country_table_is_complete():
    # 249 ISO 3166-1 alpha-2 codes plus Kosovo's XK.
    assert len(COUNTRIES) == 250
    assert all(len(code) == 2 and code.isupper() for code in COUNTRIES)
    assert all(country.name for country in COUNTRIES.values())
    data = Path(regions.__file__).parent / "data" / "country_continent.csv"
    with data.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {row["continent"] for row in rows} == {*CONTINENTS, "AN"}
    counts = {c: sum(1 for row in rows if row["continent"] == c) for c in CONTINENTS}
    assert counts == {"EU": 53, "NA": 41, "SA": 14, "AS": 51, "AF": 58, "OC": 28}


def test_country_names():
    assert country_name("DE") == "Germany"
    assert country_name("gb") == "United Kingdom"
    assert country_name("US") == "United States"
    assert country_name("BQ") == "Bonaire, Saint Eustatius and Saba"


def test_continents():
    assert list(CONTINENTS) == ["EU", "NA", "SA", "AS", "AF", "OC"]
    assert continent_name("EU") == "Europe"
    assert continent_name("na") == "North America"
    assert continent_name("OC") == "Oceania"
    assert continent_name("AN") is None
    assert is_continent("sa")
    assert not is_continent("AN")
    assert not is_continent("DE")
