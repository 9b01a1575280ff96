"""Failure taxonomy: classify an error into a failureType + plain advice.

See docs/architecture.md, failure taxonomy.

Two entry points, one per side of the run directory:
- :func:`classify_exception` runs in the training process, from the exception object;
- :func:`classify_exit` runs in the control plane when a process died without writing
  a terminal status itself, from its exit status and the tail of ``train.log``.

Both return an ``error_summary`` dict (schema in docs/architecture.md, run directory).
This module imports no torch: exception types are recognised by class name and module
so the control plane stays light.
"""

from __future__ import annotations

import errno
import re
import signal
import traceback
from typing import Any

from .protocol import EXIT_DISK_FULL

MESSAGES: dict[str, str] = {
    "cuda_oom": "The GPU ran out of memory.",
    "cpu_oom": "The process ran out of main memory (or was killed by the kernel OOM killer).",
    "nan_loss": "The training loss became NaN or infinite.",
    "data_not_found": "A data file, folder or variable could not be found.",
    "data_invalid": "The data cannot be used as they are.",
    "config_error": "The configuration is invalid.",
    "shape_mismatch": "Array or tensor shapes do not match.",
    "missing_dependency": "A program or Python package needed for this run is not installed.",
    "disk_full": "The disk is full: checkpoints or logs could not be written.",
    "distributed_error": "Distributed (multi-process) training failed.",
    "startup_timeout": "The run did not reach training_start in time.",
    "time_limit": "The job reached its scheduler time limit before it finished.",
    "node_failure": "A node of the cluster job failed (the scheduler's side, not the training).",
    "process_lost": "The training process disappeared without recording why.",
    "unknown": "The run failed with an unexpected error.",
}

#: What an agent may pass on as is: Hydra overrides (``optim.lr=1e-4``) or tool
#: arguments (``backend='slurm'``). Prose goes to :data:`ADVICE`, never here, so a
#: suggestion can become a retry call without parsing words out of it.
SUGGESTIONS: dict[str, list[str]] = {
    "cuda_oom": [
        "data.batch_size=4",
        "data.patch_size=32",
        "trainer.precision=bf16-mixed",
        "model=edsr_baseline",
    ],
    "cpu_oom": ["data.batch_size=4", "data.eval_batch_size=1", "data.num_workers=0", "model=srcnn"],
    "nan_loss": [
        "optim.lr=1e-4",
        "trainer.gradient_clip_val=1.0",
        "trainer.precision=32-true",
        "loss.name=charbonnier",
    ],
    "data_not_found": [],
    "data_invalid": ["data.crop_to_scale=true"],
    "config_error": [],
    "shape_mismatch": [],
    "missing_dependency": [],
    "disk_full": ["checkpoint.save_last=false"],
    "distributed_error": ["trainer=cpu", "trainer.devices=1"],
    "startup_timeout": [],
    "time_limit": ["launcher.time=04:00:00", "launcher.signal=USR1@300"],
    "node_failure": ["launcher.requeue=true"],
    "process_lost": [],
    "unknown": [],
}

#: Plain-language advice by failureType, kept apart from :data:`SUGGESTIONS`.
ADVICE: dict[str, list[str]] = {
    "cuda_oom": [
        "smaller batches or patches, lower precision or a smaller model need less GPU memory"
    ],
    "cpu_oom": ["smaller batches, fewer loader workers or a smaller model need less memory"],
    "nan_loss": [
        "a lower learning rate, gradient clipping, full precision or a robust loss keep the "
        "loss finite"
    ],
    "data_not_found": [
        "check data.path (absolute paths avoid working-directory surprises)",
        "check data.variables against the variables in the file",
    ],
    "data_invalid": [
        "check data.variables, data.split and data.sel",
        "data.crop_to_scale=true crops a grid that is not a multiple of data.scale",
    ],
    "config_error": ["check the override names and values (python -m oceansr.train --help)"],
    "shape_mismatch": [
        "data.scale must equal the HR/LR size ratio of your files",
        "data.patch_size must be a multiple of data.scale",
    ],
    "missing_dependency": ["reinstall oceansr: pip install -c constraints-cpu.txt -e '.[dev]'"],
    "disk_full": ["free disk space or point runs_root at a bigger disk"],
    "distributed_error": [
        "one process (trainer=cpu or trainer.devices=1) avoids distributed set-up"
    ],
    "startup_timeout": [
        "look at the log (logs action) for where start-up hangs",
        "start again with a larger startup_timeout",
    ],
    "time_limit": [
        "resume the run: it continues from checkpoints/last.ckpt in a new job",
        "ask for more time (launcher.time) or an earlier warning (launcher.signal)",
    ],
    "node_failure": [
        "resume the run: it continues from its newest checkpoint in a new job",
        "with launcher.requeue=true Slurm requeues the job itself after a node failure",
    ],
    "process_lost": [
        "look at the end of train.log for the cause (logs action)",
        "resume the run from its last checkpoint",
    ],
    "unknown": [
        "read the end of train.log (logs action) and the traceback in error.txt",
        "report the error if it persists",
    ],
}

#: A suggestion that is one Hydra override or tool argument, copied as is.
OVERRIDE_RE = re.compile(r"^[+~]{0,2}[A-Za-z_][\w.]*=\S+$")


def split_suggestions(items: list[str]) -> tuple[list[str], list[str]]:
    """``(overrides, advice)`` of mixed suggestions, as classified errors carry them
    (``ConfigError(fix=...)`` is an override or a sentence): an override with a
    parenthesised reason (``optim.lr=1e-4 (lower learning rate)``) gives both."""
    overrides: list[str] = []
    advice: list[str] = []
    for item in items:
        said = str(item).strip()
        head, _, rest = said.partition(" ")
        if OVERRIDE_RE.match(said):
            overrides.append(said)
        elif OVERRIDE_RE.match(head) and rest.startswith("(") and rest.endswith(")"):
            overrides.append(head)
            advice.append(f"{head}: {rest[1:-1]}")
        elif said:
            advice.append(said)
    return list(dict.fromkeys(overrides)), list(dict.fromkeys(advice))


_BY_CLASS_NAME: dict[str, str] = {
    "OutOfMemoryError": "cuda_oom",
    "MemoryError": "cpu_oom",
    "FileNotFoundError": "data_not_found",
    "ModuleNotFoundError": "missing_dependency",
    "ImportError": "missing_dependency",
    "ConfigCompositionException": "config_error",
    "MissingMandatoryValue": "config_error",
    "ConfigKeyError": "config_error",
    "DistBackendError": "distributed_error",
    "DistError": "distributed_error",
    "DistNetworkError": "distributed_error",
    "DistStoreError": "distributed_error",
    "NonFiniteLossError": "nan_loss",
    "InvalidRunIdError": "config_error",
    "MisconfigurationException": "config_error",  # Lightning's own config checks
    "RunNotFoundError": "config_error",
    # torch.load(weights_only=True) refusing a checkpoint that pickles code, not weights
    "UnpicklingError": "data_invalid",
}

_BY_MESSAGE: tuple[tuple[str, str], ...] = (
    ("cuda out of memory", "cuda_oom"),
    ("out of memory", "cpu_oom"),
    ("cannot allocate memory", "cpu_oom"),
    ("defaultcpuallocator: can't allocate memory", "cpu_oom"),
    ("no space left on device", "disk_full"),
    ("size mismatch", "shape_mismatch"),
    ("shapes cannot be multiplied", "shape_mismatch"),
    ("must match the size of tensor", "shape_mismatch"),
    ("expected input", "shape_mismatch"),
    ("nccl", "distributed_error"),
    ("gloo", "distributed_error"),
    ("process group", "distributed_error"),
)

#: Specific advice for messages we know (checked before the generic advice).
_ADVICE_BY_MESSAGE: tuple[tuple[str, list[str]], ...] = (
    (
        "no supported gpu backend",
        ["trainer=cpu (no CUDA device is visible here)", "check devices with ocean_sr_check_gpu"],
    ),
)

TAIL_CHARS = 4000


def _message_advice(text: str) -> list[str]:
    lowered = text.lower()
    return next((advice for needle, advice in _ADVICE_BY_MESSAGE if needle in lowered), [])


def error_summary(
    failure_type: str,
    message: str | None = None,
    *,
    suggestions: list[str] | None = None,
    advice: list[str] | None = None,
    exception_type: str | None = None,
    traceback_tail: str | None = None,
    log_tail: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """An ``error_summary`` with the taxonomy's message and advice as defaults.

    ``suggestions`` are split (:func:`split_suggestions`): overrides stay there, prose
    joins ``advice``; with neither given, the type's own defaults apply.
    """
    if failure_type not in MESSAGES:
        failure_type = "unknown"
    overrides, prose = split_suggestions(list(suggestions or []))
    prose = list(dict.fromkeys([*prose, *(advice or [])]))
    if not overrides and not prose:
        overrides, prose = SUGGESTIONS[failure_type], ADVICE[failure_type]
    return {
        "failureType": failure_type,
        "message": message or MESSAGES[failure_type],
        "suggestions": list(overrides),
        "advice": list(prose),
        "exception_type": exception_type,
        "traceback_tail": traceback_tail,
        "log_tail": log_tail,
        **extra,
    }


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes/contexts (Lightning and Hydra wrap errors)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def _type_of(exc: BaseException) -> str | None:
    failure = getattr(exc, "failure_type", None)
    if isinstance(failure, str) and failure in MESSAGES:
        return failure
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return "disk_full"
    for cls in type(exc).__mro__:
        if cls.__name__ in _BY_CLASS_NAME:
            return _BY_CLASS_NAME[cls.__name__]
    text = str(exc).lower()
    for needle, failure in _BY_MESSAGE:
        if needle in text:
            return failure
    return None


def classify_exception(exc: BaseException, *, log_tail: str | None = None) -> dict[str, Any]:
    """Error summary from the exception object (first match along the cause chain)."""
    failure, source = "unknown", exc
    for item in _chain(exc):
        found = _type_of(item)
        if found is not None:
            failure, source = found, item
            break
    # The error's own fix is specific (names the field); the generic advice is a fallback.
    own = list(getattr(source, "suggestions", None) or []) or _message_advice(str(source))
    suggestions, advice = (own, None) if own else (SUGGESTIONS[failure], ADVICE[failure])
    fields: dict[str, Any] = {}
    if getattr(source, "field", None):
        fields["field"] = getattr(source, "field")  # noqa: B009 - any exception type
    if getattr(source, "step", None) is not None:
        fields["step"] = getattr(source, "step")  # noqa: B009
    tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    return error_summary(
        failure,
        f"{MESSAGES[failure]} {type(source).__name__}: {source}",
        suggestions=list(dict.fromkeys(suggestions)),
        advice=advice,
        exception_type=f"{type(source).__module__}.{type(source).__qualname__}",
        traceback_tail=tb[-TAIL_CHARS:],
        log_tail=log_tail,
        **fields,
    )


def signal_name(exit_code: int | None) -> str | None:
    """'SIGKILL' for a process killed by signal 9 (Popen gives -9; shells give 137)."""
    if exit_code is None:
        return None
    number = -exit_code if exit_code < 0 else exit_code - 128 if exit_code > 128 else None
    if number is None:
        return None
    try:
        return signal.Signals(number).name
    except ValueError:
        return None


def classify_exit(
    exit_code: int | None, log_tail: str | None = None, *, oom_evidence: str | None = None
) -> dict[str, Any]:
    """Error summary for a process that ended without recording a terminal status.

    The log tail is read first (a Python error printed before anything was recorded:
    ``No space left on device``, ``No module named 'x'``). A SIGKILL is ``cpu_oom`` only
    with ``oom_evidence`` (see :mod:`oceansr.runs.oom`): a ``kill -9`` from a user is not
    an out-of-memory kill, so without evidence it is ``process_lost`` naming SIGKILL.
    """
    sig = signal_name(exit_code)
    facts: dict[str, Any] = {"exit_code": exit_code, "signal": sig, "log_tail": log_tail}
    if exit_code == EXIT_DISK_FULL:
        return error_summary(
            "disk_full",
            f"{MESSAGES['disk_full']} The trainer exited with status {EXIT_DISK_FULL} "
            "(no space left on device) before it could record the failure.",
            **facts,
        )
    from_log = _from_log(log_tail or "")
    if from_log is not None:
        failure, message = from_log
        return error_summary(failure, message, **facts)
    if sig == "SIGKILL" and oom_evidence:
        return error_summary(
            "cpu_oom",
            f"The training process was killed by SIGKILL: out of memory ({oom_evidence}).",
            **facts,
        )
    if sig == "SIGKILL":
        return error_summary(
            "process_lost",
            "The training process was killed by SIGKILL from outside (a kill -9, a job "
            "scheduler or a container stop) without recording why; there is no sign of an "
            "out-of-memory kill (the cgroup's oom_kill counter did not rise and the last "
            "recorded memory was below the limit).",
            **facts,
        )
    detail = f" (exit code {exit_code}{', ' + sig if sig else ''})" if exit_code is not None else ""
    return error_summary("process_lost", f"{MESSAGES['process_lost']}{detail}", **facts)


_MISSING_MODULE_RE = re.compile(r"(?:ModuleNotFoundError|ImportError): No module named '([^']+)'")


def _from_log(log_tail: str) -> tuple[str, str | None] | None:
    """(failureType, message) from the last Python error in the log tail, if any."""
    missing = _MISSING_MODULE_RE.findall(log_tail)
    if missing:
        package = missing[-1].split(".")[0]
        return (
            "missing_dependency",
            f"{MESSAGES['missing_dependency']} No module named {missing[-1]!r}: install "
            f"the package {package!r} (pip install {package}).",
        )
    lowered = log_tail.lower()
    for needle, failure in _BY_MESSAGE:
        if needle in lowered:
            return failure, None
    return None
