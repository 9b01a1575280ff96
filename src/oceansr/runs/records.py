"""Names and shapes of the run-directory documents, schema version 1.

See docs/architecture.md, run directory.

Writers and readers import these constants instead of repeating string literals, so a
typo in a status, phase or event name fails loudly at the writer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCHEMA_VERSION = 1

#: ``queued``: a scheduler (Slurm) holds the job in its queue (docs/architecture.md,
#: launch backends); the trainer moves it to ``running`` like a ``pending`` run.
STATUSES: tuple[str, ...] = ("pending", "queued", "running", "completed", "failed", "killed")
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "killed"})

PHASES: tuple[str, ...] = (
    "starting",
    "sanity_check",
    "training",
    "validating",
    "testing",
    "predicting",
    "finishing",
    "done",
)

EVENT_NAMES: tuple[str, ...] = (
    "run_created",
    "process_started",
    "training_start",
    "epoch_end",
    "checkpoint_saved",
    "training_end",
    "training_error",
    "kill_requested",
    "killed",
    "process_lost",
    "resumed",
    "predict_start",
    "predict_progress",
    "predict_end",
    "predict_error",  # oceansr addition: a predict run's failure (training_error's twin)
    "job_submitted",  # Slurm backend: sbatch accepted the job (job_id, script)
    "requeued",  # Slurm backend: preempted or near its time limit, checkpointed, requeued
)

FAILURE_TYPES: tuple[str, ...] = (
    "cuda_oom",
    "cpu_oom",
    "nan_loss",
    "data_not_found",
    "data_invalid",
    "config_error",
    "shape_mismatch",
    "missing_dependency",
    "disk_full",
    "distributed_error",
    "startup_timeout",
    "time_limit",
    "process_lost",
    "unknown",
)

#: What happens to a run when the controller that started it exits
#: (docs/architecture.md, control plane).
ON_EXIT_POLICIES: tuple[str, ...] = ("keep", "terminate")

PROGRESS_KEYS: tuple[str, ...] = (
    "epoch",
    "total_epochs",
    "step",
    "total_steps",
    "percent",
    "elapsed_s",
    "eta_s",
    "samples_per_s",
)
METRICS_KEYS: tuple[str, ...] = ("latest", "best", "test")

ERROR_SUMMARY_KEYS: tuple[str, ...] = (
    "failureType",
    "message",
    "suggestions",
    "exception_type",
    "traceback_tail",
    "log_tail",
)

#: status.json keys that identify the run and never change after creation.
IMMUTABLE_STATUS_KEYS: tuple[str, ...] = ("schema_version", "run_id", "kind", "created_at")


def is_terminal(status: str | Mapping[str, Any] | None) -> bool:
    """True for ``completed``/``failed``/``killed``; accepts a status name or a status doc."""
    if isinstance(status, Mapping):
        status = status.get("status")
    return status in TERMINAL_STATUSES


def empty_status(run_id: str, kind: str, created_at: str) -> dict[str, Any]:
    """The initial status.json: every schema field present, unknowns ``None``.

    Every key exists from the start so readers never need ``.get`` chains, and nested
    ``progress``/``metrics`` are dicts so writers can deep-merge into them.
    """
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "kind": kind,
        "status": "pending",
        "phase": "starting",
        "pid": None,
        "host": None,
        "created_at": created_at,
        "started_at": None,
        "ended_at": None,
        "updated_at": created_at,
        "heartbeat_at": None,
        "exit_code": None,
        "progress": dict.fromkeys(PROGRESS_KEYS),
        "metrics": {key: {} for key in METRICS_KEYS},
        "best_checkpoint": None,
        "last_checkpoint": None,
        "error_summary": None,
    }
