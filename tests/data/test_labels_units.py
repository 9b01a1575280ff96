"""Field labels carry the depth unit where they are shown: ``depth 75 m``."""

from __future__ import annotations

import numpy as np
import xarray as xr

from oceansr.data.labels import coord_label, sample_labels


def _dataset(depth_units: str | None) -> xr.Dataset:
    depth_attrs = {"units": depth_units} if depth_units else {}
    return xr.Dataset(
        {"temp": (("month", "depth", "y", "x"), np.zeros((2, 2, 3, 4), np.float32))},
        coords={
            "month": ("month", [1, 2], {"units": "1"}),
            "depth": ("depth", np.array([0.0, 75.0]), depth_attrs),
            "lat": ("y", np.linspace(-1.0, 1.0, 3), {"units": "degrees_north"}),
            "lon": ("x", np.linspace(0.0, 3.0, 4), {"units": "degrees_east"}),
        },
    )


def test_training_labels_stay_identifiers() -> None:
    assert sample_labels(_dataset("m"), ["month", "depth"])[1] == "month=1 depth=75.0"


def test_coord_label_appends_units() -> None:
    assert coord_label("depth", 75.0, "m") == "depth 75 m"
    assert coord_label("depth", 12.5, "meters") == "depth 12.5 meters"
    assert coord_label("month", 3, "") == "month=3"


def test_lr_fields_labels_carry_the_coordinate_units() -> None:
    from oceansr.data.lr_input import open_lr_fields

    fields = open_lr_fields(_dataset("m"), "temp")
    assert fields.labels == [
        "month=1 depth 0 m",
        "month=1 depth 75 m",
        "month=2 depth 0 m",
        "month=2 depth 75 m",
    ]


def test_report_labels_show_metres_and_depth_is_still_parsed() -> None:
    from oceansr.report.spectra import depth_of
    from oceansr.report.sr_fields import display_label

    assert display_label("month=11 depth=75.0") == "month=11 depth 75 m"
    assert display_label("time=2000-01-01T00:00:00") == "time=2000-01-01T00:00:00"
    assert depth_of("month=11 depth 75 m") == 75.0 and depth_of("month=11 depth=75.0") == 75.0
