"""Checks of a training request that need no data and no torch (docs/architecture.md,
control plane): each one used to spawn a run that failed 20-120 s later, or that
"completed" having trained nothing. They run in :func:`oceansr.validate.validate_config`
before the data are read, so a bad request answers in milliseconds with nothing created.

- overrides that would write outside the run directory (``hydra.*``) are refused;
- ``trainer.max_epochs=0`` trains nothing and is refused in ``mode=train``;
- the model must realise ``data.scale``;
- ``ckpt_path`` must name a file that loads as a torch checkpoint.
"""

from __future__ import annotations

from collections.abc import Sequence

from omegaconf import DictConfig, OmegaConf

from oceansr.checkpoint import CHECKPOINT_EXAMPLE, unreadable_reason
from oceansr.errors import ConfigError, DataInvalidError, DataNotFoundError
from oceansr.schema import MODEL_SCALES

__all__ = ["OUTPUT_KEYS", "check_output_overrides", "check_request"]

#: Override prefixes that move output (config, logs, sweeps) out of the run directory.
OUTPUT_KEYS: tuple[str, ...] = ("hydra",)


def _key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0].strip()


def check_output_overrides(overrides: Sequence[str]) -> None:
    """Refuse ``hydra.*`` overrides: ``hydra.run.dir``/``hydra.output_subdir`` would
    write the run's files elsewhere (any path on the machine), and no other Hydra
    setting is something a run needs."""
    for override in overrides:
        key = _key(str(override))
        if key.split(".", 1)[0] in OUTPUT_KEYS:
            raise ConfigError(
                f"override {override!r} is refused: hydra.* settings would move the run's "
                "output out of its run directory",
                field=key,
                fix=f"remove {key}; every run writes under runs_root/<run_id> "
                "(choose runs_root= instead)",
            )


def check_epochs(cfg: DictConfig) -> None:
    """``trainer.max_epochs=0`` would report ``completed`` having trained nothing."""
    if cfg.get("mode", "train") == "train" and cfg.trainer.max_epochs == 0:
        raise ConfigError(
            "trainer.max_epochs=0 trains nothing (the run would complete untrained)",
            field="trainer.max_epochs",
            fix="trainer.max_epochs=20 (or -1 for no epoch limit with trainer.max_time); "
            "mode=test ckpt_path=... to only evaluate",
        )


def check_model_scale(cfg: DictConfig) -> None:
    """The model's upsampler must realise ``data.scale``."""
    name = str(cfg.model.name)
    scale = OmegaConf.select(cfg, "data.scale", default=None)
    allowed = MODEL_SCALES.get(name)
    if allowed is None and OmegaConf.select(cfg, "model.upsampler") == "pixelshuffle":
        allowed = MODEL_SCALES["swinir"]
    if allowed is not None and isinstance(scale, int) and scale not in allowed:
        scales = ", ".join(map(str, allowed))
        raise ConfigError(
            f"model {name!r} does not support data.scale={scale} (it supports {scales})",
            field="data.scale",
            fix=f"data.scale=<one of {scales}>, or model=srcnn / model=swinir_light "
            f"(any integer scale) for x{scale}",
        )


def check_ckpt_path(cfg: DictConfig) -> None:
    """``ckpt_path`` names a whole torch checkpoint; that it fits the model, variables
    and scale is checked where it is loaded (:mod:`oceansr.checkpoint`)."""
    ckpt = OmegaConf.select(cfg, "ckpt_path", default=None)
    if ckpt is None or not str(ckpt).strip():
        return
    reason = unreadable_reason(str(ckpt))
    if reason is None:
        return
    fix = f"ckpt_path= a .ckpt written by oceansr training, e.g. {CHECKPOINT_EXAMPLE}"
    if "does not exist" in reason:
        raise DataNotFoundError(f"checkpoint not found: {ckpt}", field="ckpt_path", fix=fix)
    raise DataInvalidError(f"ckpt_path does not load: {reason}", field="ckpt_path", fix=fix)


def check_request(cfg: DictConfig) -> None:
    """Every data-free check of the request (see the module docstring)."""
    check_epochs(cfg)
    check_model_scale(cfg)
    check_ckpt_path(cfg)
