"""Land on the HR grid of a prediction: from an ``hr_mask`` file, or from the LR input.

Without a mask file an HR cell is land where its parent LR cell is (:func:`apply_lr_mask`);
with one, the mask variable is found by name or kind (:func:`load_hr_mask`), so coastlines
finer than the LR grid survive.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceansr.core.errors import (
    DataInvalidError,
    DataNotFoundError,
    OceanSRError,
    ShapeMismatchError,
)
from oceansr.data.grid import apply_selection, open_source, relabel, spatial_layout
from oceansr.data.lr_input import LRFields

#: Mask variables whose non-zero values mark ocean, then those whose non-zero values
#: mark land (looked for in this order in an ``hr_mask`` file).
OCEAN_MASK_NAMES: tuple[str, ...] = ("mask", "ocean_mask", "sea_mask", "seamask", "tmask", "wet")
LAND_MASK_NAMES: tuple[str, ...] = ("land_mask", "landmask", "lsm", "land")


def _pick_mask_variable(ds: xr.Dataset, variables: list[str], name: str | None) -> tuple[str, str]:
    """(variable, how) where how is ``ocean01``, ``land01``, ``nan`` or ``nan_per_var``."""
    if name is not None:
        if name not in ds.data_vars:
            raise DataNotFoundError(
                f"mask variable {name!r} not in the hr_mask file; data variables: "
                f"{[str(v) for v in ds.data_vars]}",
                field="hr_mask_variable",
                fix="name one of those variables (or omit hr_mask_variable)",
            )
        if name.lower() in LAND_MASK_NAMES:
            return name, "land01"
        floating = np.issubdtype(ds[name].dtype, np.floating)
        return name, "nan" if floating and name not in OCEAN_MASK_NAMES else "ocean01"
    lower = {str(v).lower(): str(v) for v in ds.data_vars}
    for cand in OCEAN_MASK_NAMES:
        if cand in lower:
            return lower[cand], "ocean01"
    for cand in LAND_MASK_NAMES:
        if cand in lower:
            return lower[cand], "land01"
    if all(v in ds.data_vars for v in variables):
        return variables[0], "nan_per_var"
    floats = [str(v) for v, da in ds.data_vars.items() if np.issubdtype(da.dtype, np.floating)]
    floats = [v for v in floats if ds[v].ndim >= 2]
    if not floats:
        raise DataInvalidError(
            "the hr_mask file has no mask variable: expected a 0/1 or boolean variable named "
            f"one of {list(OCEAN_MASK_NAMES)} (1 = ocean) or {list(LAND_MASK_NAMES)} "
            "(1 = land), or a float field whose NaNs mark land",
            field="hr_mask",
            fix="add such a variable, or name it with hr_mask_variable=...",
        )
    return floats[0], "nan"


def _ocean_from(da: xr.DataArray, how: str) -> np.ndarray:
    values = np.asarray(da.values)
    if how == "nan" or how == "nan_per_var":
        return np.isfinite(values)
    finite = np.isfinite(values) if np.issubdtype(values.dtype, np.floating) else True
    nonzero = values.astype(bool) if values.dtype == bool else np.where(finite, values, 0) != 0
    return (nonzero & finite) if how == "ocean01" else (~nonzero & finite)


def load_hr_mask(
    mask_path: str | os.PathLike[str],
    fields: LRFields,
    scale: int,
    *,
    variable: str | None = None,
    sel: Any = None,
    isel: Any = None,
    decode_times: bool = True,
) -> tuple[np.ndarray, str]:
    """Ocean mask on the HR grid, broadcastable to the output ``(N, C, H, W)``.

    Returns ``(ocean, description)`` with ``ocean`` boolean ``(N or 1, C or 1, H, W)``.
    The mask may be 2-D (one mask for every sample) or carry some of the input's sample
    dims (e.g. a mask per depth); ``sel``/``isel`` of those dims apply to it too.
    """
    target = (fields.height * scale, fields.width * scale)
    try:
        ds, _, opened = open_source(Path(mask_path), decode_times)
    except OceanSRError as exc:
        raise relabel(exc, "hr_mask") from exc
    try:
        return _read_hr_mask(ds, fields, scale, target, mask_path, variable, sel, isel)
    except OceanSRError as exc:
        raise relabel(exc, "hr_mask") from exc
    finally:
        if opened:
            ds.close()


def _read_hr_mask(
    ds: xr.Dataset,
    fields: LRFields,
    scale: int,
    target: tuple[int, int],
    mask_path: Any,
    variable: str | None,
    sel: Any,
    isel: Any,
) -> tuple[np.ndarray, str]:
    name, how = _pick_mask_variable(ds, fields.variables, variable)
    names = fields.variables if how == "nan_per_var" else [name]
    layers = []
    for v in names:
        da = ds[v]
        if da.ndim < 2:
            raise ShapeMismatchError(
                f"mask variable {v!r} has dims {da.dims}; need a 2-D grid",
                field="hr_mask",
                fix="give a mask on the HR grid (lat, lon)",
            )
        ydim, xdim, _, _ = spatial_layout(ds, da.dims, [v])
        mine = {d for d in da.dims if d not in (ydim, xdim)}
        keep = {
            key: {d: s for d, s in (spec or {}).items() if d in mine}
            for key, spec in (("sel", sel), ("isel", isel))
        }
        da = apply_selection(da.to_dataset(), keep["sel"] or None, keep["isel"] or None)[v]
        shape = (int(da.sizes[ydim]), int(da.sizes[xdim]))
        if shape != target:
            raise ShapeMismatchError(
                f"hr_mask variable {v!r} is {shape[0]}x{shape[1]} ({ydim}, {xdim}) but "
                f"the output grid is {target[0]}x{target[1]} (x{scale} of the LR "
                f"{fields.height}x{fields.width})",
                field="hr_mask",
                fix=f"give a mask on the {target[0]}x{target[1]} HR grid, or omit "
                "hr_mask to derive land from the LR input",
            )
        extra = [d for d in da.dims if d not in (ydim, xdim)]
        sizes = dict(zip(fields.sample_dims, fields.sample_shape, strict=True))
        bad = [d for d in extra if d not in sizes or sizes[d] != da.sizes[d]]
        if bad:
            raise ShapeMismatchError(
                f"hr_mask variable {v!r} has dims {dict(da.sizes)}; its non-spatial dims "
                f"{bad} do not match the input's sample dims {sizes}",
                field="hr_mask",
                fix="give a 2-D mask, or one with the input's sample dims and sizes",
            )
        order = [d for d in fields.sample_dims if d in extra]
        ocean = _ocean_from(da.transpose(*order, ydim, xdim), how)
        full_shape = [sizes[d] if d in extra else 1 for d in fields.sample_dims]
        ocean = ocean.reshape(*full_shape, *target)
        if extra:
            ocean = np.broadcast_to(ocean, (*fields.sample_shape, *target))
            ocean = ocean.reshape(-1, *target)
        else:
            ocean = ocean.reshape(1, *target)
        layers.append(ocean)
    n = max(layer.shape[0] for layer in layers)
    ocean = np.stack([np.broadcast_to(layer, (n, *target)) for layer in layers], axis=1)
    label = ",".join(names) if how == "nan_per_var" else name
    return ocean, f"hr_mask:{mask_path}[{label}] ({how})"


def apply_lr_mask(hr: np.ndarray, lr: np.ndarray, scale: int) -> None:
    """Set HR cells whose parent LR cell is land (non-finite) to NaN, in place."""
    n, c, h, w = lr.shape
    land = ~np.isfinite(lr)
    for i in range(n):  # per field: no (C, H, W) boolean temporaries for the whole series
        if land[i].any():
            view = hr[i].reshape(c, h, scale, w, scale)
            view[np.broadcast_to(land[i][:, :, None, :, None], view.shape)] = np.nan
