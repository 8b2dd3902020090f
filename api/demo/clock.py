"""Time in the demo: the daily cycle of demand and when Prometheus scrapes.

Demand follows local solar time at a node's longitude: lowest in the morning, highest
in the evening, as with live video anywhere. Scrapes happen on a fixed grid of the
scrape interval (like Prometheus, whose scrape times are evenly spaced), so a backfill
and the live run that follows it share one timeline.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

PEAK_LOCAL_HOUR = 20.0
TROUGH_SHARE = 0.25
"""Demand at the daily low, as a share of the evening peak."""


def demand(longitude: float, at: float) -> float:
    """Demand near ``longitude`` at Unix time ``at``, from ``TROUGH_SHARE`` to 1."""
    local_hour = (at / 3600.0 + longitude / 15.0) % 24.0
    phase = 2 * math.pi * (local_hour - PEAK_LOCAL_HOUR) / 24.0
    return TROUGH_SHARE + (1 - TROUGH_SHARE) * (0.5 + 0.5 * math.cos(phase))


def floor_to(at: float, step: float) -> float:
    """The last grid point at or before ``at`` on a grid of ``step`` seconds."""
    return math.floor(at / step) * step


def scrape_times(start: float, end: float, step: float) -> Iterator[float]:
    """Grid points of ``step`` seconds in ``(start, end]``."""
    at = floor_to(start, step) + step
    while at <= end:
        yield at
        at += step
