"""The prediction file: output path checks, the CF-style Dataset, and a write that never
leaves half a file (temporary sibling, then rename)."""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from oceansr.core.errors import ConfigError
from oceansr.data.fields import CF_NAME_ATTRS
from oceansr.data.lr_input import LRFields
from oceansr.data.stores import output_format
from oceansr.predict.grid import hr_coords

#: Spatial chunk side of the output files (cells); one sample per chunk.
CHUNK_SIDE = 1024
_PACKING_ATTRS: tuple[str, ...] = (
    *("_FillValue", "missing_value", "scale_factor", "add_offset", "valid_range"),
    *("valid_min", "valid_max", "actual_range", "coordinates"),
)


def check_output(output: Any, overwrite: bool, input: Any) -> tuple[Path, str]:
    """The absolute output path and its format; refused before any work is done when it
    is missing, has an unknown extension, is the input, or exists without ``overwrite``."""
    if output is None or not str(output).strip():
        raise ConfigError("no output path given", field="output", fix="output=/path/to/out_sr.nc")
    path = Path(output).expanduser().absolute()
    fmt = output_format(path)
    if isinstance(input, (str, os.PathLike)):
        src = Path(input).expanduser().absolute()
        if src == path or (src.exists() and path.exists() and os.path.samefile(src, path)):
            raise ConfigError(
                f"output {path} is the input file",
                field="output",
                fix="write the prediction to another file, e.g. <input stem>_sr.nc",
            )
    if path.exists() and not overwrite:
        raise ConfigError(
            f"output {path} already exists",
            field="output",
            fix="choose another output path, or pass overwrite=true",
        )
    return path, fmt


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


def build_output_dataset(
    hr: np.ndarray | da.Array,
    fields: LRFields,
    scale: int,
    *,
    ckpt_units: Sequence[str],
    global_attrs: Mapping[str, Any],
    method: str,
    ckpt_attrs: Sequence[Mapping[str, Any]] = (),
) -> tuple[xr.Dataset, list[str]]:
    """The output Dataset: sample dims/coords of the input, HR grid, CF attributes.

    ``hr`` (N, C, H, W) may be a dask array (streaming predict, one block per field).
    Each variable carries the input's attributes; a CF name the input lacks
    (:data:`CF_NAME_ATTRS`) comes from the checkpoint's training data (``ckpt_attrs``,
    ``ckpt_units``), and one still missing is listed in the returned notes (the
    result's warnings), since a file without them is hard to use in CF tools.
    """
    coords, dropped = hr_coords(fields, scale)
    H, W = hr.shape[-2:]
    dims = (*fields.sample_dims, fields.ydim, fields.xdim)
    data_vars = {}
    notes = [f"dropped coordinate(s) on the LR grid: {dropped}"] if dropped else []
    for c, name in enumerate(fields.variables):
        src = fields.var_attrs[c]
        attrs = {k: v for k, v in src.items() if k not in _PACKING_ATTRS}
        trained = dict(ckpt_attrs[c]) if c < len(ckpt_attrs) else {}
        if c < len(ckpt_units) and ckpt_units[c]:
            trained.setdefault("units", ckpt_units[c])
        attrs, missing = _with_cf_names(attrs, trained)
        if missing:
            notes.append(
                f"variable {name!r} has no {' and no '.join(missing)} in the input nor in the "
                "checkpoint's training data: the output carries none; add them to the "
                "input (CF attributes) so tools can identify the variable"
            )
        attrs["oceansr_method"] = method
        arr = hr[:, c].reshape(*fields.sample_shape, H, W)
        data_vars[name] = xr.Variable(dims, arr, _clean_attrs(attrs))
    ds = xr.Dataset(data_vars, coords=coords, attrs=_clean_attrs(global_attrs))
    return ds, notes


def _with_cf_names(
    attrs: Mapping[str, Any], trained: Mapping[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``attrs`` completed with the training data's CF names where it has none, and
    what neither gives: ``units``, or a name (``long_name`` or ``standard_name``: one
    identifies the variable)."""
    out = dict(attrs)
    for key in CF_NAME_ATTRS:
        if not str(out.get(key) or "").strip() and str(trained.get(key) or "").strip():
            out[key] = str(trained[key])
    missing = [] if str(out.get("units") or "").strip() else ["units"]
    if not any(str(out.get(k) or "").strip() for k in ("long_name", "standard_name")):
        missing.append("long_name or standard_name")
    return out, missing


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
                    field="output",
                    fix="choose another output path, or pass overwrite=true",
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
