"""Model registry: one place mapping config names to architectures.

An architecture's values are its config file ``conf/model/<name>.yaml`` and what they
must be (option rules, the scales it realises) is declared torch-free in
:mod:`oceansr.config.architectures`, which the control plane checks a request against;
:func:`build_model` runs the same check before it constructs anything. Hydra's
``model.*`` keys arrive here as ``**kwargs`` and override the file's values. Everything
a user can get wrong (unknown name, unsupported scale, unknown or ill-typed key) is a
:class:`~oceansr.core.errors.ConfigError` naming the config field, so a typo fails fast
with a fix instead of a ``TypeError`` deep inside a constructor.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import torch
from omegaconf import OmegaConf
from torch import nn

from oceansr.config.architectures import (
    ANY_SCALE,
    ARCHITECTURES,
    OUTPUT_OPTIONS,
    check_model,
    model_defaults,
    supported_scales,
)
from oceansr.config.schema import Rule, integer_at_least
from oceansr.core.errors import ConfigError
from oceansr.models.edsr import EDSR
from oceansr.models.srcnn import SRCNN
from oceansr.models.swinir import SwinIR

__all__ = [
    "MODEL_NAMES",
    "build_model",
    "list_models",
    "model_defaults",
    "scale_dependent_prefixes",
    "zero_output",
]

_CHANNELS: Rule = integer_at_least(1, "1")


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry: the class that realises model ``name``.

    Its values are in ``conf/model/<name>.yaml`` (:func:`model_defaults`); its family,
    option rules and scales in :mod:`oceansr.config.architectures`.
    """

    name: str
    description: str
    cls: type[nn.Module]

    @property
    def family(self) -> str:
        return ARCHITECTURES[self.name].family

    @property
    def schema(self) -> Mapping[str, Rule]:
        """The rule of each option the class takes (its keyword arguments)."""
        return ARCHITECTURES[self.name].options


_REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "srcnn",
            "SRCNN 9-5-5 (Dong et al. 2014) on a bicubic pre-upsampled input; tiny baseline.",
            SRCNN,
        ),
        ModelSpec(
            "edsr_baseline",
            "EDSR baseline (Lim et al. 2017): 16 residual blocks x 64 features.",
            EDSR,
        ),
        ModelSpec(
            "edsr",
            "EDSR full (Lim et al. 2017): 32 residual blocks x 256 features, res_scale 0.1.",
            EDSR,
        ),
        ModelSpec(
            "swinir_light",
            "Lightweight SwinIR (Liang et al. 2021): dim 60, 4x6 Swin blocks, "
            "pixel-shuffle-direct upsampler.",
            SwinIR,
        ),
        ModelSpec(
            "swinir",
            "Classical SwinIR (Liang et al. 2021): dim 180, 6x6 Swin blocks, "
            "pixel-shuffle upsampler.",
            SwinIR,
        ),
    )
}

#: Names accepted by :func:`build_model` (``model.name`` in the config).
MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


def _spec(name: Any) -> ModelSpec:
    key = name.strip().lower() if isinstance(name, str) else name
    spec = _REGISTRY.get(key) if isinstance(key, str) else None
    if spec is None:
        raise ConfigError(
            f"unknown model {name!r}",
            field="model.name",
            fix=f"use one of: {', '.join(MODEL_NAMES)}",
        )
    return spec


def _plain(value: Any) -> Any:
    """A checked option as the constructors take it: lists (YAML or ListConfig) as tuples."""
    if OmegaConf.is_list(value) or isinstance(value, list | tuple):
        return tuple(value)
    return value


def build_model(
    name: str, in_channels: int, out_channels: int, scale: int, **kwargs: Any
) -> nn.Module:
    """Build model ``name`` mapping (B, in_channels, h, w) to (B, out_channels, s*h, s*w).

    ``kwargs`` override the architecture's values from its config file (the config's
    ``model.*`` keys, e.g. ``n_resblocks`` or ``depths``). Raises :class:`ConfigError`
    naming the field for an unknown name, unsupported scale or bad keyword.
    """
    spec = _spec(name)
    _CHANNELS.require("model.in_channels", in_channels)
    _CHANNELS.require("model.out_channels", out_channels)
    options = check_model(spec.name, kwargs, scale)
    network = {k: _plain(v) for k, v in options.items() if k not in OUTPUT_OPTIONS}
    try:
        return spec.cls(in_channels, out_channels, scale, **network)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:  # a value combination the rules cannot see
        raise ConfigError(
            f"cannot build model {spec.name!r} with {options}: {exc}",
            field="model",
            fix="check the model.* options against the model's documentation",
        ) from exc


@functools.cache
def _model_table() -> tuple[dict[str, Any], ...]:
    rows = []
    for spec in _REGISTRY.values():
        # Meta tensors have shapes but no storage: counting EDSR's 43 M parameters
        # allocates nothing and takes milliseconds.
        with torch.device("meta"):
            model = build_model(spec.name, 1, 1, 4)
        rows.append(
            {
                "name": spec.name,
                "family": spec.family,
                "description": spec.description,
                "params": sum(p.numel() for p in model.parameters()),
                "scales": list(scales) if (scales := supported_scales(spec.name)) else ANY_SCALE,
            }
        )
    return tuple(rows)


def list_models() -> list[dict[str, Any]]:
    """One dict per registered model: name, family, description, params, scales.

    ``params`` is the parameter count for 1 input and 1 output channel at scale 4.
    ``scales`` is a list of supported scales, or the string ``"any integer >= 2"``.
    """
    return copy.deepcopy(list(_model_table()))


def zero_output(net: nn.Module) -> None:
    """Zero a registry model's last layer, so that its output is 0 until it trains.

    With ``residual_learning`` the module adds bicubic to the model's output: a zeroed
    last layer makes step 0 exactly the bicubic baseline instead of bicubic plus the
    random field of a fresh network (SwinIR-light started at 2.2x bicubic's RMSE and
    needed ~420 steps to get back to it). Gradients still reach every layer from the
    first step on, through the last layer's weights once they move.
    """
    conv = cast(nn.Conv2d, net.output_conv)
    nn.init.zeros_(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def scale_dependent_prefixes(net: nn.Module) -> tuple[str, ...]:
    """State-dict prefixes of ``net`` whose shapes depend on the scale (the upsampler):
    what ``init_from`` leaves freshly initialised when it transfers to another scale."""
    return tuple(getattr(net, "scale_dependent", ()))
