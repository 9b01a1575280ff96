"""The grid rules every reader of a gridded file shares (numpy + xarray, no torch).

How a NetCDF file, Zarr store or Dataset is opened (CF decoding, one lazy dataset for
many files), where latitude / longitude are (1-D regular or 2-D curvilinear, found from
CF attributes and names), how ``sel``/``isel`` and the train/valid/test split select
samples, which variables can be a grid, and how coordinate values are written. Training
(:mod:`oceansr.data.xarray_source`, :mod:`oceansr.data.lazy.plan`), LR inputs for
predict (:mod:`oceansr.data.lr_input`), masks and dataset descriptions
(:mod:`oceansr.data.describe`) all go through these rules, so one file is read alike
everywhere and gives the same errors.

Errors name the Hydra field at fault (``data.path``, ``data.variables``,
``data.split.train``, ...) and say how to fix it; :func:`relabel` renames those fields
for callers outside a training config.
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceansr.core.errors import (
    ConfigError,
    DataInvalidError,
    DataNotFoundError,
    OceanSRError,
    ShapeMismatchError,
)
from oceansr.data.stores import check_openable, expand_paths, is_zarr_store, open_many
from oceansr.runs.protocol import SPLITS

_LAT_UNITS = {"degrees_north", "degree_north", "degree_n", "degrees_n", "degreen", "degreesn"}
_LON_UNITS = {"degrees_east", "degree_east", "degree_e", "degrees_e", "degreee", "degreese"}
_LAT_NAMES = {"lat", "latitude", "nav_lat", "lats", "gphit", "xlat", "lat_rho", "latt", "tlat"}
_LON_NAMES = {"lon", "longitude", "nav_lon", "lons", "glamt", "xlong", "lon_rho", "lont", "tlon"}
_LAT_NAME_RE = re.compile(r"^(y|yh|yq|yt|yu|yv|yc|y_?rho|yt_ocean|yu_ocean|yax.*|lat.*|nav_lat.*)$")
_LON_NAME_RE = re.compile(r"^(x|xh|xq|xt|xu|xv|xc|x_?rho|xt_ocean|xu_ocean|xax.*|lon.*|nav_lon.*)$")
_MAX_LIST = 12


def short_list(values: Sequence[Any], n: int = _MAX_LIST) -> str:
    """``[a, b, ... (N in all)]``: error messages name what exists without flooding."""
    values = list(values)
    text = ", ".join(str(v) for v in values[:n])
    if len(values) > n:
        text += f", ... ({len(values)} in all)"
    return f"[{text}]"


def plain(obj: Any) -> Any:
    """OmegaConf containers (or any mapping / sequence) as plain dict / list, so the
    rules below see one kind of mapping whatever the caller (Hydra, MCP, Python)."""
    if isinstance(obj, Mapping):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (str, bytes)):
        return obj
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (Sequence, set)):
        return [plain(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- opening


def open_source(
    source: Any,
    decode_times: bool = True,
    chunks: dict[str, int] | None = None,
    use_dask: bool = True,
) -> tuple[xr.Dataset, str, bool]:
    """Open a NetCDF file, Zarr store, directory, glob or list (or pass a Dataset through).

    Returns ``(dataset, description, opened_here)``, lazy, metadata only; close the
    dataset when ``opened_here``. Errors name ``data.path`` / ``data.decode_times``
    (undecodable year-0000 time axes are the common case). ``use_dask=False`` opens one
    file or store with xarray's own lazy indexing instead of dask arrays (when
    ``chunks`` is None): a window then costs one read of the chunks under it, without
    building and scheduling a dask graph, ten times cheaper for a training patch
    (docs/architecture.md, data). Globs and lists always need dask to be combined.
    """
    if isinstance(source, xr.Dataset):
        return source, "in-memory xarray.Dataset", False
    if isinstance(source, xr.DataArray):
        name = source.name if source.name is not None else "field"
        return source.to_dataset(name=name), "in-memory xarray.DataArray", False
    if source is None or str(source).strip() in ("", "???"):
        raise ConfigError(
            "no data path given",
            field="data.path",
            fix="set data.path=/path/to/file.nc (a NetCDF file or a .zarr store)",
        )
    many = expand_paths(source)
    if many is not None:
        ds, description = open_many(many, decode_times, chunks)
        return ds, description, True
    path = Path(str(source)).expanduser()
    check_openable(path)  # a FIFO or device would block open() (stores.check_openable)
    if not path.exists():
        parent = path.parent
        hint = ""
        if parent.is_dir():
            near = sorted(p.name for p in parent.iterdir() if p.suffix in (".nc", ".zarr", ".nc4"))
            if near:
                hint = f"; NetCDF/Zarr in {parent}: {short_list(near)}"
        raise DataNotFoundError(
            f"data path does not exist: {path}{hint}",
            field="data.path",
            fix="point data.path at an existing NetCDF file or Zarr store, "
            "e.g. data.path=/abs/path/to/file.nc",
        )
    is_zarr = is_zarr_store(path)
    lazy_chunks: dict[str, int] | None = {} if chunks is None else chunks
    if chunks is None and not use_dask:
        lazy_chunks = None
    try:
        with warnings.catch_warnings():
            # consolidated=None falls back to unconsolidated metadata with a RuntimeWarning.
            warnings.simplefilter("ignore", RuntimeWarning)
            if is_zarr:
                ds = xr.open_zarr(
                    path, consolidated=None, decode_times=decode_times, chunks=lazy_chunks
                )
            else:
                ds = xr.open_dataset(path, decode_times=decode_times, chunks=lazy_chunks)
    except ValueError as exc:
        if decode_times and re.search(r"time|calendar|date", str(exc), re.IGNORECASE):
            raise DataInvalidError(
                f"cannot decode the time axis of {path}: {exc}",
                field="data.decode_times",
                fix="open it with raw time numbers: data.decode_times=false "
                "(typical of Ferret/Levitus climatologies with year-0000 time axes)",
            ) from exc
        raise DataInvalidError(
            f"cannot open {path} as {'a Zarr store' if is_zarr else 'NetCDF'}: {exc}",
            field="data.path",
            fix="give a readable NetCDF file (.nc) or Zarr store (.zarr directory) in data.path",
        ) from exc
    except (OSError, KeyError, TypeError, RuntimeError) as exc:
        raise DataInvalidError(
            f"cannot open {path} as {'a Zarr store' if is_zarr else 'NetCDF'}: {exc}",
            field="data.path",
            fix="give a readable NetCDF file (.nc) or Zarr store (.zarr directory) in data.path",
        ) from exc
    return ds, f"{'zarr' if is_zarr else 'netcdf'}:{path}", True


# --------------------------------------------------------------------------- lat / lon


def _attr(var: xr.DataArray, key: str) -> str:
    """A CF attribute lower-cased for comparison ("" when absent)."""
    value = var.attrs.get(key, "")
    return str(value).strip().lower() if value is not None else ""


def coord_score(name: Hashable, var: xr.DataArray, kind: str) -> int:
    """How strongly ``var`` looks like latitude (kind 'lat') or longitude ('lon'); 0 = not.

    CF ``standard_name`` beats ``units``, which beat ``axis``, then known names, then
    name patterns: files from many producers name the same thing differently.
    """
    std_name = "latitude" if kind == "lat" else "longitude"
    units = _LAT_UNITS if kind == "lat" else _LON_UNITS
    axis = "y" if kind == "lat" else "x"
    names = _LAT_NAMES if kind == "lat" else _LON_NAMES
    name_re = _LAT_NAME_RE if kind == "lat" else _LON_NAME_RE
    lname = str(name).lower()
    if _attr(var, "standard_name") in (std_name, f"grid_{std_name}"):
        return 5
    if _attr(var, "units").replace(" ", "_") in units:
        return 4
    if _attr(var, "axis") == axis:
        return 3
    if lname in names:
        return 2
    if name_re.match(lname):
        return 1
    return 0


def is_degrees(var: xr.DataArray) -> bool:
    """True when ``var`` has degree units (or none): projected x/y in metres are not lat/lon."""
    units = _attr(var, "units")
    return units == "" or units.startswith("degree") or units in ("deg", "degs")


def coordinate_kind(name: Hashable, var: xr.DataArray) -> str | None:
    """``"lat"`` / ``"lon"`` when ``var`` is clearly a latitude / longitude in degrees."""
    for kind in ("lat", "lon"):
        if coord_score(name, var, kind) >= 4 and is_degrees(var):
            return kind
    return None


def _find_coord(
    ds: xr.Dataset, kind: str, explicit: str | None, var_dims: tuple[Hashable, ...], skip: set
) -> Hashable | None:
    """The named (checked) or best-scoring lat/lon coordinate on the data's grid, or None."""
    field = "data.lat_name" if kind == "lat" else "data.lon_name"
    if explicit:
        if explicit not in ds.variables:
            cands = [str(n) for n in ds.variables if n not in skip]
            raise DataNotFoundError(
                f"{kind} coordinate {explicit!r} not found; variables/coords: {short_list(cands)}",
                field=field,
                fix=f"set {field}=<one of those names>, or {field}=null to detect it",
            )
        var = ds.variables[explicit]
        if var.ndim not in (1, 2) or not set(var.dims) <= set(var_dims):
            raise ShapeMismatchError(
                f"{kind} coordinate {explicit!r} has dims {var.dims}, which are not 1 or 2 "
                f"of the data dims {var_dims}",
                field=field,
                fix=f"name a {kind} coordinate on the data's grid, or {field}=null",
            )
        return explicit
    best, best_score = None, 0
    for name in ds.variables:
        if name in skip:
            continue
        candidate = ds[name]
        if candidate.ndim not in (1, 2) or not set(candidate.dims) <= set(var_dims):
            continue
        if not np.issubdtype(candidate.dtype, np.number):
            continue
        score = coord_score(name, candidate, kind)
        # Prefer a dimension coordinate over an auxiliary one at equal score.
        if score and (score, name in ds.dims) > (best_score, best in ds.dims):
            best, best_score = name, score
    return best


def spatial_layout(
    ds: xr.Dataset,
    var_dims: Sequence[Hashable],
    variables: Sequence[str] = (),
    lat_name: str | None = None,
    lon_name: str | None = None,
) -> tuple[Hashable, Hashable, Hashable | None, Hashable | None]:
    """``(ydim, xdim, lat_name, lon_name)`` of variables with dims ``var_dims``.

    lat / lon are the detected (or given) coordinate names, ``None`` when not found;
    without coordinates the last two dims are the grid. ``variables`` are never taken
    for coordinates.
    """
    var_dims = tuple(var_dims)
    skip = set(variables)
    lat = _find_coord(ds, "lat", lat_name, var_dims, skip)
    lon = _find_coord(ds, "lon", lon_name, var_dims, skip | ({lat} if lat else set()))
    latv = ds[lat] if lat is not None else None
    lonv = ds[lon] if lon is not None else None
    if latv is not None and lonv is not None:
        if latv.ndim == 1 and lonv.ndim == 1 and latv.dims[0] != lonv.dims[0]:
            return latv.dims[0], lonv.dims[0], lat, lon
        if latv.ndim == 2 and lonv.ndim == 2 and set(latv.dims) == set(lonv.dims):
            ydim, xdim = (d for d in var_dims if d in latv.dims)
            return ydim, xdim, lat, lon
        if lat_name or lon_name:
            raise ShapeMismatchError(
                f"latitude {lat!r} {latv.dims} and longitude {lon!r} {lonv.dims} do not "
                "describe one 2-D grid (need two 1-D coords on different dims, or two 2-D "
                "coords on the same two dims)",
                field="data.lat_name" if lat_name else "data.lon_name",
                fix="name matching coordinates with data.lat_name=... data.lon_name=...",
            )
    # Only one usable coordinate: keep it if 1-D, and take the last other dim for the rest.
    if latv is not None and latv.ndim == 1 and (lonv is None or lonv.ndim != 1):
        ydim = latv.dims[0]
        xdim = next(d for d in reversed(var_dims) if d != ydim)
        return ydim, xdim, lat, None
    if lonv is not None and lonv.ndim == 1 and (latv is None or latv.ndim != 1):
        xdim = lonv.dims[0]
        ydim = next(d for d in reversed(var_dims) if d != xdim)
        return ydim, xdim, None, lon
    return var_dims[-2], var_dims[-1], None, None


# --------------------------------------------------------------------------- labels


def format_coord_value(v: Any) -> str:
    """One coordinate value as text (ISO times, plain ints, round-trip floats), the same
    in sample labels, split errors and dataset descriptions."""
    if isinstance(v, np.datetime64):
        return str(np.datetime_as_string(v, unit="s"))
    if isinstance(v, np.timedelta64):
        return str(v)
    if isinstance(v, (np.integer, int)):
        return str(int(v))
    if isinstance(v, (np.floating, float)):
        return repr(float(v))
    if hasattr(v, "isoformat"):
        return v.isoformat()
    if isinstance(v, bytes):
        return v.decode(errors="replace")
    return str(v)


def dim_values(ds: xr.Dataset, dim: Hashable) -> list[Any]:
    """The coordinate values along ``dim``, or its positions when it has no coordinate."""
    if dim in ds.coords and ds[dim].ndim == 1:
        return list(ds[dim].values)
    return list(range(ds.sizes[dim]))


# --------------------------------------------------------------------------- selection


def apply_selection(ds: xr.Dataset, sel: Any = None, isel: Any = None) -> xr.Dataset:
    """Apply ``isel`` then ``sel`` (dim -> value(s); ``{start, stop}`` dicts are slices),
    with errors naming ``data.sel`` / ``data.isel`` and what is available."""
    for key, spec in (("isel", isel), ("sel", sel)):
        if spec is None:
            continue
        spec = plain(spec)
        if not isinstance(spec, dict):
            raise ConfigError(
                f"data.{key} must be a mapping dim -> value(s), got {spec!r}",
                field=f"data.{key}",
                fix=f"e.g. data.{key}={{depth: [0, 10, 20]}} or data.{key}=null",
            )
        indexers: dict[Hashable, Any] = {}
        for dim, value in spec.items():
            if dim not in ds.dims:
                raise ConfigError(
                    f"data.{key} names dim {dim!r}, which the data do not have; "
                    f"dims: {short_list(list(ds.dims))}",
                    field=f"data.{key}",
                    fix=f"use one of those dims in data.{key}, or data.{key}=null",
                )
            if isinstance(value, dict) and set(value) <= {"start", "stop", "step"}:
                value = slice(value.get("start"), value.get("stop"), value.get("step"))
            indexers[dim] = value
        try:
            ds = ds.isel(indexers) if key == "isel" else ds.sel(indexers)
        except (KeyError, IndexError, ValueError, TypeError) as exc:
            dims = list(indexers)
            avail = "; ".join(f"{d}: {short_list(dim_values(ds, d))}" for d in dims)
            raise DataInvalidError(
                f"data.{key}={spec} does not select from the data ({exc}); available {avail}",
                field=f"data.{key}",
                fix=f"use existing {'indices' if key == 'isel' else 'labels'} in data.{key}",
            ) from exc
    return ds


def _split_positions(ds: xr.Dataset, dim: Hashable, by: str, name: str, spec: Any) -> np.ndarray:
    """Integer positions along ``dim`` selected by one split spec."""
    field = f"data.split.{name}"
    n = ds.sizes[dim]
    values = dim_values(ds, dim)
    spec = plain(spec)
    if spec is None:
        spec = []
    if isinstance(spec, dict):
        unknown = set(spec) - {"start", "stop", "step"}
        if unknown:
            raise ConfigError(
                f"{field} has unknown keys {sorted(unknown)}",
                field=field,
                fix=f"use a list or a range, e.g. {field}='{{start: a, stop: b}}'",
            )
        spec = slice(spec.get("start"), spec.get("stop"), spec.get("step"))
    elif not isinstance(spec, list):
        spec = [spec]
    pos_da = xr.DataArray(np.arange(n), dims=(dim,))
    if dim in ds.coords:
        pos_da = pos_da.assign_coords({dim: ds[dim]})
    try:
        if by == "index":
            if isinstance(spec, list) and any(
                isinstance(i, bool) or not isinstance(i, (int, np.integer)) for i in spec
            ):
                raise TypeError(f"indices must be integers, got {spec}")
            picked = pos_da.isel({dim: spec})
        else:
            if dim not in ds.indexes:
                raise ConfigError(
                    f"split dim {dim!r} has no coordinate labels to select by",
                    field="data.split.by",
                    fix="select by position instead: data.split.by=index",
                )
            picked = pos_da.sel({dim: spec})
    except ConfigError:
        raise
    except (KeyError, IndexError, ValueError, TypeError) as exc:
        what = f"indices 0..{n - 1}" if by == "index" else f"labels {short_list(values)}"
        raise DataInvalidError(
            f"{field}={spec} does not select from dim {dim!r} ({exc}); available {what}",
            field=field,
            fix=f"use existing {'indices' if by == 'index' else 'labels'} of {dim!r} in {field}",
        ) from exc
    positions = np.atleast_1d(np.asarray(picked.values, dtype=np.int64))
    if positions.size == 0:
        first, last = format_coord_value(values[0]), format_coord_value(values[-1])
        rng = f"0..{n - 1}" if by == "index" else f"{first}..{last}"
        example = "{start: 0, stop: 2}" if by == "index" else f"{{start: {first}, stop: {last}}}"
        raise DataInvalidError(
            f"split {name!r} selects no sample along {dim!r} (by {by}, spec {spec}); "
            f"available {'indices' if by == 'index' else 'labels'}: {rng}",
            field=field,
            fix=f"select at least one, e.g. {field}='{example}' (python slice when by=index, "
            "inclusive label range when by=label)",
        )
    return positions


def split_positions(
    ds: xr.Dataset, split: Any, sample_dims: list[Hashable], spatial: tuple
) -> tuple[str, str, dict[str, np.ndarray]]:
    """The split dim, how splits select (``label``/``index``) and each split's positions
    along it, for the in-memory and the lazy paths alike; overlapping splits are a
    DataInvalidError naming the later one."""
    split_dim, by = _parse_split(split, sample_dims, spatial)
    positions = {name: _split_positions(ds, split_dim, by, name, split[name]) for name in SPLITS}
    values = dim_values(ds, split_dim)
    for a, b in itertools.combinations(SPLITS, 2):
        common = np.intersect1d(positions[a], positions[b])
        if common.size:
            labels = [f"{split_dim}={format_coord_value(values[i])}" for i in common]
            raise DataInvalidError(
                f"splits {a!r} and {b!r} overlap on {short_list(labels)}",
                field=f"data.split.{b}",
                fix=f"make data.split.{a} and data.split.{b} disjoint",
            )
    return split_dim, by, positions


def _parse_split(split: Any, sample_dims: list[Hashable], spatial: tuple) -> tuple[str, str]:
    """The split dim and how it selects, checked against the data's sample dims."""
    split = plain(split)
    if not isinstance(split, dict):
        raise ConfigError(
            f"data.split must be a mapping with dim, by, train, valid, test; got {split!r}",
            field="data.split",
            fix="e.g. data.split='{dim: time, by: index, train: {start: 0, stop: 8}, "
            "valid: {start: 8, stop: 10}, test: {start: 10, stop: 12}}'",
        )
    dim = split.get("dim")
    by = split.get("by", "label") or "label"
    if by not in ("label", "index"):
        raise ConfigError(
            f"data.split.by must be 'label' or 'index', got {by!r}",
            field="data.split.by",
            fix="data.split.by=label (coordinate values) or data.split.by=index (positions)",
        )
    if dim not in sample_dims:
        extra = f" ({dim!r} is a spatial dim)" if dim in spatial else ""
        raise ConfigError(
            f"split dim {dim!r} is not a sample dim of the data{extra}; sample dims: "
            f"{short_list([str(d) for d in sample_dims])}",
            field="data.split.dim",
            fix=(
                f"data.split.dim={sample_dims[0]}"
                if sample_dims
                else "the data have a single 2-D field: add a sample dim (e.g. time)"
            ),
        )
    missing = [s for s in SPLITS if s not in split]
    if missing:
        raise ConfigError(
            f"data.split lacks {missing}",
            field=f"data.split.{missing[0]}",
            fix=f"give data.split.{missing[0]}=[...] (labels/indices) or '{{start: a, stop: b}}'",
        )
    return str(dim) if not isinstance(dim, str) else dim, by


# --------------------------------------------------------------------------- variables and grid


def check_variables(ds: xr.Dataset, variables: list[str]) -> None:
    """The variables exist, are floating point, share their dims and form a 2-D grid.
    Shared by training loads and LR inputs (:mod:`oceansr.data.lr_input` relabels the
    fields)."""
    available = [str(v) for v in ds.data_vars]
    missing = [v for v in variables if v not in ds.data_vars]
    if missing:
        raise DataNotFoundError(
            f"variable(s) {missing} not in the data; available data variables: "
            f"{short_list(available, 40)}",
            field="data.variables",
            fix=f"data.variables=[{', '.join(available[:3]) or '...'}] (names from that list)",
        )
    for v in variables:
        dtype = ds[v].dtype
        if not np.issubdtype(dtype, np.floating):
            raise DataInvalidError(
                f"variable {v!r} has dtype {dtype} after decoding, not floating point",
                field="data.variables",
                fix=f"convert {v!r} to float with NaN for land (e.g. "
                f"ds['{v}'] = ds['{v}'].astype('float32').where(mask)), or add CF "
                "_FillValue/scale_factor so xarray decodes it to float",
            )
    dims0 = ds[variables[0]].dims
    for v in variables[1:]:
        if set(ds[v].dims) != set(dims0):
            raise ShapeMismatchError(
                f"variables do not share dims: {variables[0]!r} {dims0} vs {v!r} {ds[v].dims}",
                field="data.variables",
                fix="use variables on the same grid and dims, e.g. data.variables="
                f"[{variables[0]}], or make them match with data.sel/data.isel",
            )
    if len(dims0) < 2:
        raise ShapeMismatchError(
            f"variable {variables[0]!r} has dims {dims0}; need at least 2 (a 2-D grid)",
            field="data.variables",
            fix="choose gridded variables with latitude and longitude dims",
        )


@dataclass
class GridSelection:
    """The chosen variables after ``sel``/``isel``, and where their grid is."""

    ds: xr.Dataset
    ydim: Hashable
    xdim: Hashable
    lat_var: Hashable | None
    lon_var: Hashable | None
    sample_dims: list[Hashable]


def select_grid(
    ds: xr.Dataset,
    variables: list[str],
    sel: Any,
    isel: Any,
    lat_name: str | None,
    lon_name: str | None,
) -> GridSelection:
    """Find lat/lon on the full dataset (NEMO-like files keep ``nav_lat`` as a data
    variable), then apply ``isel``/``sel`` to the variables; the grid must survive it.
    Shared by training data (:func:`oceansr.data.xarray_source.load_xarray`), the lazy
    plan and LR inputs (:mod:`oceansr.data.lr_input`)."""
    dims0 = ds[variables[0]].dims
    ydim, xdim, lat_var, lon_var = spatial_layout(ds, dims0, variables, lat_name, lon_name)
    coord_names = [n for n in (lat_var, lon_var) if n is not None and n not in ds.coords]
    if coord_names:
        ds = ds.set_coords(coord_names)
    sub = apply_selection(ds[variables], sel, isel)
    dims = sub[variables[0]].dims
    for d in (ydim, xdim):
        if d not in dims:
            raise ConfigError(
                f"data.sel/data.isel removed the spatial dim {d!r}",
                field="data.sel" if sel else "data.isel",
                fix=f"select a range along {d!r} (e.g. '{{start: a, stop: b}}'), not one value",
            )
    sample_dims = [d for d in dims if d not in (ydim, xdim)]
    return GridSelection(sub, ydim, xdim, lat_var, lon_var, sample_dims)


def coord_degrees(
    ds: xr.Dataset, name: Hashable | None, ydim: Hashable, xdim: Hashable
) -> np.ndarray | None:
    """A lat/lon coordinate as float64 in (y, x) order, or None unless it is in degrees."""
    if name is None or not is_degrees(ds[name]):
        return None
    da = ds[name]
    return np.asarray(da.transpose(*[d for d in (ydim, xdim) if d in da.dims]).values, np.float64)


def stack_samples(
    grid: GridSelection, variables: list[str], ds: xr.Dataset | None = None
) -> np.ndarray:
    """(N, C, H, W) float32 of ``variables``, samples flattened in ``sample_dims`` order."""
    ds = grid.ds if ds is None else ds
    shape = [int(ds.sizes[d]) for d in grid.sample_dims]
    n, h, w = math.prod(shape), int(ds.sizes[grid.ydim]), int(ds.sizes[grid.xdim])
    out = np.empty((n, len(variables), h, w), dtype=np.float32)
    for c, v in enumerate(variables):
        arr = ds[v].transpose(*grid.sample_dims, grid.ydim, grid.xdim).values
        out[:, c] = np.asarray(arr, dtype=np.float32).reshape(n, h, w)
    return out


# --------------------------------------------------------------------------- errors

_HYDRA_FIELD_RE = re.compile(r"\bdata\.(path|variables|decode_times|sel|isel|lat_name|lon_name)\b")


def relabel(exc: OceanSRError, path_field: str = "path") -> OceanSRError:
    """The same error with Hydra field names (``data.path``) turned into argument names.

    The rules here speak Hydra (``data.sel``); callers outside a training config
    (predict, describe, masks) name their own arguments.
    """

    def rename(match: re.Match[str]) -> str:
        return path_field if match.group(1) == "path" else match.group(1)

    field = _HYDRA_FIELD_RE.sub(rename, exc.field) if exc.field else exc.field
    fix = _HYDRA_FIELD_RE.sub(rename, exc.fix) if exc.fix else exc.fix
    new = type(exc)(_HYDRA_FIELD_RE.sub(rename, exc.message), field=field, fix=fix)
    new.__cause__ = exc
    return new
