"""The in-memory ``xarray`` source: gridded ocean fields from any CF-style NetCDF file,
Zarr store or xarray Dataset, loaded whole into train / valid / test arrays.

The variables become channels, latitude / longitude are found from the coordinates
(1-D regular or 2-D curvilinear), every other dimension becomes samples, and one of
them is split into train / valid / test by label or by index; those rules are
:mod:`oceansr.data.grid`'s, shared with the lazy path and predict's LR inputs.

All errors a user can cause name the Hydra field at fault (``data.path``,
``data.variables``, ``data.split.train``, ...) and say how to fix it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from oceansr.core.errors import ConfigError, DataInvalidError
from oceansr.data.fields import FieldData, FieldSplit, cf_attrs
from oceansr.data.grid import (
    check_variables,
    coord_degrees,
    open_source,
    plain,
    select_grid,
    short_list,
    split_positions,
    stack_samples,
)
from oceansr.data.labels import sample_labels
from oceansr.runs.protocol import SPLITS


def load_xarray(
    source: Any,
    variables: str | Sequence[str],
    split: Mapping[str, Any] | None,
    *,
    sel: Mapping[str, Any] | None = None,
    isel: Mapping[str, Any] | None = None,
    decode_times: bool = True,
    lat_name: str | None = None,
    lon_name: str | None = None,
) -> FieldData:
    """Load ``variables`` (channels) from a NetCDF file, Zarr store or Dataset into splits.

    Args:
        source: path to a NetCDF file or a Zarr store (``*.zarr`` or a directory), or an
            in-memory ``xr.Dataset``.
        variables: data variable name(s); all must share the same dims.
        split: ``{"dim": d, "by": "label"|"index", "train": X, "valid": X, "test": X}``,
            where X is a list of labels / indices or ``{"start": a, "stop": b}`` (inclusive
            label slice by label, python slice by index).
        sel, isel: dim -> value(s) applied first (e.g. ``{"depth": [0, 10, 20]}``);
            ``{"start", "stop"}`` dicts become slices.
        decode_times: passed to xarray when opening a path.
        lat_name, lon_name: coordinate names, detected when None.

    Returns:
        :class:`FieldData` with float32 ``(N, C, H, W)`` HR fields (NaN = land), ``lr=None``.
    """
    ds, description, opened = open_source(source, decode_times)
    try:
        return _load(ds, description, variables, split, sel, isel, lat_name, lon_name)
    finally:
        if opened:
            ds.close()


def _load(
    ds: xr.Dataset,
    description: str,
    variables: str | Sequence[str],
    split: Mapping[str, Any] | None,
    sel: Any,
    isel: Any,
    lat_name: str | None,
    lon_name: str | None,
) -> FieldData:
    """The splits of an opened dataset; every check happens before a value is read."""
    variables = plain(variables)
    if isinstance(variables, str):
        variables = [variables]
    available = [str(v) for v in ds.data_vars]
    if not variables or variables == "???":
        raise ConfigError(
            "no variables given",
            field="data.variables",
            fix=f"e.g. data.variables=[{available[0] if available else 'temp'}]",
        )
    variables = [str(v) for v in variables]
    check_variables(ds, variables)
    grid = select_grid(ds, variables, sel, isel, lat_name, lon_name)
    ds, ydim, xdim, sample_dims = grid.ds, grid.ydim, grid.xdim, grid.sample_dims
    split = plain(split)
    split_dim, by, positions = split_positions(ds, split, sample_dims, (ydim, xdim))

    units = [str(ds[v].attrs.get("units", "")) for v in variables]
    names = [cf_attrs(ds[v].attrs) for v in variables]
    lat = coord_degrees(ds, grid.lat_var, ydim, xdim)
    lon = coord_degrees(ds, grid.lon_var, ydim, xdim)

    out: dict[str, FieldSplit] = {}
    for name in SPLITS:
        sub = ds.isel({split_dim: positions[name]})
        labels = sample_labels(sub, sample_dims)
        hr = stack_samples(grid, variables, sub)
        for c, v in enumerate(variables):
            empty = ~np.isfinite(hr[:, c]).any(axis=(1, 2))
            if empty.any():
                bad = [labels[i] for i in np.flatnonzero(empty)]
                raise DataInvalidError(
                    f"variable {v!r} is entirely NaN (all land / missing) for sample(s) "
                    f"{short_list(bad, 5)} of split {name!r}",
                    field="data.sel",
                    fix="exclude such samples, e.g. data.isel='{depth: {start: 0, stop: K}}' "
                    "or data.sel='{dim: [kept labels]}'",
                )
        out[name] = FieldSplit(
            hr=hr,
            lr=None,
            variables=list(variables),
            units=list(units),
            lat=lat,
            lon=lon,
            labels=labels,
            attrs=[dict(a) for a in names],
        )
    desc = f"{description} variables={variables} split={split_dim} by {by}"
    if sel:
        desc += f" sel={plain(sel)}"
    if isel:
        desc += f" isel={plain(isel)}"
    return FieldData(train=out["train"], valid=out["valid"], test=out["test"], source=desc)
