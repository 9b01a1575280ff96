"""``model.constraint=block_mean``: SR block means equal the LR input, in training,
evaluation and predict; the conservation error is measured for every model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import xarray as xr

from conftest import SMOKE
from oceansr.config.checks import check_config
from oceansr.config.compose import compose_config
from oceansr.core.errors import ConfigError
from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean
from oceansr.engine.constraint import block_means, conservation_residual, enforce_block_mean
from oceansr.engine.module import SRModule
from sr_modules import one_variable_module

SCALE = 4


def _coastal_case(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Prediction, LR and HR ocean mask with all-ocean, coastal and all-land blocks."""
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 2, 16, 24, generator=g)
    ocean = torch.rand(2, 2, 16, 24, generator=g) > 0.3
    ocean[..., :4, :4] = False  # one all-land block
    ocean[..., 4:8, 4:8] = True  # one all-ocean block
    lr = torch.randn(2, 2, 4, 6, generator=g)
    return pred, lr, ocean


def test_nanmean_constraint_makes_every_ocean_block_mean_the_lr_value() -> None:
    pred, lr, ocean = _coastal_case()
    out = enforce_block_mean(pred, lr, ocean, SCALE, "nanmean")
    mean, cells = block_means(out, ocean, SCALE)
    assert (cells > 0).any() and (cells == 0).any()
    torch.testing.assert_close(mean[cells > 0], lr[cells > 0], rtol=0, atol=1e-5)
    # Inside a block only the mean moves: differences between cells are the network's.
    diff = (out - pred).reshape(2, 2, 4, SCALE, 6, SCALE)
    torch.testing.assert_close(diff, diff[:, :, :, :1, :, :1].expand_as(diff), rtol=0, atol=1e-5)


def test_strict_constraint_leaves_coastal_blocks_alone() -> None:
    pred, lr, ocean = _coastal_case(1)
    out = enforce_block_mean(pred, lr, ocean, SCALE, "strict_mean")
    mean, cells = block_means(out, ocean, SCALE)
    full = cells == SCALE * SCALE
    coastal = (cells > 0) & ~full
    assert full.any() and coastal.any()
    torch.testing.assert_close(mean[full], lr[full], rtol=0, atol=1e-5)
    unchanged = coastal.repeat_interleave(SCALE, -2).repeat_interleave(SCALE, -1)
    assert torch.equal(out[unchanged], pred[unchanged])


def test_constraint_is_blind_to_the_networks_block_means() -> None:
    """Adding a constant per block to the prediction changes nothing after the layer:
    the network learns the structure inside blocks, the LR fixes their means."""
    pred, lr, ocean = _coastal_case(2)
    offsets = torch.randn(2, 2, 4, 6).repeat_interleave(SCALE, -2).repeat_interleave(SCALE, -1)
    a = enforce_block_mean(pred, lr, ocean, SCALE, "nanmean")
    b = enforce_block_mean(pred + offsets, lr, ocean, SCALE, "nanmean")
    torch.testing.assert_close(a[ocean], b[ocean])


def test_given_lr_cells_limit_the_constraint() -> None:
    pred, lr, ocean = _coastal_case(3)
    given = torch.zeros_like(lr, dtype=torch.bool)
    assert torch.equal(enforce_block_mean(pred, lr, ocean, SCALE, "nanmean", given), pred)
    residual, keep = conservation_residual(pred, lr, ocean, SCALE, "nanmean")
    assert keep.any() and residual.abs().max() > 0.1


def test_block_mean_constraint_with_a_non_mean_operator_is_refused() -> None:
    cfg = compose_config([*SMOKE, "model.constraint=block_mean", "data.degradation=subsample"])
    with pytest.raises(ConfigError) as caught:
        check_config(cfg)
    assert caught.value.field in ("model.constraint", "data.degradation")


def test_unknown_constraint_names_the_choices() -> None:
    with pytest.raises(ConfigError) as caught:
        check_config(compose_config([*SMOKE, "model.constraint=mass"]))
    assert caught.value.field == "model.constraint" and "block_mean" in caught.value.fix


def _module(constraint: str) -> SRModule:
    """Several windows per field (``eval_tile=8``): the constraint sees tiled rows."""
    model = {"name": "srcnn", "hidden_channels": [8, 4], "constraint": constraint}
    return one_variable_module(model, scale=SCALE, eval_tile=8)


def test_evaluation_measures_the_conservation_error_with_and_without() -> None:
    hr = make_synthetic_dataset(n_time=2, height=48, width=64, variables=("t",), seed=5)
    hr_t = torch.from_numpy(hr["t"].values[:, None].astype(np.float32))
    from oceansr.data.transforms import fill_land_nearest

    lr = fill_land_nearest(block_mean(hr["t"].values[:, None], SCALE))
    batch = {"lr": torch.from_numpy(lr.astype(np.float32)), "hr": hr_t}
    errors = {}
    for constraint in ("none", "block_mean"):
        module = _module(constraint)
        for p in module.net.parameters():  # a network that is not the bicubic start
            torch.nn.init.normal_(p, std=0.05)
        with torch.no_grad():
            module._eval_step(batch, "val")
        assert module.conservation is not None
        errors[constraint] = float(module.conservation["val"].compute())
    assert errors["none"] > 1e-2 and errors["block_mean"] < 1e-4, errors


def test_training_step_is_constrained() -> None:
    module = _module("block_mean")
    for p in module.net.parameters():
        torch.nn.init.normal_(p, std=0.05)
    hr = 10 + 3 * torch.randn(2, 1, 16, 16)
    hr[..., :3, :5] = float("nan")
    lr = torch.from_numpy(block_mean(hr.numpy(), SCALE)).nan_to_num(10.0)
    ocean = torch.isfinite(hr)
    lr_norm = module.normalise(lr)
    pred = module.conserve(module.forward_normalised(lr_norm), lr_norm, ocean)
    mean, cells = block_means(pred, ocean, SCALE)
    torch.testing.assert_close(mean[cells > 0], lr_norm[cells > 0], rtol=0, atol=1e-5)


@pytest.fixture(scope="module")
def constrained_ckpt(tmp_path_factory) -> str:
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("runs")
    result = train([*SMOKE, f"runs_root={root}", "model.constraint=block_mean"])
    assert result.test_metrics["test/conservation_rms"] < 1e-4, result.test_metrics
    assert result.best_checkpoint
    return result.best_checkpoint


@pytest.mark.parametrize("with_mask", [False, True])
def test_predict_output_block_means_equal_the_input(constrained_ckpt, tmp_path, with_mask) -> None:
    from oceansr.predict import predict

    hr = make_synthetic_dataset(n_time=2, height=64, width=128, variables=("temp",), seed=3)
    lr = hr.coarsen(lat=SCALE, lon=SCALE).mean()
    lr["temp"].values = block_mean(hr["temp"].values, SCALE)
    lr.to_netcdf(tmp_path / "lr.nc")
    mask = None
    if with_mask:  # coastlines finer than the LR grid: blocks partly ocean
        ocean = np.isfinite(hr["temp"].values[0]).astype(np.int8)
        xr.Dataset({"mask": (("lat", "lon"), ocean)}).to_netcdf(tmp_path / "mask.nc")
        mask = tmp_path / "mask.nc"
    summary = predict(constrained_ckpt, tmp_path / "lr.nc", tmp_path / "sr.nc", hr_mask=mask)
    assert summary["constraint"] == "block_mean"
    with xr.open_dataset(tmp_path / "sr.nc") as out:
        sr = out["temp"].values
        assert out.attrs["oceansr_constraint"] == "block_mean"
    given = lr["temp"].values
    means = block_mean(sr, SCALE)
    both = np.isfinite(given) & np.isfinite(means)
    assert both.sum() > 100
    np.testing.assert_allclose(means[both], given[both], rtol=0, atol=2e-4)
