"""Distances on the sphere between grid cells: one place for the Earth radius, points on
the unit sphere and the great-circle distance to land, used by the covariates
(``coast_distance``) and by the report's coastal bands."""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

#: Mean Earth radius [km] (IUGG), for great-circle distances.
EARTH_RADIUS_KM = 6371.0


def unit_vectors(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Points on the unit sphere, ``(..., 3)``: chords between them give great circles,
    and a longitude of 359° sits next to one of 0.5° without any wrapping rule."""
    phi, lam = np.radians(lat), np.radians(lon)
    return np.stack([np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi)], -1)


def geodesic_distance_to_land(ocean: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Great-circle distance [km] from every cell centre to the nearest land cell centre
    (0 on land, ``inf`` when the grid shows no land). ``lat`` and ``lon`` have the shape
    of ``ocean``. Land outside the grid is not seen."""
    out = np.zeros(ocean.shape, dtype=np.float64)
    if ocean.all():
        return np.full(ocean.shape, np.inf)
    points = unit_vectors(lat, lon)
    chord, _ = cKDTree(points[~ocean]).query(points[ocean])
    out[ocean] = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.clip(chord / 2.0, 0.0, 1.0))
    return out
