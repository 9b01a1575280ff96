"""The LR operators of data.degradation on hand-computed 4x4 fields (scale 2)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from oceansr.core.errors import ConfigError
from oceansr.data.degrade import (
    OPERATORS,
    degrade,
    halo,
    row_weights,
)
from oceansr.data.transforms import block_mean

NAN = np.nan
# Four 2x2 blocks: top-left all ocean, top-right one land cell, bottom-left all land,
# bottom-right all ocean.
HR = np.array(
    [
        [1.0, 2.0, 5.0, NAN],
        [3.0, 4.0, 6.0, 7.0],
        [NAN, NAN, 8.0, 9.0],
        [NAN, NAN, 10.0, 11.0],
    ],
    dtype=np.float32,
)


def test_nanmean_is_todays_block_mean() -> None:
    lr = degrade(HR, 2, "nanmean")
    np.testing.assert_array_equal(lr, block_mean(HR, 2))
    np.testing.assert_allclose(lr, [[2.5, 6.0], [NAN, 9.5]])
    assert lr.dtype == np.float32


def test_default_is_nanmean() -> None:
    np.testing.assert_array_equal(degrade(HR, 2), degrade(HR, 2, "nanmean"))


def test_strict_mean_any_land_makes_nan() -> None:
    lr = degrade(HR, 2, "strict_mean")
    np.testing.assert_allclose(lr, [[2.5, NAN], [NAN, 9.5]])
    assert lr.dtype == np.float32


def test_area_mean_weights_rows_by_cos_lat() -> None:
    lat = np.array([0.0, 60.0, 70.0, 80.0])
    lr = degrade(HR, 2, "area_mean", lat=lat)
    # top-left: rows at 0 deg (weight 1) and 60 deg (weight 0.5)
    top_left = (1 * 1 + 2 * 1 + 3 * 0.5 + 4 * 0.5) / 3.0
    top_right = (5 * 1 + 6 * 0.5 + 7 * 0.5) / 2.0
    c70, c80 = np.cos(np.deg2rad(70)), np.cos(np.deg2rad(80))
    bottom_right = (8 * c70 + 9 * c70 + 10 * c80 + 11 * c80) / (2 * c70 + 2 * c80)
    np.testing.assert_allclose(lr, [[top_left, top_right], [NAN, bottom_right]], rtol=1e-6)


@pytest.mark.parametrize(
    "lat", [None, np.array([[0.0, 1.0, 2.0, 3.0]] * 4).T + np.arange(4)[None, :]]
)
def test_area_mean_without_latitude_or_projected_equals_nanmean(lat) -> None:
    np.testing.assert_array_equal(degrade(HR, 2, "area_mean", lat=lat), block_mean(HR, 2))


def test_row_weights() -> None:
    np.testing.assert_array_equal(row_weights(None, 3), np.ones(3))
    np.testing.assert_allclose(row_weights(np.array([0.0, 60.0, 90.0, 45.0]), 3), [1, 0.5, 1e-6])
    lat2d = np.repeat(np.array([0.0, 60.0])[:, None], 5, axis=1)  # lat/lon given as 2-D
    np.testing.assert_allclose(row_weights(lat2d, 2), [1.0, 0.5])


def test_subsample_takes_the_cell_after_the_centre() -> None:
    lr = degrade(HR, 2, "subsample")  # index scale // 2 = 1 in each block
    np.testing.assert_array_equal(lr, np.array([[4.0, 7.0], [NAN, 11.0]], dtype=np.float32))
    odd = np.arange(36, dtype=np.float64).reshape(6, 6)
    np.testing.assert_array_equal(degrade(odd, 3, "subsample"), [[7.0, 10.0], [25.0, 28.0]])
    with_land = HR.copy()
    with_land[1, 1] = NAN  # the kept cell of the top-left block is land
    assert np.isnan(degrade(with_land, 2, "subsample")[0, 0])


def test_gaussian_is_normalised_convolution_then_centre_cell() -> None:
    lr = degrade(HR, 2, "gaussian")
    ocean = np.isfinite(HR)
    opts = {"sigma": 1.0, "mode": "nearest", "truncate": 4.0}
    num = ndimage.gaussian_filter(np.where(ocean, HR, 0).astype(np.float64), **opts)
    den = ndimage.gaussian_filter(ocean.astype(np.float64), **opts)
    expected = (num / den)[1::2, 1::2]
    expected[1, 0] = NAN  # all-land block
    np.testing.assert_allclose(lr, expected, rtol=1e-6)
    assert lr.dtype == np.float32
    # a constant ocean field stays constant next to land (normalised, not diluted by 0s)
    const = np.where(np.isfinite(HR), 3.0, NAN)
    np.testing.assert_allclose(degrade(const, 2, "gaussian"), [[3, 3], [NAN, 3]], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_leading_axes_and_dtype(name: str) -> None:
    stack = np.stack([HR, HR * 2])[:, None].astype(np.float64)  # (2, 1, 4, 4)
    lr = degrade(stack, 2, name, lat=np.linspace(-10, 10, 4))
    assert lr.shape == (2, 1, 2, 2) and lr.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(lr[0]), np.isnan(lr[1]))


def test_unknown_operator_names_the_field() -> None:
    with pytest.raises(ConfigError) as err:
        degrade(HR, 2, "median")
    assert err.value.field == "data.degradation"
    assert "strict_mean" in str(err.value)


def test_halo() -> None:
    assert halo("nanmean", 4) == 0 and halo("subsample", 4) == 0
    assert halo("gaussian", 4) == 8  # radius int(4 * 2 + 0.5) = 8 cells: 2 blocks
    assert halo("gaussian", 3) % 3 == 0 and halo("gaussian", 3) >= 6


def test_operator_check_tells_strict_from_nanmean_land() -> None:
    from oceansr.data.degrade import operator_check

    ocean = np.isfinite(HR)[None]
    strict = degrade(HR, 2, "strict_mean")[None]
    facts = operator_check("nanmean", strict, ocean, 2)
    assert facts["checked"] is True and facts["matches"] == ["strict_mean"]
    assert facts["mismatches"]["nanmean"] == 1  # the top-right block: one land cell
    nanmean = operator_check(None, degrade(HR, 2)[None], ocean, 2)
    assert nanmean["operator"] == "nanmean" and "nanmean" in nanmean["matches"]
    assert operator_check("given", strict, ocean, 2)["checked"] is False
    assert operator_check("nanmean", None, None, 2) == {
        "operator": "nanmean",
        "checked": False,
        "why": "no hr_mask: the input's land cannot be compared",
    }
