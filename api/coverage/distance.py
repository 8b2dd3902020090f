"""Great-circle distances, many at once.

The haversine formula on the sphere H3 uses (``h3.great_circle_distance`` with the
same radius gives the same figures, a test checks), vectorised with numpy: a map
query measures every demand cell against every located orchestrator, thousands of
pairs per cell on a large network.
"""

from __future__ import annotations

import numpy as np

# The mean Earth radius (IUGG), as h3's great_circle_distance(unit="km") uses.
EARTH_RADIUS_KM = 6371.007180918475


def distances_km(
    latitude: float, longitude: float, latitudes: np.ndarray, longitudes: np.ndarray
) -> np.ndarray:
    """Kilometres from one point to each of the points (degrees)."""
    phi1, lambda1 = np.radians(latitude), np.radians(longitude)
    phi2, lambda2 = np.radians(latitudes), np.radians(longitudes)
    a = (
        np.sin((phi2 - phi1) / 2) ** 2
        + np.cos(phi1) * np.cos(phi2) * np.sin((lambda2 - lambda1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
