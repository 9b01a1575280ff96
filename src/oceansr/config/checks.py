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
- overrides of launcher-owned keys (``hydra.*``, ``run_id``, ``runs_root``,
  ``trainer.default_root_dir``...: :data:`LAUNCHER_KEYS`) are refused, and so is a key
  added with ``+`` that the schema does not know (``+trainer.foo=1``);
- ``mode=test`` names a checkpoint; in ``mode=train`` ``trainer.max_epochs=0`` (trains
  nothing) is refused, and ``-1`` (no epoch limit) needs ``trainer.max_steps`` or
  ``trainer.max_time``;
- ``ckpt_path`` must name a whole oceansr checkpoint of the same model (every
  architecture option), variables and scale; ``init_from`` one of the same model and
  number of variables (any data, statistics and scale).
"""

from __future__ import annotations

import dataclasses
import importlib.util
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from oceansr.config.architectures import (
    BLOCK_MEAN,
    CONSERVING_OPERATORS,
    OUTPUT_OPTIONS,
    check_model,
)
from oceansr.config.schema import (
    SECTIONS,
    TrainConfig,
    covariate_channel_count,
    launcher_rules,
    normalise_config,
    predict_defaults,
    rules,
    scheduler_rules,
    to_dict,
)
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError
from oceansr.runs.checkpoint_file import CHECKPOINT_EXAMPLE, read_hparams, unreadable_reason
from oceansr.runs.overrides import override as hydra_override
from oceansr.runs.overrides import override_key

__all__ = [
    "LAUNCHER_KEYS",
    "check_config",
    "check_output_overrides",
    "check_request",
    "check_scalars",
    "check_tiling",
]

#: Keys the launcher and the trainer set for every run, with why a request cannot set
#: them: ``hydra.*`` would move the output (config, logs, sweeps) out of the run
#: directory; ``run_id``/``runs_root`` are added to every command by the control plane;
#: ``build_trainer`` (``train/entry.py``) passes the ``trainer.*`` ones to Lightning
#: itself, so a second value would fail the spawned run ("multiple values for keyword").
LAUNCHER_KEYS: dict[str, str] = {
    "hydra": "every run writes under runs_root/<run_id> (choose runs_root= instead)",
    "run_id": "the control plane names every run",
    "runs_root": "pass runs_root= as the API argument (CLI: --runs-root)",
    "trainer.default_root_dir": "every run writes under runs_root/<run_id> "
    "(choose runs_root= instead)",
    "trainer.logger": "metrics.csv is always written; choose logger=tensorboard|mlflow to add one",
    "trainer.callbacks": "checkpointing and recording are the run's own",
    "trainer.plugins": "checkpoints are written atomically by the run's own plugin",
    "trainer.enable_model_summary": "the trainer prints the summary on rank 0 only",
}


def launcher_key(key: str) -> str | None:
    """The launcher-owned key that ``key`` is or lies under (``hydra.run.dir`` →
    ``hydra``), else None."""
    for owned in LAUNCHER_KEYS:
        if key == owned or key.startswith(f"{owned}."):
            return owned
    return None


def check_output_overrides(overrides: Sequence[str]) -> None:
    """Refuse overrides of launcher-owned keys (:data:`LAUNCHER_KEYS`), with or without
    ``+``/``++``/``~``: each is set for every run by the control plane or the trainer,
    and a request's own value would either write the run's files elsewhere (any path on
    the machine) or make the spawned run fail after it was created."""
    for override in overrides:
        _refuse_launcher_key(override_key(str(override)).strip())


def _refuse_launcher_key(key: str) -> None:
    """A :class:`ConfigError` naming who sets ``key`` when it is launcher-owned."""
    owned = launcher_key(key)
    if owned is not None:
        raise ConfigError(
            f"{key} is set by the launcher for every run; a request cannot set it",
            field=key,
            fix=f"remove {key}; {LAUNCHER_KEYS[owned]}",
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


def _fields(schema: type) -> set[str]:
    return {f.name for f in dataclasses.fields(schema)}


def check_resolvable(cfg: DictConfig) -> None:
    """Every interpolation resolves to a value of its field's type. An ill-typed
    ``trainer.max_epochs=${oc.env:NAME}`` would otherwise surface as OmegaConf's own
    error from whichever check reads the field first, classified ``unknown``."""
    try:
        OmegaConf.to_container(cfg, resolve=True)
    except OmegaConfBaseException as exc:
        key = str(getattr(exc, "full_key", "") or "") or None
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"{key or 'an override'} does not resolve to a usable value: {reason}",
            field=key,
            fix=f"give {key or 'the override'} a literal value of its type "
            "(interpolations must resolve to one)",
        ) from exc


def check_known_keys(cfg: DictConfig) -> None:
    """No key the schema does not know, at the top or in a fixed-shape section.

    Composition refuses an unknown key, but ``+key=value`` adds one anyway:
    ``+trainer.foo=1`` used to reach ``lightning.Trainer(foo=1)`` and fail the spawned
    run as ``unknown``. A launcher-owned key (:data:`LAUNCHER_KEYS`) says who sets it.
    """
    found = [str(k) for k in cfg if str(k) not in _fields(TrainConfig)]
    for section, schema in SECTIONS.items():
        node = OmegaConf.select(cfg, section, default=None)
        if isinstance(node, DictConfig):
            found += [f"{section}.{k!s}" for k in node if str(k) not in _fields(schema)]
    if not found:
        return
    key = str(found[0])
    _refuse_launcher_key(key)
    raise ConfigError(
        f"{key} is not an option of the training config (added with '+')",
        field=key,
        fix=f"remove +{key}; see the options with python -m oceansr.train --cfg job",
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
    merged = check_model(str(name), options, cfg.data.scale)
    if merged.get("constraint") == BLOCK_MEAN:
        check_conserving_operator(cfg)


def check_conserving_operator(cfg: DictConfig) -> None:
    """``model.constraint=block_mean`` holds exactly only where each LR cell is the mean of
    its block's ocean cells, so the LR must be made by such an operator, not given."""
    operator = str(OmegaConf.select(cfg, "data.degradation", default=None) or "nanmean")
    choices = ", ".join(CONSERVING_OPERATORS)
    if operator not in CONSERVING_OPERATORS:
        raise ConfigError(
            f"model.constraint=block_mean makes the SR block means equal the LR cells, but "
            f"data.degradation={operator} does not make an LR cell the mean of its block",
            field="model.constraint",
            fix=f"model.constraint=none, or data.degradation=<one of {choices}>",
        )
    if OmegaConf.select(cfg, "data.lr_path", default=None):
        raise ConfigError(
            "model.constraint=block_mean needs to know which HR cells make each LR cell; "
            "with data.lr_path the provider's operator is unknown",
            field="model.constraint",
            fix="model.constraint=none, or drop data.lr_path (LR made by data.degradation)",
        )


def check_mode(cfg: DictConfig) -> None:
    """``mode=test`` evaluates a checkpoint, so it needs ``ckpt_path``."""
    if cfg.mode == "test" and not cfg.ckpt_path:
        raise ConfigError(
            "mode=test needs a checkpoint to evaluate",
            field="ckpt_path",
            fix=f"ckpt_path={CHECKPOINT_EXAMPLE}",
        )


def check_epochs(cfg: DictConfig) -> None:
    """The run has an end: ``trainer.max_epochs=0`` would report ``completed`` having
    trained nothing, and ``-1`` means what it means to Lightning, no epoch limit, so it
    needs another one (``trainer.max_steps`` > 0 or ``trainer.max_time``); alone it would
    train until killed (docs/architecture.md, configuration)."""
    if cfg.mode != "train":
        return
    trainer = cfg.trainer
    if trainer.max_epochs == 0:
        raise ConfigError(
            "trainer.max_epochs=0 trains nothing (the run would complete untrained)",
            field="trainer.max_epochs",
            fix="trainer.max_epochs=20 (or -1 for no epoch limit with trainer.max_time); "
            "mode=test ckpt_path=... to only evaluate",
        )
    bounded = (trainer.max_steps or -1) > 0 or trainer.max_time is not None
    if trainer.max_epochs == -1 and not bounded:
        raise ConfigError(
            "trainer.max_epochs=-1 means no epoch limit, and neither trainer.max_steps nor "
            "trainer.max_time ends the run",
            field="trainer.max_epochs",
            fix="trainer.max_steps=1000 (keeps trainer.max_epochs=-1 and ends after 1000 "
            "steps; or set trainer.max_epochs=20, or trainer.max_time=00:12:00:00)",
        )


def _checkpoint_hparams(cfg: DictConfig, field: str) -> Mapping[str, Any] | None:
    """The hyper-parameters of the checkpoint that config ``field`` names (None when
    unset), or a classified error naming ``field``: missing, or not an oceansr checkpoint."""
    ckpt = OmegaConf.select(cfg, field, default=None)
    if ckpt is None or not str(ckpt).strip():
        return None
    reason = unreadable_reason(str(ckpt))
    fix = f"{field}= a .ckpt written by oceansr training, e.g. {CHECKPOINT_EXAMPLE}"
    if reason is not None and "does not exist" in reason:
        raise DataNotFoundError(f"checkpoint not found: {ckpt}", field=field, fix=fix)
    if reason is not None:
        raise DataInvalidError(f"{field} does not load: {reason}", field=field, fix=fix)
    return read_hparams(str(ckpt), field=field)


def check_ckpt_path(cfg: DictConfig) -> None:
    """``ckpt_path`` names a whole oceansr checkpoint whose architecture, variables and
    scale are the request's: a checkpoint of another model used to fail 20 s later in
    the trainer with ``unknown`` and a state_dict dump."""
    hparams = _checkpoint_hparams(cfg, "ckpt_path")
    if hparams is not None:
        check_checkpoint_matches(cfg, hparams)


def check_init_from(cfg: DictConfig) -> None:
    """``init_from`` starts a training from a checkpoint's weights only: the same
    architecture (name and every option) and as many variables, on any data and
    statistics, at any scale the architecture realises (its upsampler is then fresh).

    With ``ckpt_path`` (a resume, a requeued attempt, and every ``mode=test``) that
    checkpoint holds the weights, so ``init_from`` is not read.
    """
    if not OmegaConf.select(cfg, "init_from", default=None) or cfg.ckpt_path:
        return
    hparams = _checkpoint_hparams(cfg, "init_from")
    assert hparams is not None
    _check_same_model(cfg, hparams, "init_from")
    variables = [str(v) for v in hparams.get("variables") or []]
    requested = OmegaConf.select(cfg, "data.variables", default=None)
    if requested is not None and len(requested) != len(variables):
        raise ConfigError(
            f"init_from was trained on {len(variables)} variable(s) {variables}; the request "
            f"has {len(requested)}: the network's input and output channels differ",
            field="data.variables",
            fix=f"give {len(variables)} variable(s) in data.variables, or drop init_from",
        )
    theirs = covariate_channel_count(hparams.get("covariates"))
    mine = covariate_channel_count(OmegaConf.select(cfg, "data.covariates", default=None))
    if theirs != mine:
        raise ConfigError(
            f"init_from's network takes {theirs} covariate channel(s) "
            f"({_covariate_text(hparams.get('covariates'))}); the request gives {mine}",
            field="data.covariates",
            fix="data.covariates with as many channels as the checkpoint's, or drop init_from",
        )


def _covariate_text(recorded: Any) -> str:
    """A checkpoint's covariates as a ``data.covariates`` value would name them."""
    names = [
        f"{{file: {item.get('file')}, variable: {item.get('variable')}}}"
        if item.get("kind") == "file"
        else str(item.get("kind"))
        for item in recorded or []
    ]
    return "[" + ",".join(names) + "]"


def _mismatch(what: str, field: str, fix: str, source: str = "ckpt_path") -> ConfigError:
    """The request differs from the checkpoint that config ``source`` names."""
    return ConfigError(
        f"{source} was trained with {what}; the request differs",
        field=field,
        fix=f"{fix} (to match the checkpoint), or drop {source} to train from scratch",
    )


def _check_same_model(cfg: DictConfig, hparams: Mapping[str, Any], source: str) -> None:
    """The checkpoint's model name and every architecture option equal the request's
    (for ``init_from``, the network's: an output layer such as ``model.constraint`` has
    no weights, so a transfer may change it)."""
    free = set(OUTPUT_OPTIONS) if source == "init_from" else set()
    ckpt_model = {k: v for k, v in dict(hparams.get("model") or {}).items() if k not in free}
    request_model = to_dict(cfg.model)
    name = ckpt_model.get("name")
    if name != request_model.get("name"):
        raise _mismatch(f"model={name}", "model", f"model={name}", source)
    for key, value in sorted(ckpt_model.items()):  # options an older checkpoint lacks: defaults
        if key != "name" and value != request_model.get(key):
            field = f"model.{key}"
            fix = hydra_override(field, value)
            raise _mismatch(f"{field}={value!r} ({name})", field, fix, source)


def check_checkpoint_matches(cfg: DictConfig, hparams: Mapping[str, Any]) -> None:
    """The checkpoint's model (name and every architecture option), variables and scale
    equal the composed request's, each mismatch naming the override that fixes it."""
    _check_same_model(cfg, hparams, "ckpt_path")
    variables = list(hparams.get("variables") or [])
    requested = OmegaConf.select(cfg, "data.variables", default=None)
    if requested is not None and list(requested) != variables:
        fix = hydra_override("data.variables", variables)
        raise _mismatch(f"variables {variables}", "data.variables", fix)
    scale = hparams.get("scale")
    if OmegaConf.select(cfg, "data.scale", default=None) != scale:
        raise _mismatch(f"scale {scale}", "data.scale", f"data.scale={scale}")
    recorded = _covariate_text(hparams.get("covariates"))
    items = OmegaConf.select(cfg, "data.covariates", default=None)
    plain = OmegaConf.to_container(items, resolve=True) if OmegaConf.is_config(items) else []
    asked = _covariate_text(
        [
            dict(item, kind="file") if isinstance(item, Mapping) else {"kind": item}
            for item in plain or []
        ]
    )
    if recorded != asked:
        raise _mismatch(f"covariates {recorded}", "data.covariates", f"data.covariates={recorded}")


def check_request(cfg: DictConfig) -> None:
    """The checks of what the request asks for (mode, epochs, checkpoint)."""
    check_mode(cfg)
    check_epochs(cfg)
    check_ckpt_path(cfg)
    check_init_from(cfg)


def check_config(cfg: DictConfig) -> None:
    """Every data-free check of a composed request (see the module docstring).

    Normalises ``optim.scheduler`` first (:func:`oceansr.config.schema.normalise_config`),
    so the recorded config and the checks see the same scheduler options.
    """
    check_resolvable(cfg)
    check_missing(cfg)
    check_known_keys(cfg)
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


def check_tiling(tile: Any, overlap: Any, batch_size: Any) -> tuple[int | None, int, int]:
    """Validated predict ``(tile, overlap, batch_size)``; a ConfigError names the bad
    option. Torch-free, so the control plane refuses ``tile=0`` before a predict run
    exists and the tiled inference path (:mod:`oceansr.inference.tiling`) applies the
    same rule."""
    defaults = predict_defaults()

    def integer(value: Any, name: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
            raise ConfigError(
                f"{name} must be an integer >= {minimum}, got {value!r}",
                field=name,
                fix=f"e.g. {name}={defaults[name]}"
                + (" (or null: whole field)" if name == "tile" else ""),
            )
        return int(value)

    tile = None if tile is None else integer(tile, "tile", 1)
    return tile, integer(overlap, "overlap", 0), integer(batch_size, "batch_size", 1)
