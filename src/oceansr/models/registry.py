"""Model registry: one place mapping config names to architectures.

An architecture's default options are its config file ``conf/model/<name>.yaml`` (the
one place they are written, so a run's ``config.yaml`` describes the whole network);
Hydra's ``model.*`` keys arrive here as ``**kwargs`` and override them. Everything a
user can get wrong (unknown name, unsupported scale, unknown or ill-typed key) is turned
into a :class:`~oceansr.core.errors.ConfigError` naming the config field, so a typo fails
fast with a fix instead of a ``TypeError`` deep inside a constructor.
"""

from __future__ import annotations

import copy
import functools
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import yaml
from torch import nn

from oceansr.config.schema import CONF_DIR
from oceansr.core.errors import ConfigError
from oceansr.models.edsr import EDSR, PIXEL_SHUFFLE_SCALES_TEXT, is_pixel_shuffle_scale
from oceansr.models.srcnn import SRCNN
from oceansr.models.swinir import RESI_CONNECTIONS, UPSAMPLERS, SwinIR

ANY_SCALE = "any integer >= 2"

# --- kwarg validators: (value, field) -> normalised value, or raise ConfigError ------------


def _pos_int(value: Any, fld: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ConfigError(
            f"expected a positive integer, got {value!r}",
            field=fld,
            fix="set it to an integer >= 1",
        )
    return int(value)


def _odd_int(value: Any, fld: str) -> int:
    v = _pos_int(value, fld)
    if v % 2 == 0:
        raise ConfigError(
            f"expected an odd kernel size, got {v}",
            field=fld,
            fix="use an odd size (e.g. 3, 5, 9) so 'same' padding is symmetric",
        )
    return v


def _number(minimum: float, inclusive: bool, maximum: float | None = None) -> Callable:
    def check(value: Any, fld: str) -> float:
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
        if ok:
            ok = value >= minimum if inclusive else value > minimum
            ok = ok and (maximum is None or value < maximum)
        if not ok:
            bound = f"{'>=' if inclusive else '>'} {minimum}"
            if maximum is not None:
                bound += f" and < {maximum}"
            raise ConfigError(
                f"expected a number {bound}, got {value!r}",
                field=fld,
                fix=f"set it to a number {bound}",
            )
        return float(value)

    return check


def _int_list(length: int | None = None, item: Callable = _pos_int) -> Callable:
    def check(value: Any, fld: str) -> tuple[int, ...]:
        # Hydra hands over ListConfig (a Sequence), YAML gives lists; reject strings.
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ConfigError(
                f"expected a list of integers, got {value!r}",
                field=fld,
                fix="give a list, e.g. [6, 6, 6, 6]",
            )
        items = list(value)
        if not items or (length is not None and len(items) != length):
            n = "a non-empty list" if length is None else f"exactly {length} integers"
            raise ConfigError(f"expected {n}, got {value!r}", field=fld, fix=f"give {n}")
        return tuple(item(v, f"{fld}[{i}]") for i, v in enumerate(items))

    return check


def _bool(value: Any, fld: str) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(
            f"expected true or false, got {value!r}", field=fld, fix="set it to true or false"
        )
    return value


def _choice(options: Sequence[str]) -> Callable:
    def check(value: Any, fld: str) -> str:
        if value not in options:
            raise ConfigError(
                f"unknown value {value!r}", field=fld, fix=f"use one of: {', '.join(options)}"
            )
        return str(value)

    return check


# --- the registry ---------------------------------------------------------------------------

_SRCNN_SCHEMA: dict[str, Callable] = {
    "hidden_channels": _int_list(2),
    "kernel_sizes": _int_list(3, _odd_int),
}
_EDSR_SCHEMA: dict[str, Callable] = {
    "n_resblocks": _pos_int,
    "n_feats": _pos_int,
    "res_scale": _number(0.0, inclusive=False),
}
_SWINIR_SCHEMA: dict[str, Callable] = {
    "embed_dim": _pos_int,
    "depths": _int_list(),
    "num_heads": _int_list(),
    "window_size": _pos_int,
    "mlp_ratio": _number(0.0, inclusive=False),
    "qkv_bias": _bool,
    "drop_path_rate": _number(0.0, inclusive=True, maximum=1.0),
    "upsampler": _choice(UPSAMPLERS),
    "resi_connection": _choice(RESI_CONNECTIONS),
    "num_feat": _pos_int,
}


@dataclass(frozen=True)
class ModelSpec:
    """A registry entry. ``scales`` is a tuple of allowed scales, or None for any >= 2.

    Its default options are not here but in ``conf/model/<name>.yaml`` (:func:`model_defaults`).
    """

    name: str
    family: str
    description: str
    cls: type[nn.Module]
    schema: Mapping[str, Callable[[Any, str], Any]]
    scales: tuple[int, ...] | None = None


_REGISTRY: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            "srcnn",
            "srcnn",
            "SRCNN 9-5-5 (Dong et al. 2014) on a bicubic pre-upsampled input; tiny baseline.",
            SRCNN,
            _SRCNN_SCHEMA,
        ),
        ModelSpec(
            "edsr_baseline",
            "edsr",
            "EDSR baseline (Lim et al. 2017): 16 residual blocks x 64 features.",
            EDSR,
            _EDSR_SCHEMA,
            (2, 3, 4, 8),
        ),
        ModelSpec(
            "edsr",
            "edsr",
            "EDSR full (Lim et al. 2017): 32 residual blocks x 256 features, res_scale 0.1.",
            EDSR,
            _EDSR_SCHEMA,
            (2, 3, 4, 8),
        ),
        ModelSpec(
            "swinir_light",
            "swinir",
            "Lightweight SwinIR (Liang et al. 2021): dim 60, 4x6 Swin blocks, "
            "pixel-shuffle-direct upsampler.",
            SwinIR,
            _SWINIR_SCHEMA,
        ),
        ModelSpec(
            "swinir",
            "swinir",
            "Classical SwinIR (Liang et al. 2021): dim 180, 6x6 Swin blocks, "
            "pixel-shuffle upsampler.",
            SwinIR,
            _SWINIR_SCHEMA,
            (2, 3, 4, 8),
        ),
    )
}

#: Names accepted by :func:`build_model` (``model.name`` in the config).
MODEL_NAMES: tuple[str, ...] = tuple(_REGISTRY)


#: Where each model's default options are written (``<name>.yaml``).
MODEL_CONF_DIR: Path = CONF_DIR / "model"


@functools.cache
def model_defaults(name: str) -> dict[str, Any]:
    """Model ``name``'s default options: its config file without ``name``.

    The registry and the Hydra config read the same file, so a composed ``model=edsr``
    and ``build_model("edsr", ...)`` build the same network.
    """
    path = MODEL_CONF_DIR / f"{name}.yaml"
    options = yaml.safe_load(path.read_text())
    if not isinstance(options, dict) or options.get("name") != name:
        raise ConfigError(
            f"{path} must be a mapping with name: {name}",
            field="model",
            fix=f"restore {path.name} from the oceansr package",
        )
    return {k: v for k, v in options.items() if k != "name"}


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


def _check_scale(spec: ModelSpec, scale: Any) -> int:
    allowed = ", ".join(map(str, spec.scales)) if spec.scales else ANY_SCALE
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or scale < 2:
        raise ConfigError(
            f"scale must be an integer >= 2, got {scale!r}",
            field="data.scale",
            fix=f"{spec.name} supports scale {allowed}",
        )
    if spec.scales is not None and scale not in spec.scales:
        raise ConfigError(
            f"model {spec.name!r} does not support scale {scale}",
            field="data.scale",
            fix=f"use scale {allowed}, or a model that supports x{scale} "
            f"(srcnn and swinir_light take any integer scale)",
        )
    return int(scale)


def build_model(
    name: str, in_channels: int, out_channels: int, scale: int, **kwargs: Any
) -> nn.Module:
    """Build model ``name`` mapping (B, in_channels, h, w) to (B, out_channels, s*h, s*w).

    ``kwargs`` override the registry defaults of the architecture (the config's
    ``model.*`` keys, e.g. ``n_resblocks`` or ``depths``). Raises :class:`ConfigError`
    naming the field for an unknown name, unsupported scale or bad keyword.
    """
    spec = _spec(name)
    scale = _check_scale(spec, scale)
    in_channels = _pos_int(in_channels, "model.in_channels")
    out_channels = _pos_int(out_channels, "model.out_channels")
    unknown = sorted(set(kwargs) - set(spec.schema))
    if unknown:
        raise ConfigError(
            f"model {spec.name!r} has no option {unknown[0]!r}",
            field=f"model.{unknown[0]}",
            fix=f"remove it; {spec.name} accepts: {', '.join(sorted(spec.schema))}",
        )
    options = {**model_defaults(spec.name), **kwargs}
    options = {k: spec.schema[k](v, f"model.{k}") for k, v in options.items()}
    if options.get("upsampler") == "pixelshuffle" and not is_pixel_shuffle_scale(scale):
        raise ConfigError(
            f"upsampler 'pixelshuffle' cannot realise scale {scale}",
            field="data.scale",
            fix=f"use a scale that is {PIXEL_SHUFFLE_SCALES_TEXT}, "
            "or model.upsampler=pixelshuffledirect",
        )
    try:
        return spec.cls(in_channels, out_channels, scale, **options)
    except ConfigError:
        raise
    except (TypeError, ValueError) as exc:  # a value combination the schema cannot see
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
                "scales": list(spec.scales) if spec.scales else ANY_SCALE,
            }
        )
    return tuple(rows)


def list_models() -> list[dict[str, Any]]:
    """One dict per registered model: name, family, description, params, scales.

    ``params`` is the parameter count for 1 input and 1 output channel at scale 4.
    ``scales`` is a list of supported scales, or the string ``"any integer >= 2"``.
    """
    return copy.deepcopy(list(_model_table()))
