"""Residual models start at the bicubic baseline (zeroed last layer) and still learn."""

from __future__ import annotations

import pytest
import torch

from oceansr.engine.module import SRModule
from oceansr.inference.baselines import bicubic_upsample
from oceansr.models import MODEL_NAMES
from sr_modules import one_variable_module

TINY: dict[str, dict[str, object]] = {
    "srcnn": {"hidden_channels": [8, 4]},
    "edsr_baseline": {"n_resblocks": 1, "n_feats": 8},
    "edsr": {"n_resblocks": 1, "n_feats": 8},
    "swinir_light": {"embed_dim": 12, "depths": [1], "num_heads": [2], "window_size": 4},
    "swinir": {"embed_dim": 12, "depths": [1], "num_heads": [2], "window_size": 4},
}


def _module(name: str, residual: bool = True) -> SRModule:
    return one_variable_module({"name": name, **TINY[name]}, scale=2, residual_learning=residual)


def test_every_registry_model_is_covered() -> None:
    assert set(TINY) == set(MODEL_NAMES)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_step_zero_is_bicubic(name: str) -> None:
    """A fresh residual model's prediction is exactly the bicubic baseline's."""
    module = _module(name).eval()
    lr = 10.0 + 3.0 * torch.randn(2, 1, 8, 12)
    with torch.no_grad():
        assert torch.allclose(module(lr), bicubic_upsample(lr, 2), atol=1e-5)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_zero_start_still_trains_every_parameter(name: str) -> None:
    """After the first step moves the last layer, gradients reach every parameter."""
    module = _module(name)
    optimiser = torch.optim.Adam(module.parameters(), lr=1e-2)
    lr, hr = torch.randn(2, 1, 8, 8), torch.randn(2, 1, 16, 16)
    for _ in range(2):
        optimiser.zero_grad()
        loss = (module.forward_normalised(lr) - hr).abs().mean()
        loss.backward()
        optimiser.step()
    silent = [n for n, p in module.named_parameters() if p.grad is None or not p.grad.any()]
    assert not silent


def test_non_residual_models_keep_their_initialisation() -> None:
    """Without residual learning the output is not forced to zero (it would be the mean)."""
    module = _module("srcnn", residual=False)
    assert module.net.output_conv.weight.abs().sum() > 0
