"""Masked metrics: land never counts, values match a hand computation, batching is exact."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from oceansr.engine.metrics import MaskedFieldMetrics, gain, masked_ssim_sums
from oceansr.engine.module import masked_loss


def _fields(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    target = torch.rand(4, 2, 16, 24, generator=g) * 10
    pred = target + torch.randn(4, 2, 16, 24, generator=g) * 0.5 + 0.1
    target[:, :, :5, :7] = float("nan")  # land
    mask = torch.isfinite(target)
    return pred, target, mask


def test_rmse_mae_bias_psnr_match_numpy_over_ocean_only() -> None:
    pred, target, mask = _fields()
    pred_with_land_garbage = torch.where(mask, pred, torch.full_like(pred, 1e6))
    metric = MaskedFieldMetrics(data_range=[10.0, 20.0])
    metric.update(pred_with_land_garbage, target, mask)
    out = metric.compute()
    for c, data_range in enumerate([10.0, 20.0]):
        p = pred[:, c].numpy()
        t = target[:, c].numpy()
        ocean = np.isfinite(t)
        err = (p - t)[ocean].astype(np.float64)
        rmse = math.sqrt((err**2).mean())
        assert out["rmse"][c].item() == pytest.approx(rmse, rel=1e-6)
        assert out["mae"][c].item() == pytest.approx(np.abs(err).mean(), rel=1e-6)
        assert out["bias"][c].item() == pytest.approx(err.mean(), rel=1e-5)
        assert out["psnr"][c].item() == pytest.approx(20 * math.log10(data_range / rmse), rel=1e-6)
        assert 0.0 < out["ssim"][c].item() < 1.0


def test_accumulation_over_batches_equals_one_batch() -> None:
    pred, target, mask = _fields(1)
    whole = MaskedFieldMetrics(data_range=[10.0, 10.0])
    whole.update(pred, target, mask)
    split = MaskedFieldMetrics(data_range=[10.0, 10.0])
    for i in range(4):
        split.update(pred[i : i + 1], target[i : i + 1], mask[i : i + 1])
    for name, value in whole.compute().items():
        torch.testing.assert_close(
            value, split.compute()[name], rtol=1e-6, atol=1e-9
        )  # float32 SSIM convolutions


def test_perfect_prediction_has_zero_error_and_ssim_one() -> None:
    _, target, mask = _fields(2)
    metric = MaskedFieldMetrics(data_range=[10.0, 10.0])
    metric.update(torch.nan_to_num(target, nan=-999.0), target, mask)
    out = metric.compute()
    assert torch.all(out["rmse"] == 0)
    torch.testing.assert_close(out["ssim"], torch.ones(2, dtype=torch.float64))


def test_ssim_ignores_land_values() -> None:
    pred, target, mask = _fields(3)
    a = masked_ssim_sums(pred, torch.nan_to_num(target), mask, torch.tensor([10.0, 10.0]))
    garbage = torch.where(mask, pred, torch.full_like(pred, -50.0))
    b = masked_ssim_sums(garbage, torch.nan_to_num(target), mask, torch.tensor([10.0, 10.0]))
    torch.testing.assert_close(a[0], b[0])


def test_data_range_must_be_positive() -> None:
    with pytest.raises(ValueError, match="data_range"):
        MaskedFieldMetrics(data_range=[0.0])


def test_gain_is_positive_when_model_is_better() -> None:
    assert gain(0.5, 1.0, "rmse") == pytest.approx(50.0)
    assert gain(30.0, 28.0, "psnr") == pytest.approx(2.0)
    assert gain(0.1, -0.3, "bias") == pytest.approx(0.2)
    assert gain(0.9, 0.8, "ssim") == pytest.approx(0.1)


@pytest.mark.parametrize("name", ["l1", "l2", "charbonnier"])
def test_masked_loss_counts_ocean_cells_only(name: str) -> None:
    pred, target, mask = _fields(4)
    loss = masked_loss(pred, target, mask, name, eps=1e-3)
    moved = masked_loss(torch.where(mask, pred, 1e9), target, mask, name, eps=1e-3)
    assert torch.isfinite(loss)
    torch.testing.assert_close(loss, moved)
    diff = (pred - target)[mask]
    if name == "l1":
        torch.testing.assert_close(loss, diff.abs().mean())
    if name == "l2":
        torch.testing.assert_close(loss, (diff**2).mean())


def test_ssim_in_strips_equals_the_whole_field_map(monkeypatch) -> None:
    """Strips with a halo give the whole-field SSIM sums (bounded memory, same result)."""
    from oceansr.engine import metrics

    g = torch.Generator().manual_seed(3)
    target = torch.randn(2, 2, 70, 48, generator=g).cumsum(-1).cumsum(-2) / 30
    pred = target + 0.3 * torch.randn(2, 2, 70, 48, generator=g)
    mask = torch.ones_like(target, dtype=torch.bool)
    mask[:, :, :20, :15] = False
    data_range = torch.tensor([8.0, 5.0], dtype=torch.float64)
    whole = metrics.masked_ssim_sums(pred, target, mask, data_range)
    monkeypatch.setattr(metrics, "SSIM_STRIP_CELLS", 48 * 13)  # strips of 13 rows
    assert len(metrics._strips(70, 48, 5)) > 3
    strips = metrics.masked_ssim_sums(pred, target, mask, data_range)
    torch.testing.assert_close(strips[0], whole[0], rtol=1e-6, atol=1e-9)
    torch.testing.assert_close(strips[1], whole[1])
