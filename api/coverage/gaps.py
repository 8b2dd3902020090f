"""Demand cells and the nearest orchestrator to each: the figures of ``coverageGaps``.

Pure computation over one tick's data: the demand of each origin cell (millions of
pixels in the window) and the positions of the known orchestrators
(``api.coverage.positions``). Distances run from the centre of the demand cell,
which is all the service keeps of a gateway's place.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import h3
import numpy as np

from api.coverage.distance import distances_km
from api.coverage.positions import Position

# Two orchestrator places this close count as equally near (float noise).
_TIE_KM = 1e-6


@dataclass(frozen=True, slots=True)
class Demand:
    mil_pixels: float
    orchestrators: frozenset[str]  # those that reported work for gateways here


@dataclass(frozen=True, slots=True)
class CellCoverage:
    cell: str
    mil_pixels: float
    share: float  # of all located demand, 0 to 1
    nearest_km: float | None  # None: no orchestrator is located anywhere
    nearest_region: str | None
    nearest_reports: bool | None


def cell_coverage(
    demand: Mapping[str, Demand], positions: Sequence[Position]
) -> list[CellCoverage]:
    """Every cell with demand, largest demand first (then by cell), with the distance
    to the nearest orchestrator place. Where a reporting and a non-reporting
    orchestrator are equally near, the nearest one reports."""
    total = sum(d.mil_pixels for d in demand.values() if d.mil_pixels > 0)
    latitudes = np.array([p.latitude for p in positions], dtype=float)
    longitudes = np.array([p.longitude for p in positions], dtype=float)
    reports = np.array([p.reports for p in positions], dtype=bool)
    out = []
    for cell, d in demand.items():
        if d.mil_pixels <= 0:
            continue
        km = region = nearest_reports = None
        if positions:
            distances = distances_km(*h3.cell_to_latlng(cell), latitudes, longitudes)
            nearest = float(distances.min())
            tied = distances <= nearest + _TIE_KM
            best = int(
                np.flatnonzero(tied & reports)[0] if (tied & reports).any() else tied.argmax()
            )
            km, region, nearest_reports = nearest, positions[best].region, bool(reports[best])
        out.append(
            CellCoverage(cell, d.mil_pixels, d.mil_pixels / total, km, region, nearest_reports)
        )
    out.sort(key=lambda c: (-c.mil_pixels, c.cell))
    return out
