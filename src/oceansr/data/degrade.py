"""The LR operators: how a low-resolution field is made from a high-resolution one.

``data.degradation`` names one of them (choices in :data:`oceansr.config.schema.
DEGRADATIONS`); each maps ``(..., H, W)`` to ``(..., H/scale, W/scale)`` over blocks of
``scale x scale`` HR cells, NaN = land, vectorised numpy, the input's floating dtype kept
(accumulation in float64):

- ``nanmean``: mean of the block's ocean cells; NaN only where the whole block is land
  (oceansr's historical LR, :func:`oceansr.data.transforms.block_mean`).
- ``strict_mean``: plain mean; one land cell makes the LR cell NaN (how coarse products
  such as Levitus' own are made, so their coast is further out to sea).
- ``area_mean``: ``nanmean`` weighted by each HR row's cell area on a lat/lon grid,
  ``cos(latitude)`` (:func:`row_weights`). Without latitude, or on a projected grid (2-D
  latitude that varies along rows), all weights are 1 and it equals ``nanmean``.
- ``subsample``: the HR cell at the block's centre, index ``scale // 2`` in each axis
  (for an even scale the cell just after the centre point); NaN where that cell is land.
- ``gaussian``: a NaN-aware Gaussian low-pass with ``sigma = scale / 2`` HR cells
  (normalised convolution: the filtered values over the filtered ocean indicator), then
  the ``subsample`` cell; NaN where the whole block is land. ``sigma = scale / 2`` is the
  usual anti-aliasing choice: at the LR Nyquist frequency (``1 / (2 scale)`` cycles per
  HR cell) its response is ``exp(-pi^2 / 8) ~ 0.3``, so most of what the LR grid cannot
  hold is damped while the resolved scales keep most of their amplitude. Edges use the
  nearest cell (``mode="nearest"``), also on a periodic globe; the kernel reaches
  :func:`halo` HR cells, which the lazy path reads around each patch so that a patch's LR
  equals the whole field's.

The conservation layer (``model.constraint=block_mean``) holds for the unweighted block
means only (``nanmean``, ``strict_mean``: ``oceansr.config.architectures.
CONSERVING_OPERATORS``): training patches do not carry their latitude rows, so
``area_mean``'s weights could not be enforced there. See docs/architecture.md, data.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage

from oceansr.config.schema import DEGRADATIONS
from oceansr.core.errors import ConfigError, ShapeMismatchError
from oceansr.data.transforms import block_mean, check_block_grid

#: The operator of checkpoints from before ``data.degradation`` (hparam None).
DEFAULT_DEGRADATION = "nanmean"
#: Recorded instead of an operator when the LR came with the data (``data.lr_path``, an
#: npy folder's ``lr/``): oceansr did not make it, so no operator applies.
GIVEN = "given"
#: Gaussian kernel reach in sigmas (scipy's default ``truncate``).
GAUSSIAN_TRUNCATE = 4.0


def row_weights(lat: np.ndarray | None, height: int) -> np.ndarray:
    """Area weight of each of the ``height`` HR rows, float64 ``(height,)``.

    ``cos(latitude)`` for a 1-D latitude (or a 2-D one constant along each row), the
    relative area of a cell of a regular lat/lon grid; ones without latitude or on a
    projected grid. Latitude longer than ``height`` is cropped (the HR grid is cropped to
    a multiple of the scale); a pole row gets a tiny positive weight, not 0, so a block
    of pole rows still has a mean.
    """
    if lat is None:
        return np.ones(height)
    values = np.asarray(lat, dtype=np.float64)
    if values.ndim == 2:
        if not np.allclose(values, values[:, :1], equal_nan=False):
            return np.ones(height)  # projected/curvilinear: no per-row area
        values = values[:, 0]
    if values.ndim != 1 or values.shape[0] < height or not np.isfinite(values[:height]).all():
        raise ShapeMismatchError(
            f"latitude of shape {np.shape(lat)} does not give {height} finite rows",
            field="data.lat_name",
            fix="set data.lat_name to the grid's latitude, or use data.degradation=nanmean",
        )
    return np.maximum(np.cos(np.deg2rad(values[:height])), 1e-6)


def _blocks(x: np.ndarray, scale: int) -> np.ndarray:
    """``(..., h, scale, w, scale)`` view of ``x`` (..., H, W)."""
    h, w = x.shape[-2:]
    return x.reshape(*x.shape[:-2], h // scale, scale, w // scale, scale)


def _out_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if np.issubdtype(x.dtype, np.floating) else np.dtype(np.float64)


def _weighted_mean(x: np.ndarray, scale: int, weights: np.ndarray) -> np.ndarray:
    """NaN-aware mean of each block with per-HR-row ``weights`` (H,)."""
    blocks = _blocks(x, scale)
    w = weights.reshape(-1, scale)[:, :, None, None]
    finite = np.isfinite(blocks)
    total = np.where(finite, blocks * w, 0.0).sum(axis=(-3, -1), dtype=np.float64)
    weight = np.where(finite, w, 0.0).sum(axis=(-3, -1))
    out = np.full(total.shape, np.nan)
    np.divide(total, weight, out=out, where=weight > 0)
    return out.astype(_out_dtype(x), copy=False)


def _nanmean(x: np.ndarray, scale: int, lat: np.ndarray | None) -> np.ndarray:
    return block_mean(x, scale)


def _strict_mean(x: np.ndarray, scale: int, lat: np.ndarray | None) -> np.ndarray:
    out = _blocks(x, scale).mean(axis=(-3, -1), dtype=np.float64)
    return out.astype(_out_dtype(x), copy=False)


def _area_mean(x: np.ndarray, scale: int, lat: np.ndarray | None) -> np.ndarray:
    return _weighted_mean(x, scale, row_weights(lat, x.shape[-2]))


def centre_index(scale: int) -> int:
    """The index inside a block of the cell that ``subsample`` and ``gaussian`` keep."""
    return scale // 2


def _subsample(x: np.ndarray, scale: int, lat: np.ndarray | None) -> np.ndarray:
    c = centre_index(scale)
    return np.array(x[..., c::scale, c::scale], dtype=_out_dtype(x))


def _gaussian(x: np.ndarray, scale: int, lat: np.ndarray | None) -> np.ndarray:
    sigma = (0.0,) * (x.ndim - 2) + (scale / 2.0, scale / 2.0)
    ocean = np.isfinite(x)
    options = {"mode": "nearest", "truncate": GAUSSIAN_TRUNCATE}
    values = ndimage.gaussian_filter(np.where(ocean, x, 0.0).astype(np.float64), sigma, **options)
    weight = ndimage.gaussian_filter(ocean.astype(np.float64), sigma, **options)
    c = centre_index(scale)
    num, den = values[..., c::scale, c::scale], weight[..., c::scale, c::scale]
    any_ocean = _blocks(ocean, scale).any(axis=(-3, -1))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=any_ocean & (den > 0))
    return out.astype(_out_dtype(x), copy=False)


Operator = Callable[[np.ndarray, int, "np.ndarray | None"], np.ndarray]

#: Operator by ``data.degradation`` name (the names are the schema's choices).
OPERATORS: dict[str, Operator] = {
    "nanmean": _nanmean,
    "strict_mean": _strict_mean,
    "area_mean": _area_mean,
    "subsample": _subsample,
    "gaussian": _gaussian,
}
assert tuple(OPERATORS) == DEGRADATIONS, "one operator per schema choice"


def check_degradation(name: str | None) -> str:
    """``name`` (None: the default) checked against the operators; a
    :class:`ConfigError` naming ``data.degradation`` and the choices otherwise."""
    chosen = DEFAULT_DEGRADATION if name is None else name
    if chosen not in OPERATORS:
        raise ConfigError(
            f"data.degradation={chosen!r} is not one of {', '.join(DEGRADATIONS)}",
            field="data.degradation",
            fix="data.degradation=nanmean (or " + ", ".join(DEGRADATIONS[1:]) + ")",
        )
    return chosen


def degrade(
    hr: np.ndarray, scale: int, name: str | None = None, lat: np.ndarray | None = None
) -> np.ndarray:
    """LR of ``hr`` (..., H, W) by operator ``name`` (None: ``nanmean``) over blocks of
    ``scale``; ``lat`` (the HR rows' latitude, 1-D or 2-D) is read by ``area_mean``
    only. ``H`` and ``W`` must be multiples of ``scale``."""
    operator = OPERATORS[check_degradation(name)]
    x, scale = check_block_grid(hr, scale, "degrade")
    if scale == 1:
        return np.array(x, dtype=_out_dtype(x))
    return operator(x, scale, lat)


def halo(name: str | None, scale: int) -> int:
    """HR cells beyond a patch that its LR depends on, rounded up to whole blocks: 0 for
    the block operators, the Gaussian kernel's reach for ``gaussian``."""
    if check_degradation(name) != "gaussian":
        return 0
    reach = int(GAUSSIAN_TRUNCATE * scale / 2.0 + 0.5)  # scipy's kernel radius
    return -(-reach // scale) * scale


def refuse_with_given_lr(name: str | None, where: str) -> None:
    """A :class:`ConfigError` naming ``data.degradation`` when an operator other than the
    default is asked for while the LR is given (``where`` says by what): oceansr does
    not make that LR, so the operator would silently not apply. The default stays
    accepted (it is every config's value) and the run records ``"given"``."""
    chosen = check_degradation(name)
    if chosen != DEFAULT_DEGRADATION:
        raise ConfigError(
            f"data.degradation={chosen} does not apply: {where}, oceansr does not make them",
            field="data.degradation",
            fix="drop data.degradation (the given LR is used as it is), or drop the given "
            "LR (data.lr_path) to make LR with this operator",
        )


def land_mismatches(lr: np.ndarray, ocean: np.ndarray, scale: int) -> dict[str, int]:
    """For each operator, how many LR cells of ``lr`` (C, h, w; NaN = land) have another
    land/ocean state than that operator would give from the HR ocean mask ``ocean``
    (C or 1, H, W, True = ocean). Each operator is run on the mask itself (0 on ocean,
    NaN on land), so the rule is the operator's own: strict_mean makes a block land if
    any cell is, nanmean (and area_mean, gaussian) only if all are, subsample if its
    centre cell is. The fewest mismatches say which operator made the input's coast."""
    land = ~np.isfinite(np.asarray(lr))
    mask = np.broadcast_to(np.asarray(ocean, dtype=bool), (land.shape[0], *ocean.shape[-2:]))
    field = np.where(mask, 0.0, np.nan)
    return {name: int((np.isnan(degrade(field, scale, name)) != land).sum()) for name in OPERATORS}


def operator_check(
    recorded: str | None, lr: np.ndarray | None, ocean: np.ndarray | None, scale: int
) -> dict[str, object]:
    """What predict can say about the operator behind its input (issue 20).

    ``recorded``: the checkpoint's ``degradation`` (None: nanmean). With an HR ocean mask
    and the first LR field, the input's land pattern is compared with what each operator
    makes of the mask: ``matches`` lists the operators that fit best (fewest mismatched
    cells), ``mismatches`` the counts. Not checked (``checked`` False, ``why``) without a
    mask, or when the training LR was given (no operator to compare with).
    """
    operator = recorded or DEFAULT_DEGRADATION
    facts: dict[str, object] = {"operator": operator, "checked": False}
    if operator == GIVEN:
        return facts | {"why": "the training LR was given (data.lr_path): no operator"}
    if lr is None or ocean is None:
        return facts | {"why": "no hr_mask: the input's land cannot be compared"}
    counts = land_mismatches(lr, ocean, scale)
    best = min(counts.values())
    matches = [name for name in OPERATORS if counts[name] == best]
    return facts | {"checked": True, "matches": matches, "mismatches": counts}
