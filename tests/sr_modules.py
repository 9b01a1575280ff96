"""A tiny two-variable SRCNN ``SRModule`` (temperature-like and salinity-like channels)
for the evaluation tests: every argument the module requires, written once."""

from __future__ import annotations

import torch

from oceansr.engine.module import SRModule


def two_variable_module(*, scale: int, eval_tile: int) -> SRModule:
    """Seeded, so two calls give the same weights. The last layer is drawn at random,
    not zeroed as a fresh residual model's is, so the network adds structure to the
    bicubic baseline and the evaluation tests compare something."""
    torch.manual_seed(0)
    module = SRModule(
        model={"name": "srcnn"},
        variables=["a", "b"],
        units=["degC", "psu"],
        scale=scale,
        mean=[10.0, 35.0],
        std=[3.0, 1.0],
        data_range=[20.0, 5.0],
        optim={"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "betas": [0.9, 0.999]},
        loss={"name": "l1", "charbonnier_eps": 1e-3},
        residual_learning=True,
        max_epochs=1,
        eval_tile=eval_tile,
    )
    torch.nn.init.normal_(module.net.output_conv.weight, std=0.05)
    return module
