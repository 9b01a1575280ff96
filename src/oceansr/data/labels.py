"""How samples are named: training labels are ``dim=value`` identifiers
(:func:`sample_labels`, recorded with a run and matched again later); labels for
predictions, reports and descriptions carry units (``depth 75 m``, :func:`sample_label`)
because a reader needs them."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr

from oceansr.data.grid import dim_values, format_coord_value


def sample_labels(ds: xr.Dataset, sample_dims: list[Hashable]) -> list[str]:
    """Training labels of every sample of ``ds``, ``month=1 depth=75.0``, in C order over
    ``sample_dims`` (the last fastest, as the samples are stacked)."""
    if not sample_dims:
        return ["sample=0"]
    per_dim = [[f"{d}={format_coord_value(v)}" for v in dim_values(ds, d)] for d in sample_dims]
    return [" ".join(parts) for parts in itertools.product(*per_dim)]


def dim_units(ds: xr.Dataset, dim: Hashable) -> str:
    """The ``units`` attribute of the coordinate along ``dim`` ("" when none, and for CF
    time units such as ``hours since 0000-01-01`` and the dimensionless ``1``)."""
    if dim not in ds.coords:
        return ""
    units = str(ds[dim].attrs.get("units", "") or "")
    return "" if " since " in units or units == "1" else units


def coord_label(dim: Hashable, value: Any, units: str = "") -> str:
    """One sample dimension of a label: ``depth 75 m`` when the coordinate has units
    (a reader needs the unit, docs/architecture.md, report), else ``month=3``."""
    if not units:
        return f"{dim}={format_coord_value(value)}"
    if isinstance(value, (np.floating, float)):
        return f"{dim} {float(value):g} {units}"
    return f"{dim} {format_coord_value(value)} {units}"


def sample_label(
    sample_dims: Sequence[Hashable],
    values: Sequence[Sequence[Any]],
    index: int,
    units: Sequence[str] = (),
) -> str:
    """The display label of sample ``index`` (flattened in C order over ``sample_dims``,
    whose coordinate values are ``values``): ``depth 75 m month=3``, a coordinate's
    ``units`` following its value."""
    if not sample_dims:
        return "sample=0"
    shape = [len(v) for v in values]
    pos = np.unravel_index(index, shape)
    unit_of = list(units) + [""] * (len(sample_dims) - len(units))
    return " ".join(
        coord_label(d, v[int(i)], u)
        for d, v, i, u in zip(sample_dims, values, pos, unit_of, strict=True)
    )
