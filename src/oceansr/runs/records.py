"""Names and shapes of the run-directory documents, schema version 1.

See docs/architecture.md, run directory.

Writers and readers import these constants instead of repeating string literals, so a
typo in a status, phase or event name fails loudly at the writer. Readers that need
more than a name take the typed records at the end of this module
(:class:`StatusRecord` for status.json, :class:`RunRecord` for run.json,
:class:`KilledBy` for why a run was killed) instead of guessing at dict keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

SCHEMA_VERSION = 1

JsonDict = dict[str, Any]
_Member = TypeVar("_Member", bound=StrEnum)


def parse_member(enum: type[_Member], value: object) -> _Member | None:
    """The member of ``enum`` named by ``value``, or None for anything else: a file may be
    older or newer than this code, so an unknown name is an answer, not an error."""
    if not isinstance(value, str):
        return None
    try:
        return enum(value)
    except ValueError:
        return None


class RunStatus(StrEnum):
    """A run's ``status``. Members are strings, so they compare equal to the plain
    strings in JSON files and replies (``RunStatus.KILLED == "killed"``) and serialise
    as them; code that has a status in hand asks it, not a string set, whether it is
    final.

    ``queued``: a scheduler (Slurm) holds the job in its queue (docs/architecture.md,
    launch backends); the trainer moves it to ``running`` like a ``pending`` run.
    """

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    FAILED = "failed"
    KILLED = "killed"

    @property
    def is_terminal(self) -> bool:
        """Final: nothing moves a run out of it except an explicit resume."""
        return self in (RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.KILLED)

    @classmethod
    def parse(cls, value: object) -> RunStatus | None:
        """The status named by ``value``, or None for anything else (a missing field, a
        reply's ``error``, a list row's ``unreadable``)."""
        return parse_member(cls, value)


#: Plain strings (not members) for JSON schemas and messages.
STATUSES: tuple[str, ...] = tuple(status.value for status in RunStatus)
TERMINAL_STATUSES: frozenset[str] = frozenset(s.value for s in RunStatus if s.is_terminal)

PHASES: tuple[str, ...] = (
    "starting",
    "preparing_data",  # the statistics pass before training_start (data_progress)
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
    "node_failure",
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
    "advice",
    "exception_type",
    "traceback_tail",
    "log_tail",
)

#: status.json keys that identify the run and never change after creation.
IMMUTABLE_STATUS_KEYS: tuple[str, ...] = ("schema_version", "run_id", "kind", "created_at")


def is_terminal(status: str | Mapping[str, Any] | None) -> bool:
    """True for ``completed``/``failed``/``killed``; accepts a status name or a status doc
    (or reply). Anything that is not a status (``error``, ``unreadable``, None) is not."""
    if isinstance(status, Mapping):
        status = status.get("status")
    parsed = RunStatus.parse(status)
    return parsed is not None and parsed.is_terminal


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
        "killed_by": None,
    }


# --------------------------------------------------------------------------- typed records


class KillKind(StrEnum):
    """Who or what stopped a ``killed`` run: ``killed_by.kind`` in status.json and in the
    ``killed`` event, ``kill_reason.by`` in replies."""

    #: a kill call (CLI, MCP, Python API): ``oceansr.control.kill``
    USER = "user"
    #: the controller that started the run exited and its policy was on_exit=terminate
    CONTROLLER_EXIT = "controller_exit"
    #: a SIGTERM or Ctrl-C that no kill request explains (``kill <pid>``, a container stop)
    SIGNAL = "signal"
    #: the cluster scheduler: a cancel outside oceansr, a preemption without requeue
    SCHEDULER = "scheduler"
    #: the scheduler's wall-clock limit of the job
    TIME_LIMIT = "time_limit"
    #: only for runs recorded before ``killed_by`` existed: a SIGTERM of unknown origin
    SYSTEM = "system"

    @classmethod
    def parse(cls, value: object) -> KillKind | None:
        """The kind named by ``value``, or None for anything else."""
        return parse_member(cls, value)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class KilledBy:
    """Why a run is ``killed``, recorded where the kill happens (the kill call, the
    trainer's signal handler and parent watcher, the reader that finds the process gone,
    the Slurm backend) so that readers never guess from free text; ``detail`` is that
    text, for people."""

    kind: KillKind
    detail: str | None = None

    def to_json(self) -> JsonDict:
        return {"kind": self.kind.value, "detail": self.detail}

    @classmethod
    def from_json(cls, data: object) -> KilledBy | None:
        """None when absent (runs recorded before ``killed_by``) or not an object; a kind
        this version does not know (a newer writer) reads as ``system``, its detail kept."""
        if not isinstance(data, Mapping):
            return None
        kind = KillKind.parse(data.get("kind")) or KillKind.SYSTEM
        return cls(kind, _text(data.get("detail")))

    @classmethod
    def of_request(cls, event: Mapping[str, Any]) -> KilledBy:
        """The cause a ``kill_requested`` event asks the run's end to record: its
        ``killed_by``; a request written before ``killed_by`` existed came from a kill
        call (the only writer of that event), so it is the user's, with its reason text."""
        reason = _text(event.get("reason")) or "kill requested"
        return cls.from_json(event.get("killed_by")) or cls(KillKind.USER, reason)


def _typed(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    """``doc[key]`` if absent/None or of JSON type ``kind``; else a TypeError naming the
    key (a damaged file: ``list`` shows that run as one unreadable row saying why)."""
    value = doc.get(key)
    if value is None or (isinstance(value, kind) and not isinstance(value, bool)):
        return value
    raise TypeError(f"{key!r} is a {type(value).__name__}, not {_type_names(kind)}")


def _type_names(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(k.__name__ for k in kinds)


def _object(doc: Mapping[str, Any], key: str) -> JsonDict:
    """A nested object (``progress``, ``metrics``); absent reads as empty."""
    return dict(_typed(doc, key, dict) or {})


def _required(doc: Mapping[str, Any], key: str) -> str:
    value = _typed(doc, key, str)
    if not value:
        raise ValueError(f"{key!r} is missing")
    return str(value)


def _strings(doc: Mapping[str, Any], key: str) -> list[str] | None:
    value = _typed(doc, key, list)
    if value is not None and not all(isinstance(item, str) for item in value):
        raise TypeError(f"{key!r} holds items that are not strings")
    return value


#: status.json keys :class:`StatusRecord` models; any other key goes to ``extra``.
_STATUS_FIELDS: tuple[str, ...] = (
    "schema_version",
    "run_id",
    "kind",
    "status",
    "phase",
    "pid",
    "host",
    "created_at",
    "started_at",
    "ended_at",
    "updated_at",
    "heartbeat_at",
    "exit_code",
    "progress",
    "metrics",
    "best_checkpoint",
    "last_checkpoint",
    "error_summary",
    "killed_by",
)


@dataclass
class StatusRecord:
    """status.json as a typed value, for readers.

    :meth:`from_json` reads a key an older writer did not write as absent (None, or an
    empty ``progress``/``metrics``) and keeps keys it does not model (``memory``,
    ``queue_reason``, ``attempt``, ``stopped_by``, what a newer writer adds) in
    ``extra``; :meth:`to_json` gives the same keys back, so ``to_json(from_json(doc))
    == doc`` for every file this version writes. Writers keep the store's locked
    merge (``update_status``, ``transition``): a record is a snapshot to read, not a
    second way to write.
    """

    run_id: str
    kind: str
    status: RunStatus
    phase: str | None = None
    schema_version: int = SCHEMA_VERSION
    pid: int | None = None
    host: str | None = None
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    updated_at: str | None = None
    heartbeat_at: str | None = None
    exit_code: int | None = None
    progress: JsonDict = field(default_factory=dict)
    metrics: JsonDict = field(default_factory=dict)
    best_checkpoint: str | None = None
    last_checkpoint: str | None = None
    error_summary: JsonDict | None = None
    killed_by: KilledBy | None = None
    extra: JsonDict = field(default_factory=dict)

    @property
    def is_terminal(self) -> bool:
        return self.status.is_terminal

    def metrics_of(self, section: str) -> JsonDict:
        """``metrics[section]`` (``latest``, ``best``, ``test``); empty until recorded."""
        return dict(self.metrics.get(section) or {})

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> StatusRecord:
        """The record of a status document. A damaged one raises, naming the field:
        ValueError for a missing ``run_id``/``kind`` or an unknown ``status``, TypeError
        for a field of the wrong JSON type."""
        status = RunStatus.parse(doc.get("status"))
        if status is None:
            raise ValueError(f"'status' {doc.get('status')!r} is not one of {STATUSES}")
        metrics = _object(doc, "metrics")
        for section in METRICS_KEYS:
            _typed(metrics, section, dict)
        return cls(
            run_id=_required(doc, "run_id"),
            kind=_required(doc, "kind"),
            status=status,
            phase=_typed(doc, "phase", str),
            schema_version=_typed(doc, "schema_version", int) or SCHEMA_VERSION,
            pid=_typed(doc, "pid", int),
            host=_typed(doc, "host", str),
            created_at=_typed(doc, "created_at", str),
            started_at=_typed(doc, "started_at", str),
            ended_at=_typed(doc, "ended_at", str),
            updated_at=_typed(doc, "updated_at", str),
            heartbeat_at=_typed(doc, "heartbeat_at", str),
            exit_code=_typed(doc, "exit_code", int),
            progress=_object(doc, "progress"),
            metrics=metrics,
            best_checkpoint=_typed(doc, "best_checkpoint", str),
            last_checkpoint=_typed(doc, "last_checkpoint", str),
            error_summary=_typed(doc, "error_summary", dict),
            killed_by=KilledBy.from_json(doc.get("killed_by")),
            extra={k: v for k, v in doc.items() if k not in _STATUS_FIELDS},
        )

    def to_json(self) -> JsonDict:
        """The status document: every modelled key (None when unknown) plus ``extra``."""
        doc: JsonDict = {
            "schema_version": self.schema_version,
            "run_id": self.run_id,
            "kind": self.kind,
            "status": self.status.value,
            "phase": self.phase,
            "pid": self.pid,
            "host": self.host,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "updated_at": self.updated_at,
            "heartbeat_at": self.heartbeat_at,
            "exit_code": self.exit_code,
            "progress": dict(self.progress),
            "metrics": dict(self.metrics),
            "best_checkpoint": self.best_checkpoint,
            "last_checkpoint": self.last_checkpoint,
            "error_summary": self.error_summary,
            "killed_by": self.killed_by.to_json() if self.killed_by else None,
        }
        return {**doc, **self.extra}


#: run.json keys :class:`RunRecord` models (those every run has from its creation).
_RUN_FIELDS: tuple[str, ...] = (
    "schema_version",
    "run_id",
    "created_at",
    "kind",
    "overrides",
    "command",
    "backend",
    "on_exit",
    "host",
    "pid",
    "pgid",
    "process_create_time",
    "parent_pid",
    "attempts",
)


@dataclass
class RunRecord:
    """run.json as a typed value: what the run was created with, its process identity
    and its attempts.

    Keys that only some launchers write (``cwd``, ``model``, ``launcher``, ``job_id``,
    ``oom_kills_at_start``, ``predict``, ...) stay in ``extra`` and come back from
    :meth:`to_json`. Every field may be absent: readers treat a damaged run.json as
    empty (liveness then relies on the heartbeat), so ``from_json({})`` is a valid,
    empty record.
    """

    run_id: str | None = None
    kind: str | None = None
    created_at: str | None = None
    schema_version: int = SCHEMA_VERSION
    overrides: list[str] = field(default_factory=list)
    command: list[str] | None = None
    backend: str | None = None
    on_exit: str | None = None
    host: str | None = None
    pid: int | None = None
    pgid: int | None = None
    process_create_time: float | None = None
    parent_pid: int | None = None
    attempts: list[JsonDict] = field(default_factory=list)
    extra: JsonDict = field(default_factory=dict)

    @property
    def model(self) -> str | None:
        """The model name the control plane recorded from the composed config, if any."""
        return _text(self.extra.get("model"))

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> RunRecord:
        """The record of a run document; TypeError for a field of the wrong JSON type."""
        return cls(
            run_id=_typed(doc, "run_id", str),
            kind=_typed(doc, "kind", str),
            created_at=_typed(doc, "created_at", str),
            schema_version=_typed(doc, "schema_version", int) or SCHEMA_VERSION,
            overrides=_strings(doc, "overrides") or [],
            command=_strings(doc, "command"),
            backend=_typed(doc, "backend", str),
            on_exit=_typed(doc, "on_exit", str),
            host=_typed(doc, "host", str),
            pid=_typed(doc, "pid", int),
            pgid=_typed(doc, "pgid", int),
            process_create_time=_typed(doc, "process_create_time", (int, float)),
            parent_pid=_typed(doc, "parent_pid", int),
            attempts=list(_typed(doc, "attempts", list) or []),
            extra={k: v for k, v in doc.items() if k not in _RUN_FIELDS},
        )

    def to_json(self) -> JsonDict:
        """The run document: every modelled key (None when unknown) plus ``extra``."""
        doc: JsonDict = {
            "schema_version": self.schema_version,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "kind": self.kind,
            "overrides": list(self.overrides),
            "command": None if self.command is None else list(self.command),
            "backend": self.backend,
            "on_exit": self.on_exit,
            "host": self.host,
            "pid": self.pid,
            "pgid": self.pgid,
            "process_create_time": self.process_create_time,
            "parent_pid": self.parent_pid,
            "attempts": list(self.attempts),
        }
        return {**doc, **self.extra}
