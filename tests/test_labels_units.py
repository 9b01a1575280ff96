"""Field labels carry the coordinate's unit: ``depth 75 m``, not ``depth=75.0``."""

from __future__ import annotations

import numpy as np
import xarray as xr

from oceansr.data.xarray_source import _labels, coord_label


def _dataset(depth_units: str | None) -> xr.Dataset:
    depth_attrs = {"units": depth_units} if depth_units else {}
    return xr.Dataset(
        {"temp": (("month", "depth", "y", "x"), np.zeros((2, 2, 3, 4), np.float32))},
        coords={
            "month": ("month", [1, 2]),
            "depth": ("depth", np.array([0.0, 75.0]), depth_attrs),
        },
    )


def test_depth_label_has_its_unit() -> None:
    labels = _labels(_dataset("m"), ["month", "depth"])
    assert labels == [
        "month=1 depth 0 m",
        "month=1 depth 75 m",
        "month=2 depth 0 m",
        "month=2 depth 75 m",
    ]


def test_label_without_units_is_unchanged() -> None:
    assert _labels(_dataset(None), ["month", "depth"])[1] == "month=1 depth=75.0"
    assert coord_label("depth", 12.5, "meters") == "depth 12.5 meters"


def test_lr_fields_labels_and_depth_parsing_use_units() -> None:
    from oceansr.data.inspect import open_lr_fields
    from oceansr.report.spectra import depth_of

    ds = _dataset("m").assign_coords(
        lat=("y", np.linspace(-1.0, 1.0, 3), {"units": "degrees_north"}),
        lon=("x", np.linspace(0.0, 3.0, 4), {"units": "degrees_east"}),
    )
    fields = open_lr_fields(ds, "temp")
    assert fields.labels[1] == "month=1 depth 75 m"
    assert depth_of(fields.labels[1]) == 75.0 and depth_of("month=1 depth=75.0") == 75.0
