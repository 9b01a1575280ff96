"""Evaluation in HR row bands equals one whole-field pass (issue 10, item 5)."""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator

import numpy as np
import pytest
import torch

from oceansr.engine import module as module_mod
from oceansr.engine.banded_eval import bands_with_halo
from oceansr.engine.metrics import MaskedFieldMetrics
from oceansr.engine.module import SRModule, masked_loss
from oceansr.inference.baselines import bicubic_rows, bicubic_upsample, spline_upsample
from oceansr.inference.tiling import (
    EVAL_OVERLAP,
    tile_windows,
    tiled_apply,
    tiled_rows,
    window_weights,
)
from sr_modules import two_variable_module

TILE, OVERLAP, SCALE = 16, 16, 4


def _module() -> SRModule:
    return two_variable_module(scale=SCALE, eval_tile=TILE).eval()


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    hr = torch.randn(2, 2, 256, 352, generator=g).cumsum(-1).cumsum(-2) / 40
    hr = hr + torch.tensor([10.0, 35.0]).view(1, 2, 1, 1)
    hr[:, :, :60, :90] = float("nan")  # a coast
    hr[:, :, 98:110, :] = float("nan")  # whole land rows across the band edge at 104
    hr[1, 1, 200:, 300:] = float("nan")
    lr = torch.nn.functional.avg_pool2d(torch.nan_to_num(hr, 10.0), SCALE)
    return {"lr": lr, "hr": hr}


Metrics = dict[str, torch.Tensor]


def _whole_field_pass(
    m: SRModule, batch: dict[str, torch.Tensor]
) -> tuple[torch.Tensor, dict[str, Metrics]]:
    """The reference: one tiled_apply over the whole field, metrics on whole fields."""
    lr, hr = batch["lr"], batch["hr"]
    mask = torch.isfinite(hr)
    lr_norm = m.normalise(lr)
    with torch.no_grad():
        pred_norm = tiled_apply(
            m.forward_normalised,
            lr_norm,
            scale=SCALE,
            tile=TILE,
            overlap=EVAL_OVERLAP,
            batch_size=len(lr),
        )
    loss = masked_loss(pred_norm, m.normalise(hr), mask, "l1")
    fields = {
        "model": pred_norm,
        "bicubic": bicubic_upsample(lr_norm, SCALE),
        "spline": spline_upsample(lr_norm, SCALE),
    }
    out = {}
    for kind, field in fields.items():
        metric = MaskedFieldMetrics([20.0, 5.0])
        metric.update(m.denormalise(field), hr, mask)
        out[kind] = metric.compute()
    return loss, out


@pytest.mark.parametrize("band_rows", [None, 11])
def test_band_evaluation_equals_one_whole_field_pass(
    monkeypatch: pytest.MonkeyPatch, band_rows: int | None
) -> None:
    spans: list[tuple[int, int, int, int]] = []
    real_bands = module_mod.bands_with_halo

    def recording(*args: object, **kwargs: object) -> Iterator[tuple[int, int, int, torch.Tensor]]:
        for e0, r0, r1, rows in real_bands(*args, **kwargs):  # type: ignore[arg-type]
            spans.append((e0, r0, r1, rows.shape[-2]))
            yield e0, r0, r1, rows

    monkeypatch.setattr(module_mod, "bands_with_halo", recording)
    if band_rows is not None:
        monkeypatch.setattr(module_mod, "band_rows_for", lambda *_: band_rows)
    batch = _batch()
    m = _module()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # self.log outside a Trainer
        loss = m._eval_step(batch, "test")
    want_loss, want = _whole_field_pass(m, batch)

    # Several bands, covering the field once; one edge inside a blending overlap.
    assert len(spans) >= 3 and spans[0][1] == 0 and spans[-1][2] == 256
    assert all(a[2] == b[1] for a, b in itertools.pairwise(spans))
    assert max(s[3] for s in spans) <= max(s[2] - s[1] for s in spans) + 2 * 5
    edges = [s[1] for s in spans[1:]]
    blended = set()
    for y0, y1 in tile_windows(64, TILE, OVERLAP):
        w = window_weights((y0, y1), 64, SCALE, OVERLAP)
        blended |= {y0 * SCALE + i for i, v in enumerate(w) if 1e-3 < v < 1 - 1e-3}
    assert blended & set(edges), (edges, "no band edge inside an overlap")
    assert any(98 <= e < 110 for e in edges)  # a band edge among whole land rows

    torch.testing.assert_close(loss, want_loss.float(), rtol=1e-5, atol=0.0)
    for kind in ("model", "bicubic", "spline"):
        got = m.metrics[f"test_{kind}"].compute()
        for name in ("rmse", "mae", "bias", "psnr", "ssim"):
            torch.testing.assert_close(
                got[name], want[kind][name], rtol=1e-5, atol=1e-7, msg=f"{kind} {name}"
            )


def _blend_reference(net: torch.nn.Module, x: torch.Tensor, scale: int, tile: int, overlap: int):
    """Every window on its own, weighted, added into whole fields and divided by the
    whole 2-D weight sum: the definition the streamed rows must equal."""
    n, c, h, w = x.shape
    out = torch.zeros(n, c, h * scale, w * scale, dtype=torch.float64)
    wsum = torch.zeros(h * scale, w * scale, dtype=torch.float64)
    for y0, y1 in tile_windows(h, tile, overlap):
        for x0, x1 in tile_windows(w, tile, overlap):
            weight = torch.from_numpy(
                np.outer(
                    window_weights((y0, y1), h, scale, overlap),
                    window_weights((x0, x1), w, scale, overlap),
                )
            )
            ys, xs = slice(y0 * scale, y1 * scale), slice(x0 * scale, x1 * scale)
            out[..., ys, xs] += net(x[..., y0:y1, x0:x1]).double() * weight
            wsum[ys, xs] += weight
    return (out / wsum).float()


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_tiled_rows_equal_the_whole_field_blend(batch_size: int) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Upsample(scale_factor=3, mode="bicubic"), torch.nn.Conv2d(2, 2, 5, padding=2)
    )
    x = torch.randn(2, 2, 70, 53)
    with torch.no_grad():
        want = _blend_reference(net, x, scale=3, tile=16, overlap=4)
        blocks = list(tiled_rows(net, x, scale=3, tile=16, overlap=4, batch_size=batch_size))
        whole = tiled_apply(net, x, scale=3, tile=16, overlap=4, batch_size=batch_size)
    # a batch that holds every window runs them all at once: one block
    assert (len(blocks) == 1) == (batch_size == 64)
    starts = [0, *itertools.accumulate(b.shape[-2] for _, b in blocks[:-1])]
    assert [r for r, _ in blocks] == starts
    torch.testing.assert_close(torch.cat([b for _, b in blocks], dim=-2), want)
    torch.testing.assert_close(whole, want)


def test_one_window_is_the_model_itself() -> None:
    net = torch.nn.Upsample(scale_factor=2, mode="bilinear")
    x = torch.randn(3, 1, 20, 30)
    torch.testing.assert_close(
        tiled_apply(net, x, scale=2, tile=32, overlap=4, batch_size=1), net(x)
    )


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_rows_equal_the_whole_fields_rows(scale: int) -> None:
    lr = torch.randn(1, 2, 23, 17, generator=torch.Generator().manual_seed(2))
    whole = bicubic_upsample(lr, scale)
    for r0, r1 in [(0, 5), (1, 2), (7, 31), (scale * 23 - 9, scale * 23), (0, scale * 23)]:
        torch.testing.assert_close(bicubic_rows(lr, scale, r0, r1), whole[..., r0:r1, :])


def test_bands_with_halo_cover_the_field_once_from_any_blocks() -> None:
    field = torch.arange(50.0).view(1, 1, 50, 1)
    blocks = [(0, field[..., :3, :]), (3, field[..., 3:20, :]), (20, field[..., 20:, :])]
    got = list(bands_with_halo(iter(blocks), 50, 8, 2))
    assert [(r0, r1) for _, r0, r1, _ in got] == [(r, min(r + 8, 50)) for r in range(0, 50, 8)]
    for e0, r0, r1, rows in got:
        assert e0 == max(r0 - 2, 0)
        assert rows.reshape(-1).tolist() == list(range(e0, min(r1 + 2, 50)))
    with pytest.raises(ValueError, match="does not follow"):
        list(bands_with_halo(iter([blocks[0], blocks[2]]), 50, 8, 2))


def test_hr_that_is_not_lr_times_the_scale_is_a_shape_error_naming_the_scale() -> None:
    from oceansr.core.errors import ShapeMismatchError

    batch = _batch()
    with pytest.raises(ShapeMismatchError) as info, torch.no_grad():
        _module()._eval_step({"lr": batch["lr"], "hr": batch["hr"][..., :-3, :]}, "val")
    assert info.value.failure_type == "shape_mismatch"
    assert info.value.field == "data.scale"
