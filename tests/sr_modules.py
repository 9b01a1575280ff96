"""Tiny ``SRModule``s for the tests: every argument the module requires, written once.

``two_variable_module``: SRCNN with temperature-like and salinity-like channels (the
evaluation tests); ``one_variable_module``: any registry model on one channel."""

from __future__ import annotations

from typing import Any

import torch

from oceansr.engine.module import SRModule

OPTIM: dict[str, Any] = {"name": "adam", "lr": 1e-3, "weight_decay": 0.0, "betas": [0.9, 0.999]}
LOSS: dict[str, Any] = {"name": "l1", "charbonnier_eps": 1e-3}


def one_variable_module(
    model: dict[str, Any],
    *,
    scale: int,
    seed: int = 0,
    residual_learning: bool = True,
    eval_tile: int | None = None,
) -> SRModule:
    """``model`` (a ``model`` config: name and options) on one temperature channel with
    mean 10 and std 3, seeded by ``seed``."""
    torch.manual_seed(seed)
    return SRModule(
        model=model,
        variables=["t"],
        units=["degC"],
        scale=scale,
        mean=[10.0],
        std=[3.0],
        data_range=[20.0],
        optim=OPTIM,
        loss=LOSS,
        residual_learning=residual_learning,
        max_epochs=1,
        eval_tile=eval_tile,
    )


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
        optim=OPTIM,
        loss=LOSS,
        residual_learning=True,
        max_epochs=1,
        eval_tile=eval_tile,
    )
    torch.nn.init.normal_(module.net.output_conv.weight, std=0.05)
    return module
