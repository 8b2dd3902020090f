"""Where figures are grouped: the aggregation levels and the region codes a place has
at each of them.

Every level is derived from the ``locations`` row a rollup points at, so a node's
continent, country, Livepeer region and H3 cells never disagree. Location id 0 stands
for "unknown": such rows count in the network totals only.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import h3

from api.geo import regions

UNKNOWN_LOCATION = 0
MAX_RESOLUTION = 15


class Level(Enum):
    CONTINENT = "CONTINENT"
    COUNTRY = "COUNTRY"
    LIVEPEER_REGION = "LIVEPEER_REGION"
    CELL = "CELL"


@dataclass(frozen=True, slots=True)
class Grouping:
    """A level, with the H3 resolution when the level is CELL. ``level=None`` is the
    whole network: one region with code ''."""

    level: Level | None
    resolution: int | None = None

    @property
    def key(self) -> str:
        """This grouping's name in ``stats_region_hours.level``."""
        if self.level is None:
            return "GLOBAL"
        if self.level is Level.CELL:
            return f"CELL{self.resolution}"
        return self.level.value


NETWORK = Grouping(None)


def grouping(level: Level, resolution: int | None = None) -> Grouping:
    if level is Level.CELL:
        if resolution is None or not 0 <= resolution <= MAX_RESOLUTION:
            raise ValueError("CELL needs an H3 resolution from 0 to 15")
        return Grouping(level, resolution)
    return Grouping(level)


@dataclass(frozen=True, slots=True)
class Place:
    id: int
    latitude: float
    longitude: float
    country: str | None
    continent: str | None
    livepeer_region: str
    cells: tuple[str, ...]  # cells[r] is the resolution-r cell

    def code(self, by: Grouping) -> str | None:
        if by.level is None:
            return ""
        if by.level is Level.CONTINENT:
            return self.continent
        if by.level is Level.COUNTRY:
            return self.country
        if by.level is Level.LIVEPEER_REGION:
            return self.livepeer_region
        return self.cells[by.resolution]  # type: ignore[index]


def region_name(level: Level, code: str) -> str:
    """A readable name for a region code (cells are named by their code)."""
    if level is Level.CONTINENT:
        return regions.continent_name(code) or code
    if level is Level.COUNTRY:
        return regions.country_name(code) or code
    if level is Level.LIVEPEER_REGION:
        return regions.region_name(code) or code
    return code


def valid_code(level: Level, code: str) -> str | None:
    """The canonical form of ``code`` at ``level``, None when no such region exists."""
    code = code.strip()
    if level is Level.CONTINENT:
        return code.upper() if regions.is_continent(code) else None
    if level is Level.COUNTRY:
        return code.upper() if regions.is_country(code) else None
    if level is Level.LIVEPEER_REGION:
        return code.upper() if regions.is_region(code) else None
    code = code.lower()
    return code if h3.is_valid_cell(code) else None


def fixed_centre(level: Level, code: str) -> tuple[float, float] | None:
    """The published position of regions that have one: a Livepeer region's city, an
    H3 cell's centre. Continents and countries have none (see ``Figures.centre``)."""
    if level is Level.LIVEPEER_REGION:
        for region in regions.REGIONS:
            if region.code == code:
                return (region.latitude, region.longitude)
        return None
    if level is Level.CELL:
        return h3.cell_to_latlng(code)
    return None
