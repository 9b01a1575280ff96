"""The low-resolution fields :mod:`oceansr.predict` super-resolves, read from a NetCDF
file, Zarr store or Dataset (numpy + xarray, no torch: the control plane checks an
input's grid before it spawns a prediction).

:func:`open_lr_fields` reads ``variables`` as ``(N, C, h, w)`` with everything needed to
rebuild an output file on the HR grid (non-spatial dims and coordinates, lat/lon,
attributes), eagerly or lazily for streaming predict. It reads through the grid rules
of :mod:`oceansr.data.grid`, as training does, and its errors name predict's arguments
(``input_path``, ``variables``, ``sel``...), not Hydra fields.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from oceansr.core.errors import ConfigError, DataInvalidError, OceanSRError
from oceansr.data.grid import (
    check_variables,
    coord_degrees,
    dim_values,
    open_source,
    plain,
    relabel,
    select_grid,
    stack_samples,
)
from oceansr.data.labels import dim_units, sample_label
from oceansr.data.lazy.lr_reader import LazyFields


@dataclass
class LRFields:
    """Low-resolution fields read for prediction, with what is needed to write the output.

    Attributes:
        data: float32 ``(N, C, h, w)``, NaN = land; ``N`` runs over the sample dims in
            C order (the last sample dim fastest), ``C`` over ``variables``.
        variables: channel names.
        units: ``units`` attribute of each variable ("" when absent).
        var_attrs: all attributes of each variable (units, long_name, standard_name...).
        sample_dims: the non-spatial dims, in the variables' order.
        sample_shape: their sizes (``prod(sample_shape) == N``; ``()`` for one 2-D field).
        ydim, xdim: the spatial dims (rows, columns of ``data``).
        lat_name, lon_name: detected latitude / longitude coordinates (None if none).
        lat, lon: their values, 1-D ``(h,)`` / ``(w,)`` or 2-D ``(h, w)``, in degrees;
            None when absent or not in degrees.
        coords: every coordinate of the selection, loaded into memory (sample coords with
            their encoding, lat/lon, any other coordinate), to rebuild an output dataset.
        attrs: global attributes of the source.
        source: short description of the source (``netcdf:/path/file.nc``).
        path: the file path, or None for an in-memory Dataset.
        labels: one label per sample, e.g. ``"time=2000-01-01T00:00:00 depth=10.0"``.
    """

    data: np.ndarray | LazyFields
    variables: list[str]
    units: list[str]
    var_attrs: list[dict[str, Any]]
    sample_dims: list[Hashable]
    sample_shape: tuple[int, ...]
    ydim: Hashable
    xdim: Hashable
    lat_name: Hashable | None
    lon_name: Hashable | None
    lat: np.ndarray | None
    lon: np.ndarray | None
    coords: xr.Dataset
    attrs: dict[str, Any]
    source: str
    path: str | None
    labels: list[str]
    #: The open source behind lazy ``data`` (``open_lr_fields(lazy=True)``), else None.
    handle: Any = None

    @property
    def n_fields(self) -> int:
        return int(self.data.shape[0])

    @property
    def height(self) -> int:
        return int(self.data.shape[-2])

    @property
    def width(self) -> int:
        return int(self.data.shape[-1])

    @property
    def grid_kind(self) -> str:
        """``"rectilinear"`` (1-D lat/lon), ``"curvilinear"`` (2-D) or ``"index"`` (none)."""
        if self.lat is not None and self.lat.ndim == 2:
            return "curvilinear"
        if self.lat is not None or self.lon is not None:
            return "rectilinear"
        return "index"

    def close(self) -> None:
        """Close the source a lazy read keeps open (nothing to do for eager fields)."""
        if self.handle is not None:
            self.handle.close()
            self.handle = None


def _as_names(variables: Any) -> list[str]:
    variables = plain(variables)
    if isinstance(variables, str):
        variables = [variables]
    if not variables:
        raise ConfigError(
            "no variables given", field="variables", fix="name the variables, e.g. ['temp']"
        )
    return [str(v) for v in variables]


def open_lr_fields(
    path_or_ds: str | Path | xr.Dataset,
    variables: str | Sequence[str],
    *,
    sel: Mapping[str, Any] | None = None,
    isel: Mapping[str, Any] | None = None,
    decode_times: bool = True,
    lat_name: str | None = None,
    lon_name: str | None = None,
    path_field: str = "input_path",
    lazy: bool = False,
) -> LRFields:
    """Read ``variables`` from a NetCDF file, Zarr store or Dataset as ``(N, C, h, w)``.

    Args:
        path_or_ds: NetCDF file, Zarr store (``.zarr`` or directory) or ``xr.Dataset``.
        variables: data variable name(s), all on the same dims; they become channels.
        sel, isel: dim -> value(s) applied first (``{"depth": [0, 10]}``; a
            ``{"start", "stop"}`` dict is a slice), as in the training config.
        decode_times: passed to xarray (False for year-0000 climatology axes).
        lat_name, lon_name: coordinate names, detected from CF attributes when None.
        path_field: argument name reported in errors about the path.

    Every dim other than the two spatial ones is a sample dim. Land is NaN; samples
    that are entirely NaN are kept (predict writes them as NaN). ``lazy``: ``data`` is
    a :class:`~oceansr.data.lazy.lr_reader.LazyFields` reading fields when sliced, and the
    source stays open until :meth:`LRFields.close` (streaming predict).
    """
    names = _as_names(variables)
    try:
        ds, description, opened = open_source(path_or_ds, decode_times)
    except OceanSRError as exc:
        raise relabel(exc, path_field) from exc
    try:
        fields = _read_fields(
            ds, description, names, sel, isel, lat_name, lon_name, path_or_ds, path_field, lazy
        )
    except OceanSRError as exc:
        if opened:
            ds.close()
        raise relabel(exc, path_field) from exc
    except BaseException:
        if opened:
            ds.close()
        raise
    if lazy and opened:
        fields.handle = ds
    elif opened:
        ds.close()
    return fields


def _read_fields(
    ds: xr.Dataset,
    description: str,
    variables: list[str],
    sel: Any,
    isel: Any,
    lat_name: str | None,
    lon_name: str | None,
    source: Any,
    path_field: str,
    lazy: bool = False,
) -> LRFields:
    check_variables(ds, variables)
    attrs = dict(ds.attrs)
    grid = select_grid(ds, variables, sel, isel, lat_name, lon_name)
    sub, ydim, xdim, sample_dims = grid.ds, grid.ydim, grid.xdim, grid.sample_dims
    lat_var, lon_var = grid.lat_var, grid.lon_var
    sample_shape = tuple(int(sub.sizes[d]) for d in sample_dims)
    n = math.prod(sample_shape)
    h, w = int(sub.sizes[ydim]), int(sub.sizes[xdim])
    if n == 0 or h == 0 or w == 0:
        sizes = dict(zip(sample_dims, sample_shape, strict=True))
        raise DataInvalidError(
            f"the selection is empty: sample dims {sizes}, grid {h}x{w}",
            field="sel" if sel else ("isel" if isel else path_field),
            fix="select at least one sample and a non-empty grid",
        )
    data: np.ndarray | LazyFields = (
        LazyFields(sub, variables, sample_dims, ydim, xdim)
        if lazy
        else stack_samples(grid, variables)
    )
    coords = sub.coords.to_dataset().load().copy(deep=True)
    values = [dim_values(sub, d) for d in sample_dims]
    units = [dim_units(sub, d) for d in sample_dims]
    labels = [sample_label(sample_dims, values, i, units) for i in range(n)]
    var_attrs = [dict(sub[v].attrs) for v in variables]
    return LRFields(
        data=data,
        variables=list(variables),
        units=[str(a.get("units", "")) for a in var_attrs],
        var_attrs=var_attrs,
        sample_dims=sample_dims,
        sample_shape=sample_shape,
        ydim=ydim,
        xdim=xdim,
        lat_name=lat_var,
        lon_name=lon_var,
        lat=coord_degrees(sub, lat_var, ydim, xdim),
        lon=coord_degrees(sub, lon_var, ydim, xdim),
        coords=coords,
        attrs=attrs,
        source=description,
        path=None if isinstance(source, (xr.Dataset, xr.DataArray)) else str(source),
        labels=labels,
    )
