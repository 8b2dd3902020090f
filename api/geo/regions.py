"""Place codes at every aggregation level except H3 cells: continents, countries and
the Livepeer regions of the explorer's leaderboard.

The tables are shipped as CSV in ``api/geo/data`` so they can be reviewed and diffed:

- ``livepeer_regions.csv`` (code, city, latitude, longitude) is the explorer's list,
  in the explorer's order. File order matters: ATL and ATL2 share coordinates and
  the nearest-region tie goes to the first one, so assignments are deterministic.
- ``country_continent.csv`` (code, name, continent) comes from GeoNames'
  ``countryInfo`` — the same source MaxMind's GeoIP2 continents come from, so a
  declared country and a geolocated one land on the same continent. It lists every
  ISO 3166-1 alpha-2 code plus ``XK`` (Kosovo), which GeoNames and MaxMind use.

Antarctica: GeoNames puts AQ, BV, GS, HM and TF on continent ``AN``. The product
aggregates exactly six continents (EU, NA, SA, AS, AF, OC), so those codes are
countries with no continent: ``continent_of`` returns None for them and they count
in their country and the global totals only.

All lookups take codes case-insensitively and answer None/False for unknown codes
instead of raising, because codes arrive from API callers and GeoIP records.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType

import h3

__all__ = [
    "CONTINENTS",
    "COUNTRIES",
    "REGIONS",
    "Country",
    "LivepeerRegion",
    "continent_name",
    "continent_of",
    "country_name",
    "is_continent",
    "is_country",
    "is_region",
    "nearest_region",
    "region_name",
]

# The six continents the product aggregates, in the order DESIGN §3 lists them.
CONTINENTS: Mapping[str, str] = MappingProxyType(
    {
        "EU": "Europe",
        "NA": "North America",
        "SA": "South America",
        "AS": "Asia",
        "AF": "Africa",
        "OC": "Oceania",
    }
)


@dataclass(frozen=True, slots=True)
class LivepeerRegion:
    code: str
    city: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    # None for the Antarctic territories (see module docstring).
    continent: str | None


def _read_csv(name: str) -> list[dict[str, str]]:
    text = files("api.geo").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def _load_regions() -> tuple[LivepeerRegion, ...]:
    return tuple(
        LivepeerRegion(
            code=row["code"],
            city=row["city"],
            latitude=float(row["latitude"]),
            longitude=float(row["longitude"]),
        )
        for row in _read_csv("livepeer_regions.csv")
    )


def _load_countries() -> Mapping[str, Country]:
    countries = {}
    for row in _read_csv("country_continent.csv"):
        continent = row["continent"] if row["continent"] in CONTINENTS else None
        countries[row["code"]] = Country(row["code"], row["name"], continent)
    return MappingProxyType(countries)


REGIONS: tuple[LivepeerRegion, ...] = _load_regions()
COUNTRIES: Mapping[str, Country] = _load_countries()
_REGIONS_BY_CODE: Mapping[str, LivepeerRegion] = MappingProxyType({r.code: r for r in REGIONS})


def _normalize(code: object) -> str | None:
    return code.strip().upper() if isinstance(code, str) else None


def nearest_region(latitude: float, longitude: float) -> str:
    """The code of the Livepeer region closest by great-circle distance.

    Ties go to the region listed first in the CSV (``min`` keeps the first minimum).
    """
    return min(
        REGIONS,
        key=lambda r: h3.great_circle_distance((latitude, longitude), (r.latitude, r.longitude)),
    ).code


def is_region(code: str) -> bool:
    return _normalize(code) in _REGIONS_BY_CODE


def region_name(code: str) -> str | None:
    """The city a Livepeer region code stands for, e.g. ``"FRA"`` -> ``"Frankfurt"``."""
    region = _REGIONS_BY_CODE.get(_normalize(code) or "")
    return region.city if region else None


def is_country(code: str) -> bool:
    return _normalize(code) in COUNTRIES


def country_name(code: str) -> str | None:
    country = COUNTRIES.get(_normalize(code) or "")
    return country.name if country else None


def continent_of(country_code: str) -> str | None:
    """The continent code of an ISO 3166-1 alpha-2 country, None if unknown or Antarctic."""
    country = COUNTRIES.get(_normalize(country_code) or "")
    return country.continent if country else None


def is_continent(code: str) -> bool:
    return _normalize(code) in CONTINENTS


def continent_name(code: str) -> str | None:
    return CONTINENTS.get(_normalize(code) or "")
