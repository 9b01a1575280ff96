"""Check a training request before any process is spawned.

The control plane calls :func:`validate_overrides` so that a typo in an override or a
wrong data path comes back as a classified error summary in a fraction of a second,
with no process started. It imports no torch: model names are checked against the
shipped model configs; the full architecture check happens in the trainer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from oceansr.config import compose_config, config_groups
from oceansr.data.prepare import prepare_data
from oceansr.errors import ConfigError
from oceansr.runs.failures import classify_exception


def check_patch_settings(data_cfg: Any, scale: int, hr_shape: tuple[int, int]) -> None:
    """Patch size must be a multiple of the scale and fit in the HR grid; sizes positive."""
    patch = data_cfg["patch_size"]
    height, width = hr_shape
    if not isinstance(patch, int) or patch < scale or patch % scale:
        raise ConfigError(
            f"data.patch_size={patch!r} must be a positive multiple of data.scale={scale}",
            field="data.patch_size",
            fix=f"data.patch_size={max(scale, (int(patch or 0) // scale) * scale)}",
        )
    if patch > min(height, width):
        raise ConfigError(
            f"data.patch_size={patch} is larger than the HR grid {height}x{width}",
            field="data.patch_size",
            fix=f"data.patch_size={(min(height, width) // scale) * scale}",
        )
    for key in ("batch_size", "eval_batch_size", "patches_per_field"):
        if not isinstance(data_cfg[key], int) or data_cfg[key] < 1:
            raise ConfigError(
                f"data.{key} must be a positive integer, got {data_cfg[key]!r}",
                field=f"data.{key}",
                fix=f"data.{key}=4",
            )
    fraction = data_cfg["min_ocean_fraction"]
    if not 0.0 <= float(fraction) <= 1.0:
        raise ConfigError(
            f"data.min_ocean_fraction={fraction} is outside [0, 1]",
            field="data.min_ocean_fraction",
            fix="data.min_ocean_fraction=0.3",
        )


def check_model_name(cfg: DictConfig) -> None:
    known = config_groups()["model"]
    if cfg.model.name not in known:
        raise ConfigError(
            f"unknown model {cfg.model.name!r}",
            field="model.name",
            fix=f"model=<one of {', '.join(known)}>",
        )


def validate_config(cfg: DictConfig) -> dict[str, Any]:
    """Raise a classified error for a bad config; return the data summary otherwise."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(
            f"required values are missing: {', '.join(missing)}",
            field=missing[0],
            fix=f"add {missing[0]}=... to the overrides",
        )
    check_model_name(cfg)
    data = prepare_data(cfg.data)
    check_patch_settings(cfg.data, data.scale, tuple(data.splits["train"].hr.shape[-2:]))
    return data.summary()


def validate_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``{"ok": True, "config": DictConfig, "data": summary}`` or ``{"ok": False,
    "error_summary": ...}`` — never raises for bad user input."""
    try:
        cfg = compose_config(overrides)
        summary = validate_config(cfg)
    except Exception as exc:  # every user error becomes a classified summary
        return {"ok": False, "error_summary": classify_exception(exc)}
    return {"ok": True, "config": cfg, "data": summary}
