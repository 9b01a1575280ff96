"""Full-field super-resolution of low-resolution NetCDF / Zarr files with a trained checkpoint.

Three layers, each usable on its own:

- :func:`tiled_predict` — numpy ``(N, C, h, w)`` LR in physical units (NaN = land) to
  ``(N, C, h*s, w*s)`` HR, by overlapping tiles blended with smooth weights, so any
  field size runs in bounded memory and without seams;
- :func:`predict` — file to file: reads LR fields (any CF-style NetCDF/Zarr, extra
  dims such as time/depth kept), checks them against the checkpoint, runs
  :func:`tiled_predict`, masks land and writes a CF-style NetCDF (``.nc``) or Zarr
  (``.zarr``) on the HR grid with provenance attributes; returns a JSON-friendly summary;
- :func:`run_predict_recorded` / ``python -m oceansr.predict`` — the same as a recorded
  ``predict-...`` run in the run directory (DESIGN §3): ``status.json`` with progress,
  events ``predict_start``, ``predict_progress``, ``predict_end``, and ``failed`` /
  ``killed`` outcomes with an error summary, so the control plane can run it in the
  background like training.

Normalisation statistics always come from the checkpoint, never from the input.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

import oceansr
from oceansr.data.inspect import LRFields, coordinate_kind, open_lr_fields, relabel
from oceansr.data.transforms import fill_land_nearest
from oceansr.data.xarray_source import apply_selection, open_source, spatial_layout
from oceansr.errors import (
    ConfigError,
    DataInvalidError,
    DataNotFoundError,
    OceanSRError,
    ShapeMismatchError,
)

DEFAULT_TILE = 64
DEFAULT_OVERLAP = 16
DEFAULT_BATCH_SIZE = 8
NETCDF_SUFFIXES: tuple[str, ...] = (".nc", ".nc4", ".netcdf", ".cdf")
ZARR_SUFFIXES: tuple[str, ...] = (".zarr",)
#: ``predict_progress`` events (and progress in status.json) at most this often.
PROGRESS_INTERVAL_S = 1.0
#: Spatial chunk side of the output files (cells); one sample per chunk.
CHUNK_SIDE = 1024
#: Mask variables whose non-zero values mark ocean, then those whose non-zero values
#: mark land (looked for in this order in an ``hr_mask`` file).
OCEAN_MASK_NAMES: tuple[str, ...] = ("mask", "ocean_mask", "sea_mask", "seamask", "tmask", "wet")
LAND_MASK_NAMES: tuple[str, ...] = ("land_mask", "landmask", "lsm", "land")
#: Exit status of a run stopped by SIGTERM (128 + 15), as for training.
EXIT_KILLED = 143
EXIT_INTERRUPTED = 130
_PACKING_ATTRS = ("_FillValue", "missing_value", "scale_factor", "add_offset", "valid_range")
_PACKING_ATTRS += ("valid_min", "valid_max", "actual_range", "coordinates")
#: Encoding kept on sample coordinates (time units and calendar survive the round trip).
_KEPT_ENCODING = ("units", "calendar", "dtype")

#: ``progress(done_fields, total_fields, done_tiles, total_tiles)``.
ProgressFn = Callable[[int, int, int, int], None]


# --------------------------------------------------------------------------- tiling


def tile_windows(n: int, tile: int | None, overlap: int) -> list[tuple[int, int]]:
    """LR windows ``[start, stop)`` along one axis of length ``n``.

    Each window is a core of ``tile`` cells plus ``overlap`` cells on each side, so
    neighbours overlap by ``2 * overlap``; the last window is clamped inside the field
    (it then overlaps its neighbour more). One window when the field fits in one.
    """
    if tile is None:
        return [(0, n)]
    win = tile + 2 * overlap
    if n <= win:
        return [(0, n)]
    starts = list(range(0, n - win, tile))
    if starts[-1] != n - win:
        starts.append(n - win)
    return [(s, s + win) for s in starts]


def _ramp(distance: np.ndarray, margin: float, width: float) -> np.ndarray:
    """0 within ``margin`` of a window edge, raised cosine up to 1 over ``width``.

    Two windows overlapping by ``2 * margin + width`` get complementary weights
    (``sin^2 + cos^2 = 1``), and cells within ``margin`` of a window's edge (where zero
    padding corrupts the model output) get no weight from that window.
    """
    t = np.clip((distance + 0.5 - margin) / width, 0.0, 1.0)
    return np.sin(0.5 * np.pi * t) ** 2


def window_weights(
    window: tuple[int, int], n: int, scale: int, overlap: int, floor: float = 1e-6
) -> np.ndarray:
    """HR blending weights of one LR window along one axis (1 where no neighbour)."""
    start, stop = window
    length = (stop - start) * scale
    weights = np.ones(length, dtype=np.float64)
    if overlap > 0:
        d = np.arange(length, dtype=np.float64)
        margin, width = 0.5 * overlap * scale, float(overlap * scale)
        if start > 0:
            weights *= _ramp(d, margin, width)
        if stop < n:
            weights *= _ramp(d[::-1], margin, width)
    # A tiny floor keeps every covered cell's weight sum positive whatever the geometry.
    return np.maximum(weights, floor)


def _fill_for_model(lr: np.ndarray, fill_values: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Land-filled copy of ``lr`` and the (N, C) mask of channels without any ocean cell.

    Land takes the nearest ocean value; a channel with no ocean at all (e.g. a level below
    the sea floor) takes ``fill_values[c]`` (the training mean), its output is set to NaN.
    """
    empty = ~np.isfinite(lr).any(axis=(2, 3))
    if empty.any():
        lr = lr.copy()
        for n, c in zip(*np.nonzero(empty), strict=True):
            lr[n, c] = fill_values[c]
    return fill_land_nearest(lr), empty


def tiled_predict(
    module: torch.nn.Module,
    lr: np.ndarray,
    *,
    tile: int | None = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: ProgressFn | None = None,
) -> np.ndarray:
    """Super-resolve ``lr`` (N, C, h, w), physical units, NaN = land, to (N, C, h*s, w*s).

    Land is filled with the nearest ocean value first (as in training). The field is cut
    into windows of ``tile`` LR cells plus ``overlap`` on each side (clamped inside the
    field); windows go through ``module`` (an :class:`~oceansr.module.SRModule`, i.e.
    physical LR in, physical HR out) ``batch_size`` at a time under
    ``torch.inference_mode()`` on the module's device, and are blended with separable
    raised-cosine weights normalised by their sum, so there are no seams. Memory is the
    tile batch plus the output array. ``tile=None``, or a field no larger than one
    window, is whole-field inference.

    No land mask is applied to the result, except that a channel whose LR field has no
    ocean cell at all comes out NaN. ``progress(done_fields, total_fields, done_tiles,
    total_tiles)`` is called after every batch.
    """
    tile, overlap, batch_size = _check_tiling(tile, overlap, batch_size)
    lr = np.asarray(lr, dtype=np.float32)
    if lr.ndim != 4:
        raise ShapeMismatchError(
            f"tiled_predict needs LR fields (N, C, h, w), got shape {lr.shape}", field="lr"
        )
    scale = int(module.scale)
    n_fields, channels, h, w = lr.shape
    expected = len(getattr(module, "variables", [])) or channels
    if channels != expected:
        raise ShapeMismatchError(
            f"LR fields have {channels} channels, the model expects {expected} "
            f"({getattr(module, 'variables', '?')})",
            field="variables",
        )
    mean = getattr(module, "hparams", {}).get("mean") or [0.0] * channels
    filled, empty = _fill_for_model(lr, mean)
    ys, xs = tile_windows(h, tile, overlap), tile_windows(w, tile, overlap)
    wys = [window_weights(win, h, scale, overlap) for win in ys]
    wxs = [window_weights(win, w, scale, overlap) for win in xs]
    wsum = np.zeros((h * scale, w * scale), dtype=np.float64)
    for (y0, y1), wy in zip(ys, wys, strict=True):
        for (x0, x1), wx in zip(xs, wxs, strict=True):
            wsum[y0 * scale : y1 * scale, x0 * scale : x1 * scale] += np.outer(wy, wx)
    inv_wsum = (1.0 / wsum).astype(np.float32)
    tiles = [(iy, ix) for iy in range(len(ys)) for ix in range(len(xs))]
    tasks = [(n, iy, ix) for n in range(n_fields) for iy, ix in tiles]
    out = np.zeros((n_fields, channels, h * scale, w * scale), dtype=np.float32)
    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32
    was_training = module.training
    module.eval()
    done_fields = 0
    try:
        with torch.inference_mode():
            for b in range(0, len(tasks), batch_size):
                batch = tasks[b : b + batch_size]
                x = np.stack([_window(filled[n], ys[iy], xs[ix]) for n, iy, ix in batch])
                pred = module(torch.from_numpy(x).to(device=device, dtype=dtype))
                pred = pred.float().cpu().numpy()
                want = (len(batch), channels, x.shape[-2] * scale, x.shape[-1] * scale)
                if pred.shape != want:
                    raise ShapeMismatchError(
                        f"model output {pred.shape} for input {x.shape}, expected {want}",
                        field="ckpt_path",
                        fix="use a checkpoint whose model upsamples by its own scale",
                    )
                for k, (n, iy, ix) in enumerate(batch):
                    (y0, y1), (x0, x1) = ys[iy], xs[ix]
                    weight = np.outer(wys[iy], wxs[ix]).astype(np.float32)
                    out[n, :, y0 * scale : y1 * scale, x0 * scale : x1 * scale] += pred[k] * weight
                    if (iy, ix) == tiles[-1]:  # last tile of field n
                        out[n] *= inv_wsum
                        out[n, empty[n]] = np.nan
                        done_fields += 1
                if progress is not None:
                    progress(done_fields, n_fields, b + len(batch), len(tasks))
    finally:
        module.train(was_training)
    return out


def _window(field: np.ndarray, y: tuple[int, int], x: tuple[int, int]) -> np.ndarray:
    return field[..., y[0] : y[1], x[0] : x[1]]


def _check_tiling(tile: Any, overlap: Any, batch_size: Any) -> tuple[int | None, int, int]:
    defaults = {"tile": DEFAULT_TILE, "overlap": DEFAULT_OVERLAP, "batch_size": DEFAULT_BATCH_SIZE}

    def integer(value: Any, name: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ConfigError(
                f"{name} must be an integer >= {minimum}, got {value!r}",
                field=name,
                fix=f"e.g. {name}={defaults[name]}"
                + (" (or None: whole field)" if name == "tile" else ""),
            )
        return int(value)

    tile = None if tile is None else integer(tile, "tile", 1)
    return tile, integer(overlap, "overlap", 0), integer(batch_size, "batch_size", 1)


# --------------------------------------------------------------------------- HR coordinates


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
            var.encoding = {k: v for k, v in var.encoding.items() if k in _KEPT_ENCODING}
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
            limits = (-90.0, 90.0) if kind == "lat" else None
            values = refine_1d(var.values, scale, circular=kind == "lon", limits=limits)
            coords[name] = xr.Variable(dims, values.astype(dtype), attrs)
        elif numeric and set(dims) == {ydim, xdim}:
            values = refine_2d(var.transpose(ydim, xdim).values, scale, kind)
            coords[name] = xr.Variable((ydim, xdim), values.astype(dtype), attrs)
        else:
            dropped.append(str(name))
    return coords, dropped


# --------------------------------------------------------------------------- checkpoint


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` is CUDA when available, else CPU; anything torch understands otherwise."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(
            f"unknown device {device!r}", field="device", fix="device=auto, cpu or cuda"
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(
            f"device {device!r} requested but CUDA is not available",
            field="device",
            fix="device=cpu (or auto)",
        )
    return dev


def check_checkpoint(ckpt_path: str | os.PathLike[str] | None) -> Path:
    """The checkpoint path, or :class:`DataNotFoundError` (field ``ckpt_path``)."""
    if ckpt_path is None or not str(ckpt_path).strip():
        raise ConfigError(
            "no checkpoint given",
            field="ckpt_path",
            fix="give a trained checkpoint, e.g. runs/<run_id>/checkpoints/best.ckpt",
        )
    path = Path(ckpt_path).expanduser()
    if not path.is_file():
        raise DataNotFoundError(
            f"checkpoint not found: {path}",
            field="ckpt_path",
            fix="point ckpt_path at an existing .ckpt, e.g. runs/<run_id>/checkpoints/best.ckpt",
        )
    return path


def load_module(ckpt_path: str | os.PathLike[str], device: str | torch.device = "auto") -> Any:
    """The :class:`~oceansr.module.SRModule` of a checkpoint, in eval mode on ``device``."""
    from oceansr.module import SRModule  # Lightning: only when a model is really needed

    path = check_checkpoint(ckpt_path)
    dev = resolve_device(device)
    try:
        module = SRModule.load_from_checkpoint(str(path), map_location=dev)
    except OceanSRError:
        raise
    except Exception as exc:
        raise DataInvalidError(
            f"cannot load checkpoint {path}: {type(exc).__name__}: {exc}",
            field="ckpt_path",
            fix="give a .ckpt written by oceansr training (runs/<run_id>/checkpoints/*.ckpt)",
        ) from exc
    return module.to(dev).eval()


def _match_variables(variables: Any, ckpt_variables: list[str]) -> list[str]:
    if variables is None:
        return list(ckpt_variables)
    names = [variables] if isinstance(variables, str) else [str(v) for v in variables]
    if sorted(names) != sorted(ckpt_variables):
        raise ConfigError(
            f"variables {names} do not match the checkpoint's {ckpt_variables} (the model "
            "was trained on those channels)",
            field="variables",
            fix=f"variables={ckpt_variables} (or omit variables to use the checkpoint's)",
        )
    return list(ckpt_variables)  # the model's channel order


# --------------------------------------------------------------------------- output paths


def output_format(output_path: str | os.PathLike[str]) -> str:
    """``"netcdf"`` for .nc/.nc4/.netcdf/.cdf, ``"zarr"`` for .zarr, else ConfigError."""
    suffix = Path(output_path).suffix.lower()
    if suffix in NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in ZARR_SUFFIXES:
        return "zarr"
    raise ConfigError(
        f"output {output_path} has an unknown extension {suffix!r}",
        field="output_path",
        fix="name the output *.nc (NetCDF) or *.zarr (Zarr store)",
    )


def _check_output(output_path: Any, overwrite: bool, input_path: Any) -> tuple[Path, str]:
    if output_path is None or not str(output_path).strip():
        raise ConfigError(
            "no output path given", field="output_path", fix="output_path=/path/to/out_sr.nc"
        )
    path = Path(output_path).expanduser().absolute()
    fmt = output_format(path)
    if isinstance(input_path, (str, os.PathLike)):
        src = Path(input_path).expanduser().absolute()
        if src == path or (src.exists() and path.exists() and os.path.samefile(src, path)):
            raise ConfigError(
                f"output {path} is the input file",
                field="output_path",
                fix="write the prediction to another file, e.g. <input stem>_sr.nc",
            )
    if path.exists() and not overwrite:
        raise ConfigError(
            f"output {path} already exists",
            field="output_path",
            fix="choose another output path, or pass overwrite=True (--overwrite)",
        )
    return path, fmt


# --------------------------------------------------------------------------- HR mask


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
        ds, _, opened = open_source(mask_path, decode_times)
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


# --------------------------------------------------------------------------- output


def _attr_value(value: Any) -> Any:
    """An attribute value NetCDF and Zarr can both store (None is dropped by the caller)."""
    if isinstance(value, (bool, np.bool_)):
        return int(value)
    if isinstance(value, (str, int, float, np.integer, np.floating)):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "iuf":
        return value
    if isinstance(value, (list, tuple)) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    ):
        return list(value)
    if isinstance(value, (Mapping, list, tuple)):
        return json.dumps(value, default=str)
    return str(value)


def _clean_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _attr_value(v) for k, v in attrs.items() if v is not None}


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def build_output_dataset(
    hr: np.ndarray,
    fields: LRFields,
    scale: int,
    *,
    ckpt_units: Sequence[str],
    global_attrs: Mapping[str, Any],
    method: str,
) -> tuple[xr.Dataset, list[str]]:
    """The output Dataset: sample dims/coords of the input, HR grid, CF attributes."""
    coords, dropped = hr_coords(fields, scale)
    H, W = hr.shape[-2:]
    dims = (*fields.sample_dims, fields.ydim, fields.xdim)
    data_vars = {}
    for c, name in enumerate(fields.variables):
        src = fields.var_attrs[c]
        attrs = {k: v for k, v in src.items() if k not in _PACKING_ATTRS}
        if not attrs.get("units") and c < len(ckpt_units) and ckpt_units[c]:
            attrs["units"] = ckpt_units[c]
        attrs["oceansr_method"] = method
        arr = hr[:, c].reshape(*fields.sample_shape, H, W)
        data_vars[name] = xr.Variable(dims, arr, _clean_attrs(attrs))
    ds = xr.Dataset(data_vars, coords=coords, attrs=_clean_attrs(global_attrs))
    notes = [f"dropped coordinate(s) on the LR grid: {dropped}"] if dropped else []
    return ds, notes


def _encoding(ds: xr.Dataset, fmt: str) -> dict[str, dict[str, Any]]:
    encoding: dict[str, dict[str, Any]] = {}
    for name, var in ds.data_vars.items():
        chunks = tuple(
            min(CHUNK_SIDE, size) if i >= var.ndim - 2 else 1 for i, size in enumerate(var.shape)
        )
        enc: dict[str, Any] = {"dtype": "float32", "_FillValue": np.float32(np.nan)}
        if fmt == "netcdf":
            enc.update({"zlib": True, "complevel": 4, "shuffle": True, "chunksizes": chunks})
        else:
            enc["chunks"] = chunks
        encoding[str(name)] = enc
    for name, var in ds.coords.items():
        enc = {}
        if np.issubdtype(var.dtype, np.floating):
            enc["_FillValue"] = None
        # Keep the input's time encoding (units, calendar) for sample coordinates.
        for key in ("units", "calendar"):
            if key in var.encoding and key not in var.attrs:
                enc[key] = var.encoding[key]
        if enc:
            encoding[str(name)] = enc
    return encoding


def write_dataset(ds: xr.Dataset, path: Path, fmt: str, *, overwrite: bool = False) -> None:
    """Write to a hidden temporary sibling, then move into place (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")
    try:
        if fmt == "netcdf":
            ds.to_netcdf(tmp, engine="netcdf4", format="NETCDF4", encoding=_encoding(ds, fmt))
        else:
            ds.to_zarr(tmp, mode="w", consolidated=False, encoding=_encoding(ds, fmt))
        if path.exists() or path.is_symlink():
            if not overwrite:
                raise ConfigError(
                    f"output {path} appeared while predicting",
                    field="output_path",
                    fix="choose another output path, or pass overwrite=True",
                )
            # Move the old output aside first: rename cannot replace a directory.
            trash = path.with_name(f".{path.name}.{secrets.token_hex(4)}.old")
            os.rename(path, trash)
            os.rename(tmp, path)
            if trash.is_dir() and not trash.is_symlink():
                shutil.rmtree(trash, ignore_errors=True)
            else:
                trash.unlink(missing_ok=True)
            return
        os.rename(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                tmp.unlink()
        raise


def prediction_stats(hr: np.ndarray, variables: Sequence[str]) -> dict[str, dict[str, Any]]:
    """min / max / mean over ocean cells and the ocean fraction, per variable, for a
    prediction summary (unlike :func:`oceansr.data.transforms.ocean_stats`, a variable
    with no ocean gives None instead of an error: a predicted tile may be all land)."""
    stats: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(variables):
        count, total = 0, 0.0
        vmin, vmax = math.inf, -math.inf
        for i in range(hr.shape[0]):
            v = hr[i, c]
            v = v[np.isfinite(v)]
            if v.size:
                count += v.size
                total += float(v.sum(dtype=np.float64))
                vmin, vmax = min(vmin, float(v.min())), max(vmax, float(v.max()))
        cells = hr.shape[0] * hr.shape[2] * hr.shape[3]
        stats[name] = {
            "min": vmin if count else None,
            "max": vmax if count else None,
            "mean": total / count if count else None,
            "ocean_fraction": count / cells if cells else None,
        }
    return stats


# --------------------------------------------------------------------------- predict


def _path_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, (xr.Dataset, xr.DataArray)):
        return "<in-memory xarray.Dataset>"
    return str(Path(value).expanduser().absolute())


def predict(
    ckpt_path: str | os.PathLike[str],
    input_path: str | os.PathLike[str] | xr.Dataset,
    output_path: str | os.PathLike[str],
    *,
    variables: Sequence[str] | None = None,
    hr_mask: str | os.PathLike[str] | None = None,
    hr_mask_variable: str | None = None,
    tile: int | None = DEFAULT_TILE,
    overlap: int = DEFAULT_OVERLAP,
    batch_size: int = DEFAULT_BATCH_SIZE,
    sel: Mapping[str, Any] | None = None,
    isel: Mapping[str, Any] | None = None,
    decode_times: bool = True,
    lat_name: str | None = None,
    lon_name: str | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: ProgressFn | None = None,
    on_start: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Super-resolve the LR fields of ``input_path`` with a checkpoint; write ``output_path``.

    Args:
        ckpt_path: a checkpoint written by oceansr training (its normalisation is used).
        input_path: LR-only NetCDF file or Zarr store (or an ``xr.Dataset``).
        output_path: ``*.nc`` (NetCDF-4) or ``*.zarr``; refused if it exists unless
            ``overwrite``. Written to a temporary name first, so a failure leaves nothing.
        variables: input variables; default the checkpoint's. Must be the checkpoint's
            variables (any order; the model's channel order is used).
        hr_mask: file on the HR grid marking land: a 0/1 or boolean ``mask`` variable
            (1 = ocean; also ``ocean_mask``, ``tmask``...; ``land_mask``/``lsm`` = 1 for
            land), else variables named like the predicted ones, else the first float
            variable, whose NaNs mark land. 2-D, or with some of the input's sample
            dims. Without it an HR cell is land when its parent LR cell is.
        hr_mask_variable: the mask variable to use in ``hr_mask``.
        tile, overlap, batch_size: see :func:`tiled_predict` (``tile=None``: whole field).
        sel, isel, decode_times, lat_name, lon_name: as for training data.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        progress: ``progress(done_fields, total_fields, done_tiles, total_tiles)``.
        on_start: called once inputs are checked, before inference, with the facts
            recorded in ``predict_start`` (inputs, shapes, tiles).

    Returns:
        A JSON-friendly summary: output path and format, shapes, model, scale, device,
        seconds, fields/s, per-variable ocean min/max/mean, warnings.
    """
    t0 = time.perf_counter()
    tile, overlap, batch_size = _check_tiling(tile, overlap, batch_size)
    ckpt = check_checkpoint(ckpt_path)
    if not isinstance(input_path, (xr.Dataset, xr.DataArray)) and (
        input_path is None or not Path(input_path).expanduser().exists()
    ):
        raise DataNotFoundError(
            f"input not found: {input_path}",
            field="input_path",
            fix="point input_path at an existing LR NetCDF file or Zarr store",
        )
    out_path, fmt = _check_output(output_path, overwrite, input_path)
    if hr_mask is not None and not Path(hr_mask).expanduser().exists():
        raise DataNotFoundError(
            f"hr_mask file not found: {hr_mask}",
            field="hr_mask",
            fix="point hr_mask at a NetCDF/Zarr mask on the HR grid, or omit it",
        )
    module = load_module(ckpt, device)
    hp = module.hparams
    ckpt_vars = [str(v) for v in hp.variables]
    scale = int(hp.scale)
    model_name = str(dict(hp.model).get("name", "?"))
    names = _match_variables(variables, ckpt_vars)
    fields = open_lr_fields(
        input_path,
        names,
        sel=sel,
        isel=isel,
        decode_times=decode_times,
        lat_name=lat_name,
        lon_name=lon_name,
    )
    warnings = _unit_warnings(fields, list(hp.units))
    H, W = fields.height * scale, fields.width * scale
    ocean = None
    mask_source = "lr_mask (an HR cell is land where its parent LR cell is)"
    if hr_mask is not None:
        ocean, mask_source = load_hr_mask(
            hr_mask,
            fields,
            scale,
            variable=hr_mask_variable,
            sel=sel,
            isel=isel,
            decode_times=decode_times,
        )
    ys, xs = tile_windows(fields.height, tile, overlap), tile_windows(fields.width, tile, overlap)
    dev = next(module.parameters()).device
    info = {
        "inputs": {
            "ckpt_path": str(ckpt.absolute()),
            "input_path": _path_text(input_path),
            "output_path": str(out_path),
            "hr_mask": _path_text(hr_mask),
            "variables": names,
            "sel": sel,
            "isel": isel,
        },
        "model": model_name,
        "scale": scale,
        "device": str(dev),
        "format": fmt,
        "sample_dims": {
            str(d): s for d, s in zip(fields.sample_dims, fields.sample_shape, strict=True)
        },
        "n_fields": fields.n_fields,
        "lr_shape": [*fields.sample_shape, fields.height, fields.width],
        "hr_shape": [*fields.sample_shape, H, W],
        "grid": fields.grid_kind,
        "tiles": {
            "tile": tile,
            "overlap": overlap,
            "batch_size": batch_size,
            "window": [ys[0][1] - ys[0][0], xs[0][1] - xs[0][0]],
            "per_field": len(ys) * len(xs),
            "total": len(ys) * len(xs) * fields.n_fields,
        },
        "mask": mask_source,
    }
    if on_start is not None:
        on_start(info)
    t_infer = time.perf_counter()
    hr = tiled_predict(
        module, fields.data, tile=tile, overlap=overlap, batch_size=batch_size, progress=progress
    )
    infer_s = time.perf_counter() - t_infer
    if ocean is not None:
        hr[~np.broadcast_to(ocean, hr.shape)] = np.nan
    else:
        apply_lr_mask(hr, fields.data, scale)
    sha = _sha256(ckpt)
    created = _now_iso()
    source_text = _path_text(input_path) or fields.source
    tile_text = "whole field" if len(ys) * len(xs) == 1 else f"tile {tile} overlap {overlap}"
    history_line = (
        f"{created} oceansr {oceansr.__version__} predict: x{scale} {model_name} "
        f"super-resolution of {source_text} with {ckpt.absolute()} ({tile_text})"
    )
    old_history = fields.attrs.get("history")
    attrs = {k: v for k, v in fields.attrs.items() if k not in ("history", "title")}
    title = fields.attrs.get("title")
    attrs.update(
        {
            "Conventions": str(fields.attrs.get("Conventions") or "CF-1.8"),
            "title": f"{title} (super-resolved x{scale} by oceansr)"
            if title
            else f"oceansr x{scale} super-resolution of {Path(str(source_text)).name}",
            "history": history_line + (f"\n{old_history}" if old_history else ""),
            "date_created": created,
            "oceansr_version": oceansr.__version__,
            "oceansr_checkpoint": str(ckpt.absolute()),
            "oceansr_checkpoint_sha256": sha,
            "oceansr_model": model_name,
            "oceansr_model_config": dict(hp.model),
            "oceansr_scale": scale,
            "oceansr_variables": ",".join(names),
            "oceansr_source_file": source_text,
            "oceansr_tile": "none" if tile is None else tile,
            "oceansr_overlap": overlap,
            "oceansr_land_mask": mask_source,
        }
    )
    if sel:
        attrs["oceansr_sel"] = json.dumps(sel, default=str)
    if isel:
        attrs["oceansr_isel"] = json.dumps(isel, default=str)
    ds, notes = build_output_dataset(
        hr,
        fields,
        scale,
        ckpt_units=list(hp.units),
        global_attrs=attrs,
        method=f"x{scale} super-resolution by oceansr ({model_name}); land: {mask_source}",
    )
    write_dataset(ds, out_path, fmt, overwrite=overwrite)
    seconds = time.perf_counter() - t0
    return {
        "output_path": str(out_path),
        "format": fmt,
        "input_path": source_text,
        "checkpoint": str(ckpt.absolute()),
        "checkpoint_sha256": sha,
        "model": model_name,
        "scale": scale,
        "variables": names,
        "units": [str(ds[v].attrs.get("units", "")) for v in names],
        "device": str(dev),
        "sample_dims": info["sample_dims"],
        "n_fields": fields.n_fields,
        "lr_shape": info["lr_shape"],
        "hr_shape": info["hr_shape"],
        "grid": fields.grid_kind,
        "tiles": info["tiles"],
        "mask": mask_source,
        "seconds": round(seconds, 3),
        "inference_seconds": round(infer_s, 3),
        "fields_per_s": round(fields.n_fields / infer_s, 3) if infer_s > 0 else None,
        "stats": prediction_stats(hr, names),
        "warnings": warnings + notes,
    }


def _unit_warnings(fields: LRFields, ckpt_units: list[str]) -> list[str]:
    out = []
    for name, mine, theirs in zip(fields.variables, fields.units, ckpt_units, strict=False):
        if mine and theirs and mine.strip().lower() != str(theirs).strip().lower():
            out.append(
                f"variable {name!r} is in {mine!r} in the input but the checkpoint was "
                f"trained on {theirs!r}: convert the input if these differ"
            )
    return out


# --------------------------------------------------------------------------- recorded run


class PredictRecorder:
    """Progress and outcome of one predict process; the process-level recording (run
    directory, heartbeat, parent watcher, SIGTERM) is the shared
    :class:`~oceansr.callbacks.session.RunSession`, as for trainings."""

    def __init__(self, session: Any) -> None:
        self.session = session
        self.paths = session.paths
        self._t0 = time.monotonic()
        self._last_emit: float | None = None
        self.total_fields = 0

    def started(self, info: Mapping[str, Any]) -> None:
        from oceansr.runs import append_event, heartbeat

        self._t0 = time.monotonic()
        self.total_fields = int(info.get("n_fields") or 0)
        heartbeat(
            self.paths,
            {
                "phase": "predicting",
                "progress": {
                    "step": 0,
                    "total_steps": self.total_fields,
                    "percent": 0.0,
                    "elapsed_s": 0.0,
                    "eta_s": None,
                },
            },
        )
        append_event(self.paths, "predict_start", **info)

    def progress(self, done: int, total: int, done_tiles: int, total_tiles: int) -> None:
        """Throttled: at most one ``predict_progress`` event (and status write) per second."""
        from oceansr.runs import append_event, heartbeat

        now = time.monotonic()
        if self._last_emit is not None and now - self._last_emit < PROGRESS_INTERVAL_S:
            return
        self._last_emit = now
        elapsed = now - self._t0
        frac = done_tiles / total_tiles if total_tiles else 1.0
        eta = elapsed * (1.0 - frac) / frac if frac > 0 else None
        rate = done / elapsed if elapsed > 0 else None
        progress = {
            "step": done,
            "total_steps": total,
            "percent": round(100.0 * frac, 2),
            "elapsed_s": round(elapsed, 3),
            "eta_s": None if eta is None else round(eta, 3),
            "samples_per_s": None if rate is None else round(rate, 3),
        }
        heartbeat(self.paths, {"progress": progress})
        append_event(
            self.paths,
            "predict_progress",
            done=done,
            total=total,
            tiles_done=done_tiles,
            tiles_total=total_tiles,
            percent=progress["percent"],
            elapsed_s=progress["elapsed_s"],
            eta_s=progress["eta_s"],
            fields_per_s=progress["samples_per_s"],
        )

    def completed(self, summary: Mapping[str, Any]) -> None:
        stats = summary.get("stats", {})
        flat = {
            f"predict/{var}/{key}": value
            for var, values in stats.items()
            for key, value in values.items()
        }
        n = summary.get("n_fields")
        self.session.finish(
            "predict_end",
            {
                "progress": {
                    "step": n,
                    "total_steps": n,
                    "percent": 100.0,
                    "elapsed_s": summary.get("seconds"),
                    "eta_s": 0.0,
                    "samples_per_s": summary.get("fields_per_s"),
                },
                "metrics": {"latest": flat, "predict": stats},
            },
            output_path=summary.get("output_path"),
            format=summary.get("format"),
            seconds=summary.get("seconds"),
            inference_seconds=summary.get("inference_seconds"),
            n_fields=n,
            fields_per_s=summary.get("fields_per_s"),
            hr_shape=summary.get("hr_shape"),
            stats=stats,
            warnings=summary.get("warnings", []),
        )


def _override_text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return json.dumps(value, default=str, separators=(",", ":"))
    return str(value)


class PredictKilled(Exception):
    """The predict run was stopped (SIGTERM, controller gone, Ctrl-C); status ``killed``."""

    def __init__(self, run_id: str, reason: str, exit_code: int) -> None:
        super().__init__(f"run {run_id} killed: {reason}")
        self.run_id = run_id
        self.reason = reason
        self.exit_code = exit_code


def default_output_path(run_dir: Path, input_path: Any) -> Path:
    """``<run_dir>/predictions/<input stem>_sr.nc``."""
    stem = "input"
    if isinstance(input_path, (str, os.PathLike)) and str(input_path).strip():
        stem = Path(str(input_path).rstrip("/")).stem or stem
    return run_dir / "predictions" / f"{stem}_sr.nc"


def run_predict_recorded(
    run_id: str | None,
    runs_root: str | os.PathLike[str] | None,
    *,
    handle_signals: bool = False,
    command: Sequence[str] | None = None,
    **predict_kwargs: Any,
) -> dict[str, Any]:
    """:func:`predict` as a recorded ``predict-...`` run (DESIGN §3).

    Creates ``<runs_root>/<run_id>/`` (a new id when ``run_id`` is None) or attaches to
    a ``pending`` predict run made by the control plane; status goes ``running`` →
    ``completed`` with events ``process_started``, ``predict_start``,
    ``predict_progress`` (≤ 1/s), ``predict_end`` (output, seconds, ocean stats per
    variable, also in ``status.metrics``). On error the run is ``failed`` with an
    ``error_summary`` (event ``predict_error``) and the exception is re-raised; on
    SIGTERM (``handle_signals``) or Ctrl-C it is ``killed`` and :class:`PredictKilled`
    is raised. ``output_path`` defaults to ``<run_dir>/predictions/<input stem>_sr.nc``.
    Returns the :func:`predict` summary plus ``run_id`` and ``run_dir``.
    """
    from oceansr.callbacks.session import RunSession, StopRequested
    from oceansr.runs import RunPaths, new_run_id, to_jsonable

    paths = RunPaths.for_id(run_id or new_run_id("predict"), runs_root)
    kwargs = dict(predict_kwargs)
    if kwargs.get("output_path") is None:
        kwargs["output_path"] = default_output_path(paths.dir, kwargs.get("input_path"))
    recorded = {
        k: (_path_text(v) if k in ("ckpt_path", "input_path", "output_path", "hr_mask") else v)
        for k, v in kwargs.items()
        if k not in ("progress", "on_start")
    }
    session = RunSession(
        paths,
        [f"{k}={_override_text(v)}" for k, v in recorded.items() if v is not None],
        kind="predict",
        command=list(command) if command is not None else None,
        create_extra={"predict": to_jsonable(recorded)},
    )
    session.open(handle_signals=handle_signals)
    recorder = PredictRecorder(session)
    try:
        summary = predict(**kwargs, progress=recorder.progress, on_start=recorder.started)
        recorder.completed(summary)
    except (StopRequested, KeyboardInterrupt) as exc:
        sigterm = isinstance(exc, StopRequested)
        reason = session.stop_reason if sigterm else "interrupted (KeyboardInterrupt)"
        code = EXIT_KILLED if sigterm else EXIT_INTERRUPTED
        session.killed(exit_code=code, reason=reason or "SIGTERM received")
        raise PredictKilled(paths.run_id, reason or "SIGTERM received", code) from exc
    except BaseException as exc:
        session.failed(exc)
        raise
    finally:
        session.close()
    return {**summary, "run_id": paths.run_id, "run_dir": str(paths.dir)}


# --------------------------------------------------------------------------- CLI

#: ``key=value`` tokens accepted after the options (the control plane's style):
#: key -> argparse destination.
_KV_KEYS = {
    "ckpt": "ckpt",
    "ckpt_path": "ckpt",
    "input": "input",
    "input_path": "input",
    "output": "output",
    "output_path": "output",
    "variables": "variables",
    "hr_mask": "hr_mask",
    "hr_mask_variable": "hr_mask_variable",
    "tile": "tile",
    "overlap": "overlap",
    "batch_size": "batch_size",
    "device": "device",
    "sel": "sel",
    "isel": "isel",
    "decode_times": "decode_times",
    "lat_name": "lat_name",
    "lon_name": "lon_name",
    "overwrite": "overwrite",
    "run_id": "run_id",
    "runs_root": "runs_root",
}


def _yaml(text: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise argparse.ArgumentTypeError(f"cannot parse {text!r}: {exc}") from exc


def _tile_arg(text: str) -> int | None:
    if str(text).lower() in ("none", "null", "whole", "0"):
        return None
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"tile must be an integer or 'none', got {text!r}"
        ) from exc


def _bool_arg(text: Any) -> bool:
    if isinstance(text, bool):
        return text
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true/false, got {text!r}")


def _variables_arg(value: Any) -> list[str]:
    if isinstance(value, str):
        value = _yaml(value) if value.strip().startswith("[") else value.split(",")
    return [str(v).strip() for v in value if str(v).strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m oceansr.predict",
        description="Super-resolve an LR NetCDF/Zarr file with a trained oceansr checkpoint "
        "(tiled inference), writing NetCDF (.nc) or Zarr (.zarr) on the HR grid. By "
        "default the run is recorded as a predict-... run under --runs-root.",
    )
    parser.add_argument("--ckpt", help="checkpoint (.ckpt) written by oceansr training")
    parser.add_argument("--input", help="LR NetCDF file or Zarr store")
    parser.add_argument(
        "--output",
        help="output *.nc or *.zarr (default: <run_dir>/predictions/<input stem>_sr.nc)",
    )
    parser.add_argument("--variables", nargs="+", help="input variables (default: checkpoint's)")
    parser.add_argument("--hr-mask", help="file with the HR land mask (see predict())")
    parser.add_argument("--hr-mask-variable", help="mask variable in --hr-mask")
    parser.add_argument(
        "--tile", type=_tile_arg, default=DEFAULT_TILE, help="LR tile core (or none)"
    )
    parser.add_argument("--overlap", type=int, default=DEFAULT_OVERLAP, help="LR overlap per side")
    parser.add_argument(
        "--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="tiles per batch"
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:1, ...")
    parser.add_argument("--sel", type=_yaml, help="label selection, e.g. '{depth: [0, 10]}'")
    parser.add_argument("--isel", type=_yaml, help="index selection, e.g. '{time: {stop: 4}}'")
    parser.add_argument(
        "--no-decode-times",
        dest="decode_times",
        action="store_false",
        help="keep raw time numbers (year-0000 climatologies)",
    )
    parser.add_argument("--lat-name", help="latitude coordinate (detected when omitted)")
    parser.add_argument("--lon-name", help="longitude coordinate (detected when omitted)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--run-id", help="record into this run (created if it does not exist)")
    parser.add_argument("--runs-root", help="runs root (default $OCEANSR_RUNS or ./runs)")
    parser.add_argument("--no-record", action="store_true", help="no run directory")
    parser.add_argument("--json", action="store_true", help="print the full summary as JSON")
    parser.add_argument(
        "overrides",
        nargs="*",
        metavar="key=value",
        help="the same options as key=value (ckpt=..., input=..., run_id=..., runs_root=...)",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    for token in args.overrides:
        key, sep, value = token.partition("=")
        key = key.strip().lstrip("+")
        if not sep or key not in _KV_KEYS:
            parser.error(f"unknown argument {token!r}; key=value keys: {sorted(_KV_KEYS)}")
        dest = _KV_KEYS[key]
        try:
            if dest == "tile":
                parsed: Any = _tile_arg(value)
            elif dest in ("overlap", "batch_size"):
                parsed = int(value)
            elif dest in ("decode_times", "overwrite"):
                parsed = _bool_arg(value)
            elif dest == "variables":
                parsed = _variables_arg(value)
            elif dest in ("sel", "isel"):
                parsed = _yaml(value)
            else:
                parsed = value
        except (ValueError, argparse.ArgumentTypeError) as exc:
            parser.error(f"{token!r}: {exc}")
        setattr(args, dest, parsed)
    if args.variables is not None:
        args.variables = _variables_arg(args.variables)
    return args


def _kwargs_from_args(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "ckpt_path": args.ckpt,
        "input_path": args.input,
        "output_path": args.output,
        "variables": args.variables,
        "hr_mask": args.hr_mask,
        "hr_mask_variable": args.hr_mask_variable,
        "tile": args.tile,
        "overlap": args.overlap,
        "batch_size": args.batch_size,
        "sel": args.sel,
        "isel": args.isel,
        "decode_times": args.decode_times,
        "lat_name": args.lat_name,
        "lon_name": args.lon_name,
        "device": args.device,
        "overwrite": args.overwrite,
    }


def format_summary(summary: Mapping[str, Any]) -> str:
    """One line: outcome, run id, output, what was done and how fast."""
    run = f" {summary['run_id']}" if summary.get("run_id") else ""
    return (
        f"oceansr predict: completed{run} -> {summary['output_path']} "
        f"({','.join(summary['variables'])} x{summary['scale']} {summary['model']}, "
        f"{summary['n_fields']} field(s) {summary['lr_shape'][-2]}x{summary['lr_shape'][-1]}"
        f" -> {summary['hr_shape'][-2]}x{summary['hr_shape'][-1]}, {summary['seconds']:.2f} s)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: returns the exit status (0 ok, 1 failed, 143 SIGTERM, 130 Ctrl-C)."""
    from oceansr.callbacks.session import StopRequested

    args = parse_args(argv)
    kwargs = _kwargs_from_args(args)
    command = [sys.executable, "-m", "oceansr.predict", *(sys.argv[1:] if argv is None else argv)]
    try:
        if args.no_record:
            if not args.output:
                raise ConfigError(
                    "--no-record needs --output", field="output_path", fix="--output out_sr.nc"
                )
            previous = signal.signal(signal.SIGTERM, _raise_stop)
            try:
                summary = predict(**kwargs)
            finally:
                signal.signal(signal.SIGTERM, previous)
        else:
            summary = run_predict_recorded(
                args.run_id, args.runs_root, handle_signals=True, command=command, **kwargs
            )
    except PredictKilled as exc:
        print(f"oceansr predict: killed {exc.run_id}: {exc.reason}", file=sys.stderr, flush=True)
        return exc.exit_code
    except StopRequested:
        print("oceansr predict: killed (SIGTERM)", file=sys.stderr, flush=True)
        return EXIT_KILLED
    except KeyboardInterrupt:
        print("oceansr predict: interrupted", file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        from oceansr.runs.failures import classify_exception

        kind = classify_exception(exc)["failureType"]
        print(f"oceansr predict: failed ({kind}): {exc}", file=sys.stderr, flush=True)
        return 1
    print(json.dumps(summary, default=str) if args.json else format_summary(summary), flush=True)
    return 0


def _raise_stop(signum: int, frame: Any) -> None:
    from oceansr.callbacks.session import StopRequested

    raise StopRequested("SIGTERM received")


if __name__ == "__main__":
    sys.exit(main())
