"""Sample labels with units (``depth 75 m``) for predictions and reports; training labels
stay ``dim=value`` identifiers (:func:`oceansr.data.xarray_source` ``_labels``)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import xarray as xr

from oceansr.data.xarray_source import format_coord_value


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
