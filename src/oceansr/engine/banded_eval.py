"""Evaluation of large fields in HR row bands (docs/architecture.md, inference).

A validation/test batch is evaluated band by band: :func:`~oceansr.inference.tiling.tiled_rows`
streams the blended SR rows, :func:`bands_with_halo` cuts them into bands of owned rows
plus the SSIM halo, and the baselines of a band come from the LR rows around it
(:func:`oceansr.inference.baselines.baseline_rows`). Everything the step holds besides
the batch itself is then O(band), and the metrics and the loss, kept as sums, equal
those of one whole-field pass.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import torch


def band_rows_for(window_hr_side: int, hr_width: int, halo: int) -> int:
    """HR rows per band: as many cells as one evaluation window, at least ``2*halo+1``.

    The window's side comes from the memory budget (``eval_tile_for_budget``), which is
    spent at ``ACTIVATION_BYTES_PER_HR_CELL`` (1024) bytes per cell; a band's largest
    temporaries are SSIM's, about 400 bytes per cell (measured, ``SSIM_STRIP_CELLS``),
    so bands stay inside the same budget.
    """
    return max(window_hr_side * window_hr_side // max(hr_width, 1), 2 * halo + 1, 1)


def bands_with_halo(
    blocks: Iterable[tuple[int, torch.Tensor]], height: int, band_rows: int, halo: int
) -> Iterator[tuple[int, int, int, torch.Tensor]]:
    """``(e0, r0, r1, rows)``: owned rows ``[r0, r1)`` with ``halo`` rows each side.

    ``blocks`` are consecutive ``(row0, rows)`` blocks of a field of ``height`` rows,
    top to bottom; ``rows`` holds field rows ``[e0, min(r1 + halo, height))`` with
    ``e0 = max(r0 - halo, 0)``. Owned ranges cover the field once, in bands of
    ``band_rows``; only the rows a band still needs are kept.
    """
    buf: torch.Tensor | None = None
    buf0 = done = 0
    for row0, block in blocks:
        if buf is None:
            buf, buf0 = block, row0
        else:
            if row0 != buf0 + buf.shape[-2]:
                raise ValueError(f"block at row {row0} does not follow row {buf0 + buf.shape[-2]}")
            buf = torch.cat([buf, block], dim=-2)
        available = buf0 + buf.shape[-2]
        while done < height:
            r1 = min(done + band_rows, height)
            e0, e1 = max(done - halo, 0), min(r1 + halo, height)
            if e1 > available:
                break
            yield e0, done, r1, buf[..., e0 - buf0 : e1 - buf0, :]
            done = r1
        keep = max(done - halo, buf0)
        buf, buf0 = buf[..., keep - buf0 :, :], keep
