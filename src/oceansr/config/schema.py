"""The training config's schema: types, choices and ranges, each written once.

The *values* (defaults) live in the YAML files under ``oceansr/conf`` — one file per
config group option, so ``config.yaml`` of a run describes it completely. This module
holds what the values must *be*: the dataclasses below are registered in Hydra's
ConfigStore as the base of ``train.yaml`` (see :mod:`oceansr.config.compose`), so composition
already rejects unknown keys and ill-typed values; each field's :class:`Rule` adds the
allowed choices or range, which :func:`oceansr.config.checks.check_config` checks before a
run starts (in the control plane and again in the trainer) and which adapters (the MCP
tool schemas, help texts) read through :func:`choices` and :func:`ranges`. No field
carries a value: every one is ``MISSING`` and set by the YAML files
(tests/config/test_config_values.py keeps it so). The options of the chosen scheduler and
launcher are checked against :data:`SCHEDULER_SCHEMAS` / :data:`LAUNCHER_SCHEMAS`; the
model's against its architecture (:mod:`oceansr.config.architectures`). See
docs/architecture.md, Configuration.

This module imports neither torch nor Hydra: the control plane reads it in milliseconds.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import MISSING, DictConfig, OmegaConf, open_dict

from oceansr.core.errors import ConfigError

#: The shipped config files (``train.yaml`` and one folder per config group).
#: Experiment loggers beside metrics.csv (config group ``logger``; oceansr.engine.loggers).
LOGGERS: tuple[str, ...] = ("csv", "tensorboard", "mlflow")

CONF_DIR: Path = Path(__file__).resolve().parents[1] / "conf"

# --- choices (the only copies) ---------------------------------------------------------------

MODES: tuple[str, ...] = ("train", "test")
#: ``data.cache``: by size, eager, or from disk patch by patch.
DATA_CACHE_MODES: tuple[str, ...] = ("auto", "memory", "lazy")
#: ``data.stats``: exact in memory and sampled when lazy, or either forced on both paths.
DATA_STATS_MODES: tuple[str, ...] = ("auto", "sample", "exact")
#: ``data.degradation``: the operator that makes LR from HR (oceansr.data.degrade).
DEGRADATIONS: tuple[str, ...] = ("nanmean", "strict_mean", "area_mean", "subsample", "gaussian")
#: Named covariates of ``data.covariates`` (besides ``{file, variable}``): data/covariates.py.
COVARIATE_NAMES: tuple[str, ...] = ("land_mask", "coast_distance", "lat")
#: Covariates that add more than one input channel (the others add one).
COVARIATE_CHANNELS: dict[str, tuple[str, ...]] = {"lat": ("lat_sin", "lat_cos")}


def covariate_channel_count(items: Any) -> int:
    """Input channels that a ``data.covariates`` list adds: a name's, or a file's one; a
    checkpoint's recorded entries carry their ``kind``."""
    total = 0
    for item in items or []:
        kind = str(item.get("kind", "file")) if isinstance(item, Mapping) else str(item)
        total += len(COVARIATE_CHANNELS.get(kind, ("",)))
    return total


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

# --- rules -------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True)
class Rule:
    """What one config value must be, said once for the check, the message and the fix.

    ``choices`` or a numeric range (``minimum``/``maximum``, exclusive when flagged), a
    custom ``check`` for values of several shapes (``trainer.devices``), or a list whose
    ``items`` each satisfy a rule (``length`` of them, else at least ``min_items``).
    ``example`` is a valid value (or a whole override when it contains ``=``) offered
    as the fix. :meth:`require` is the one place a rule becomes a :class:`ConfigError`.
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
    items: Rule | None = None
    length: int | None = None
    min_items: int = 0

    def accepts(self, value: Any) -> bool:
        """Whether ``value`` satisfies the rule."""
        return self.violation("", value) is None

    def violation(self, path: str, value: Any) -> tuple[str, Any, Rule] | None:
        """The innermost ``(path, value, rule)`` that ``value`` breaks, or None.

        For a list of the right shape with a bad item that is the item
        (``model.depths[1]``), so the message points at what to change.
        """
        if value is None:
            return None if self.nullable else (path, value, self)
        if self.items is not None:
            if not self._list_shape(value):
                return path, value, self
            for i, item in enumerate(value):
                found = self.items.violation(f"{path}[{i}]", item)
                if found is not None:
                    return found
            return None
        return None if self._accepts_one(value) else (path, value, self)

    def require(self, path: str, value: Any) -> None:
        """Raise a :class:`ConfigError` naming ``path`` and the fix when ``value`` breaks
        the rule (the innermost item, for lists)."""
        found = self.violation(path, value)
        if found is not None:
            where, bad, rule = found
            raise ConfigError(
                f"{where}={bad!r} is invalid: it must be {rule.expected}",
                field=where,
                fix=rule.fix(where),
            )

    def _list_shape(self, value: Any) -> bool:
        if isinstance(value, str | bytes) or not (
            isinstance(value, list | tuple) or OmegaConf.is_list(value)
        ):
            return False
        if self.length is not None:
            return len(value) == self.length
        return len(value) >= self.min_items

    def _accepts_one(self, value: Any) -> bool:
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
        elif self.items is not None:
            out["type"] = "array"
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


def a_list_of(
    items: Rule,
    example: str,
    *,
    length: int | None = None,
    min_items: int = 0,
    nullable: bool = False,
) -> Rule:
    if length is not None:
        count = f"exactly {length}"
    else:
        count = "a non-empty list of" if min_items else "a list of"
    expected = ("null or " if nullable else "") + f"{count} values, each {items.expected}"
    return Rule(
        expected, example, items=items, length=length, min_items=min_items, nullable=nullable
    )


def a_bool(example: str) -> Rule:
    return Rule("true or false", example, check=lambda value: isinstance(value, bool))


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


def _covariate(value: Any) -> bool:
    """A named covariate, or ``{file: <path>, variable: <name>}``."""
    if isinstance(value, str):
        return value in COVARIATE_NAMES
    if isinstance(value, Mapping) or OmegaConf.is_dict(value):
        keys = {str(k) for k in value}
        return keys == {"file", "variable"} and all(
            isinstance(value[k], str) and value[k] for k in ("file", "variable")
        )
    return False


_COVARIATES = a_list_of(
    Rule(
        f"one of {', '.join(COVARIATE_NAMES)} or {{file: <path>, variable: <name>}}",
        "data.covariates=[land_mask,lat]",
        check=_covariate,
    ),
    "data.covariates=[land_mask,lat]",
)


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
    # Lazy training: patches cut from the chunks one read brings (docs/architecture.md, data).
    patches_per_read: int = field(default=MISSING, metadata=meta(integer_at_least(1, "4")))
    # Workers of the validation/test loaders (not persistent): evaluation is compute-bound.
    eval_workers: int = field(default=MISSING, metadata=meta(integer_at_least(0, "0")))
    # Validation on this many spread fields of the valid split (null: all); test is full.
    val_fields: int | None = field(
        default=MISSING, metadata=meta(integer_at_least(1, "4", nullable=True))
    )
    # In memory or read from disk (by size when auto), and the lazy dataset's dask chunks.
    cache: str = field(default=MISSING, metadata=meta(one_of(DATA_CACHE_MODES, "auto")))
    chunks: Any = MISSING
    # Normalisation statistics (docs/architecture.md, data): exact pass or a bounded,
    # seeded sample of training fields, read by ``stats_threads`` threads.
    stats: str = field(default=MISSING, metadata=meta(one_of(DATA_STATS_MODES, "auto")))
    stats_fields: int = field(default=MISSING, metadata=meta(integer_at_least(1, "16")))
    stats_seed: int = field(default=MISSING, metadata=meta(integer_at_least(0, "0")))
    stats_threads: int = field(default=MISSING, metadata=meta(integer_at_least(1, "4")))
    # A given LR source for data.source=xarray (docs/architecture.md, data): same
    # variables and samples, a grid ``scale`` times coarser; null = block mean of HR.
    lr_path: Any = MISSING
    # The operator that makes LR from HR when no LR is given (docs/architecture.md, data).
    degradation: str = field(default=MISSING, metadata=meta(one_of(DEGRADATIONS, "nanmean")))
    # Validation/test tiling under a memory budget (docs/architecture.md, inference):
    # ``eval_tile`` LR cells per window side, or null to derive it from ``eval_memory_mb``.
    eval_tile: int | None = field(
        default=MISSING, metadata=meta(integer_at_least(1, "256", nullable=True))
    )
    eval_memory_mb: int = field(default=MISSING, metadata=meta(integer_at_least(1, "1024")))
    # Only the synthetic source reads it (its generator's size and seed).
    synthetic: Any = MISSING
    # Extra LR input channels (docs/architecture.md, covariates).
    covariates: Any = field(default=MISSING, metadata=meta(_COVARIATES))


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


#: Characters a value on an ``#SBATCH`` line cannot hold (spaces, quotes, backslashes).
SBATCH_UNSAFE = re.compile(r"[\s'\"\\]")
_SLURM_TIME = re.compile(r"^(?:\d+-)?\d+(?::\d{1,2}){0,2}$")
_SLURM_SIGNAL = re.compile(r"^(?:B:)?(?:SIG)?[A-Z0-9]+@\d+$")


def _sbatch_word(value: Any) -> bool:
    text = str(value)
    return isinstance(value, str | int) and bool(text) and not SBATCH_UNSAFE.search(text)


def _slurm_time(value: Any) -> bool:
    return isinstance(value, str | int) and _SLURM_TIME.match(str(value)) is not None


def _slurm_signal(value: Any) -> bool:
    return value is False or (isinstance(value, str) and _SLURM_SIGNAL.match(value) is not None)


_SBATCH_WORD = Rule(
    "a single word without spaces or quotes, or null",
    "<a single word without spaces or quotes>, or null",
    nullable=True,
    check=_sbatch_word,
)


def _lines_rule(path: str) -> Rule:
    """Lines for the script (``#SBATCH`` options, set-up commands), one per entry."""
    fix = f"{path}='[\"...\"]' (a list, one entry per line)"
    one_line = Rule("a single line", fix, check=lambda value: "\n" not in str(value))
    return a_list_of(one_line, fix, nullable=True)


@dataclass
class LocalLauncherConf:
    """A process on this machine (``launcher/local.yaml``): no settings."""

    name: str = MISSING


@dataclass
class SlurmLauncherConf:
    """A Slurm batch job (``launcher/slurm.yaml``), rendered into ``submit.sbatch`` by
    :mod:`oceansr.control.backends.slurm_script`; null leaves the cluster's default."""

    name: str = MISSING
    partition: str | None = field(default=MISSING, metadata=meta(_SBATCH_WORD))
    account: str | None = field(default=MISSING, metadata=meta(_SBATCH_WORD))
    qos: str | None = field(default=MISSING, metadata=meta(_SBATCH_WORD))
    time: Any = field(
        default=MISSING,
        metadata=meta(
            Rule(
                "a Slurm time limit: MM, HH:MM:SS or D-HH:MM:SS, or null",
                "04:00:00",
                nullable=True,
                check=_slurm_time,
            )
        ),
    )
    nodes: int = field(
        default=MISSING,
        metadata=meta(integer_at_least(1, "launcher.nodes=2 (= trainer.num_nodes)")),
    )
    ntasks_per_node: int = field(
        default=MISSING,
        metadata=meta(
            integer_at_least(
                1, "trainer.devices=<processes per node> (launcher.ntasks_per_node follows it)"
            )
        ),
    )
    cpus_per_task: int | None = field(
        default=MISSING, metadata=meta(integer_at_least(1, "8", nullable=True))
    )
    mem: str | None = field(default=MISSING, metadata=meta(_SBATCH_WORD))
    gres: str | None = field(default=MISSING, metadata=meta(_SBATCH_WORD))
    signal: Any = field(
        default=MISSING,
        metadata=meta(
            Rule(
                "an sbatch --signal value (signal, @, seconds before the time limit) or null",
                "USR1@90",
                nullable=True,
                check=_slurm_signal,
            )
        ),
    )
    requeue: bool = field(default=MISSING, metadata=meta(a_bool("true")))
    extra_sbatch: list[str] | None = field(
        default=MISSING, metadata=meta(_lines_rule("launcher.extra_sbatch"))
    )
    setup: list[str] | None = field(default=MISSING, metadata=meta(_lines_rule("launcher.setup")))


#: The settings each launcher takes, by name (``conf/launcher/<name>.yaml``).
LAUNCHER_SCHEMAS: dict[str, type] = {"local": LocalLauncherConf, "slurm": SlurmLauncherConf}


@dataclass
class TrainConfig:
    """The whole training config (``train.yaml`` with its groups)."""

    # Architecture keys differ per model: checked against oceansr.config.architectures.
    model: Any = MISSING
    data: DataConf = MISSING
    trainer: TrainerConf = MISSING
    optim: OptimConf = MISSING
    loss: LossConf = MISSING
    ema: EmaConf = MISSING
    checkpoint: CheckpointConf = MISSING
    early_stopping: EarlyStoppingConf = MISSING
    debug: DebugConf = MISSING
    # Where the control plane runs the trainer (group ``launcher``: local | slurm), one
    # of LAUNCHER_SCHEMAS, checked by `launcher_rules`; the trainer ignores it.
    launcher: Any = MISSING
    logger: LoggerConf = MISSING
    mode: str = field(default=MISSING, metadata=meta(one_of(MODES, "train")))
    run_id: str | None = MISSING
    runs_root: str = MISSING
    seed: int = field(default=MISSING, metadata=meta(Rule("an integer", "42", check=_is_int)))
    ckpt_path: str | None = MISSING
    init_from: str | None = MISSING
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


def launcher_rules(name: str) -> dict[str, Rule]:
    """The rules of launcher ``name``'s settings, by path (``launcher.time``)."""
    schema = LAUNCHER_SCHEMAS.get(name)
    return dict(_rules_of(schema, "launcher.")) if schema else {}


def rule_for(path: str) -> Rule | None:
    """The rule of one config path, for error messages (None when it has none)."""
    found = rules().get(path)
    if found is None and path.startswith("optim.scheduler."):
        for name in SCHEDULERS:
            found = found or scheduler_rules(name).get(path)
    return found


@functools.cache
def _predict_file() -> dict[str, Any]:
    document = yaml.safe_load((CONF_DIR / "predict.yaml").read_text())
    return {k: v for k, v in document.items() if k not in ("defaults", "hydra")}


def predict_defaults() -> dict[str, Any]:
    """The prediction options as ``conf/predict.yaml`` sets them (unresolved), for the
    Python API's keyword defaults (:func:`oceansr.predict.predict`,
    :func:`oceansr.inference.tiling.tiled_predict`) and help texts, so the values stay in
    the YAML file that the entry point composes."""
    return copy.deepcopy(_predict_file())


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


def normalise_config(cfg: DictConfig) -> None:
    """Give ``optim.scheduler`` exactly its scheduler's options (see
    :func:`scheduler_options`), before it is validated or recorded."""
    with open_dict(cfg):
        cfg.optim.scheduler = scheduler_options(cfg.optim.scheduler)
