"""Masked field metrics in physical units, counted over ocean cells only.

Land is NaN in the data, so every metric here takes an explicit boolean mask of the
HR ocean cells and ignores everything else. The metric states are sums (not means of
batch means) so that the result is exact whatever the batch split and so that DDP
reduction is a plain sum across ranks.

PSNR uses a *fixed* data range per variable, taken from the training split and stored
in the run config, so that PSNR values are comparable between epochs, runs and models.
SSIM is the usual Gaussian-window SSIM (torchmetrics) computed with land set to the
same value in both fields (each field's own ocean mean, so that no field's SSIM depends
on which fields share its batch), then averaged over ocean cells only.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import torch
from torchmetrics import Metric
from torchmetrics.functional.image import structural_similarity_index_measure

#: Cells of one SSIM strip (rows x width): torchmetrics' SSIM holds about 400 bytes of
#: temporaries per cell (measured: 435 MB for a 1024 x 2048 field, 131 MB in strips of
#: 2**18 cells; benchmarks/eval_memory.py), so a whole 2048 x 4096 field took 3.4 GB.
SSIM_STRIP_CELLS = 2**18


def _strips(height: int, width: int, halo: int) -> list[tuple[int, int]]:
    """Row ranges ``[r0, r1)`` covering ``height``, each at least ``2 * halo + 1`` rows."""
    rows = max(SSIM_STRIP_CELLS // max(width, 1), 2 * halo + 1)
    return [(r0, min(r0 + rows, height)) for r0 in range(0, height, rows)]


def _ssim_map(p: torch.Tensor, t: torch.Tensor, data_range: float, kernel: int) -> torch.Tensor:
    _, ssim_map = structural_similarity_index_measure(
        p,
        t,
        data_range=data_range,
        kernel_size=kernel,
        sigma=1.5 * kernel / 11,
        reduction="none",
        return_full_image=True,
    )
    return ssim_map


def ssim_kernel(height: int, width: int) -> int:
    """SSIM window side of a ``height`` x ``width`` field: 11, or less for small fields.

    The kernel shrinks for fields smaller than the default 11-pixel window so that
    small test patches still get a (local) SSIM rather than an error; below 3 there is
    no SSIM (its count stays zero). A band of a field uses the whole field's kernel.
    """
    side = min(height, width)
    return min(11, side if side % 2 == 1 else side - 1)


def masked_field_mean(target: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of each field and channel of ``target`` over ``mask`` (N, C), float64.

    SSIM fills land with this value in both fields. It is each field's own: a mean over
    the batch made a field's SSIM depend on the other fields of its batch, so on
    ``eval_batch_size`` and the number of ranks. Summed in row strips, so temporaries
    stay those of one strip (the mask too: ``None`` means the finite cells of ``target``).
    """
    fields, channels, width = target.shape[0], target.shape[1], target.shape[-1]
    sums = torch.zeros(fields, channels, dtype=torch.float64, device=target.device)
    counts = torch.zeros(fields, channels, dtype=torch.float64, device=target.device)
    for r0, r1 in _strips(target.shape[-2], width, 0):
        strip = target[..., r0:r1, :]
        m = torch.isfinite(strip) if mask is None else mask[..., r0:r1, :]
        rows = torch.where(m, torch.nan_to_num(strip), 0.0)
        sums += rows.to(torch.float64).sum(dim=(2, 3))
        counts += m.sum(dim=(2, 3)).to(torch.float64)
    return sums / counts.clamp(min=1)


def band_ssim_sums(
    pred: torch.Tensor,
    target: torch.Tensor,
    mask: torch.Tensor,
    data_range: torch.Tensor,
    *,
    kernel: int,
    fill: torch.Tensor,
    rows: tuple[int, int],
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (SSIM-map sum, ocean cells) over ``rows`` of a band of a field.

    ``pred``/``target``/``mask`` hold the owned ``rows`` plus up to ``kernel // 2`` halo
    rows each side: fewer only where the band touches the field's edge, which SSIM then
    pads as for the whole field. The map is computed in row strips with the same halo,
    so each owned row sees the neighbourhood it has in the whole field and the sums are
    those of the whole-field map (docs/architecture.md, inference).
    """
    channels, width = pred.shape[1], pred.shape[-1]
    sums = torch.zeros(channels, dtype=torch.float64, device=pred.device)
    counts = mask[..., rows[0] : rows[1], :].sum(dim=(0, 2, 3)).to(torch.float64)
    if kernel < 3:
        return sums, torch.zeros_like(counts)
    halo, height = (kernel - 1) // 2, pred.shape[-2]
    for c in range(channels):
        m = mask[:, c : c + 1]
        value = fill[:, c].to(pred.dtype).view(-1, 1, 1, 1)
        for r0, r1 in _strips(rows[1] - rows[0], width, halo):
            r0, r1 = r0 + rows[0], r1 + rows[0]
            e0, e1 = max(r0 - halo, 0), min(r1 + halo, height)
            ms = m[..., e0:e1, :]
            p = torch.where(ms, pred[:, c : c + 1, e0:e1], value).to(torch.float32)
            t = torch.where(ms, target[:, c : c + 1, e0:e1], value).to(torch.float32)
            core = _ssim_map(p, t, float(data_range[c]), kernel)[..., r0 - e0 : r1 - e0, :]
            sums[c] += core[m[..., r0:r1, :]].to(torch.float64).sum()
    return sums, counts


def masked_ssim_sums(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, data_range: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel (sum of SSIM-map values over ocean cells, number of ocean cells).

    The whole field as one band (:func:`band_ssim_sums`), land filled with each field's
    mean of ``target`` over its ocean cells, computed in row strips so its temporaries stay bounded
    for large evaluation fields.
    """
    height, width = pred.shape[-2:]
    return band_ssim_sums(
        pred,
        target,
        mask,
        data_range,
        kernel=ssim_kernel(height, width),
        fill=masked_field_mean(target, mask),
        rows=(0, height),
    )


class MaskedFieldMetrics(Metric):
    """RMSE, MAE, bias, PSNR and SSIM per channel over masked (ocean) cells.

    ``update(pred, target, mask)`` takes (N, C, H, W) tensors in physical units;
    ``compute()`` returns ``{metric: tensor(C)}``. With ``edge_columns`` (a grid that
    spans the globe), it also returns ``seam_ratio``: the RMSE on the first and last
    ``edge_columns`` columns over the RMSE of the columns between them, which is 1 when
    the seam is no harder than the interior.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = None

    # Buffer and states (declared for type checkers; torchmetrics registers them).
    data_range: torch.Tensor
    sum_err: torch.Tensor
    sum_abs: torch.Tensor
    sum_sq: torch.Tensor
    count: torch.Tensor
    ssim_sum: torch.Tensor
    ssim_count: torch.Tensor
    edge_sq: torch.Tensor
    edge_count: torch.Tensor

    def __init__(
        self, data_range: list[float] | torch.Tensor, edge_columns: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        data_range = torch.as_tensor(data_range, dtype=torch.float64)
        if data_range.ndim != 1 or bool((data_range <= 0).any()):
            raise ValueError(f"data_range must be positive per channel, got {data_range}")
        self.register_buffer("data_range", data_range, persistent=False)
        self.edge_columns = int(edge_columns)
        channels = data_range.numel()
        for name in (
            "sum_err",
            "sum_abs",
            "sum_sq",
            "count",
            "ssim_sum",
            "ssim_count",
            "edge_sq",
            "edge_count",
        ):
            self.add_state(
                name, default=torch.zeros(channels, dtype=torch.float64), dist_reduce_fx="sum"
            )

    def update(
        self,
        pred: torch.Tensor,
        target: torch.Tensor,
        mask: torch.Tensor,
        *,
        rows: tuple[int, int] | None = None,
        kernel: int | None = None,
        fill: torch.Tensor | None = None,
    ) -> None:
        """Add whole fields, or the owned ``rows`` of a band given with its SSIM halo.

        A band passes the whole field's ``kernel`` and ``fill`` (:func:`ssim_kernel`,
        :func:`masked_field_mean`), so bands that cover a field once add exactly the
        sums of the whole field (docs/architecture.md, inference). Without ``rows`` the
        tensors are whole fields and are their own only band.
        """
        height, width = pred.shape[-2:]
        rows = (0, height) if rows is None else rows
        kernel = ssim_kernel(height, width) if kernel is None else kernel
        fill = masked_field_mean(target, mask) if fill is None else fill
        pred = pred.detach()
        own = slice(rows[0], rows[1])
        m = mask[..., own, :]
        err = torch.where(m, pred[..., own, :] - torch.nan_to_num(target[..., own, :]), 0.0)
        err = err.to(torch.float64)
        squared = err * err
        self.sum_err += err.sum(dim=(0, 2, 3))
        self.sum_abs += err.abs().sum(dim=(0, 2, 3))
        self.sum_sq += squared.sum(dim=(0, 2, 3))
        self.count += m.sum(dim=(0, 2, 3)).to(torch.float64)
        if self.edge_columns > 0:
            edges = _edge_columns(width, self.edge_columns, pred.device)
            self.edge_sq += squared.index_select(-1, edges).sum(dim=(0, 2, 3))
            self.edge_count += m.index_select(-1, edges).sum(dim=(0, 2, 3)).to(torch.float64)
        ssim_sum, ssim_count = band_ssim_sums(
            pred,
            torch.nan_to_num(target),
            mask,
            self.data_range,
            kernel=kernel,
            fill=fill,
            rows=rows,
        )
        self.ssim_sum += ssim_sum
        self.ssim_count += ssim_count

    def compute(self) -> dict[str, torch.Tensor]:
        count = self.count.clamp(min=1)
        mse = self.sum_sq / count
        values = {
            "rmse": mse.sqrt(),
            "mae": self.sum_abs / count,
            "bias": self.sum_err / count,
            "psnr": 10 * torch.log10(self.data_range**2 / mse.clamp(min=1e-20)),
            "ssim": self.ssim_sum / self.ssim_count.clamp(min=1),
        }
        if self.edge_columns > 0:
            edge = (self.edge_sq / self.edge_count.clamp(min=1)).sqrt()
            inner_count = (self.count - self.edge_count).clamp(min=1)
            inner = ((self.sum_sq - self.edge_sq) / inner_count).sqrt()
            values["seam_ratio"] = edge / inner.clamp(min=1e-20)
        return values


def _edge_columns(width: int, columns: int, device: torch.device) -> torch.Tensor:
    """Indices of the first and last ``columns`` columns (each once on narrow fields)."""
    first = torch.arange(min(columns, width), device=device)
    last = torch.arange(max(width - columns, columns), width, device=device)
    return torch.cat([first, last])


class FieldSums(NamedTuple):
    """Squared-error sum and ocean cells per field and channel, ``(N, C)`` each."""

    squared: torch.Tensor
    cells: torch.Tensor


class LossSums(Metric):
    """The evaluation loss as one sum over ocean cells and one count, reduced across ranks.

    A mean of per-batch means (Lightning's ``self.log`` on epoch) weights fields by batch,
    so ``val/loss`` changed with ``eval_batch_size`` and the number of ranks; the sums
    give the loss of the whole split, whatever the split into batches.
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = False

    total: torch.Tensor
    cells: torch.Tensor

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("total", "cells"):
            self.add_state(name, default=torch.zeros((), dtype=torch.float64), dist_reduce_fx="sum")

    def update(self, total: torch.Tensor, cells: torch.Tensor) -> None:
        self.total += total.detach().to(torch.float64)
        self.cells += cells.to(torch.float64)

    def compute(self) -> torch.Tensor:
        return self.total / self.cells.clamp(min=1)


def field_sums(
    pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor, rows: tuple[int, int]
) -> FieldSums:
    """What the owned ``rows`` of a band add to each field's squared error and cells.

    The per-field counterpart of :class:`MaskedFieldMetrics`' sums (same cells, same
    float64 arithmetic), for breakdowns by group and intervals (:class:`FieldErrors`).
    """
    own = slice(rows[0], rows[1])
    m = mask[..., own, :]
    err = torch.where(m, pred.detach()[..., own, :] - torch.nan_to_num(target[..., own, :]), 0.0)
    err = err.to(torch.float64)
    return FieldSums((err * err).sum(dim=(2, 3)), m.sum(dim=(2, 3)).to(torch.float64))


class FieldErrors(Metric):
    """Squared-error sums per evaluated field, for breakdowns and intervals by group.

    States are lists gathered across ranks (``cat``), keyed by each field's index in its
    split: a sampler that pads a rank with a repeated field adds it twice, which
    :meth:`compute` drops. ``squared`` holds one column per estimator (model and
    baselines, in the order the caller gives).
    """

    full_state_update = False
    is_differentiable = False
    higher_is_better = None

    index: list[torch.Tensor]
    squared: list[torch.Tensor]
    cells: list[torch.Tensor]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("index", "squared", "cells"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, index: torch.Tensor, squared: torch.Tensor, cells: torch.Tensor) -> None:
        """``index`` (N,), ``squared`` (N, C, K) for K estimators, ``cells`` (N, C)."""
        self.index.append(index.reshape(-1).to(torch.int64))
        self.squared.append(squared.to(torch.float64))
        self.cells.append(cells.to(torch.float64))

    def compute(self) -> dict[str, torch.Tensor]:
        """``index`` (M,) ascending and unique, ``squared`` (M, C, K), ``cells`` (M, C)."""
        # A list of updates, or one tensor after the states were gathered across ranks.
        if isinstance(self.index, list) and not self.index:
            empty = torch.zeros(0)
            return {"index": empty.long(), "squared": empty, "cells": empty}
        index = _as_tensor(self.index).long()
        order = torch.argsort(index, stable=True)
        index = index[order]
        keep = torch.ones_like(index, dtype=torch.bool)
        keep[1:] = index[1:] != index[:-1]
        return {
            "index": index[keep],
            "squared": _as_tensor(self.squared)[order][keep],
            "cells": _as_tensor(self.cells)[order][keep],
        }


def field_error_arrays(found: dict[str, torch.Tensor], channels: int) -> dict[str, Any]:
    """:meth:`FieldErrors.compute`'s result as numpy arrays of its documented shapes.

    torchmetrics squeezes a one-element result to 0-d, so a test split of one field gave
    a 0-d ``index`` (and, with one variable, 0-d ``cells``), and the breakdown at the end
    of the run failed on ``len()``. The shapes are restored here.
    """
    index = found["index"].reshape(-1)
    fields = int(index.numel())
    if fields == 0:
        return {key: value.cpu().numpy() for key, value in found.items()}
    return {
        "index": index.cpu().numpy(),
        "squared": found["squared"].reshape(fields, channels, -1).cpu().numpy(),
        "cells": found["cells"].reshape(fields, channels).cpu().numpy(),
    }


def _as_tensor(state: list[torch.Tensor] | torch.Tensor) -> torch.Tensor:
    """A ``cat`` state as one tensor (torchmetrics gives a tensor after a DDP sync)."""
    return torch.cat(state) if isinstance(state, list) else state


def gain(model_value: float, baseline_value: float, metric: str) -> float:
    """The model's improvement over a baseline, in the most readable unit per metric.

    Error metrics (rmse, mae): percentage reduction of the error (positive = better).
    |bias|: reduction of the absolute bias, in physical units. PSNR: dB gained.
    SSIM: difference. Positive always means the model is better.
    """
    if metric in ("rmse", "mae"):
        if not baseline_value:
            return math.nan
        return 100.0 * (baseline_value - model_value) / baseline_value
    if metric == "bias":
        return abs(baseline_value) - abs(model_value)
    return model_value - baseline_value
