"""An oceanographer's review of the sample maps: colour bars show clipping with extend
arrows, and longitudes are wrapped to -180..180 °E."""

from __future__ import annotations

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
