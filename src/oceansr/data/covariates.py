"""Covariates: static or land-derived fields fed to the model as extra LR input channels.

``data.covariates`` lists them (docs/architecture.md, covariates); each becomes one or two
channels appended after the ``C`` variables of the LR input, so the model maps ``C + K``
channels to ``C``. They are built on the LR grid the model sees, the same way in training
and in predict, from what predict has too (its LR input and coordinates):

- ``land_mask``: 1 where every variable of the LR field is ocean (finite), else 0. The
  ocean fraction of each block is not used: predict has only the LR input, which tells
  land (NaN) from ocean, not how much of a block was land;
- ``coast_distance``: distance from each LR cell to the nearest LR land cell (0 on land),
  great-circle km on a lat/lon grid (clipped at :data:`COAST_CLIP_KM`), LR cells when the
  grid has no geography (clipped at :data:`COAST_CLIP_CELLS`); no land at all is the clip;
- ``lat``: sin and cos of latitude (two channels); refused on a grid without latitude;
- ``{file: <path>, variable: <name>}``: a static field (e.g. bathymetry) interpolated
  linearly by latitude/longitude onto the HR grid (longitude wrapped when the file spans
  the globe), then block-averaged to LR; refused when the file does not cover the grid.

Values are raw here; the module normalises them with their own statistics (computed once
from the training split, :func:`covariate_stats`), recorded with the specs in the
checkpoint's ``covariates`` hyper-parameter (:func:`record`), from which predict rebuilds
them (:func:`from_record`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

from oceansr.config.schema import COVARIATE_CHANNELS, COVARIATE_NAMES
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError
from oceansr.data.fields import spans_globe
from oceansr.data.geodesy import geodesic_distance_to_land
from oceansr.data.grid import plain, spatial_layout
from oceansr.data.transforms import block_mean, fill_land_nearest

#: Distances to the coast beyond this are one value: the open ocean, for the model.
COAST_CLIP_KM = 1000.0
#: The same in LR cells, on a grid without coordinates.
COAST_CLIP_CELLS = 32.0
#: Example of a good ``data.covariates`` value, for error fixes.
EXAMPLE = "data.covariates=[land_mask,lat]"


@dataclass(frozen=True)
class Covariate:
    """One entry of ``data.covariates``; ``units`` is the coast distance's (km or cells),
    decided from the training grid and kept for predict."""

    kind: str
    file: str | None = None
    variable: str | None = None
    units: str | None = None

    @property
    def channels(self) -> list[str]:
        """Names of the channels this covariate adds, in order."""
        if self.kind in COVARIATE_CHANNELS:
            return list(COVARIATE_CHANNELS[self.kind])
        if self.kind == "file":
            return [f"file:{self.variable}"]
        return [self.kind]


def _bad_item(index: int, value: Any, field: str) -> ConfigError:
    where = f"{field}[{index}]"
    return ConfigError(
        f"{where}={value!r} is invalid: it must be one of {', '.join(COVARIATE_NAMES)}, "
        "or {file: <path>, variable: <name>}",
        field=where,
        fix=f"{EXAMPLE} (or {field}=[{{file:/abs/etopo.nc,variable:ROSE}}])",
    )


def parse_covariates(items: Any, field: str = "data.covariates") -> list[Covariate]:
    """``data.covariates`` as specs; a ConfigError names the bad item and the choices."""
    items = plain(items)
    if items is None:
        return []
    if isinstance(items, str) or not isinstance(items, list):
        raise ConfigError(
            f"{field}={items!r} is invalid: it must be a list",
            field=field,
            fix=EXAMPLE,
        )
    specs: list[Covariate] = []
    for i, item in enumerate(items):
        if isinstance(item, str) and item in COVARIATE_NAMES:
            spec = Covariate(item)
        elif isinstance(item, Mapping) and set(item) == {"file", "variable"}:
            path, variable = item["file"], item["variable"]
            if not (isinstance(path, str) and path and isinstance(variable, str) and variable):
                raise _bad_item(i, item, field)
            spec = Covariate("file", str(Path(path).expanduser().absolute()), variable)
        else:
            raise _bad_item(i, item, field)
        if spec in specs:
            raise ConfigError(
                f"{field}[{i}]={item!r} is listed twice",
                field=f"{field}[{i}]",
                fix="list each covariate once",
            )
        specs.append(spec)
    return specs


def channel_count(specs: Sequence[Covariate]) -> int:
    return sum(len(spec.channels) for spec in specs)


# --------------------------------------------------------------------------- the grid


def _lr_coord(hr: np.ndarray | None, scale: int, circular: bool) -> np.ndarray | None:
    """LR cell centres of an HR coordinate: the mean of each block (unwrapped longitudes)."""
    if hr is None:
        return None
    values = np.asarray(hr, dtype=np.float64)
    if circular:
        values = np.unwrap(values, period=360.0, axis=-1)
    if values.ndim == 1:
        n = values.size - values.size % scale
        return values[:n].reshape(-1, scale).mean(axis=1)
    h, w = (n - n % scale for n in values.shape)
    return block_mean(values[:h, :w], scale)


@dataclass(frozen=True)
class CovariateGrid:
    """Where covariates are built: LR centres (lat, lon), the HR centres they come from
    (for file covariates), the scale, and whether longitude closes the circle."""

    lat: np.ndarray | None
    lon: np.ndarray | None
    hr_lat: np.ndarray | None
    hr_lon: np.ndarray | None
    scale: int

    @classmethod
    def from_hr(cls, lat: np.ndarray | None, lon: np.ndarray | None, scale: int) -> CovariateGrid:
        """The grid of training data, whose HR coordinates are known."""
        return cls(_lr_coord(lat, scale, False), _lr_coord(lon, scale, True), lat, lon, scale)

    @property
    def periodic(self) -> bool:
        return spans_globe(self.lon)


# --------------------------------------------------------------------------- builders


def _ocean(lr: np.ndarray) -> np.ndarray:
    """(h, w) True where every variable of the LR field ``lr`` (C, h, w) is ocean."""
    return np.asarray(np.isfinite(lr).all(axis=0))


def coast_distance(ocean: np.ndarray, grid: CovariateGrid, units: str) -> np.ndarray:
    """Distance of each cell of ``ocean`` (h, w) to the nearest land cell, clipped.

    ``km``: great-circle distance between cell centres (a k-d tree on the unit sphere, so
    the seam and the poles need no special case); ``cells``: Euclidean in LR cells.
    """
    if units == "cells":
        if ocean.all():
            return np.full(ocean.shape, COAST_CLIP_CELLS, dtype=np.float32)
        cells = ndimage.distance_transform_edt(ocean)
        return np.minimum(cells, COAST_CLIP_CELLS).astype(np.float32)
    assert grid.lat is not None and grid.lon is not None
    lat, lon = np.asarray(grid.lat), np.asarray(grid.lon)
    if lat.ndim == 1 and lon.ndim == 1:
        lat, lon = np.meshgrid(lat, lon, indexing="ij")
    km = geodesic_distance_to_land(ocean, lat, lon)  # inf without land: the clip
    return np.minimum(km, COAST_CLIP_KM).astype(np.float32)


def latitude_channels(grid: CovariateGrid, shape: tuple[int, int]) -> np.ndarray:
    """(2, h, w): sin and cos of the LR cells' latitude."""
    assert grid.lat is not None
    lat = np.asarray(grid.lat, dtype=np.float64)
    lat = lat[:, None] if lat.ndim == 1 else lat
    rad = np.deg2rad(np.broadcast_to(lat, shape))
    return np.stack([np.sin(rad), np.cos(rad)]).astype(np.float32)


def _file_field(spec: Covariate, index: int, field: str) -> xr.DataArray:
    """The 2-D static field of a file covariate with its lat/lon coordinates named
    ``lat`` / ``lon`` (1-D, sorted); errors name ``<field>[index]``."""
    where = f"{field}[{index}]"
    path = Path(str(spec.file))
    if not path.exists():
        raise DataNotFoundError(
            f"covariate file not found: {path}",
            field=f"{where}.file",
            fix=f"point {where}.file at an existing NetCDF file (or give predict "
            f"covariates={{{spec.variable}: /new/path.nc}})",
        )
    try:
        ds = xr.open_dataset(path)
    except (OSError, ValueError) as exc:
        raise DataInvalidError(
            f"cannot open covariate file {path}: {exc}",
            field=f"{where}.file",
            fix="give a readable NetCDF file",
        ) from exc
    with ds:
        if spec.variable not in ds.data_vars:
            raise DataNotFoundError(
                f"variable {spec.variable!r} not in {path}; data variables: "
                f"{[str(v) for v in ds.data_vars]}",
                field=f"{where}.variable",
                fix=f"name one of those variables in {where}.variable",
            )
        da = ds[spec.variable]
        extra = [d for d in da.dims if da.sizes[d] == 1]
        da = da.isel({d: 0 for d in extra})
        _, _, lat, lon = spatial_layout(ds, da.dims, [str(spec.variable)])
        if da.ndim != 2 or lat is None or lon is None or ds[lat].ndim != 1 or ds[lon].ndim != 1:
            raise DataInvalidError(
                f"covariate {spec.variable!r} in {path} is not one 2-D field on 1-D "
                f"latitude/longitude coordinates (dims {da.dims})",
                field=f"{where}.variable",
                fix="give a static (lat, lon) field with CF latitude/longitude coordinates",
            )
        da = da.rename({ds[lat].dims[0]: "lat", ds[lon].dims[0]: "lon"})
        da = da.assign_coords(lat=ds[lat].values, lon=ds[lon].values).load()
    return da.sortby("lat").sortby("lon").astype(np.float64)


def _wrap_globe(da: xr.DataArray, lon: np.ndarray) -> tuple[xr.DataArray, np.ndarray]:
    """A globe-spanning field with one wrapped column on each side, and the target
    longitudes moved onto its branch, so interpolation crosses the seam."""
    lon0 = float(da.lon.values[0])
    target = (lon - lon0) % 360.0 + lon0
    left = da.isel(lon=[-1]).assign_coords(lon=da.lon.values[-1:] - 360.0)
    right = da.isel(lon=[0]).assign_coords(lon=da.lon.values[:1] + 360.0)
    return xr.concat([left, da, right], dim="lon"), target


def _check_covers(da: xr.DataArray, lat: np.ndarray, lon: np.ndarray, where: str) -> None:
    lat_lo, lat_hi = float(da.lat.min()), float(da.lat.max())
    lon_lo, lon_hi = float(da.lon.min()), float(da.lon.max())
    eps = 1e-6
    if (
        lat.min() < lat_lo - eps
        or lat.max() > lat_hi + eps
        or lon.min() < lon_lo - eps
        or lon.max() > lon_hi + eps
    ):
        raise DataInvalidError(
            f"covariate file does not cover the grid: it spans lat {lat_lo:g}..{lat_hi:g}, "
            f"lon {lon_lo:g}..{lon_hi:g}; the grid needs lat {lat.min():g}..{lat.max():g}, "
            f"lon {lon.min():g}..{lon.max():g}",
            field=where,
            fix=f"give {where} a file covering the data's region (or drop it)",
        )


def file_channel(spec: Covariate, grid: CovariateGrid, index: int, field: str) -> np.ndarray:
    """(h, w) LR field of a file covariate: linear interpolation by coordinates onto the
    HR grid, then the block mean of each LR cell."""
    where = f"{field}[{index}]"
    if grid.hr_lat is None or grid.hr_lon is None:
        raise DataInvalidError(
            "a file covariate is aligned by latitude/longitude, and the data have none",
            field=where,
            fix="give the data lat/lon coordinates (data.lat_name, data.lon_name), or drop it",
        )
    da = _file_field(spec, index, field)
    hr_lat = np.asarray(grid.hr_lat, dtype=np.float64)
    hr_lon = np.asarray(grid.hr_lon, dtype=np.float64)
    if hr_lat.ndim == 1 and hr_lon.ndim == 1:
        hr_lat, hr_lon = np.meshgrid(hr_lat, hr_lon, indexing="ij")
    if spans_globe(da.lon.values):
        da, hr_lon = _wrap_globe(da, hr_lon)
    _check_covers(da, hr_lat, hr_lon, where)
    at = {
        "lat": xr.DataArray(hr_lat, dims=("y", "x")),
        "lon": xr.DataArray(hr_lon, dims=("y", "x")),
    }
    hr = da.interp(at, method="linear").values.astype(np.float32)
    if not np.isfinite(hr).any():
        raise DataInvalidError(
            f"covariate {spec.variable!r} has no value on the grid",
            field=where,
            fix="give a field with values over the data's region",
        )
    hr = fill_land_nearest(hr[None, None])[0, 0] if not np.isfinite(hr).all() else hr
    lr: np.ndarray = block_mean(hr, grid.scale)
    return lr.astype(np.float32)


def resolve(specs: Sequence[Covariate], grid: CovariateGrid, field: str) -> list[Covariate]:
    """The specs checked against the training grid, the coast distance's units decided:
    ``lat`` needs latitude (else a DataInvalidError naming the item)."""
    out = []
    for i, spec in enumerate(specs):
        if spec.kind == "lat" and grid.lat is None:
            raise DataInvalidError(
                "covariate lat needs latitude, and the data have none",
                field=f"{field}[{i}]",
                fix="give the data a latitude coordinate (data.lat_name=...) or drop lat",
            )
        if spec.kind == "coast_distance" and spec.units is None:
            has_geo = grid.lat is not None and grid.lon is not None
            spec = replace(spec, units="km" if has_geo else "cells")
        out.append(spec)
    return out


class CovariateBuilder:
    """Builds the ``(K, h, w)`` covariates of LR fields on one grid.

    Static channels (latitude, files) are made once; land-derived ones again only when
    the land mask changes from the previous field (fields of a series usually share
    one). Only the last mask's are kept, so streaming predict stays flat in memory
    whatever the number of fields.
    """

    def __init__(
        self, specs: Sequence[Covariate], grid: CovariateGrid, field: str = "data.covariates"
    ) -> None:
        self.specs = list(specs)
        self.grid = grid
        self.field = field
        self._static: dict[int, np.ndarray] = {}
        self._last: tuple[bytes, np.ndarray] | None = None
        for i, spec in enumerate(self.specs):
            no_geo = grid.lat is None or grid.lon is None
            if spec.kind == "coast_distance" and spec.units == "km" and no_geo:
                raise DataInvalidError(
                    "covariate coast_distance was trained in km on a lat/lon grid, and "
                    "this input has no latitude/longitude",
                    field=f"{field}[{i}]",
                    fix="give the input lat/lon coordinates (lat_name=..., lon_name=...)",
                )
            if spec.kind == "lat" and grid.lat is None:
                raise DataInvalidError(
                    "covariate lat needs latitude, and the input has none",
                    field=f"{field}[{i}]",
                    fix="give the input a latitude coordinate (lat_name=...)",
                )
            if spec.kind == "file":
                self._static[i] = file_channel(spec, grid, i, field)[None]

    @property
    def channels(self) -> int:
        return channel_count(self.specs)

    def field_covariates(self, lr: np.ndarray) -> np.ndarray:
        """``(K, h, w)`` float32 covariates of one LR field ``lr`` (C, h, w), NaN = land."""
        ocean = _ocean(lr)
        key = np.packbits(ocean).tobytes() + bytes(str(ocean.shape), "ascii")
        if self._last is not None and self._last[0] == key:
            return self._last[1]
        parts = []
        for i, spec in enumerate(self.specs):
            if spec.kind == "land_mask":
                parts.append(ocean.astype(np.float32)[None])
            elif spec.kind == "coast_distance":
                parts.append(coast_distance(ocean, self.grid, str(spec.units))[None])
            elif spec.kind == "lat":
                parts.append(latitude_channels(self.grid, ocean.shape))
            else:
                parts.append(self._static[i])
        out = np.concatenate(parts).astype(np.float32)
        self._last = (key, out)
        return out

    def build(self, lr: np.ndarray) -> np.ndarray:
        """``(N, K, h, w)`` covariates of LR fields ``lr`` (N, C, h, w)."""
        return np.stack([self.field_covariates(field) for field in lr])


# --------------------------------------------------------------------------- statistics


def covariate_stats(cov: np.ndarray) -> tuple[list[float], list[float]]:
    """Mean and std of each covariate channel of ``cov`` (N, K, h, w) over all cells
    (covariates have no land); a constant channel gets std 1 (no division by zero)."""
    values = cov.astype(np.float64)
    mean = values.mean(axis=(0, 2, 3))
    std = values.std(axis=(0, 2, 3))
    return [float(v) for v in mean], [float(v) if v > 1e-12 else 1.0 for v in std]


def record(specs: Sequence[Covariate], mean: Sequence[float], std: Sequence[float]) -> list:
    """The checkpoint's ``covariates`` hyper-parameter: each spec with its channels'
    statistics (plain types, so the torch-free header reader can read it)."""
    out, k = [], 0
    for spec in specs:
        n = len(spec.channels)
        item: dict[str, Any] = {"kind": spec.kind, "channels": spec.channels}
        if spec.kind == "file":
            item.update(file=spec.file, variable=spec.variable)
        if spec.units is not None:
            item["units"] = spec.units
        item["mean"] = [float(v) for v in mean[k : k + n]]
        item["std"] = [float(v) for v in std[k : k + n]]
        out.append(item)
        k += n
    return out


def from_record(
    recorded: Sequence[Mapping[str, Any]] | None,
    files: Mapping[str, str] | str | None = None,
) -> tuple[list[Covariate], list[float], list[float]]:
    """Specs and statistics from a checkpoint's ``covariates`` (empty for old ones).

    ``files`` replaces the recorded file of file covariates: a mapping from the recorded
    variable name to a path, or one path when the checkpoint has one file covariate.
    """
    specs: list[Covariate] = []
    mean: list[float] = []
    std: list[float] = []
    file_specs = [dict(item) for item in recorded or [] if item.get("kind") == "file"]
    if isinstance(files, str) and len(file_specs) != 1:
        raise ConfigError(
            f"covariates={files!r} is one path, and the checkpoint has "
            f"{len(file_specs)} file covariates",
            field="covariates",
            fix="covariates={<variable>: <path>, ...} naming each recorded variable",
        )
    if isinstance(files, Mapping):
        unknown = sorted(set(files) - {str(item["variable"]) for item in file_specs})
        if unknown:
            raise ConfigError(
                f"covariates names {unknown}, which are not file covariates of the checkpoint "
                f"({[item['variable'] for item in file_specs]})",
                field="covariates",
                fix="covariates={<recorded variable>: <path>}",
            )
    for item in recorded or []:
        path = item.get("file")
        if item.get("kind") == "file" and files is not None:
            path = files if isinstance(files, str) else files.get(str(item["variable"]), path)
        specs.append(Covariate(str(item["kind"]), path, item.get("variable"), item.get("units")))
        mean.extend(float(v) for v in item["mean"])
        std.extend(float(v) for v in item["std"])
    return specs, mean, std


def check_request(items: Any, lazy: bool, field: str = "data.covariates") -> list[Covariate]:
    """Checks that need no data, before a training is spawned: the items, their files
    exist, and the in-memory path (the lazy one does not build covariates yet)."""
    specs = parse_covariates(items, field)
    for i, spec in enumerate(specs):
        if spec.kind == "file" and not Path(str(spec.file)).exists():
            raise DataNotFoundError(
                f"covariate file not found: {spec.file}",
                field=f"{field}[{i}].file",
                fix=f"point {field}[{i}].file at an existing NetCDF file",
            )
    if specs and lazy:
        raise ConfigError(
            f"{field} are built on the in-memory path only, and these data are read from "
            "disk (data.cache=lazy, or auto on more than 1 GiB)",
            field=field,
            fix=f"data.cache=memory (if the fields fit in memory), or {field}=[]",
        )
    return specs
