"""HR grid coordinates of a prediction: LR cell centres split consistently with block means.

1-D coordinates along a spatial dimension are subdivided (:func:`refine_1d`), 2-D
(curvilinear) ones interpolated (:func:`refine_2d`); longitudes stay on their input's
branch and latitudes inside [-90, 90], so an HR file overlays the LR one exactly.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import xarray as xr

from oceansr.data.grid import coordinate_kind
from oceansr.data.lr_input import LRFields

#: Encoding kept on sample coordinates (time units and calendar survive the round trip).
KEPT_ENCODING = ("units", "calendar", "dtype")


def _wrap180(x: np.ndarray) -> np.ndarray:
    return (x + 180.0) % 360.0 - 180.0


def _same_convention(hr: np.ndarray, lr: np.ndarray) -> np.ndarray:
    """Longitudes in the input's convention: [-180, 180), [0, 360), or as they come."""
    finite = lr[np.isfinite(lr)]
    if finite.size == 0:
        return hr
    if finite.min() >= -180.0 and finite.max() <= 180.0:
        return _wrap180(hr)
    if finite.min() >= 0.0 and finite.max() <= 360.0:
        return hr % 360.0
    return hr  # e.g. 20.5 .. 378.5: keep each value on its parent's branch


def refine_1d(
    values: np.ndarray,
    scale: int,
    circular: bool = False,
    limits: tuple[float, float] | None = None,
) -> np.ndarray:
    """Centres of the ``scale`` HR cells each LR cell splits into (block-mean consistent).

    Cell edges are the midpoints between LR centres (extrapolated at the ends); each cell
    is divided evenly. For a regular grid of spacing ``d`` this is
    ``c + d * ((k + 0.5) / scale - 0.5)``. ``circular`` (longitudes) unwraps across the
    dateline first and keeps each HR value on the same branch as its parent LR value;
    ``limits`` (latitudes: -90, 90) clips HR centres only, so a regular grid whose edge
    cells reach past a pole (e.g. World Ocean Atlas at 2°) is reproduced exactly.
    """
    c = np.asarray(values, dtype=np.float64)
    if c.size < 2:
        return np.repeat(c, scale)
    cu = np.unwrap(c, period=360.0) if circular else c
    mid = 0.5 * (cu[:-1] + cu[1:])
    edges = np.concatenate([[2 * cu[0] - mid[0]], mid, [2 * cu[-1] - mid[-1]]])
    frac = (np.arange(scale) + 0.5) / scale
    hr = (edges[:-1, None] + (edges[1:] - edges[:-1])[:, None] * frac[None, :]).ravel()
    if circular:
        hr = _same_convention(np.repeat(c, scale) + (hr - np.repeat(cu, scale)), c)
    if limits is not None:
        hr = np.clip(hr, *limits)
    return hr


def _interp_axis(a: np.ndarray, scale: int, axis: int) -> np.ndarray:
    """Linear interpolation (and extrapolation at the borders) to HR cell centres."""
    n = a.shape[axis]
    if n < 2:
        return np.repeat(a, scale, axis=axis)
    p = (np.arange(n * scale) + 0.5) / scale - 0.5  # HR centres in LR index units
    i0 = np.clip(np.floor(p).astype(np.int64), 0, n - 2)
    t = p - i0
    shape = [1] * a.ndim
    shape[axis] = t.size
    t = t.reshape(shape)
    a0, a1 = np.take(a, i0, axis=axis), np.take(a, i0 + 1, axis=axis)
    return a0 + (a1 - a0) * t


def refine_2d(values: np.ndarray, scale: int, kind: str | None = None) -> np.ndarray:
    """2-D (curvilinear) coordinates at HR cell centres by bilinear interpolation.

    ``kind="lon"`` interpolates on the unit circle (no jump at the dateline) and keeps
    each HR value on the branch of its parent LR value; ``kind="lat"`` is clipped to
    [-90, 90].
    """
    v = np.asarray(values, dtype=np.float64)
    if kind == "lon":
        z = np.exp(1j * np.deg2rad(v))
        zi = _interp_axis(_interp_axis(z, scale, 0), scale, 1)
        parent = np.repeat(np.repeat(v, scale, axis=0), scale, axis=1)
        return _same_convention(parent + _wrap180(np.rad2deg(np.angle(zi)) - parent), v)
    hr = _interp_axis(_interp_axis(v, scale, 0), scale, 1)
    return np.clip(hr, -90.0, 90.0) if kind == "lat" else hr


def refine_coord(values: np.ndarray, scale: int, kind: str | None) -> np.ndarray:
    """HR cell centres of an LR coordinate, 1-D along its dim or 2-D (y, x); ``kind``
    ``lat`` is clipped to the poles, ``lon`` is circular."""
    if values.ndim == 2:
        return refine_2d(values, scale, kind)
    limits = (-90.0, 90.0) if kind == "lat" else None
    return refine_1d(values, scale, circular=kind == "lon", limits=limits)


def hr_coords(fields: LRFields, scale: int) -> tuple[dict[Hashable, xr.Variable], list[str]]:
    """Coordinates of the HR output: sample coords as they are, spatial ones refined.

    1-D coordinates along a spatial dim are subdivided (:func:`refine_1d`), 2-D ones on
    both spatial dims interpolated (:func:`refine_2d`); anything else on a spatial dim
    (e.g. cell bounds) is dropped and named in the returned notes.
    """
    ydim, xdim = fields.ydim, fields.xdim
    coords: dict[Hashable, xr.Variable] = {}
    dropped: list[str] = []
    for name, var in fields.coords.variables.items():
        dims = var.dims
        if ydim not in dims and xdim not in dims:
            var = var.copy(deep=False)
            var.encoding = {k: v for k, v in var.encoding.items() if k in KEPT_ENCODING}
            coords[name] = var
            continue
        numeric = np.issubdtype(var.dtype, np.number)
        kind = None
        if numeric and name == fields.lon_name and fields.lon is not None:
            kind = "lon"
        elif numeric and name == fields.lat_name and fields.lat is not None:
            kind = "lat"
        elif numeric:
            kind = coordinate_kind(name, fields.coords[name])
        attrs = {k: v for k, v in var.attrs.items() if k not in ("bounds", "_FillValue")}
        dtype = np.result_type(var.dtype, np.float32) if numeric else None
        if numeric and len(dims) == 1:
            values = refine_coord(var.values, scale, kind)
            coords[name] = xr.Variable(dims, values.astype(dtype), attrs)
        elif numeric and set(dims) == {ydim, xdim}:
            values = refine_coord(var.transpose(ydim, xdim).values, scale, kind)
            coords[name] = xr.Variable((ydim, xdim), values.astype(dtype), attrs)
        else:
            dropped.append(str(name))
    return coords, dropped
