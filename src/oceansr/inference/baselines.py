"""The classical baselines every result is shown next to: bicubic and cubic B-spline.

Both interpolate the land-filled LR field on cell centres (``align_corners=False``), the
geometry of the block mean that makes LR from HR, and both are linear maps whose rows sum
to one, so they commute with the normalisation and give the same result on normalised or
physical fields.

- **bicubic** is torch's Keys cubic convolution (``a = -0.75``), the computer-vision
  convention, with the border replicated;
- **spline** is cubic B-spline interpolation (the prefiltered spline of
  ``scipy.ndimage.zoom(order=3, grid_mode=True)``), the stronger classical interpolant a
  reviewer reaches for: edges mirrored half a cell out (``mode="reflect"``).

When the grid spans the globe, longitude is periodic: both wrap around the seam instead of
treating the first and last columns as edges (bicubic through wrapped LR columns, the
spline with ``mode="grid-wrap"``). Latitude is never periodic.

The spline is separable, ``HR = A_y @ LR @ A_x.T`` with ``A`` the ``(n*s, n)`` matrix of
one axis (built once by scipy on the identity and cached); its coefficients decay by
``2 - sqrt(3) = 0.27`` per cell, so each HR row reads the few dozen LR rows where they are
non-negligible and a band of rows costs O(band), as evaluation in bands needs (the
columns are a dense product: O(w * W) per LR row read).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from oceansr.core.metric_names import BASELINES

#: LR cells beyond an output cell's source coordinate that bicubic may read: its 4-tap
#: stencil reaches 2; one more guards the float rounding. The rows a band reads, and the
#: columns wrapped on each side for a periodic field.
BICUBIC_REACH = 3
#: Spline coefficients below this fraction of a row's largest are dropped (float32 exact).
SPLINE_CUTOFF = 1e-9


def wrap_columns(x: torch.Tensor, pad: int) -> torch.Tensor:
    """``x`` with ``pad`` columns of the opposite side on each side (periodic longitude).

    Any ``pad``, even wider than the field (the columns repeat), unlike ``F.pad``'s
    circular mode.
    """
    if pad <= 0:
        return x
    width = x.shape[-1]
    index = torch.arange(-pad, width + pad, device=x.device) % width
    return x.index_select(-1, index)


def bicubic_upsample(lr: torch.Tensor, scale: int, periodic: bool = False) -> torch.Tensor:
    """Bicubic interpolation of ``lr`` (N, C, h, w) by ``scale``; wraps longitude if periodic."""
    if not periodic:
        return F.interpolate(lr, scale_factor=scale, mode="bicubic", align_corners=False)
    wide = F.interpolate(
        wrap_columns(lr, BICUBIC_REACH), scale_factor=scale, mode="bicubic", align_corners=False
    )
    return wide[..., BICUBIC_REACH * scale : (BICUBIC_REACH + lr.shape[-1]) * scale]


def bicubic_rows(
    lr: torch.Tensor, scale: int, r0: int, r1: int, periodic: bool = False
) -> torch.Tensor:
    """HR rows ``[r0, r1)`` of :func:`bicubic_upsample` from the LR rows around them.

    With ``scale_factor`` given, each output row's source coordinate depends on its
    index and the scale only, so interpolating an LR band that starts at a multiple of
    the scale and cropping gives the whole field's rows; field edges stay edges.
    """
    l0 = max(r0 // scale - BICUBIC_REACH, 0)
    l1 = min((r1 - 1) // scale + 1 + BICUBIC_REACH, lr.shape[-2])
    hr = bicubic_upsample(lr[..., l0:l1, :], scale, periodic)
    return hr[..., r0 - l0 * scale : r1 - l0 * scale, :]


@lru_cache(maxsize=32)
def spline_matrix(n: int, scale: int, periodic: bool) -> np.ndarray:
    """``(n*scale, n)`` float64 matrix of cubic B-spline interpolation along one axis."""
    from scipy.ndimage import zoom

    mode = "grid-wrap" if periodic else "reflect"
    matrix: np.ndarray = zoom(np.eye(n), (scale, 1), order=3, mode=mode, grid_mode=True)
    matrix.setflags(write=False)
    return matrix


@lru_cache(maxsize=32)
def _spline_tensor(
    n: int, scale: int, periodic: bool, dtype: torch.dtype, device: torch.device
) -> torch.Tensor:
    """:func:`spline_matrix` as a tensor, converted once per dtype and device (a band of
    evaluation would otherwise copy the whole matrix)."""
    return torch.from_numpy(np.array(spline_matrix(n, scale, periodic))).to(device, dtype)


def _support(rows: np.ndarray) -> tuple[int, int]:
    """Columns ``[c0, c1)`` outside which every coefficient of ``rows`` is negligible."""
    weight = np.abs(rows).max(axis=0)
    keep = np.flatnonzero(weight > SPLINE_CUTOFF * weight.max())
    return int(keep[0]), int(keep[-1]) + 1


def spline_rows(
    lr: torch.Tensor, scale: int, r0: int, r1: int, periodic: bool = False
) -> torch.Tensor:
    """HR rows ``[r0, r1)`` of :func:`spline_upsample`, reading only the LR rows they need."""
    h, w = lr.shape[-2:]
    c0, c1 = _support(spline_matrix(h, scale, False)[r0:r1])
    # float64 fields in float64; anything else (float32, half) in float32.
    dtype = torch.float64 if lr.dtype == torch.float64 else torch.float32
    ay = _spline_tensor(h, scale, False, dtype, lr.device)[r0:r1, c0:c1]
    ax = _spline_tensor(w, scale, periodic, dtype, lr.device)
    # Columns first, on the few LR rows the band reads: s times fewer operations than
    # rows first, since the band has s times more HR rows than LR rows.
    columns = torch.matmul(lr[..., c0:c1, :].to(dtype), ax.T)
    return torch.matmul(ay, columns).to(lr.dtype)


def spline_upsample(lr: torch.Tensor, scale: int, periodic: bool = False) -> torch.Tensor:
    """Cubic B-spline interpolation of ``lr`` (N, C, h, w) by ``scale`` (see the module)."""
    return spline_rows(lr, scale, 0, lr.shape[-2] * scale, periodic)


def baseline_rows(
    name: str, lr: torch.Tensor, scale: int, r0: int, r1: int, periodic: bool = False
) -> torch.Tensor:
    """HR rows ``[r0, r1)`` of the baseline ``name`` (one of :data:`BASELINES`)."""
    if name == "bicubic":
        return bicubic_rows(lr, scale, r0, r1, periodic)
    return spline_rows(lr, scale, r0, r1, periodic)


def baseline_upsample(
    name: str, lr: torch.Tensor, scale: int, periodic: bool = False
) -> torch.Tensor:
    """The whole field of the baseline ``name`` (one of :data:`BASELINES`)."""
    if name not in BASELINES:
        raise ValueError(f"unknown baseline {name!r}; one of {BASELINES}")
    return baseline_rows(name, lr, scale, 0, lr.shape[-2] * scale, periodic)
