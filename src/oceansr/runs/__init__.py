"""The run-directory protocol (DESIGN §3): ids, paths, schemas, atomic writers, readers.

The only module shared by the training process (which writes a run's files) and the
control plane (which reads them). It imports no torch/lightning and loads filelock and
psutil on first use, so the CLI and control plane import it in a few milliseconds.
"""

from __future__ import annotations

from .errors import (
    CorruptRunFileError,
    InvalidRunIdError,
    RunExistsError,
    RunLockTimeoutError,
    RunNotFoundError,
)
from .ids import RUN_ID_RE, is_valid_run_id, new_run_id, run_id_sort_key, validate_run_id
from .liveness import heartbeat_age_s, is_alive, process_identity
from .paths import RUNS_ENV_VAR, RunPaths, default_runs_root
from .schema import (
    EVENT_NAMES,
    FAILURE_TYPES,
    ON_EXIT_POLICIES,
    PHASES,
    SCHEMA_VERSION,
    STATUSES,
    TERMINAL_STATUSES,
    empty_status,
    is_terminal,
)
from .store import (
    LOCK_TIMEOUT_S,
    add_attempt,
    append_event,
    atomic_write_bytes,
    atomic_write_json,
    create_run,
    deep_merge,
    heartbeat,
    list_run_dirs,
    now_iso,
    parse_iso,
    read_events,
    read_json,
    read_run,
    read_status,
    run_lock,
    tail_events,
    to_jsonable,
    transition,
    update_run,
    update_status,
)

__all__ = [
    "EVENT_NAMES",
    "FAILURE_TYPES",
    "LOCK_TIMEOUT_S",
    "ON_EXIT_POLICIES",
    "PHASES",
    "RUNS_ENV_VAR",
    "RUN_ID_RE",
    "SCHEMA_VERSION",
    "STATUSES",
    "TERMINAL_STATUSES",
    "CorruptRunFileError",
    "InvalidRunIdError",
    "RunExistsError",
    "RunLockTimeoutError",
    "RunNotFoundError",
    "RunPaths",
    "add_attempt",
    "append_event",
    "atomic_write_bytes",
    "atomic_write_json",
    "create_run",
    "deep_merge",
    "default_runs_root",
    "empty_status",
    "heartbeat",
    "heartbeat_age_s",
    "is_alive",
    "is_terminal",
    "is_valid_run_id",
    "list_run_dirs",
    "new_run_id",
    "now_iso",
    "parse_iso",
    "process_identity",
    "read_events",
    "read_json",
    "read_run",
    "read_status",
    "run_id_sort_key",
    "run_lock",
    "tail_events",
    "to_jsonable",
    "transition",
    "update_run",
    "update_status",
    "validate_run_id",
]
