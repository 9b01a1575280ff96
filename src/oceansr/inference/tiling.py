"""The one tiled inference path: overlapping windows blended with raised-cosine weights.

Every place that turns LR fields into HR ones with a trained model goes through here, so
that a prediction file, the evaluation metrics of a run and the maps of its report come
from the same arithmetic (see docs/architecture.md, inference):

- :func:`tiled_rows` — the core, on tensors: cut ``(N, C, h, w)`` into windows of
  ``tile`` cells plus ``overlap`` on each side, run them through any function that
  upsamples by ``scale``, blend the results with weights that sum to one, and stream the
  finished HR rows. The module's evaluation consumes the rows band by band on
  normalised tensors, with windows sized from a memory budget
  (:func:`eval_tile_for_budget`, ``data.eval_tile`` / ``data.eval_memory_mb``);
- :func:`tiled_apply` — the same rows gathered into whole fields;
- :func:`tiled_predict` — numpy in, numpy out, physical units, land filled first: what
  ``oceansr.predict`` and the report's maps use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import numpy as np
import torch

from oceansr.config.checks import check_tiling
from oceansr.config.schema import predict_defaults
from oceansr.core.errors import ShapeMismatchError
from oceansr.data.transforms import fill_land_nearest
from oceansr.inference.baselines import wrap_columns

#: Prediction's tiling options as ``conf/predict.yaml`` sets them: the keyword defaults
#: of :func:`tiled_predict` (the values are the YAML file's, not repeated here).
PREDICT = predict_defaults()
#: Overlap of the module's evaluation windows (not a config option: evaluation windows
#: are sized from ``data.eval_tile`` / ``data.eval_memory_mb`` alone).
EVAL_OVERLAP = 16
#: Tile of the module's evaluation when none is given: large enough that a
#: validation/test sample (the bundled sample included) is a single window.
EVAL_TILE = 4096
#: Bytes of activations per HR cell of a window that a model holds at once (a few
#: 64-channel float32 feature maps, e.g. EDSR's residual body): sizes eval windows.
ACTIVATION_BYTES_PER_HR_CELL = 1024

#: LR columns wrapped onto each side of a periodic (globe-spanning) field at least: the
#: context a window's edge cells get from their neighbours, as ``overlap`` gives inside.
PERIODIC_PAD = 8

#: Predict's windows run in channels-last layout (a switch for benchmarks/predict_speed.py).
CHANNELS_LAST = True

#: ``progress(done_fields, total_fields, done_tiles, total_tiles)``.
ProgressFn = Callable[[int, int, int, int], None]
#: A batch of LR windows ``(B, C, h, w)`` to HR ``(B, C, h*s, w*s)``.
WindowFn = Callable[[torch.Tensor], torch.Tensor]

Window = tuple[int, int]


def tile_windows(n: int, tile: int | None, overlap: int) -> list[Window]:
    """LR windows ``[start, stop)`` along one axis of length ``n``.

    Each window is a core of ``tile`` cells plus ``overlap`` cells on each side, so
    neighbours overlap by ``2 * overlap``; the last window is clamped inside the field
    (it then overlaps its neighbour more). One window when the field fits in one.
    """
    if tile is None:
        return [(0, n)]
    win = tile + 2 * overlap
    if n <= win:
        return [(0, n)]
    starts = list(range(0, n - win, tile))
    if starts[-1] != n - win:
        starts.append(n - win)
    return [(s, s + win) for s in starts]


def eval_tile_for_budget(
    memory_bytes: int, scale: int, windows: int = 1, overlap: int = EVAL_OVERLAP
) -> int:
    """LR core side of evaluation windows so ``windows`` of them fit ``memory_bytes``.

    Validation/test fields can be far larger than a training patch (docs/architecture.md,
    inference): their windows are sized from an activation budget, not from the field,
    so evaluation memory does not grow with the grid. Never below 16 LR cells.
    """
    per_window = memory_bytes / max(windows, 1) / ACTIVATION_BYTES_PER_HR_CELL
    side = int(np.sqrt(per_window)) // max(scale, 1) - 2 * overlap
    return max(side, 16)


def _ramp(distance: np.ndarray, margin: float, width: float) -> np.ndarray:
    """0 within ``margin`` of a window edge, raised cosine up to 1 over ``width``.

    Two windows overlapping by ``2 * margin + width`` get complementary weights
    (``sin^2 + cos^2 = 1``), and cells within ``margin`` of a window's edge (where zero
    padding corrupts the model output) get no weight from that window.
    """
    t = np.clip((distance + 0.5 - margin) / width, 0.0, 1.0)
    result: np.ndarray = np.sin(0.5 * np.pi * t) ** 2
    return result


def window_weights(
    window: Window, n: int, scale: int, overlap: int, floor: float = 1e-6
) -> np.ndarray:
    """HR blending weights of one LR window along one axis (1 where no neighbour)."""
    start, stop = window
    length = (stop - start) * scale
    weights = np.ones(length, dtype=np.float64)
    if overlap > 0:
        d = np.arange(length, dtype=np.float64)
        margin, width = 0.5 * overlap * scale, float(overlap * scale)
        if start > 0:
            weights *= _ramp(d, margin, width)
        if stop < n:
            weights *= _ramp(d[::-1], margin, width)
    # A tiny floor keeps every covered cell's weight sum positive whatever the geometry.
    return np.maximum(weights, floor)


def _checked_output(
    pred: torch.Tensor, stacked: torch.Tensor, scale: int, channels: int
) -> torch.Tensor:
    """``pred`` if it is ``stacked`` upsampled by ``scale`` to ``channels`` channels (the
    input may carry covariates after them); else a ShapeMismatchError."""
    batch, _, h, w = stacked.shape
    want = (batch, channels, h * scale, w * scale)
    if tuple(pred.shape) != want:
        raise ShapeMismatchError(
            f"model output {tuple(pred.shape)} for input {tuple(stacked.shape)}, expected {want}",
            field="checkpoint",
            fix="use a checkpoint whose model upsamples by its own scale",
        )
    return pred


def _inverse_weight_sum(windows: list[Window], n: int, scale: int, overlap: int) -> np.ndarray:
    """``1 / sum`` of the HR weights of ``windows`` along one axis of ``n`` LR cells.

    The windows form a grid, so the 2-D weight sum is the outer product of the two axes'
    sums and any block of rows of its inverse costs O(rows x width), not O(field).
    """
    total = np.zeros(n * scale, dtype=np.float64)
    for start, stop in windows:
        total[start * scale : stop * scale] += window_weights((start, stop), n, scale, overlap)
    result: np.ndarray = 1.0 / total
    return result


def _row_groups(n_rows: int, per_row: int, batch_size: int) -> list[range]:
    """Consecutive window rows run together, so a batch is full even when one row of
    windows (all fields, all columns) holds fewer than ``batch_size`` windows."""
    step = max(1, -(-batch_size // max(per_row, 1)))
    return [range(k, min(k + step, n_rows)) for k in range(0, n_rows, step)]


def tiled_rows(
    fn: WindowFn,
    x: torch.Tensor,
    *,
    scale: int,
    tile: int | None,
    overlap: int,
    batch_size: int,
    progress: ProgressFn | None = None,
    periodic: bool = False,
    out_channels: int | None = None,
) -> Iterator[tuple[int, torch.Tensor]]:
    """``fn`` over overlapping windows of ``x`` (N, C, h, w), blended and streamed as
    ``(hr_row0, rows)`` blocks of (N, C, rows, w*s), top to bottom.

    ``periodic`` (longitude spans the globe): the field gets ``max(overlap,
    PERIODIC_PAD)`` columns of its other side on each side and the result is cropped
    back, so the seam columns see the ocean across the seam, as interior cells do.
    ``out_channels``: channels of ``fn``'s output when not those of ``x`` (covariates:
    every window carries them, the output is the variables only).

    The one tiling algorithm (docs/architecture.md, inference): windows
    are ``tile`` cells plus ``overlap`` on each side, their outputs weighted by
    raised-cosine ramps that sum to one. Windows run a few window rows at a time (all
    fields, all columns, ``batch_size`` windows per call of ``fn``); HR rows that no
    later window touches are final, so they are divided by the weight sum and yielded at
    once, and at most those window rows' HR rows are held. The weights are outer
    products, so their sum is the outer product of each axis' sums. With one window per
    field the result is exactly ``fn(x)``. ``progress`` runs after every batch; fields
    are all finished together, by the last one.
    """
    tile, overlap, batch_size = check_tiling(tile, overlap, batch_size)
    if periodic:  # the widened field's rows, cropped back to the field's columns
        pad, width = periodic_pad(overlap), x.shape[-1]
        wide = wrap_columns(x, pad)
        for row0, block in tiled_rows(
            fn,
            wide,
            scale=scale,
            tile=tile,
            overlap=overlap,
            batch_size=batch_size,
            progress=progress,
            out_channels=out_channels,
        ):
            yield row0, block[..., pad * scale : (pad + width) * scale]
        return
    n_fields, channels, h, w = x.shape
    channels = channels if out_channels is None else out_channels
    ys, xs = tile_windows(h, tile, overlap), tile_windows(w, tile, overlap)
    wys = [window_weights(win, h, scale, overlap) for win in ys]
    wxs = [window_weights(win, w, scale, overlap) for win in xs]
    inv_y = _inverse_weight_sum(ys, h, scale, overlap)
    inv_x = torch.from_numpy(_inverse_weight_sum(xs, w, scale, overlap)).to(x.device)
    acc = x.new_zeros((n_fields, channels, 0, w * scale), dtype=torch.float32)
    acc0 = 0  # HR row of acc's first row
    done_tiles, total_tiles = 0, n_fields * len(ys) * len(xs)
    for group in _row_groups(len(ys), n_fields * len(xs), batch_size):
        grow = ys[group[-1]][1] * scale - acc0 - acc.shape[-2]
        if grow > 0:
            acc = torch.cat([acc, acc.new_zeros((*acc.shape[:2], grow, acc.shape[-1]))], dim=-2)
        tasks = [(iy, n, ix) for iy in group for n in range(n_fields) for ix in range(len(xs))]
        for b in range(0, len(tasks), batch_size):
            batch = tasks[b : b + batch_size]
            stacked = torch.stack([x[n, :, slice(*ys[iy]), slice(*xs[ix])] for iy, n, ix in batch])
            pred = _checked_output(fn(stacked).float().to(x.device), stacked, scale, channels)
            for j, (iy, n, ix) in enumerate(batch):
                weight = torch.from_numpy(np.outer(wys[iy], wxs[ix]).astype(np.float32))
                rows = slice(ys[iy][0] * scale - acc0, ys[iy][1] * scale - acc0)
                cols = slice(xs[ix][0] * scale, xs[ix][1] * scale)
                acc[n, :, rows, cols] += pred[j] * weight.to(x.device)
            done_tiles += len(batch)
            if progress is not None:
                finished = n_fields if done_tiles == total_tiles else 0
                progress(finished, n_fields, done_tiles, total_tiles)
        after = group[-1] + 1
        done = ys[after][0] * scale if after < len(ys) else h * scale
        if done > acc0:
            inv = torch.outer(torch.from_numpy(inv_y[acc0:done]).to(x.device), inv_x)
            yield acc0, acc[..., : done - acc0, :] * inv.float()
            acc, acc0 = acc[..., done - acc0 :, :].clone(), done


def periodic_pad(overlap: int) -> int:
    """LR columns wrapped onto each side of a periodic field (see :func:`tiled_rows`)."""
    return max(overlap, PERIODIC_PAD)


def tiled_apply(
    fn: WindowFn,
    x: torch.Tensor,
    *,
    scale: int,
    tile: int | None,
    overlap: int,
    batch_size: int,
    progress: ProgressFn | None = None,
    periodic: bool = False,
    out_channels: int | None = None,
) -> torch.Tensor:
    """:func:`tiled_rows` gathered into whole fields (N, C, h*s, w*s), for callers that
    need them at once (predict writes one field at a time, the report draws maps)."""
    n_fields, channels, h, w = x.shape
    channels = channels if out_channels is None else out_channels
    out = x.new_empty((n_fields, channels, h * scale, w * scale), dtype=torch.float32)
    for row0, rows in tiled_rows(
        fn,
        x,
        scale=scale,
        tile=tile,
        overlap=overlap,
        batch_size=batch_size,
        progress=progress,
        periodic=periodic,
        out_channels=out_channels,
    ):
        out[..., row0 : row0 + rows.shape[-2], :] = rows
    return out


def _fill_for_model(
    lr: np.ndarray, fill_values: Sequence[float], periodic: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Land-filled copy of ``lr`` and the (N, C) mask of channels without any ocean cell.

    Land takes the nearest ocean value (around the seam if ``periodic``); a channel with
    no ocean at all (e.g. a level below the sea floor) takes ``fill_values[c]`` (the
    training mean), its output is set to NaN.
    """
    empty = ~np.isfinite(lr).any(axis=(2, 3))
    if empty.any():
        lr = lr.copy()
        for n, c in zip(*np.nonzero(empty), strict=True):
            lr[n, c] = fill_values[c]
    return fill_land_nearest(lr, periodic), empty


def _check_channels(module: torch.nn.Module, lr: np.ndarray) -> None:
    if lr.ndim != 4:
        raise ShapeMismatchError(
            f"tiled_predict needs LR fields (N, C, h, w), got shape {lr.shape}", field="lr"
        )
    channels = lr.shape[1]
    expected = getattr(module, "in_channels", None) or len(getattr(module, "variables", []))
    expected = expected or channels
    if channels != expected:
        raise ShapeMismatchError(
            f"LR fields have {channels} channels, the model expects {expected} "
            f"({getattr(module, 'variables', '?')})",
            field="variables",
        )


def _set_layout(module: torch.nn.Module, layout: torch.memory_format) -> None:
    """4-D weights in ``layout`` (what ``module.to(memory_format=...)`` does, typed)."""
    for param in module.parameters():
        if param.dim() == 4:
            param.data = param.data.contiguous(memory_format=layout)


def tiled_predict(
    module: torch.nn.Module,
    lr: np.ndarray,
    *,
    tile: int | None = PREDICT["tile"],
    overlap: int = PREDICT["overlap"],
    batch_size: int = PREDICT["batch_size"],
    progress: ProgressFn | None = None,
    periodic: bool = False,
) -> np.ndarray:
    """Super-resolve ``lr`` (N, C, h, w), physical units, NaN = land, to (N, C, h*s, w*s).

    Land is filled with the nearest ocean value first (as in training); windows go
    through ``module`` (an :class:`~oceansr.engine.module.SRModule`: physical LR in, physical
    HR out) under ``torch.inference_mode()`` on the module's device and are blended by
    :func:`tiled_apply`. ``tile=None``, or a field no larger than one window, is
    whole-field inference; ``periodic`` wraps longitude (:func:`tiled_rows`). No land
    mask is applied to the result, except that a channel
    whose LR field has no ocean cell at all comes out NaN. A module with covariates takes
    them after the variables (``module.in_channels`` channels: docs/architecture.md,
    covariates) and returns the variables only.
    """
    tile, overlap, batch_size = check_tiling(tile, overlap, batch_size)
    lr = np.asarray(lr, dtype=np.float32)
    _check_channels(module, lr)
    hparams: Any = getattr(module, "hparams", {})
    mean = list(hparams.get("mean") or [0.0] * lr.shape[1])
    mean += [0.0] * (lr.shape[1] - len(mean))  # covariates have no land to fill
    out_channels = len(getattr(module, "variables", [])) or lr.shape[1]
    filled, empty = _fill_for_model(lr, mean, periodic)
    param = next(module.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None else torch.float32

    def run(batch: torch.Tensor) -> torch.Tensor:
        batch = batch.to(device=device, dtype=dtype, memory_format=layout)
        return module(batch).float().contiguous().cpu()

    was_training = module.training
    module.eval()
    # Convolutions in channels-last layout run faster on CPU (oneDNN) for the same
    # result to float rounding: benchmarks/predict_speed.py measures it.
    layout = torch.channels_last if CHANNELS_LAST else torch.contiguous_format
    _set_layout(module, layout)
    try:
        with torch.inference_mode():
            out = tiled_apply(
                run,
                torch.from_numpy(np.ascontiguousarray(filled)),
                scale=int(cast(Any, module).scale),
                tile=tile,
                overlap=overlap,
                batch_size=batch_size,
                progress=progress,
                periodic=periodic,
                out_channels=out_channels,
            )
    finally:
        _set_layout(module, torch.contiguous_format)
        module.train(was_training)
    result = out.numpy()
    result[empty[:, :out_channels]] = np.nan
    return result
