"""Checks of a training request that need no data and no torch (docs/architecture.md,
control plane), each rule written once. :func:`check_config` runs them all; the control
plane calls it (through :func:`oceansr.data.validation.validate_config`, before the data
are read) so a bad request answers in milliseconds with nothing created, and the
trainer calls it again at start for in-process and hand-started runs, so neither
:mod:`oceansr.engine` nor :mod:`oceansr.train` repeats a rule.

- every value the YAML files leave to the user (``???``) is given;
- every ruled field has its type, choice or range (:mod:`oceansr.config.schema`), the
  scheduler's and launcher's options those of the chosen one;
- the model's options are its architecture's, and it realises ``data.scale``
  (:mod:`oceansr.config.architectures`);
- the chosen logger's package is installed;
- overrides that would write outside the run directory (``hydra.*``) are refused;
- ``mode=test`` names a checkpoint; ``trainer.max_epochs=0`` (trains nothing) is refused
  in ``mode=train``;
- ``ckpt_path`` must name a whole oceansr checkpoint of the same model (every
  architecture option), variables and scale.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any

from omegaconf import DictConfig, OmegaConf

from oceansr.config.architectures import check_model
from oceansr.config.schema import (
    launcher_rules,
    normalise_config,
    rules,
    scheduler_rules,
    to_dict,
)
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError
from oceansr.runs.checkpoint_file import CHECKPOINT_EXAMPLE, read_hparams, unreadable_reason
from oceansr.runs.overrides import override as hydra_override

__all__ = [
    "OUTPUT_KEYS",
    "check_config",
    "check_output_overrides",
    "check_request",
    "check_scalars",
]

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


def check_missing(cfg: DictConfig) -> None:
    """Values the YAML files leave to the user (``???``, e.g. ``data.path``) are given."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        raise ConfigError(
            f"required values are missing: {', '.join(missing)}",
            field=missing[0],
            fix=f"add {missing[0]}=... to the overrides",
        )


def check_scalars(cfg: DictConfig) -> None:
    """Types, choices and ranges of the schema's ruled fields, checked without torch.

    The rules are :mod:`oceansr.config.schema`'s (one copy for this check and the
    adapters' enums); the scheduler's and the launcher's options are checked against
    the chosen one's.
    """
    scheduler = OmegaConf.select(cfg, "optim.scheduler.name", default=None)
    launcher = OmegaConf.select(cfg, "launcher.name", default=None)
    table = {**rules(), **scheduler_rules(str(scheduler)), **launcher_rules(str(launcher))}
    for path, rule in table.items():
        rule.require(path, OmegaConf.select(cfg, path, default=None))


def check_model_config(cfg: DictConfig) -> None:
    """The model's options against its architecture, and ``data.scale`` against its
    upsampler (:func:`oceansr.config.architectures.check_model`)."""
    options = to_dict(cfg.model)
    name = options.pop("name")
    check_model(str(name), options, cfg.data.scale)


def check_mode(cfg: DictConfig) -> None:
    """``mode=test`` evaluates a checkpoint, so it needs ``ckpt_path``."""
    if cfg.mode == "test" and not cfg.ckpt_path:
        raise ConfigError(
            "mode=test needs a checkpoint to evaluate",
            field="ckpt_path",
            fix=f"ckpt_path={CHECKPOINT_EXAMPLE}",
        )


def check_epochs(cfg: DictConfig) -> None:
    """``trainer.max_epochs=0`` would report ``completed`` having trained nothing."""
    if cfg.mode == "train" and cfg.trainer.max_epochs == 0:
        raise ConfigError(
            "trainer.max_epochs=0 trains nothing (the run would complete untrained)",
            field="trainer.max_epochs",
            fix="trainer.max_epochs=20 (or -1 for no epoch limit with trainer.max_time); "
            "mode=test ckpt_path=... to only evaluate",
        )


def check_ckpt_path(cfg: DictConfig) -> None:
    """``ckpt_path`` names a whole oceansr checkpoint whose architecture, variables and
    scale are the request's: a checkpoint of another model used to fail 20 s later in
    the trainer with ``unknown`` and a state_dict dump."""
    ckpt = OmegaConf.select(cfg, "ckpt_path", default=None)
    if ckpt is None or not str(ckpt).strip():
        return
    reason = unreadable_reason(str(ckpt))
    fix = f"ckpt_path= a .ckpt written by oceansr training, e.g. {CHECKPOINT_EXAMPLE}"
    if reason is not None and "does not exist" in reason:
        raise DataNotFoundError(f"checkpoint not found: {ckpt}", field="ckpt_path", fix=fix)
    if reason is not None:
        raise DataInvalidError(f"ckpt_path does not load: {reason}", field="ckpt_path", fix=fix)
    check_checkpoint_matches(cfg, read_hparams(str(ckpt), field="ckpt_path"))


def _mismatch(what: str, field: str, fix: str) -> ConfigError:
    return ConfigError(
        f"ckpt_path was trained with {what}; the request differs",
        field=field,
        fix=f"{fix} (to match the checkpoint), or drop ckpt_path to train from scratch",
    )


def check_checkpoint_matches(cfg: DictConfig, hparams: Mapping[str, Any]) -> None:
    """The checkpoint's model (name and every architecture option), variables and scale
    equal the composed request's, each mismatch naming the override that fixes it."""
    ckpt_model = dict(hparams.get("model") or {})
    request_model = to_dict(cfg.model)
    name = ckpt_model.get("name")
    if name != request_model.get("name"):
        raise _mismatch(f"model={name}", "model", f"model={name}")
    for key, value in sorted(ckpt_model.items()):  # options an older checkpoint lacks: defaults
        if key != "name" and value != request_model.get(key):
            field = f"model.{key}"
            raise _mismatch(f"{field}={value!r} ({name})", field, hydra_override(field, value))
    variables = list(hparams.get("variables") or [])
    requested = OmegaConf.select(cfg, "data.variables", default=None)
    if requested is not None and list(requested) != variables:
        fix = hydra_override("data.variables", variables)
        raise _mismatch(f"variables {variables}", "data.variables", fix)
    scale = hparams.get("scale")
    if OmegaConf.select(cfg, "data.scale", default=None) != scale:
        raise _mismatch(f"scale {scale}", "data.scale", f"data.scale={scale}")


def check_request(cfg: DictConfig) -> None:
    """The checks of what the request asks for (mode, epochs, checkpoint)."""
    check_mode(cfg)
    check_epochs(cfg)
    check_ckpt_path(cfg)


def check_config(cfg: DictConfig) -> None:
    """Every data-free check of a composed request (see the module docstring).

    Normalises ``optim.scheduler`` first (:func:`oceansr.config.schema.normalise_config`),
    so the recorded config and the checks see the same scheduler options.
    """
    check_missing(cfg)
    normalise_config(cfg)
    check_scalars(cfg)
    check_model_config(cfg)
    check_logger(str(cfg.logger.name))
    check_request(cfg)


#: The Python package each optional logger needs, and the extra that installs it.
REQUIRES: dict[str, tuple[str, str]] = {
    "tensorboard": ("tensorboard", "pip install 'oceansr[tensorboard]'"),
    "mlflow": ("mlflow", "pip install 'oceansr[mlflow]'"),
}


def check_logger(name: str) -> None:
    """Refuse a logger whose package is not installed (before training); that the name
    is a known logger is the schema's rule for ``logger.name``."""
    if name in REQUIRES:
        package, install = REQUIRES[name]
        if importlib.util.find_spec(package) is None:
            raise ConfigError(
                f"logger={name} needs the {package!r} package, which is not installed",
                field="logger",
                fix=f"{install}, or use logger=csv (metrics.csv is always written)",
            )
