"""Check a training request before any process is spawned.

The control plane calls :func:`validate_overrides` so that a typo in an override or a
wrong data path comes back as a classified error summary in a fraction of a second,
with no process started. It imports no torch: the data-free checks (schema rules, the
model's architecture and scale, the request's mode and checkpoint) are
:func:`oceansr.config.checks.check_config`, the same ones the trainer runs at start;
this module adds what needs the data (variables, split, patch sizes).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig

from oceansr.config.checks import check_config, check_output_overrides, check_scalars
from oceansr.config.compose import compose_config
from oceansr.config.schema import rules
from oceansr.core.errors import ConfigError
from oceansr.data.lazy.source import validate_metadata
from oceansr.data.prepare import _as_plain, _validate_scale, prepare_data
from oceansr.runs.failures import classify_exception

__all__ = ["check_patch_settings", "check_scalars", "validate_config", "validate_overrides"]


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
    table = rules()
    for key in ("batch_size", "eval_batch_size", "patches_per_field", "min_ocean_fraction"):
        table[f"data.{key}"].require(f"data.{key}", data_cfg[key])


def validate_config(cfg: DictConfig) -> dict[str, Any]:
    """Raise a classified error for a bad config; return the data summary otherwise."""
    check_config(cfg)  # no data, no torch: schema rules, model, logger, mode, ckpt_path
    # xarray sources are checked from metadata and a bounded sample, never loaded
    # (docs/architecture.md, data); the small bundled/synthetic/npy sources are prepared.
    plain = _as_plain(cfg.data)
    summary = validate_metadata(plain, _validate_scale(plain))
    if summary is not None:
        check_patch_settings(cfg.data, summary["scale"], tuple(summary["hr_shape"]))
        return summary
    data = prepare_data(cfg.data)
    check_patch_settings(cfg.data, data.scale, tuple(data.splits["train"].hr.shape[-2:]))
    return data.summary()


#: The HDF5/netCDF C libraries are not thread-safe: eight threads opening the data at once
#: (concurrent ``control.start`` calls, MCP tools in worker threads) crash the process.
#: Validation reads the data, so one request is checked at a time (docs/architecture.md,
#: control plane).
_VALIDATE_LOCK = threading.Lock()


def validate_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``{"ok": True, "config": DictConfig, "data": summary}`` or ``{"ok": False,
    "error_summary": ...}`` — never raises for bad user input."""
    try:
        check_output_overrides(overrides)
        with _VALIDATE_LOCK:
            cfg = compose_config(overrides)
            summary = validate_config(cfg)
    except Exception as exc:  # every user error becomes a classified summary
        return {"ok": False, "error_summary": classify_exception(exc)}
    return {"ok": True, "config": cfg, "data": summary}
