"""The training config's schema: types, choices and ranges, each written once.

The *values* (defaults) live in the YAML files under ``oceansr/conf`` — one file per
config group option, so ``config.yaml`` of a run describes it completely. This module
holds what the values must *be*: the dataclasses below are registered in Hydra's
ConfigStore as the base of ``train.yaml`` (see :mod:`oceansr.config.compose`), so composition
already rejects unknown keys and ill-typed values; each field's :class:`Rule` adds the
allowed choices or range, which :mod:`oceansr.data.validation` checks before a run starts and
which adapters (the MCP tool schemas, help texts) read through :func:`choices` and
:func:`ranges`. See docs/architecture.md, configuration.

This module imports neither torch nor Hydra: the control plane reads it in milliseconds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import MISSING, DictConfig, OmegaConf

#: The shipped config files (``train.yaml`` and one folder per config group).
#: Experiment loggers beside metrics.csv (config group ``logger``; oceansr.engine.loggers).
LOGGERS: tuple[str, ...] = ("csv", "tensorboard", "mlflow")

CONF_DIR: Path = Path(__file__).resolve().parents[1] / "conf"

# --- choices (the only copies) ---------------------------------------------------------------

MODES: tuple[str, ...] = ("train", "test")
#: ``data.cache``: by size, eager, or from disk patch by patch.
DATA_CACHE_MODES: tuple[str, ...] = ("auto", "memory", "lazy")
LOSSES: tuple[str, ...] = ("l1", "l2", "charbonnier")
#: Optimisers; each has a file ``conf/optim/<name>.yaml``.
OPTIMIZERS: tuple[str, ...] = ("adam", "adamw")
#: LR schedulers; each has a file ``conf/scheduler/<name>.yaml`` (override ``scheduler=<name>``).
SCHEDULERS: tuple[str, ...] = ("cosine", "step", "plateau", "none")
PRECISIONS: tuple[str, ...] = (
    "32-true",
    "32",
    "16-mixed",
    "bf16-mixed",
    "bf16-true",
    "16-true",
    "64-true",
)
ACCELERATORS: tuple[str, ...] = ("cpu", "gpu", "cuda", "mps", "tpu", "auto")
MONITOR_MODES: tuple[str, ...] = ("min", "max")
FAULT_POINTS: tuple[str, ...] = ("startup", "step")
#: Scales each pixel-shuffle model realises (absent: any integer >= 2), readable without
#: torch so a request is checked in milliseconds; tests keep it equal to the registry's.
MODEL_SCALES: dict[str, tuple[int, ...]] = {
    "edsr_baseline": (2, 3, 4, 8),
    "edsr": (2, 3, 4, 8),
    "swinir": (2, 3, 4, 8),
}


# --- rules -------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Rule:
    """What one config value must be, said once for the check, the message and the fix.

    ``choices`` or a numeric range (``minimum``/``maximum``, exclusive when flagged), or
    a custom ``check`` for values of several shapes (``trainer.devices``). ``example``
    is a valid value (or a whole override when it contains ``=``) offered as the fix.
    """

    expected: str
    example: str
    choices: tuple[str, ...] = ()
    integer: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    nullable: bool = False
    check: Callable[[Any], bool] | None = None

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` satisfies the rule."""
        if value is None:
            return self.nullable
        if self.check is not None:
            return self.check(value)
        if self.choices:
            return str(value) in self.choices
        if not (_is_int(value) if self.integer else _is_number(value)):
            return False
        return self._in_range(float(value))

    def _in_range(self, value: float) -> bool:
        low, high = self.minimum, self.maximum
        if low is not None and (value <= low if self.exclusive_minimum else value < low):
            return False
        return not (
            high is not None and (value >= high if self.exclusive_maximum else value > high)
        )

    def fix(self, path: str) -> str:
        """A Hydra override that satisfies the rule."""
        return self.example if "=" in self.example else f"{path}={self.example}"

    def describe_range(self) -> dict[str, Any]:
        """The rule as JSON-schema-like keywords (for MCP tool schemas and help)."""
        out: dict[str, Any] = {"description": self.expected}
        if self.choices:
            out["enum"] = list(self.choices)
        elif self.check is None:
            out["type"] = "integer" if self.integer else "number"
            if self.minimum is not None:
                key = "exclusiveMinimum" if self.exclusive_minimum else "minimum"
                out[key] = self.minimum
            if self.maximum is not None:
                key = "exclusiveMaximum" if self.exclusive_maximum else "maximum"
                out[key] = self.maximum
        if self.nullable:
            out["nullable"] = True
        return out


def one_of(choices: tuple[str, ...], example: str, *, nullable: bool = False) -> Rule:
    expected = f"one of {', '.join(choices)}" + (" or null" if nullable else "")
    return Rule(expected, example, choices=choices, nullable=nullable)


def integer_at_least(minimum: int, example: str, *, nullable: bool = False) -> Rule:
    expected = ("null or " if nullable else "") + f"an integer >= {minimum}"
    return Rule(expected, example, integer=True, minimum=minimum, nullable=nullable)


def number_in(
    example: str,
    minimum: float | None = None,
    maximum: float | None = None,
    *,
    exclusive_minimum: bool = False,
    exclusive_maximum: bool = False,
    nullable: bool = False,
) -> Rule:
    bounds = []
    if minimum is not None:
        bounds.append(f"{'>' if exclusive_minimum else '>='} {minimum:g}")
    if maximum is not None:
        bounds.append(f"{'<' if exclusive_maximum else '<='} {maximum:g}")
    expected = ("null or " if nullable else "") + "a number" + (" " + " and ".join(bounds))
    return Rule(
        expected,
        example,
        minimum=minimum,
        maximum=maximum,
        exclusive_minimum=exclusive_minimum,
        exclusive_maximum=exclusive_maximum,
        nullable=nullable,
    )


def _devices(value: Any) -> bool:
    if _is_int(value):
        return bool(value != 0)
    return isinstance(value, str | list) or OmegaConf.is_list(value)


def _fraction_or_count(value: Any) -> bool:
    return (_is_int(value) and value >= 0) or (isinstance(value, float) and 0.0 <= value <= 1.0)


LIMIT_BATCHES = Rule(
    "null, a count or a fraction in [0, 1]", "null", nullable=True, check=_fraction_or_count
)


def meta(rule: Rule) -> dict[str, Rule]:
    """A dataclass field's metadata carrying its rule (the value comes from the YAML files)."""
    return {"rule": rule}


# --- the schema --------------------------------------------------------------------------------


@dataclass
class TrainerConf:
    """Lightning ``Trainer`` arguments (``trainer/cpu.yaml``; gpu and ddp extend it)."""

    accelerator: str = field(default=MISSING, metadata=meta(one_of(ACCELERATORS, "cpu")))
    devices: Any = field(
        default=MISSING,
        metadata=meta(Rule("a device count, 'auto' or a list of ids", "1", check=_devices)),
    )
    strategy: str = MISSING
    num_nodes: int = field(default=MISSING, metadata=meta(integer_at_least(1, "1")))
    precision: str = field(default=MISSING, metadata=meta(one_of(PRECISIONS, "32-true")))
    max_epochs: int = field(default=MISSING, metadata=meta(integer_at_least(-1, "20")))
    max_steps: int = field(default=MISSING, metadata=meta(integer_at_least(-1, "-1")))
    max_time: Any = MISSING
    limit_train_batches: Any = field(default=MISSING, metadata=meta(LIMIT_BATCHES))
    limit_val_batches: Any = field(default=MISSING, metadata=meta(LIMIT_BATCHES))
    limit_test_batches: Any = field(default=MISSING, metadata=meta(LIMIT_BATCHES))
    check_val_every_n_epoch: int = field(default=MISSING, metadata=meta(integer_at_least(1, "1")))
    gradient_clip_val: float | None = field(
        default=MISSING, metadata=meta(number_in("1.0", 0.0, nullable=True))
    )
    gradient_clip_algorithm: str = MISSING
    accumulate_grad_batches: int = field(default=MISSING, metadata=meta(integer_at_least(1, "1")))
    log_every_n_steps: int = field(default=MISSING, metadata=meta(integer_at_least(1, "10")))
    deterministic: Any = MISSING
    enable_progress_bar: bool | None = MISSING


@dataclass
class OptimConf:
    """Optimiser (``optim/<name>.yaml``); its LR schedule is ``scheduler/<name>.yaml``."""

    name: str = field(default=MISSING, metadata=meta(one_of(OPTIMIZERS, "optim=adamw")))
    lr: float = field(
        default=MISSING, metadata=meta(number_in("2e-4", 0.0, exclusive_minimum=True))
    )
    weight_decay: float = field(default=MISSING, metadata=meta(number_in("0", 0.0)))
    betas: list[float] = MISSING
    # One of SCHEDULER_SCHEMAS, chosen by the `scheduler` group; checked against the
    # chosen one's dataclass by `scheduler_rules` (OmegaConf has no tagged unions).
    scheduler: Any = MISSING


_WARMUP = integer_at_least(0, "0")
_WARMUP_START = number_in("0.1", 0.0, 1.0, exclusive_minimum=True)
_MIN_LR = number_in("1e-6", 0.0)
_GAMMA = number_in("0.5", 0.0, 1.0, exclusive_minimum=True)


@dataclass
class CosineSchedulerConf:
    """Cosine annealing to ``min_lr`` after an optional linear warm-up."""

    name: str = field(default=MISSING, metadata=meta(one_of(SCHEDULERS, "scheduler=cosine")))
    warmup_epochs: int = field(default=MISSING, metadata=meta(_WARMUP))
    warmup_start_factor: float = field(default=MISSING, metadata=meta(_WARMUP_START))
    min_lr: float = field(default=MISSING, metadata=meta(_MIN_LR))


@dataclass
class StepSchedulerConf:
    """LR times ``gamma`` every ``step_size`` epochs, after an optional linear warm-up."""

    name: str = field(default=MISSING, metadata=meta(one_of(SCHEDULERS, "scheduler=step")))
    warmup_epochs: int = field(default=MISSING, metadata=meta(_WARMUP))
    warmup_start_factor: float = field(default=MISSING, metadata=meta(_WARMUP_START))
    step_size: int = field(default=MISSING, metadata=meta(integer_at_least(1, "10")))
    gamma: float = field(default=MISSING, metadata=meta(_GAMMA))


@dataclass
class PlateauSchedulerConf:
    """LR times ``gamma`` when ``val/loss`` stalls; Lightning cannot chain it after a warm-up."""

    name: str = field(default=MISSING, metadata=meta(one_of(SCHEDULERS, "scheduler=plateau")))
    gamma: float = field(default=MISSING, metadata=meta(_GAMMA))
    patience: int = field(default=MISSING, metadata=meta(integer_at_least(0, "3")))
    min_lr: float = field(default=MISSING, metadata=meta(_MIN_LR))


@dataclass
class NoSchedulerConf:
    """Constant LR after an optional linear warm-up."""

    name: str = field(default=MISSING, metadata=meta(one_of(SCHEDULERS, "scheduler=none")))
    warmup_epochs: int = field(default=MISSING, metadata=meta(_WARMUP))
    warmup_start_factor: float = field(default=MISSING, metadata=meta(_WARMUP_START))


#: The options each scheduler takes, by name (the keys are :data:`SCHEDULERS`).
SCHEDULER_SCHEMAS: dict[str, type] = {
    "cosine": CosineSchedulerConf,
    "step": StepSchedulerConf,
    "plateau": PlateauSchedulerConf,
    "none": NoSchedulerConf,
}


@dataclass
class DataConf:
    """A data source (``data/<name>.yaml``, all extending ``data/base.yaml``).

    Patch sizes against the grid are checked once the data is known
    (:func:`oceansr.data.validation.check_patch_settings`).
    """

    source: str = MISSING
    # A file, Zarr store, directory, glob or list of files (docs/architecture.md, data).
    path: Any = MISSING
    variables: list[str] = MISSING
    split: Any = MISSING
    sel: Any = MISSING
    isel: Any = MISSING
    decode_times: bool = MISSING
    lat_name: str | None = MISSING
    lon_name: str | None = MISSING
    scale: int = field(default=MISSING, metadata=meta(integer_at_least(2, "4")))
    crop_to_scale: bool = MISSING
    patch_size: int = MISSING
    min_ocean_fraction: float = field(default=MISSING, metadata=meta(number_in("0.3", 0.0, 1.0)))
    patches_per_field: int = field(default=MISSING, metadata=meta(integer_at_least(1, "4")))
    batch_size: int = field(default=MISSING, metadata=meta(integer_at_least(1, "4")))
    eval_batch_size: int = field(default=MISSING, metadata=meta(integer_at_least(1, "4")))
    num_workers: int = field(default=MISSING, metadata=meta(integer_at_least(0, "0")))
    # In memory or read from disk (by size when auto), and the lazy dataset's dask chunks.
    cache: str = field(default=MISSING, metadata=meta(one_of(DATA_CACHE_MODES, "auto")))
    chunks: Any = MISSING
    # A given LR source for data.source=xarray (docs/architecture.md, data): same
    # variables and samples, a grid ``scale`` times coarser; null = block mean of HR.
    lr_path: Any = MISSING
    # Validation/test tiling under a memory budget (docs/architecture.md, inference):
    # ``eval_tile`` LR cells per window side, or null to derive it from ``eval_memory_mb``.
    eval_tile: int | None = field(
        default=MISSING, metadata=meta(integer_at_least(1, "256", nullable=True))
    )
    eval_memory_mb: int = field(default=MISSING, metadata=meta(integer_at_least(1, "1024")))
    # Only the synthetic source reads it (its generator's size and seed).
    synthetic: Any = MISSING


@dataclass
class LossConf:
    name: str = field(default=MISSING, metadata=meta(one_of(LOSSES, "l1")))
    charbonnier_eps: float = field(
        default=MISSING, metadata=meta(number_in("1e-3", 0.0, exclusive_minimum=True))
    )


@dataclass
class EmaConf:
    enabled: bool = MISSING
    decay: float = field(
        default=MISSING,
        metadata=meta(number_in("0.999", 0.0, 1.0, exclusive_minimum=True, exclusive_maximum=True)),
    )


@dataclass
class CheckpointConf:
    monitor: str = MISSING
    mode: str = field(default=MISSING, metadata=meta(one_of(MONITOR_MODES, "min")))
    save_last: bool = MISSING


@dataclass
class EarlyStoppingConf:
    enabled: bool = MISSING
    patience: int = field(default=MISSING, metadata=meta(integer_at_least(0, "10")))
    min_delta: float = field(default=MISSING, metadata=meta(number_in("0.0", 0.0)))


@dataclass
class LoggerConf:
    """Experiment logger (``logger/<name>.yaml``): metrics.csv is always written, a
    ``tensorboard`` or ``mlflow`` logger is added beside it (:mod:`oceansr.engine.loggers`)."""

    name: str = field(default=MISSING, metadata=meta(one_of(LOGGERS, "csv")))
    # MLflow's (``logger/base.yaml``); the other loggers ignore them.
    tracking_uri: str | None = MISSING
    experiment_name: str = MISSING


@dataclass
class DebugConf:
    """Fault injection for control-plane tests (:mod:`oceansr.engine.callbacks.faults`)."""

    fail_at: str | None = field(
        default=MISSING, metadata=meta(one_of(FAULT_POINTS, "null", nullable=True))
    )
    fail_step: int | None = field(
        default=MISSING, metadata=meta(integer_at_least(0, "5", nullable=True))
    )
    nan_step: int | None = field(
        default=MISSING, metadata=meta(integer_at_least(0, "3", nullable=True))
    )
    sleep_per_step: float = field(default=MISSING, metadata=meta(number_in("0.0", 0.0)))
    startup_sleep: float = field(default=MISSING, metadata=meta(number_in("0.0", 0.0)))


@dataclass
class TrainConfig:
    """The whole training config (``train.yaml`` with its groups)."""

    # Architecture keys differ per model; the registry checks them (oceansr.models).
    model: Any = MISSING
    data: DataConf = MISSING
    trainer: TrainerConf = MISSING
    optim: OptimConf = MISSING
    loss: LossConf = MISSING
    ema: EmaConf = MISSING
    checkpoint: CheckpointConf = MISSING
    early_stopping: EarlyStoppingConf = MISSING
    debug: DebugConf = MISSING
    # Where the control plane runs the trainer (group ``launcher``: local | slurm). Each
    # backend checks its own settings (control/backends/slurm_script.py); the trainer
    # ignores them.
    launcher: Any = MISSING
    logger: LoggerConf = MISSING
    mode: str = field(default=MISSING, metadata=meta(one_of(MODES, "train")))
    run_id: str | None = MISSING
    runs_root: str = MISSING
    seed: int = field(default=MISSING, metadata=meta(Rule("an integer", "42", check=_is_int)))
    ckpt_path: str | None = MISSING
    residual_learning: bool = MISSING


# --- reading the schema ----------------------------------------------------------------------


def _rules_of(schema: type, prefix: str) -> Iterator[tuple[str, Rule]]:
    for fld in dataclasses.fields(schema):
        path = f"{prefix}{fld.name}"
        if "rule" in fld.metadata:
            yield path, fld.metadata["rule"]
        nested = None if prefix else SECTIONS.get(fld.name)
        if nested is not None:
            yield from _rules_of(nested, f"{path}.")


# `from __future__ import annotations` makes field types strings: name the sections.
SECTIONS: dict[str, type] = {
    "data": DataConf,
    "trainer": TrainerConf,
    "optim": OptimConf,
    "loss": LossConf,
    "ema": EmaConf,
    "checkpoint": CheckpointConf,
    "early_stopping": EarlyStoppingConf,
    "debug": DebugConf,
    "logger": LoggerConf,
}


def rules() -> dict[str, Rule]:
    """Every ruled field of the fixed-shape config, by path (``trainer.max_epochs``)."""
    return dict(_rules_of(TrainConfig, ""))


def scheduler_rules(name: str) -> dict[str, Rule]:
    """The rules of scheduler ``name``'s options, by path (``optim.scheduler.gamma``)."""
    schema = SCHEDULER_SCHEMAS.get(name)
    return dict(_rules_of(schema, "optim.scheduler.")) if schema else {}


def rule_for(path: str) -> Rule | None:
    """The rule of one config path, for error messages (None when it has none)."""
    found = rules().get(path)
    if found is None and path.startswith("optim.scheduler."):
        for name in SCHEDULERS:
            found = found or scheduler_rules(name).get(path)
    return found


def config_groups() -> dict[str, list[str]]:
    """Options per config group, read from the shipped files (for help and errors)."""
    return {
        group.name: sorted(p.stem for p in group.glob("*.yaml") if p.stem != "base")
        for group in sorted(CONF_DIR.iterdir())
        if group.is_dir()
    }


def choices() -> dict[str, list[str]]:
    """Allowed values by override key, for adapters' enums (MCP tool schemas, help).

    Keys are what a user types before ``=``: config groups (``model``, ``data``,
    ``trainer``, ``optim``, ``scheduler``, ``experiment``...) and fields with fixed
    choices (``loss.name``, ``trainer.precision``, ``trainer.accelerator``, ``mode``...).
    """
    out: dict[str, list[str]] = dict(config_groups())
    for path, rule in rules().items():
        if rule.choices:
            out[path] = list(rule.choices)
    return out


def ranges() -> dict[str, dict[str, Any]]:
    """Numeric ranges by config path, as JSON-schema keywords (``minimum``, ``type``...).

    Scheduler options appear under ``optim.scheduler.*`` (each applies when the chosen
    scheduler has that option).
    """
    table = {**rules()}
    for name in SCHEDULERS:
        table.update(scheduler_rules(name))
    return {
        path: rule.describe_range()
        for path, rule in table.items()
        if not rule.choices and rule.check is None
    }


def to_dict(node: Any) -> dict[str, Any]:
    """A config mapping as a plain, resolved dict (typed, for code that takes dicts)."""
    container = OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node
    if not isinstance(container, dict):
        raise TypeError(f"expected a config mapping, got {type(container).__name__}")
    return {str(k): v for k, v in container.items()}


def scheduler_options(node: Any) -> DictConfig:
    """The scheduler node with exactly the options of the scheduler it names.

    ``scheduler=step`` already gives that. The older override ``optim.scheduler.name=step``
    only renames the chosen group's node (cosine's ``min_lr``, no ``step_size``): this
    takes the named scheduler's file and keeps the given values of the options it shares
    (e.g. ``warmup_epochs``), so ``config.yaml`` and the optimiser see one consistent set.
    """
    given = to_dict(node)
    name = given.get("name")
    if name not in SCHEDULER_SCHEMAS:
        return OmegaConf.create(given)
    own = OmegaConf.load(CONF_DIR / "scheduler" / f"{name}.yaml")
    shared = {k: v for k, v in given.items() if k in own}
    merged = OmegaConf.merge(OmegaConf.structured(SCHEDULER_SCHEMAS[name]), own, shared)
    if not isinstance(merged, DictConfig):
        raise TypeError(f"scheduler file {name}.yaml is not a mapping")
    return merged
