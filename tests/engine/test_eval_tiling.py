"""Tiled evaluation equals whole-field evaluation; metric states reduce across ranks."""

from __future__ import annotations

import os
import socket
import warnings

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from oceansr.engine.lightning_noise import quiet_lightning
from oceansr.engine.metrics import MaskedFieldMetrics
from oceansr.engine.module import SRModule
from oceansr.inference.tiling import EVAL_TILE, eval_tile_for_budget, tile_windows
from sr_modules import two_variable_module


def _module(eval_tile: int) -> SRModule:
    return two_variable_module(scale=4, eval_tile=eval_tile)


def _batch() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    hr = torch.randn(2, 2, 256, 352, generator=g).cumsum(-1).cumsum(-2) / 40
    hr = hr + torch.tensor([10.0, 35.0]).view(1, 2, 1, 1)
    hr[:, :, :60, :90] = float("nan")  # a coast
    lr = torch.nn.functional.avg_pool2d(torch.nan_to_num(hr, 10.0), 4)
    return {"lr": lr, "hr": hr}


def _evaluate(module: SRModule, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    module.eval()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # self.log outside a Trainer
        module._eval_step(batch, "test")
    return module.metrics["test_model"].compute()


def test_tiled_evaluation_equals_whole_field_for_every_metric() -> None:
    batch = _batch()
    tiled = _module(eval_tile=16)
    assert len(tile_windows(64, 16, 16)) * len(tile_windows(88, 16, 16)) > 4  # really tiled
    whole = _module(eval_tile=EVAL_TILE)
    got, want = _evaluate(tiled, batch), _evaluate(whole, batch)
    for name in ("rmse", "mae", "bias", "psnr", "ssim"):
        torch.testing.assert_close(got[name], want[name], rtol=1e-5, atol=0.0, msg=name)


def test_eval_tile_comes_from_the_memory_budget_not_the_field() -> None:
    small, large = eval_tile_for_budget(2**28, 4), eval_tile_for_budget(2**32, 4)
    assert 16 <= small < large
    assert eval_tile_for_budget(2**30, 4, windows=4) < eval_tile_for_budget(2**30, 4)
    assert eval_tile_for_budget(1, 4) == 16


@pytest.mark.parametrize("key, value", [("eval_tile", 0), ("eval_memory_mb", "lots")])
def test_bad_eval_budget_is_a_config_error_naming_the_field(key: str, value: object) -> None:
    from oceansr.config.compose import compose_config
    from oceansr.core.errors import ConfigError
    from oceansr.data.validation import check_scalars

    with pytest.raises(ConfigError) as info:  # at compose (type) or check (range)
        check_scalars(compose_config([f"data.{key}={value}"]))
    assert info.value.field == f"data.{key}"
    assert check_scalars(compose_config(["data.eval_tile=64"])) is None


def test_stage_metric_warning_is_silenced_but_others_are_not() -> None:
    quiet_lightning()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        quiet_lightning()
        warnings.warn(
            "It is recommended to use `self.log('test/sst/rmse', ..., sync_dist=True)`",
            stacklevel=2,
        )
        warnings.warn(
            "It is recommended to use `self.log('train/loss', ..., sync_dist=True)`", stacklevel=2
        )
    assert [str(w.message) for w in caught] == [
        "It is recommended to use `self.log('train/loss', ..., sync_dist=True)`"
    ]


def _ranks(rank: int, world: int, port: int, out: dict) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    g = torch.Generator().manual_seed(3)
    target = torch.rand(4, 2, 24, 24, generator=g)
    pred = target + 0.1 * torch.randn(4, 2, 24, 24, generator=g)
    metric = MaskedFieldMetrics([1.0, 2.0])
    part = slice(2 * rank, 2 * rank + 2)  # each rank sees half the fields
    metric.update(pred[part], target[part], torch.isfinite(target[part]))
    # reshape: a one-channel state comes back 0-d from torchmetrics' gather (the module's
    # stage_metric_values flattens too).
    out[rank] = {k: v.reshape(-1).tolist() for k, v in metric.compute().items()}
    dist.destroy_process_group()


def test_test_metrics_are_reduced_across_ranks() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    manager = mp.Manager()
    out = manager.dict()
    mp.spawn(_ranks, args=(2, port, out), nprocs=2, join=True)
    g = torch.Generator().manual_seed(3)
    target = torch.rand(4, 2, 24, 24, generator=g)
    pred = target + 0.1 * torch.randn(4, 2, 24, 24, generator=g)
    single = MaskedFieldMetrics([1.0, 2.0])
    single.update(pred[:2], target[:2], torch.isfinite(target[:2]))
    single.update(pred[2:], target[2:], torch.isfinite(target[2:]))
    want = {k: v.reshape(-1).tolist() for k, v in single.compute().items()}
    for rank in (0, 1):
        for name, values in want.items():
            assert out[rank][name] == pytest.approx(values, rel=1e-6), name


def test_channels_last_predict_equals_contiguous_and_leaves_the_module_as_it_was() -> None:
    import numpy as np

    from oceansr.inference import tiling as inference

    module = _module(eval_tile=EVAL_TILE)
    lr = _batch()["lr"].numpy()
    try:
        inference.CHANNELS_LAST = False
        plain = inference.tiled_predict(module, lr, tile=16, overlap=4)
        inference.CHANNELS_LAST = True
        fast = inference.tiled_predict(module, lr, tile=16, overlap=4)
    finally:
        inference.CHANNELS_LAST = True
    np.testing.assert_allclose(fast, plain, rtol=1e-5, atol=1e-5)
    assert all(p.is_contiguous() for p in module.parameters())  # layout restored
