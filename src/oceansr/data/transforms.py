"""Numpy transforms on gridded ocean fields with NaN over land (vectorised, no torch)."""

from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage

from oceansr.core.errors import DataInvalidError, ShapeMismatchError

log = logging.getLogger(__name__)


def _check_scale(scale: int) -> int:
    if int(scale) != scale or scale < 1:
        raise ShapeMismatchError(
            f"scale must be a positive integer, got {scale!r}",
            field="data.scale",
            fix="use an integer factor, e.g. data.scale=4",
        )
    return int(scale)


def check_block_grid(x: np.ndarray, scale: int, what: str) -> tuple[np.ndarray, int]:
    """``x`` as an array ``(..., H, W)`` whose ``H`` and ``W`` are multiples of ``scale``
    (else a :class:`ShapeMismatchError` naming ``data.scale``): the one rule of every LR
    operator (:mod:`oceansr.data.degrade`)."""
    scale = _check_scale(scale)
    x = np.asarray(x)
    if x.ndim < 2:
        raise ShapeMismatchError(
            f"{what} needs an array (..., H, W), got shape {x.shape}", field="data.scale"
        )
    h, w = x.shape[-2:]
    if h % scale or w % scale:
        raise ShapeMismatchError(
            f"grid {h}x{w} is not a multiple of scale {scale}",
            field="data.scale",
            fix=(
                "pick a scale that divides the grid, or crop it with data.crop_to_scale=true "
                f"(crops to {h - h % scale}x{w - w % scale})"
            ),
        )
    return x, scale


def block_mean(x: np.ndarray, scale: int) -> np.ndarray:
    """NaN-aware area mean over ``scale x scale`` blocks of the last two axes.

    Each output cell is the mean of the ocean (finite) cells of its block; it is NaN only
    where the whole block is land.  ``H`` and ``W`` must be multiples of ``scale``.
    Floating inputs keep their dtype (accumulation is done in float64).
    """
    x, scale = check_block_grid(x, scale, "block_mean")
    h, w = x.shape[-2:]
    if scale == 1:
        return x.copy()
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    blocks = x.reshape(*x.shape[:-2], h // scale, scale, w // scale, scale)
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks, 0).sum(axis=(-3, -1), dtype=np.float64)
    count = finite.sum(axis=(-3, -1))
    out = np.full(total.shape, np.nan, dtype=np.float64)
    np.divide(total, count, out=out, where=count > 0)
    return out.astype(out_dtype, copy=False)


def crop_to_multiple(x: np.ndarray, scale: int) -> np.ndarray:
    """Drop trailing rows / columns so that ``H`` and ``W`` are multiples of ``scale`` (a view)."""
    scale = _check_scale(scale)
    h, w = x.shape[-2:]
    hh, ww = h - h % scale, w - w % scale
    if hh == 0 or ww == 0:
        raise ShapeMismatchError(
            f"grid {h}x{w} is smaller than scale {scale}",
            field="data.scale",
            fix=f"use a smaller factor, e.g. data.scale={max(1, min(h, w) // 2)}",
        )
    return x[..., :hh, :ww]


def fill_land_nearest(x: np.ndarray, periodic: bool = False) -> np.ndarray:
    """Copy of ``x`` (N, C, h, w) where each NaN takes the value of the nearest ocean cell.

    Nearest is in grid-index (Euclidean) distance within the same 2-D field; consecutive
    fields with the same land mask share one distance transform.  ``periodic`` (longitude
    spans the globe): distances wrap around the seam, so land next to the seam is filled
    from the ocean across it, as it would be anywhere else (a model sees the fill there
    once evaluation wraps). A field without any ocean cell raises :class:`DataInvalidError`.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ShapeMismatchError(f"fill_land_nearest needs (N, C, h, w), got shape {x.shape}")
    out = x.copy()
    n, c, h, w = x.shape
    flat = out.reshape(n * c, h, w)
    land = ~np.isfinite(flat)
    has_land = land.any(axis=(1, 2))
    all_land = land.all(axis=(1, 2))
    if all_land.any():
        first = int(np.flatnonzero(all_land)[0])
        raise DataInvalidError(
            f"field (sample {first // c}, channel {first % c}) has no ocean cell to fill land from",
            field="data.sel",
            fix="exclude all-land fields/levels with data.sel=... or data.isel=...",
        )
    # Consecutive fields usually share a mask: reuse the last distance transform.
    last_key, idx = None, None
    for i in np.flatnonzero(has_land):
        mask = land[i]
        key = np.packbits(mask).tobytes()
        if key != last_key:
            idx, last_key = _nearest_ocean(mask, periodic), key
        flat[i][mask] = flat[i][idx]
    return out


def _nearest_ocean(land: np.ndarray, periodic: bool) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of the nearest ocean cell of every land cell of ``land`` (h, w).

    Periodic: the transform runs on the field widened by ``w // 2 + 1`` wrapped columns
    each side, which holds every cell's nearest ocean cell around the circle.
    """
    if not periodic:
        iy, ix = ndimage.distance_transform_edt(land, return_distances=False, return_indices=True)
        return iy[land], ix[land]
    width = land.shape[1]
    pad = width // 2 + 1
    columns = np.arange(-pad, width + pad) % width
    iy, ix = ndimage.distance_transform_edt(
        land[:, columns], return_distances=False, return_indices=True
    )
    core = slice(pad, pad + width)
    return iy[:, core][land], columns[ix[:, core][land]]


def ocean_stats(hr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel ``(mean, std, vmin, vmax)`` of ``hr`` (N, C, H, W) over finite cells.

    Returns four float64 arrays of shape ``(C,)``.  A channel without any finite value
    raises :class:`DataInvalidError`.
    """
    hr = np.asarray(hr)
    if hr.ndim != 4:
        raise ShapeMismatchError(f"ocean_stats needs (N, C, H, W), got shape {hr.shape}")
    n, c = hr.shape[:2]
    # Chunk over samples so that float64 temporaries stay small for large grids.
    chunk = max(1, int(2**24 // max(1, hr.shape[2] * hr.shape[3])))
    count = np.zeros(c, dtype=np.int64)
    total = np.zeros(c, dtype=np.float64)
    vmin = np.full(c, np.inf)
    vmax = np.full(c, -np.inf)
    for s in range(0, n, chunk):
        part = hr[s : s + chunk]
        for ch in range(c):
            v = part[:, ch]
            v = v[np.isfinite(v)].astype(np.float64)
            if v.size:
                count[ch] += v.size
                total[ch] += v.sum()
                vmin[ch] = min(vmin[ch], v.min())
                vmax[ch] = max(vmax[ch], v.max())
    if (count == 0).any():
        ch = int(np.flatnonzero(count == 0)[0])
        raise DataInvalidError(
            f"channel {ch} has no ocean (finite) value",
            field="data.variables",
            fix="check the variable and its land mask, or drop it from data.variables",
        )
    mean = total / count
    sq = np.zeros(c, dtype=np.float64)
    for s in range(0, n, chunk):
        part = hr[s : s + chunk]
        for ch in range(c):
            v = part[:, ch]
            v = v[np.isfinite(v)].astype(np.float64)
            sq[ch] += ((v - mean[ch]) ** 2).sum()
    std = np.sqrt(sq / count)
    return mean, std, vmin, vmax


def crop_coord(coord: np.ndarray | None, shape: tuple[int, int], axis: str) -> np.ndarray | None:
    """Crop 1-D or 2-D lat/lon (``axis`` "lat" or "lon") the way an HR grid was cropped
    to ``shape`` (a multiple of the scale)."""
    if coord is None:
        return None
    if coord.ndim == 2:
        return coord[: shape[0], : shape[1]]
    return coord[: shape[0]] if axis == "lat" else coord[: shape[1]]


def crop_shape(
    height: int, width: int, scale: int, allow_crop: bool, notes: list[str]
) -> tuple[int, int]:
    """The HR grid cropped to a multiple of ``scale``, or a ``DataInvalidError`` naming
    ``data.scale`` where cropping is not allowed; the crop is noted once in ``notes``.
    One rule for the in-memory and the lazy path."""
    if height % scale == 0 and width % scale == 0:
        return height, width
    new_h, new_w = height - height % scale, width - width % scale
    if not allow_crop:
        raise DataInvalidError(
            f"data.scale={scale} does not divide the HR grid {height}x{width}",
            field="data.scale",
            fix=f"choose a scale that divides {height}x{width}, or data.crop_to_scale=true "
            f"to crop the last rows/columns to {new_h}x{new_w}",
        )
    note = f"cropped HR grid {height}x{width} -> {new_h}x{new_w} to a multiple of scale {scale}"
    if note not in notes:
        notes.append(note)
        log.info(note)
    return new_h, new_w
