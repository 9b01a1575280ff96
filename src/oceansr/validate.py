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


PRECISIONS = ("32-true", "32", "16-mixed", "bf16-mixed", "bf16-true", "16-true", "64-true")
ACCELERATORS = ("cpu", "gpu", "cuda", "mps", "tpu", "auto")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _fraction_or_count(value: Any) -> bool:
    return (
        value is None
        or (_is_int(value) and value >= 0)
        or (isinstance(value, float) and 0.0 <= value <= 1.0)
    )


# (config path, predicate, what it must be, an example fix)
SCALAR_RULES: tuple[tuple[str, Any, str, str], ...] = (
    ("mode", lambda v: v in ("train", "test"), "train or test", "mode=train"),
    ("seed", _is_int, "an integer", "seed=42"),
    (
        "trainer.max_epochs",
        lambda v: _is_int(v) and v >= -1,
        "an integer >= -1",
        "trainer.max_epochs=20",
    ),
    (
        "trainer.max_steps",
        lambda v: _is_int(v) and v >= -1,
        "an integer >= -1",
        "trainer.max_steps=-1",
    ),
    (
        "trainer.precision",
        lambda v: str(v) in PRECISIONS,
        f"one of {', '.join(PRECISIONS)}",
        "trainer.precision=32-true",
    ),
    (
        "trainer.accelerator",
        lambda v: v in ACCELERATORS,
        f"one of {', '.join(ACCELERATORS)}",
        "trainer.accelerator=cpu",
    ),
    (
        "trainer.devices",
        lambda v: (_is_int(v) and v != 0) or isinstance(v, str | list) or OmegaConf.is_list(v),
        "a device count, 'auto' or a list of ids",
        "trainer.devices=1",
    ),
    (
        "trainer.accumulate_grad_batches",
        lambda v: _is_int(v) and v >= 1,
        "an integer >= 1",
        "trainer.accumulate_grad_batches=1",
    ),
    (
        "trainer.check_val_every_n_epoch",
        lambda v: _is_int(v) and v >= 1,
        "an integer >= 1",
        "trainer.check_val_every_n_epoch=1",
    ),
    (
        "trainer.log_every_n_steps",
        lambda v: _is_int(v) and v >= 1,
        "an integer >= 1",
        "trainer.log_every_n_steps=10",
    ),
    (
        "trainer.gradient_clip_val",
        lambda v: v is None or (_is_number(v) and v >= 0),
        "null or a number >= 0",
        "trainer.gradient_clip_val=1.0",
    ),
    (
        "trainer.limit_train_batches",
        _fraction_or_count,
        "null, a count or a fraction in [0, 1]",
        "trainer.limit_train_batches=null",
    ),
    (
        "trainer.limit_val_batches",
        _fraction_or_count,
        "null, a count or a fraction in [0, 1]",
        "trainer.limit_val_batches=null",
    ),
    (
        "trainer.limit_test_batches",
        _fraction_or_count,
        "null, a count or a fraction in [0, 1]",
        "trainer.limit_test_batches=null",
    ),
    ("optim.lr", lambda v: _is_number(v) and v > 0, "a positive number", "optim.lr=2e-4"),
    (
        "optim.weight_decay",
        lambda v: _is_number(v) and v >= 0,
        "a number >= 0",
        "optim.weight_decay=0",
    ),
    ("optim.name", lambda v: v in ("adam", "adamw"), "adam or adamw", "optim=adamw"),
    (
        "optim.scheduler.name",
        lambda v: v in ("cosine", "step", "plateau", "none"),
        "cosine, step, plateau or none",
        "optim.scheduler.name=cosine",
    ),
    (
        "optim.scheduler.warmup_epochs",
        lambda v: _is_int(v) and v >= 0,
        "an integer >= 0",
        "optim.scheduler.warmup_epochs=0",
    ),
    (
        "loss.name",
        lambda v: v in ("l1", "l2", "charbonnier"),
        "l1, l2 or charbonnier",
        "loss.name=l1",
    ),
    ("ema.decay", lambda v: _is_number(v) and 0 < v < 1, "a number in (0, 1)", "ema.decay=0.999"),
)


def check_scalars(cfg: DictConfig) -> None:
    """Types and ranges of the values a user overrides most, checked without torch."""
    for path, ok, expected, example in SCALAR_RULES:
        value = OmegaConf.select(cfg, path, default=None)
        if not ok(value):
            raise ConfigError(
                f"{path}={value!r} is invalid: it must be {expected}", field=path, fix=example
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
    check_scalars(cfg)
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
