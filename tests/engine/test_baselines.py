"""The classical baselines and periodic longitude (issue 19, items 1-2).

The spline must be scipy's cubic B-spline exactly (a reviewer recomputes it with
``scipy.ndimage.zoom``); on a globe-spanning grid the baselines and the tiled inference
must treat the seam like any other column: shifting the field in longitude shifts the
result, nothing else.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from oceansr.data.fields import spans_globe
from oceansr.inference.baselines import (
    baseline_upsample,
    spline_rows,
    spline_upsample,
    wrap_columns,
)
from oceansr.inference.tiling import tiled_apply


def _field(h: int = 20, w: int = 45, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(2, 3, h, w, generator=g, dtype=torch.float64).cumsum(-1)


@pytest.mark.parametrize("periodic", [False, True])
def test_spline_is_scipys_cubic_b_spline_along_each_axis(periodic: bool) -> None:
    x = _field()
    ours = spline_upsample(x, 4, periodic).numpy()
    mode_x = "grid-wrap" if periodic else "reflect"
    want = np.empty_like(ours)
    for n in range(x.shape[0]):  # scipy field by field: its N and C axes are not space
        for c in range(x.shape[1]):
            along_y = ndimage.zoom(x[n, c].numpy(), (4, 1), order=3, mode="reflect", grid_mode=True)
            want[n, c] = ndimage.zoom(along_y, (1, 4), order=3, mode=mode_x, grid_mode=True)
    np.testing.assert_allclose(ours, want, rtol=0, atol=1e-5)


def test_spline_rows_of_a_band_are_the_whole_fields_rows() -> None:
    x = _field(h=60)
    whole = spline_upsample(x, 4)
    for r0, r1 in [(0, 7), (37, 101), (200, 240)]:
        band = spline_rows(x, 4, r0, r1)
        torch.testing.assert_close(band, whole[..., r0:r1, :], rtol=1e-6, atol=1e-6)


def test_baselines_reproduce_a_constant_and_are_nearly_exact_on_smooth_fields() -> None:
    const = torch.full((1, 1, 12, 30), 7.5, dtype=torch.float64)
    for name in ("bicubic", "spline"):
        torch.testing.assert_close(
            baseline_upsample(name, const, 3, True),
            const.repeat_interleave(3, -1).repeat_interleave(3, -2),
        )
    # A smooth wave sampled at cell centres: the spline is closer to it than bicubic.
    h, w, s = 24, 48, 4

    def wave(n: int, m: int) -> torch.Tensor:
        y = (torch.arange(n, dtype=torch.float64) + 0.5) / n
        x = (torch.arange(m, dtype=torch.float64) + 0.5) / m
        return (torch.sin(2 * torch.pi * 3 * x)[None, :] * torch.cos(torch.pi * y)[:, None])[
            None, None
        ]

    truth, lr = wave(h * s, w * s), wave(h, w)
    err = {
        name: float((baseline_upsample(name, lr, s, True) - truth)[..., 8:-8, :].abs().max())
        for name in ("bicubic", "spline")
    }
    assert err["spline"] < err["bicubic"], err


@pytest.mark.parametrize("name", ["bicubic", "spline"])
def test_periodic_baselines_shift_with_the_field(name: str) -> None:
    x = _field()
    shifted = baseline_upsample(name, torch.roll(x, 7, -1), 4, periodic=True)
    torch.testing.assert_close(shifted, torch.roll(baseline_upsample(name, x, 4, True), 28, -1))
    # Without periodicity the seam is an edge, and the shift shows there.
    plain = baseline_upsample(name, torch.roll(x, 7, -1), 4, periodic=False)
    assert not torch.allclose(plain, torch.roll(baseline_upsample(name, x, 4), 28, -1))


def test_wrap_columns_repeats_narrow_fields() -> None:
    x = torch.arange(3.0).view(1, 1, 1, 3)
    assert wrap_columns(x, 4).flatten().tolist() == [2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0]


def _net() -> torch.nn.Module:
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Upsample(scale_factor=4, mode="nearest"),
        torch.nn.Conv2d(3, 3, 9, padding=4),
        torch.nn.Tanh(),
        torch.nn.Conv2d(3, 3, 9, padding=4),
    ).double()


def test_periodic_tiling_treats_the_seam_as_interior() -> None:
    net, x = _net(), _field()
    with torch.no_grad():
        run = dict(scale=4, tile=None, overlap=4, batch_size=4)
        out = tiled_apply(net, x, periodic=True, **run)  # type: ignore[arg-type]
        rolled = tiled_apply(net, torch.roll(x, 11, -1), periodic=True, **run)  # type: ignore[arg-type]
        plain = tiled_apply(net, x, **run)  # type: ignore[arg-type]
        # Tiled windows (several along longitude) agree with the whole periodic field
        # away from the blending (the seam included).
        tiled = tiled_apply(net, x, periodic=True, scale=4, tile=8, overlap=8, batch_size=8)
    torch.testing.assert_close(rolled, torch.roll(out, 44, -1), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(plain[..., :8], out[..., :8])  # zero padding at the old edge
    torch.testing.assert_close(plain[..., 40:-40], out[..., 40:-40], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(tiled[..., :, :16], out[..., :, :16], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(tiled[..., :, -16:], out[..., :, -16:], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize(
    ("lon", "globe"),
    [
        (np.arange(0.5, 360, 2.0), True),
        (np.arange(-180, 180, 1.0), True),
        (np.arange(20.5, 380, 2.0), True),  # the bundled WOA sample starts at 20.5 E
        (np.arange(0, 358, 2.0), False),  # one column short
        (np.arange(-60, 30, 0.25), False),  # an Atlantic box
        (np.tile(np.arange(0, 360, 4.0), (3, 1)), True),  # 2-D, equal rows
        (None, False),
    ],
)
def test_spans_globe(lon: np.ndarray | None, globe: bool) -> None:
    assert spans_globe(lon) is globe


def test_periodic_land_fill_reaches_across_the_seam() -> None:
    from oceansr.data.transforms import fill_land_nearest

    x = np.full((1, 1, 3, 10), np.nan, dtype=np.float32)
    x[0, 0, :, 1] = 5.0  # ocean just east of the seam
    x[0, 0, :, 5] = 9.0
    plain, wrapped = fill_land_nearest(x), fill_land_nearest(x, periodic=True)
    assert plain[0, 0, 0, 9] == 9.0  # column 9 is 4 cells from column 5, 8 from column 1
    assert wrapped[0, 0, 0, 9] == 5.0  # but 2 cells from column 1 around the circle
    # Shifting the field in longitude shifts the periodic fill with it.
    rolled = fill_land_nearest(np.roll(x, 3, -1), periodic=True)
    np.testing.assert_array_equal(np.roll(wrapped, 3, -1), rolled)
