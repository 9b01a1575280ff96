"""Check a training request before any process is spawned.

The control plane calls :func:`validate_overrides` so that a typo in an override or a
wrong data path comes back as a classified error summary in a fraction of a second,
with no process started. It imports no torch: the data-free checks (schema rules, the
model's architecture and scale, the request's mode and checkpoint) are
:func:`oceansr.config.checks.check_config`, the same ones the trainer runs at start;
this module adds what needs the data (variables, split, patch sizes).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from omegaconf import DictConfig

from oceansr.config.checks import check_config, check_output_overrides, check_scalars
from oceansr.config.compose import compose_config, train_overrides
from oceansr.config.interpolations import redact_resolved
from oceansr.config.schema import rules
from oceansr.core.errors import ConfigError
from oceansr.data.covariates import check_request
from oceansr.data.lazy.source import validate_metadata
from oceansr.data.prepare import _as_plain, _validate_scale, prepare_data
from oceansr.data.stores import check_source_paths, reading
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


def check_data_paths(data_cfg: Any) -> None:
    """``data.path`` and ``data.lr_path`` name regular files or directories (by ``stat``,
    never opened): a FIFO or a device would block the open that follows, and it does so
    while the data-read lock is held (:func:`oceansr.data.stores.reading`)."""
    for key in ("path", "lr_path"):
        value = data_cfg.get(key) if isinstance(data_cfg, dict) else None
        if isinstance(value, str | list) and value:
            check_source_paths(value, f"data.{key}")


def validate_config(cfg: DictConfig) -> dict[str, Any]:
    """Raise a classified error for a bad config; return the data summary otherwise.

    The data are read under the process-wide data-read lock (the netCDF libraries are
    not thread-safe), taken only after every check that needs no read, so a request
    never holds it across an open that can block, and waits for it only so long
    (a :class:`~oceansr.core.errors.BusyError`, "retry", after that).
    """
    check_config(cfg)  # no data, no torch: schema rules, model, logger, mode, ckpt_path
    plain = _as_plain(cfg.data)
    check_data_paths(plain)
    with reading("check the data"):
        return _validate_data(cfg, plain)


def _validate_data(cfg: DictConfig, plain: dict[str, Any]) -> dict[str, Any]:
    """The data checks: xarray sources from metadata and a bounded sample, never loaded
    (docs/architecture.md, data); the small bundled/synthetic/npy sources prepared."""
    check_request(plain.get("covariates"), lazy=False)  # files exist, before any read
    summary = validate_metadata(plain, _validate_scale(plain))
    if summary is not None:
        check_patch_settings(cfg.data, summary["scale"], tuple(summary["hr_shape"]))
        return summary
    data = prepare_data(cfg.data)
    check_patch_settings(cfg.data, data.scale, tuple(data.splits["train"].hr.shape[-2:]))
    return data.summary()


def validate_overrides(overrides: Sequence[str]) -> dict[str, Any]:
    """``{"ok": True, "config": DictConfig, "data": summary, "overrides": normalised}``
    or ``{"ok": False, "error_summary": ...}`` — never raises for bad user input.

    ``overrides`` are normalised once (:func:`oceansr.config.compose.train_overrides`),
    and the normalised list is what was checked; the spawned command is built from the
    same function (``control.launch.trainer_command``).
    """
    try:
        normalised = train_overrides(overrides)
        check_output_overrides(normalised)
        cfg = compose_config(normalised)
        summary = validate_config(cfg)
    except Exception as exc:  # every user error becomes a classified summary
        # ...quoting ${...} overrides as written, never their resolved values
        summary = redact_resolved(classify_exception(exc), overrides)
        return {"ok": False, "error_summary": summary}
    return {"ok": True, "config": cfg, "data": summary, "overrides": normalised}
