"""The ``model`` group's schema: each architecture's options and the scales it realises.

An architecture's values are its file ``conf/model/<name>.yaml`` (read here with PyYAML:
no torch); what they must be is declared here, beside the rest of the schema, so the
control plane refuses a bad model request in milliseconds and
:func:`oceansr.models.build_model` builds only what passed the same checks
(docs/architecture.md, Configuration).

Each architecture declares the scales it realises as a function of its options rather
than as a table by name: the upsampler decides. A pixel-shuffle upsampler (EDSR, and
SwinIR with ``upsampler: pixelshuffle``) realises :data:`PIXEL_SHUFFLE_SCALES`; bicubic
pre-upsampling (SRCNN) and SwinIR's one-step ``pixelshuffledirect`` any integer scale.
The declaration is not a key of the model's YAML file because that file is the run's
``model`` config: a ``scales`` key there would be an override, recorded in every
``config.yaml`` and checkpoint, and wrong as soon as ``model.upsampler`` is changed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from oceansr.config.schema import (
    CONF_DIR,
    Rule,
    a_bool,
    a_list_of,
    integer_at_least,
    number_in,
    one_of,
    rules,
)
from oceansr.core.errors import ConfigError

#: Scales a pixel-shuffle upsampler realises (x2 stages for powers of two, one x3 stage).
PIXEL_SHUFFLE_SCALES: tuple[int, ...] = (2, 3, 4, 8)
UPSAMPLERS: tuple[str, ...] = ("pixelshuffle", "pixelshuffledirect")
RESI_CONNECTIONS: tuple[str, ...] = ("1conv", "3conv")
#: ``model.constraint``: none, or ``block_mean`` (the SR field's block means equal the LR
#: input exactly: engine/constraint.py). An option of every architecture, realised by
#: the module around the network, so it is not passed to the network's constructor.
BLOCK_MEAN = "block_mean"
CONSTRAINTS: tuple[str, ...] = ("none", BLOCK_MEAN)
#: The ``data.degradation`` operators that make an LR cell the mean of its block's ocean
#: cells, the only ones a block-mean constraint can hold exactly.
CONSERVING_OPERATORS: tuple[str, ...] = ("nanmean", "strict_mean")
#: Options every architecture takes (see CONSTRAINTS), with their rules.
OUTPUT_OPTIONS: dict[str, Rule] = {"constraint": one_of(CONSTRAINTS, "model.constraint=block_mean")}
#: How a model that realises every scale is described (``list_models``, messages).
ANY_SCALE = "any integer >= 2"

#: Where each model's values are written (``<name>.yaml``).
MODEL_CONF_DIR: Path = CONF_DIR / "model"

Scales = Callable[[Mapping[str, Any]], tuple[int, ...] | None]


def _any_scale(options: Mapping[str, Any]) -> tuple[int, ...] | None:
    return None


def _pixel_shuffle(options: Mapping[str, Any]) -> tuple[int, ...] | None:
    return PIXEL_SHUFFLE_SCALES


def _by_upsampler(options: Mapping[str, Any]) -> tuple[int, ...] | None:
    return PIXEL_SHUFFLE_SCALES if options.get("upsampler") == "pixelshuffle" else None


def _no_combined_rule(options: Mapping[str, Any]) -> None:
    return None


def _swinir_heads(options: Mapping[str, Any]) -> None:
    """One ``num_heads`` entry per stage, each dividing ``embed_dim``."""
    depths, heads = list(options["depths"]), list(options["num_heads"])
    if len(depths) != len(heads):
        raise ConfigError(
            f"depths has {len(depths)} stages but num_heads has {len(heads)}",
            field="model.num_heads",
            fix="give one num_heads entry per depths entry",
        )
    bad = [h for h in heads if options["embed_dim"] % h]
    if bad:
        raise ConfigError(
            f"embed_dim {options['embed_dim']} is not divisible by num_heads {bad}",
            field="model.embed_dim",
            fix="choose embed_dim as a multiple of every num_heads entry",
        )


@dataclass(frozen=True)
class Architecture:
    """One architecture family: a rule per option, the scales it realises given its
    options, and the rule over several options that no single rule can see."""

    family: str
    options: Mapping[str, Rule]
    scales: Scales
    combined: Callable[[Mapping[str, Any]], None] = _no_combined_rule


def _positive(example: str) -> Rule:
    return integer_at_least(1, example)


def _odd(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1 and value % 2 == 1


_SRCNN = Architecture(
    "srcnn",
    {
        "hidden_channels": a_list_of(
            _positive("model.hidden_channels=[64,32]"), "[64,32]", length=2
        ),
        "kernel_sizes": a_list_of(
            Rule(
                "an odd integer >= 1 (so 'same' padding is symmetric)",
                "model.kernel_sizes=[9,5,5]",
                check=_odd,
            ),
            "[9,5,5]",
            length=3,
        ),
    },
    _any_scale,
)
_EDSR = Architecture(
    "edsr",
    {
        "n_resblocks": _positive("16"),
        "n_feats": _positive("64"),
        "res_scale": number_in("1.0", 0.0, exclusive_minimum=True),
    },
    _pixel_shuffle,
)
_SWINIR = Architecture(
    "swinir",
    {
        "embed_dim": _positive("60"),
        "depths": a_list_of(_positive("model.depths=[6,6,6,6]"), "[6,6,6,6]", min_items=1),
        "num_heads": a_list_of(_positive("model.num_heads=[6,6,6,6]"), "[6,6,6,6]", min_items=1),
        "window_size": _positive("8"),
        "mlp_ratio": number_in("2.0", 0.0, exclusive_minimum=True),
        "qkv_bias": a_bool("true"),
        "drop_path_rate": number_in("0.1", 0.0, 1.0, exclusive_maximum=True),
        "upsampler": one_of(UPSAMPLERS, "pixelshuffledirect"),
        "resi_connection": one_of(RESI_CONNECTIONS, "1conv"),
        "num_feat": _positive("64"),
    },
    _by_upsampler,
    _swinir_heads,
)

#: Each shipped model (a file ``conf/model/<name>.yaml``) and its architecture.
ARCHITECTURES: dict[str, Architecture] = {
    "srcnn": _SRCNN,
    "edsr_baseline": _EDSR,
    "edsr": _EDSR,
    "swinir_light": _SWINIR,
    "swinir": _SWINIR,
}


def architecture(name: str) -> Architecture:
    """The architecture of model ``name``; a ConfigError naming ``model.name`` if unknown."""
    found = ARCHITECTURES.get(name)
    if found is None:
        raise ConfigError(
            f"unknown model {name!r}",
            field="model.name",
            fix=f"model=<one of {', '.join(ARCHITECTURES)}>",
        )
    return found


@functools.cache
def _model_file(name: str) -> dict[str, Any]:
    path = MODEL_CONF_DIR / f"{name}.yaml"
    options = yaml.safe_load(path.read_text())
    if not isinstance(options, dict) or options.get("name") != name:
        raise ConfigError(
            f"{path} must be a mapping with name: {name}",
            field="model",
            fix=f"restore {path.name} from the oceansr package",
        )
    return {k: v for k, v in options.items() if k != "name"}


def model_defaults(name: str) -> dict[str, Any]:
    """Model ``name``'s options as its config file sets them (without ``name``).

    The registry and the Hydra config read the same file, so a composed ``model=edsr``
    and ``build_model("edsr", ...)`` build the same network.
    """
    architecture(name)
    return dict(_model_file(name))


def supported_scales(name: str, options: Mapping[str, Any] | None = None) -> tuple[int, ...] | None:
    """The scales model ``name`` realises with ``options`` over its file's (None: any)."""
    return architecture(name).scales({**model_defaults(name), **(options or {})})


def _any_scale_models() -> list[str]:
    return [name for name in ARCHITECTURES if supported_scales(name) is None]


def check_scale(name: str, options: Mapping[str, Any], scale: int) -> None:
    """The model's upsampler must realise ``data.scale``."""
    allowed = architecture(name).scales(options)
    if allowed is None or scale in allowed:
        return
    scales = ", ".join(map(str, allowed))
    others = " / ".join(f"model={n}" for n in _any_scale_models())
    direct = ", model.upsampler=pixelshuffledirect" if "upsampler" in options else ""
    raise ConfigError(
        f"model {name!r} does not support data.scale={scale} (it supports {scales})",
        field="data.scale",
        fix=f"data.scale=<one of {scales}>{direct}, or {others} (any integer scale) for x{scale}",
    )


def check_model(name: str, options: Mapping[str, Any], scale: Any) -> dict[str, Any]:
    """Model ``name``'s complete options (its file's, overridden by ``options``), each
    checked against its rule, then together, then against ``data.scale``.

    Every problem is a ConfigError naming the field (``model.depths[1]``, ``data.scale``)
    and the fix; called by the request checks and by the registry before it builds.
    """
    arch = architecture(name)
    rules()["data.scale"].require("data.scale", scale)
    known = {**arch.options, **OUTPUT_OPTIONS}
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ConfigError(
            f"model {name!r} has no option {unknown[0]!r}",
            field=f"model.{unknown[0]}",
            fix=f"remove it; {name} accepts: {', '.join(sorted(known))}",
        )
    merged = {**model_defaults(name), **options}
    for key, value in merged.items():
        known[key].require(f"model.{key}", value)
    arch.combined(merged)
    check_scale(name, merged, scale)
    return merged
