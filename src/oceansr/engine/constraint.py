"""Conservation: an SR field whose block means equal the LR field it came from.

``model.constraint=block_mean`` puts a parameter-free output layer after the network:
each LR cell's ``scale x scale`` block of the prediction is shifted by one constant so
that the mean over its ocean cells equals the LR value exactly (the physically
constrained SR of Harder et al., 2023, additive form). The shift is the same for every
cell of a block, so the layer keeps the network's structure inside the block and only
fixes its mean; it is differentiable, and the network's block means get no gradient.

The layer is exact for the block means the data make (``data.degradation``):
``nanmean`` averages a block's ocean cells, so every block with ocean has an LR value;
``strict_mean`` makes an LR value only where the whole block is ocean, so coastal blocks
(their LR is a land fill) are left alone. Other operators are not block means and are
refused with this option before a run starts (:mod:`oceansr.config.checks`).

The same function serves training (patches), evaluation (the tiled rows, which start
and end on block boundaries) and predict, and :class:`ConservationSums` measures the
conservation error of any prediction, constrained or not: the RMS over LR cells of
(block mean of the SR field - LR), in physical units.
"""

from __future__ import annotations

from typing import Any

import torch
from torchmetrics import Metric

from oceansr.config.architectures import BLOCK_MEAN, CONSERVING_OPERATORS

__all__ = [
    "BLOCK_MEAN",
    "CONSERVING_OPERATORS",
    "ConservationSums",
    "block_means",
    "conservation_residual",
    "enforce_block_mean",
]


def _blocks(x: torch.Tensor, scale: int) -> torch.Tensor:
    n, c, h, w = x.shape
    return x.reshape(n, c, h // scale, scale, w // scale, scale)


def block_means(
    pred: torch.Tensor, ocean: torch.Tensor, scale: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Mean over each block's ocean cells, ocean cells per block), both (N, C, h, w)."""
    cells = _blocks(ocean.to(pred.dtype), scale).sum(dim=(3, 5))
    total = _blocks(torch.where(ocean, pred, 0.0), scale).sum(dim=(3, 5))
    return total / cells.clamp(min=1), cells


def conserved_cells(cells: torch.Tensor, scale: int, operator: str) -> torch.Tensor:
    """LR cells that are their block's ocean mean under ``operator`` (bool, (N, C, h, w)):
    every block with ocean, or for ``strict_mean`` only the blocks that are all ocean."""
    if operator not in CONSERVING_OPERATORS:
        raise ValueError(f"{operator!r} is not a block mean ({CONSERVING_OPERATORS})")
    return cells == scale * scale if operator == "strict_mean" else cells > 0


def enforce_block_mean(
    pred: torch.Tensor,
    lr: torch.Tensor,
    ocean: torch.Tensor,
    scale: int,
    operator: str,
    lr_given: torch.Tensor | None = None,
) -> torch.Tensor:
    """``pred`` (N, C, H, W) shifted block by block so that its ocean block means equal
    ``lr`` (N, C, H/scale, W/scale) wherever ``operator`` made an LR value from the block
    (and, with ``lr_given``, only where the LR input has a value: predict's NaN = land).

    ``ocean`` is the HR ocean mask; ``pred`` and ``lr`` are in the same units (physical,
    or normalised: the normalisation is affine, so the constraint holds in both).
    """
    mean, cells = block_means(pred, ocean, scale)
    keep = conserved_cells(cells, scale, operator)
    if lr_given is not None:
        keep = keep & lr_given
    shift = torch.where(keep, lr.to(pred.dtype) - mean, 0.0)
    return pred + shift.repeat_interleave(scale, dim=-2).repeat_interleave(scale, dim=-1)


def conservation_residual(
    pred: torch.Tensor, lr: torch.Tensor, ocean: torch.Tensor, scale: int, operator: str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(Block mean - LR over the conserved cells, 0 elsewhere; the conserved cells)."""
    mean, cells = block_means(pred, ocean, scale)
    keep = conserved_cells(cells, scale, operator)
    return torch.where(keep, mean - lr.to(pred.dtype), 0.0), keep


class ConservationSums(Metric):
    """Squared block-mean residuals and conserved LR cells per channel, summed across
    batches and ranks: :meth:`compute` is the RMS conservation error of the split."""

    full_state_update = False
    is_differentiable = False
    higher_is_better = False

    squared: torch.Tensor
    cells: torch.Tensor

    def __init__(self, channels: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("squared", "cells"):
            self.add_state(
                name, default=torch.zeros(channels, dtype=torch.float64), dist_reduce_fx="sum"
            )

    def update(self, residual: torch.Tensor, keep: torch.Tensor) -> None:
        """Add one batch's physical-unit residuals (N, C, h, w) over ``keep``."""
        self.squared += (residual.detach().to(torch.float64) ** 2).sum(dim=(0, 2, 3))
        self.cells += keep.sum(dim=(0, 2, 3)).to(torch.float64)

    def compute(self) -> torch.Tensor:
        return torch.sqrt(self.squared / self.cells.clamp(min=1))
