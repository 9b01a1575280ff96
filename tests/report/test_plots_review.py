"""An oceanographer's review of the sample maps: colour bars show clipping with extend
arrows, and longitudes are wrapped to -180..180 °E; RMSE by depth level. (Spectra and
distance to land: test_spectra.py, test_regions.py.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from oceansr.report.maps import extend_for, robust_limits, wrap_longitude


def test_extend_arrows_mark_values_beyond_the_colour_limits() -> None:
    # Ice-edge water at 0 (the 2nd percentile) and one hot outflow cell at 40.
    field = np.concatenate([np.zeros(10), np.linspace(0, 10, 100), [np.nan, 40.0]])
    limits = robust_limits(field)
    assert limits[1] < 40 and extend_for(field, limits) == "max"
    assert extend_for(-field, robust_limits(-field)) == "min"
    assert extend_for(np.array([1.0, 2.0]), (0.0, 3.0)) == "neither"
    assert extend_for(np.array([-5.0, 5.0]), (-1.0, 1.0)) == "both"


def test_longitude_20_to_380_is_wrapped_and_ordered() -> None:
    lon = np.arange(21.0, 381.0, 2.0)  # the sample's 20-380 °E grid
    wrapped, order = wrap_longitude(lon)
    assert wrapped is not None and order is not None
    assert wrapped.min() >= -180 and wrapped.max() < 180
    assert np.all(np.diff(wrapped) > 0)
    row = np.arange(lon.size, dtype=float)
    assert np.allclose(((lon[row[order].astype(int)] + 180) % 360) - 180, wrapped)
    assert wrap_longitude(np.array([-170.0, 0.0, 170.0]))[1] is None


def _fields(hr: np.ndarray, sr: np.ndarray, bic: np.ndarray, labels: list[str]) -> Any:
    from oceansr.report.sr_fields import TestFields

    n, _, h, w = hr.shape
    return TestFields(
        hr=hr,
        lr=hr[..., ::4, ::4],
        bicubic=bic,
        sr=sr,
        labels=labels,
        indices=list(range(n)),
        total=n,
        lat=np.linspace(-10, 10, h),
        lon=np.linspace(100, 120, w),
        variables=["temp"],
        units=["degC"],
        scale=4,
        checkpoint=Path("best.ckpt"),
        model_name="srcnn",
    )


def test_rmse_by_depth_groups_fields_by_their_depth_label(tmp_path: Path) -> None:
    from oceansr.report.spectra import depth_of, plot_rmse_by_depth, rmse_by_depth

    hr = np.zeros((4, 1, 16, 16), dtype=np.float32)
    sr = hr + np.array([1, 1, 2, 2], dtype=np.float32)[:, None, None, None]
    labels = [
        "month=11 depth=0.0",
        "month=12 depth=0.0",
        "month=11 depth=75.0",
        "month=12 depth=75.0",
    ]
    fields = _fields(hr, sr, sr * 3, labels)
    table = rmse_by_depth(fields, 0)
    assert table == {
        0.0: {"sr": 1.0, "bicubic": 3.0, "fields": 2},
        75.0: {"sr": 2.0, "bicubic": 6.0, "fields": 2},
    }
    info = plot_rmse_by_depth(fields, 0, tmp_path / "depth.png")
    assert Path(info["path"]).is_file() and info["rows"][1]["depth_m"] == 75.0
    assert depth_of("time=3") is None
