"""What is in a gridded ocean file and how would one train on it (numpy + xarray, no
torch: the MCP server and the control plane answer it without a training process).

:func:`describe_dataset` returns a JSON-friendly dict (variables, dims, lat/lon grid,
sample dims, land fraction, the scale factors that fit the grid, warnings and suggested
Hydra overrides) for users, notebooks and LLM agents. It reads through the grid rules
of :mod:`oceansr.data.grid`, so what it reports is what training and predict will see.
Errors are the classified :mod:`oceansr.core.errors` exceptions and name the ``path``
or ``decode_times`` argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Hashable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceansr.core.errors import DataInvalidError, OceanSRError
from oceansr.data.fields import spans_globe
from oceansr.data.grid import (
    dim_values,
    format_coord_value,
    is_degrees,
    open_source,
    relabel,
    spatial_layout,
)
from oceansr.data.labels import dim_units, sample_label
from oceansr.data.stores import check_openable, expand_paths, reading
from oceansr.runs import override

#: Scale factors :func:`describe_dataset` checks against each grid.
CANDIDATE_SCALES: tuple[int, ...] = (2, 3, 4, 8)
#: Values read per variable to measure land fractions; larger variables are subsampled
#: along their largest sample dim (the reply says how many samples were checked).
MAX_SCAN_VALUES = 2**25
#: Smallest LR side (cells) worth training on; smaller grids get a warning per scale.
MIN_LR_SIDE = 8
_YEAR_ZERO_RE = re.compile(r"since\s+0{1,4}-", re.IGNORECASE)
_BOUNDS_DIM_RE = re.compile(r"^(nv|nv\d|bnds?|nbnds?|nbounds|vertices|nvertex|d2|two)$")
_HUGE_VALUE = 1e15


def _num(value: Any, digits: int = 6) -> float | None:
    """A finite float rounded for display, else None (strict JSON)."""
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(f):
        return None
    return float(f"{f:.{digits}g}")


def _attr_text(attrs: Mapping[str, Any], key: str) -> str | None:
    value = attrs.get(key)
    return None if value is None else str(value)


def _axis_info(values: np.ndarray, axis: int, circular: bool) -> dict[str, Any]:
    """min/max/spacing of a lat or lon coordinate (1-D, or 2-D along ``axis``)."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"min": None, "max": None, "spacing": None}
    info: dict[str, Any] = {"min": _num(finite.min()), "max": _num(finite.max())}
    if values.shape[axis] < 2:
        info["spacing"] = None
        return info
    diffs = np.diff(values, axis=axis)
    if circular:
        diffs = (diffs + 180.0) % 360.0 - 180.0
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        info["spacing"] = None
        return info
    spacing = float(np.median(np.abs(diffs)))
    info["spacing"] = _num(spacing)
    if values.ndim == 1:
        tol = 1e-3 * spacing + 1e-9
        info["regular"] = bool(np.all(np.abs(np.abs(diffs) - spacing) <= tol))
        info["ascending"] = bool(np.all(diffs > 0))
        info["first"] = _num(values[0])
        info["last"] = _num(values[-1])
    return info


def _grid_info(
    ds: xr.Dataset, ydim: Hashable, xdim: Hashable, lat: Hashable | None, lon: Hashable | None
) -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    h, w = int(ds.sizes[ydim]), int(ds.sizes[xdim])
    info: dict[str, Any] = {
        "y_dim": str(ydim),
        "x_dim": str(xdim),
        "shape": [h, w],
        "lat_name": None if lat is None else str(lat),
        "lon_name": None if lon is None else str(lon),
    }
    latv = ds[lat] if lat is not None else None
    lonv = ds[lon] if lon is not None else None
    if latv is not None and latv.ndim == 2:
        info["kind"] = "curvilinear"
    elif latv is not None or lonv is not None:
        info["kind"] = "rectilinear"
    else:
        info["kind"] = "index"
        warnings.append(
            f"grid {ydim}/{xdim}: no latitude/longitude coordinates found; rows are "
            f"{ydim!r}, columns {xdim!r} (set lat_name/lon_name if they exist under "
            "other names)"
        )
    for key, var, axis_dim in (("lat", latv, ydim), ("lon", lonv, xdim)):
        if var is None:
            continue
        if not is_degrees(var):
            info[key] = {"units": _attr_text(var.attrs, "units"), "degrees": False}
            warnings.append(
                f"{key} coordinate {var.name!r} has units {var.attrs.get('units')!r}, not "
                "degrees; it is kept as a coordinate but not used as latitude/longitude"
            )
            continue
        order = [d for d in (ydim, xdim) if d in var.dims]
        values = np.asarray(var.transpose(*order).values, dtype=np.float64)
        axis = order.index(axis_dim) if axis_dim in order else 0
        info[key] = _axis_info(values, axis, circular=key == "lon")
        if key == "lon" and info[key].get("spacing"):
            # The rule training and predict use to wrap longitude (periodic grids).
            info[key]["spans_globe"] = spans_globe(values)
    info["extent"] = {
        k: [info[k].get("min"), info[k].get("max")]
        for k in ("lat", "lon")
        if isinstance(info.get(k), dict) and "min" in info[k]
    }
    return info, warnings


def _scale_options(h: int, w: int) -> list[dict[str, Any]]:
    """Per candidate scale: does it divide the grid, else what cropping would remove."""
    options = []
    for s in CANDIDATE_SCALES:
        crop_rows, crop_cols = h % s, w % s
        lr = [h // s, w // s]
        option = {
            "scale": s,
            "divides": crop_rows == 0 and crop_cols == 0,
            "crop_rows": crop_rows,
            "crop_cols": crop_cols,
            "hr_shape": [h - crop_rows, w - crop_cols],
            "lr_shape": lr,
        }
        if min(lr) < MIN_LR_SIDE:
            option["note"] = f"LR grid {lr[0]}x{lr[1]} is very small for training"
        options.append(option)
    return options


def _scan_slice(da: xr.DataArray, sample_dims: list[Hashable]) -> tuple[xr.DataArray, int]:
    """The part of ``da`` to read for statistics, and the stride used along one dim."""
    if da.size <= MAX_SCAN_VALUES or not sample_dims:
        return da, 1
    big = max(sample_dims, key=lambda d: da.sizes[d])
    stride = math.ceil(da.size / MAX_SCAN_VALUES)
    return da.isel({big: slice(None, None, stride)}), stride


def _scan_variable(
    da: xr.DataArray, sample_dims: list[Hashable], ydim: Hashable, xdim: Hashable
) -> dict[str, Any]:
    part, stride = _scan_slice(da, sample_dims)
    arr = np.asarray(part.transpose(*sample_dims, ydim, xdim).values)
    n = math.prod(part.sizes[d] for d in sample_dims) if sample_dims else 1
    flat = arr.reshape(n, -1)
    if np.issubdtype(flat.dtype, np.floating):
        finite = np.isfinite(flat)
    else:
        finite = np.ones(flat.shape, dtype=bool)
    per_sample_ocean = finite.sum(axis=1)
    cells = flat.shape[1]
    out: dict[str, Any] = {
        "checked_samples": int(n),
        "land_fraction": _num(1.0 - finite.mean(), 4) if flat.size else None,
        "land_fraction_min": _num(1.0 - per_sample_ocean.max() / cells, 4) if cells else None,
        "land_fraction_max": _num(1.0 - per_sample_ocean.min() / cells, 4) if cells else None,
        "all_nan_samples": int((per_sample_ocean == 0).sum()),
    }
    if stride > 1:
        out["sample_stride"] = stride
    empty = np.flatnonzero(per_sample_ocean == 0)
    if empty.size:
        part_ds = part.to_dataset(name="_v")
        values = [dim_values(part_ds, d) for d in sample_dims]
        units = [dim_units(part_ds, d) for d in sample_dims]
        examples = [sample_label(sample_dims, values, int(i), units) for i in empty[:3]]
        out["all_nan_examples"] = examples
    ocean = flat[finite]
    if ocean.size:
        out["min"] = _num(ocean.min())
        out["max"] = _num(ocean.max())
        out["mean"] = _num(ocean.sum(dtype=np.float64) / ocean.size)
    return out


def _is_bounds_like(name: Hashable, da: xr.DataArray, bounds_names: set[Hashable]) -> bool:
    return name in bounds_names or any(_BOUNDS_DIM_RE.match(str(d).lower()) for d in da.dims)


def _variable_warnings(name: str, info: dict[str, Any], dtype: np.dtype) -> list[str]:
    warnings = []
    if not np.issubdtype(dtype, np.floating):
        warnings.append(
            f"variable {name!r} has dtype {dtype} after decoding (not float): it cannot be "
            "trained on or predicted as is; store it as float with NaN over land, or "
            "declare _FillValue/scale_factor so that xarray decodes it"
        )
    if not info.get("units"):
        warnings.append(f"variable {name!r} has no units attribute")
    bad = info.get("all_nan_samples") or 0
    if bad:
        examples = ", ".join(info.get("all_nan_examples", []))
        warnings.append(
            f"variable {name!r}: {bad} of {info['checked_samples']} checked samples are "
            f"entirely NaN (e.g. {examples}); exclude them with data.sel / data.isel "
            "(training refuses them; predict writes them as NaN)"
        )
    if info.get("land_fraction") == 0.0 and np.issubdtype(dtype, np.floating):
        big = max(abs(info.get("min") or 0.0), abs(info.get("max") or 0.0))
        if big >= _HUGE_VALUE:
            warnings.append(
                f"variable {name!r} has no NaN but values up to {big:g}: land is probably a "
                "fill value not declared as _FillValue/missing_value; mask it to NaN"
            )
    return warnings


def _time_notes(ds: xr.Dataset) -> list[str]:
    notes = []
    for name, var in ds.variables.items():
        units = var.attrs.get("units") or var.encoding.get("units")
        if isinstance(units, str) and _YEAR_ZERO_RE.search(units):
            notes.append(
                f"coordinate {name!r} counts from year 0000 ({units!r}): keep "
                "decode_times=False (Hydra: data.decode_times=false)"
            )
    return notes


def _sample_dim_info(ds: xr.Dataset, dim: Hashable) -> dict[str, Any]:
    info: dict[str, Any] = {"size": int(ds.sizes[dim])}
    if dim in ds.coords and ds[dim].ndim == 1 and ds.sizes[dim]:
        values = ds[dim].values
        info["first"] = format_coord_value(values[0])
        info["last"] = format_coord_value(values[-1])
        units = ds[dim].attrs.get("units") or ds[dim].encoding.get("units")
        if units:
            info["units"] = str(units)
    else:
        info["coordinate"] = False
    return info


def _suggest(
    path: str, variables: list[dict[str, Any]], grids: dict[str, Any], decode_times: bool
) -> list[str]:
    usable = [
        v
        for v in variables
        if v.get("gridded") and v.get("float") and (v.get("land_fraction") or 0.0) < 1.0
    ]
    if not usable:
        return []
    grid_key = max({v["grid"] for v in usable}, key=lambda k: sum(v["grid"] == k for v in usable))
    chosen = [v for v in usable if v["grid"] == grid_key]
    names = [v["name"] for v in chosen][:3]
    # Quoted for Hydra (a path with CJK characters, spaces or '=' must not break the
    # override grammar; docs/architecture.md, run directory).
    overrides = [
        "data.source=xarray",
        override("data.path", path),
        override("data.variables", names),
    ]
    if not decode_times:
        overrides.append("data.decode_times=false")
    sample_dims = chosen[0]["sample_dims"]
    if sample_dims:
        timeish = [d for d in sample_dims if re.search(r"time|month|date|day", d, re.I)]
        overrides.append(override("data.split.dim", (timeish or sample_dims)[0]))
    # The project's default x4, cropping a few rows/columns if needed; else the largest
    # scale that divides the grid.
    options = {o["scale"]: o for o in chosen[0]["suitable_scales"]}
    h, w = chosen[0]["shape"][-2:]
    four = options[4]
    small_crop = four["crop_rows"] <= 0.05 * h and four["crop_cols"] <= 0.05 * w
    exact = [s for s, o in options.items() if o["divides"] and "note" not in o]
    if "note" not in four and (four["divides"] or small_crop or not exact):
        overrides.append("data.scale=4")
        if not four["divides"]:
            overrides.append("data.crop_to_scale=true")
    elif exact:
        overrides.append(f"data.scale={max(exact)}")
    return overrides


def describe_dataset(path: str | Path | xr.Dataset, *, decode_times: bool = True) -> dict[str, Any]:
    """Describe a NetCDF file / Zarr store as a JSON-friendly dict (for agents and users).

    Keys: ``path`` (a glob, directory or list as given, with ``n_files`` matched),
    ``format``, ``decode_times`` (as used), ``dims``, ``grids`` (per pair
    of spatial dims: lat/lon names, kind rectilinear/curvilinear/index, shape, spacing,
    extent), ``sample_dims``, ``variables`` (name, dims, shape, dtype, units, long_name,
    standard_name, grid, sample dims, land fraction over the samples, ocean min/max/mean,
    all-NaN samples, ``suitable_scales``), ``warnings``, ``notes`` and
    ``suggested_overrides`` (Hydra overrides to train on it).

    A time axis that cannot be decoded (e.g. "hours since 0000-01-01") is not an error
    here: the file is reopened with ``decode_times=False`` and a warning says so.
    """
    if isinstance(path, str | Path):
        try:
            check_openable(Path(path).expanduser())  # a FIFO would block open()
        except OceanSRError as exc:
            raise relabel(exc) from exc
    with reading(f"describe {path}"):
        return _open_and_describe(path, decode_times)


def _open_and_describe(path: str | Path | xr.Dataset, decode_times: bool) -> dict[str, Any]:
    """:func:`describe_dataset` once the path is known to be safe to open."""
    warnings: list[str] = []
    used_decode = decode_times
    try:
        ds, description, opened = open_source(path, decode_times)
    except DataInvalidError as exc:
        if not (decode_times and exc.field == "data.decode_times"):
            raise relabel(exc) from exc
        try:
            ds, description, opened = open_source(path, False)
        except OceanSRError as exc2:
            raise relabel(exc2) from exc2
        used_decode = False
        warnings.append(
            f"the time axis cannot be decoded with decode_times=True ({exc.message}); "
            "described with decode_times=False: pass decode_times=False to predict / "
            "describe and data.decode_times=false to training (typical of year-0000 "
            "climatology axes)"
        )
    except OceanSRError as exc:
        raise relabel(exc) from exc
    try:
        result = _describe(ds, description, used_decode, path)
    finally:
        if opened:
            ds.close()
    result["decode_times_requested"] = decode_times
    result["warnings"] = warnings + result["warnings"]
    return result


def _source_path(kind: str, where: str, source: Any) -> tuple[Any, int | None]:
    """The ``path`` to report and, for several files, how many were opened.

    One file or store reports where it was opened. A glob, a directory or a list reports
    what the user gave (the glob, not one of its matches: that is what ``data.path``
    takes back in ``suggested_overrides``) and the number of files it names, by the same
    expansion that opened them (:func:`~oceansr.data.stores.expand_paths`).
    """
    if kind in ("netcdf", "zarr"):
        return where, None
    if kind != "multi" or isinstance(source, xr.Dataset | xr.DataArray):
        return None, None
    n_files = len(expand_paths(source) or [])
    if isinstance(source, str | Path):
        return str(source), n_files
    return [str(p) for p in source], n_files


def _describe(
    ds: xr.Dataset, description: str, decode_times: bool, source: Any = None
) -> dict[str, Any]:
    kind, _, where = description.partition(":")
    warnings: list[str] = []
    notes = _time_notes(ds) if not decode_times else []
    bounds_names = {ds[v].attrs.get("bounds") for v in ds.variables if "bounds" in ds[v].attrs}
    layouts: dict[Hashable, tuple[Hashable, Hashable, Hashable | None, Hashable | None]] = {}
    for name, da in ds.data_vars.items():
        if da.ndim >= 2 and not _is_bounds_like(name, da, bounds_names):
            layouts[name] = spatial_layout(ds, da.dims, [str(name)])
    coord_like = {c for layout in layouts.values() for c in layout[2:] if c is not None}
    grids: dict[str, Any] = {}
    variables: list[dict[str, Any]] = []
    sample_dims_all: dict[str, Any] = {}
    for name, da in ds.data_vars.items():
        if name in coord_like:
            continue
        info: dict[str, Any] = {
            "name": str(name),
            "dims": [str(d) for d in da.dims],
            "shape": [int(s) for s in da.shape],
            "dtype": str(da.dtype),
            "float": bool(np.issubdtype(da.dtype, np.floating)),
            "units": _attr_text(da.attrs, "units"),
            "long_name": _attr_text(da.attrs, "long_name"),
            "standard_name": _attr_text(da.attrs, "standard_name"),
        }
        stored = da.encoding.get("dtype")
        if stored is not None and str(stored) != str(da.dtype):
            info["stored_dtype"] = str(stored)
        if name not in layouts:
            info["gridded"] = False
            variables.append(info)
            continue
        ydim, xdim, lat, lon = layouts[name]
        key = f"{ydim}/{xdim}"
        if key not in grids:
            grids[key], grid_warnings = _grid_info(ds, ydim, xdim, lat, lon)
            warnings.extend(grid_warnings)
        sample_dims = [d for d in da.dims if d not in (ydim, xdim)]
        for d in sample_dims:
            sample_dims_all.setdefault(str(d), _sample_dim_info(ds, d))
        h, w = int(da.sizes[ydim]), int(da.sizes[xdim])
        info.update(
            {
                "gridded": True,
                "grid": key,
                "sample_dims": [str(d) for d in sample_dims],
                "n_samples": int(math.prod(da.sizes[d] for d in sample_dims)),
                **_scan_variable(da, sample_dims, ydim, xdim),
                "suitable_scales": _scale_options(h, w),
            }
        )
        warnings.extend(_variable_warnings(str(name), info, da.dtype))
        variables.append(info)
    if not any(v.get("gridded") for v in variables):
        warnings.append("no gridded (2-D or more) data variable found")
    path, n_files = _source_path(kind, where, source)
    return {
        "path": path,
        **({"n_files": n_files} if n_files is not None else {}),
        "format": kind if kind in ("netcdf", "zarr") else "dataset",
        "decode_times": decode_times,
        "dims": {str(d): int(n) for d, n in ds.sizes.items()},
        "grids": grids,
        "sample_dims": sample_dims_all,
        "variables": variables,
        "coordinates": [str(c) for c in ds.coords]
        + [str(c) for c in sorted(coord_like, key=str) if c not in ds.coords],
        "global_attrs": {str(k): _short_attr(v) for k, v in ds.attrs.items()},
        "warnings": warnings,
        "notes": notes,
        "suggested_overrides": _suggest(path or "<path>", variables, grids, decode_times),
    }


def _short_attr(value: Any, limit: int = 200) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _num(value, 10)
    text = str(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
