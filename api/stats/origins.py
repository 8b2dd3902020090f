"""Demand origins: pixels by where the gateways that asked for them are.

Only orchestrators running with ``-metricsClientIP`` send ``client_ip``; ingest keeps
its country and resolution-3 H3 cell ('' when unknown) and nothing else. An origin's
figures are grouped by the origin's place, whatever node served it: continents and
countries from the country, Livepeer regions and cells (resolution 3 or coarser) from
the cell.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import h3

from api.disclosure.audit import Table
from api.disclosure.milp import withhold
from api.geo.grouping import NETWORK, Grouping, Level, grouping
from api.geo.regions import continent_of, nearest_region
from api.stats.windows import WINDOWS, Window

ORIGIN_RESOLUTION = 3

Atom = tuple[str, str]  # (country, cell)


def origin_code(atom: Atom, by: Grouping) -> str | None:
    country, cell = atom
    if by == NETWORK:  # the network's located demand: what coverageGaps' shares are of
        return "" if cell else None
    if by.level is Level.CONTINENT:
        return continent_of(country) if country else None
    if by.level is Level.COUNTRY:
        return country or None
    if not cell:
        return None
    if by.level is Level.LIVEPEER_REGION:
        return nearest_region(*h3.cell_to_latlng(cell))
    assert by.resolution is not None
    return h3.cell_to_parent(cell, by.resolution) if by.resolution < ORIGIN_RESOLUTION else cell


@dataclass(slots=True)
class OriginFigures:
    by: Grouping
    code: str
    window: Window
    mil_pixels: float = 0.0
    orchestrators: set[str] = field(default_factory=set)

    @property
    def pixels_per_second(self) -> float:
        return self.mil_pixels * 1e6 / (self.window.minutes * 60)


@dataclass
class Origins:
    """One tick's origin rows: (slice, country, cell, orchestrator) -> millions of pixels."""

    rows: dict[tuple[int, str, str, str], float]
    _withheld: dict[tuple[int, int], frozenset[tuple[Window, Grouping, str]]] = field(
        default_factory=dict
    )

    def figures(self, window: Window, by: Grouping) -> dict[str, OriginFigures]:
        wanted = set(window.slices)
        out: dict[str, OriginFigures] = {}
        codes: dict[Atom, str | None] = {}
        for (slice_, country, cell, orchestrator), mil_pixels in self.rows.items():
            if slice_ not in wanted:
                continue
            atom = (country, cell)
            if atom not in codes:
                codes[atom] = origin_code(atom, by)
            code = codes[atom]
            if code is None:
                continue
            f = out.get(code)
            if f is None:
                f = out[code] = OriginFigures(by, code, window)
            f.mil_pixels += mil_pixels
            f.orchestrators.add(orchestrator)
        return out

    def withheld(self, k: int, max_resolution: int) -> frozenset[tuple[Window, Grouping, str]]:
        """Origins the public view withholds (``api.disclosure.milp``). The network's
        located demand (``NETWORK``, code '') is in the table: ``origins`` does not
        show it, but ``coverageGaps`` reveals it (a share times the cell's figure), so
        the least suppression is chosen with it published, as the network's figures
        are (``api.coverage.total``)."""
        key = (k, max_resolution)
        if key not in self._withheld:
            self._withheld[key] = self._protect(k, min(max_resolution, ORIGIN_RESOLUTION))
        return self._withheld[key]

    def _protect(self, k: int, max_resolution: int) -> frozenset[tuple[Window, Grouping, str]]:
        cells = [grouping(Level.CELL, r) for r in range(max_resolution + 1)]
        groupings = [
            NETWORK,
            grouping(Level.CONTINENT),
            grouping(Level.COUNTRY),
            grouping(Level.LIVEPEER_REGION),
            *cells,
        ]
        parts: list[dict[Atom, set[str]]] = [defaultdict(set) for _ in WINDOWS]
        for (slice_, country, cell, orchestrator), _ in self.rows.items():
            parts[slice_][(country, cell)].add(orchestrator)
        atoms = {a for p in parts for a in p}
        codes = {
            a: {g: c for g in groupings if (c := origin_code(a, g)) is not None} for a in atoms
        }
        table = Table(
            codes,
            [{a: frozenset(w) for a, w in p.items()} for p in parts],
            [w.slices for w in WINDOWS],
        )
        return frozenset((WINDOWS[w], g, c) for w, g, c in withhold(table, groupings, k).cells)
