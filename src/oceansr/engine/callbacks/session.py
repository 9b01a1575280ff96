"""The training process's side of the run protocol, for the whole process lifetime.

A :class:`RunSession` is opened as soon as the entry point knows its run id — before
data loading or model building — so that *every* outcome reaches ``status.json`` and
``events.jsonl``: a config error, a crash, a NaN, a kill, a lost controller, success.
It owns three things that must outlive any single Lightning hook:

- the heartbeat thread (``heartbeat_at`` refreshed every few seconds, also during long
  validation or data loading, so readers can tell a live run from a lost one);
- the parent watcher (``on_exit="terminate"``: when the controller that started us
  dies, even by SIGKILL, we stop ourselves gracefully, as on SIGTERM);
- the SIGTERM policy: inside the training loop Lightning turns SIGTERM into a clean
  stop at the next batch; anywhere else we stop at once, and either way the run ends
  ``killed`` with exit code 143 and, when training had started, ``last.ckpt``. The
  run records who stopped it (``killed_by``): the kill call that asked for the SIGTERM,
  the controller's exit, the scheduler or its time limit, or a signal from outside.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Mapping
from typing import Any

from oceansr.core.errors import ConfigError, RunStateError
from oceansr.runs import (
    EXIT_KILLED,
    PARENT_ENV,
    KilledBy,
    KillKind,
    RunPaths,
    add_attempt,
    create_run,
    heartbeat,
    hostname,
    is_alive,
    is_terminal,
    note_attempt,
    pending_kill,
    process_identity,
    read_status,
    read_tail_text,
    record_killed,
    transition,
    update_run,
    update_status,
)
from oceansr.runs.errorfile import write_error_file
from oceansr.runs.failures import classify_exception
from oceansr.runs.oom import memory_sample

HEARTBEAT_S = 5.0
PUBLISH_S = 1.0  # published progress reaches status.json within this delay
PARENT_POLL_S = 0.5
#: Slurm signals a time limit at its periodic check, at or after the job's end time; a
#: SIGTERM this much before the end time still counts (node and controller clocks differ).
END_TIME_SLACK_S = 10.0
#: The cause of a stop that no handler of ours saw (Lightning's Ctrl-C exit, a SystemExit
#: in a process without our SIGTERM handler).
UNSEEN_SIGNAL = KilledBy(KillKind.SIGNAL, "stopped by a signal (SIGTERM or Ctrl-C)")


class StopRequested(SystemExit):
    """Raised by our SIGTERM handler outside Lightning's training loop."""

    def __init__(self, reason: str) -> None:
        super().__init__(EXIT_KILLED)
        self.reason = reason


def parse_parent(value: str | None) -> tuple[int, float | None] | None:
    """``"<pid>:<create_time>"`` (create_time guards against PID reuse)."""
    if not value:
        return None
    pid, _, created = value.partition(":")
    try:
        return int(pid), float(created) if created else None
    except ValueError:
        return None


def unrequested_sigterm(env: Mapping[str, str], now: float) -> KilledBy:
    """Who sent a SIGTERM that no kill call asked for (``env``: the process environment).

    Inside a Slurm job the scheduler did: a ``scancel`` elsewhere or a preemption without
    requeue, or its time limit once the job's end time (``SLURM_JOB_END_TIME``, where
    Slurm exports it) has come. Elsewhere someone outside oceansr did (``kill``, a
    container or machine shutdown).
    """
    job_id = env.get("SLURM_JOB_ID")
    if not job_id:
        return KilledBy(KillKind.SIGNAL, "SIGTERM received")
    try:
        end = float(env.get("SLURM_JOB_END_TIME") or "nan")
    except ValueError:
        end = float("nan")
    if now >= end - END_TIME_SLACK_S:  # False for nan: no end time known
        return KilledBy(KillKind.TIME_LIMIT, f"SIGTERM at the time limit of Slurm job {job_id}")
    return KilledBy(
        KillKind.SCHEDULER, f"SIGTERM from Slurm for job {job_id} (scancel or preemption)"
    )


#: The failure event of each run kind (``training_error`` for trainings).
ERROR_EVENTS: dict[str, str] = {"train": "training_error", "predict": "predict_error"}


class RunSession:
    """Creates or attaches to the run directory and records the process's life in it.

    Used by every run kind (``train`` and ``predict``): the kind only changes the failure
    event name and what a finished run records (see :meth:`finish`).
    """

    def __init__(
        self,
        paths: RunPaths,
        overrides: list[str],
        *,
        kind: str = "train",
        enabled: bool = True,
        resuming_from: str | None = None,
        command: list[str] | None = None,
        create_extra: dict[str, Any] | None = None,
    ) -> None:
        self.paths = paths
        self.kind = kind
        self.resuming_from = resuming_from
        self.overrides = overrides
        self.command = command
        self.create_extra = create_extra
        self.enabled = enabled
        self._previous_handler: Any = None
        self.in_training_loop = False
        #: why the run is stopping, set by the first SIGTERM or parent-watcher stop
        self.stop_cause: KilledBy | None = None
        self.training_started = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pending_progress: dict[str, Any] | None = None
        self._pending_status: dict[str, Any] | None = None
        self._write_lock = threading.Lock()
        self._last_beat = 0.0
        self._parent = parse_parent(os.environ.get(PARENT_ENV))

    # -- opening -----------------------------------------------------------------
    def open(self, *, handle_signals: bool = True) -> RunSession:
        """Attach (or create, for foreground runs) and start heartbeat/parent watcher.

        ``handle_signals=False`` for in-process use (notebooks): no SIGTERM handler.
        """
        if not self.enabled:
            return self
        if self.paths.status_json.exists():
            self._reopen_existing()
        else:
            create_run(
                self.paths,
                kind=self.kind,
                overrides=self.overrides,
                command=self.command or [sys.executable, *sys.argv],
                backend="foreground",
                on_exit="keep",
                extra=self.create_extra,
            )
        me = process_identity()
        # Where this attempt really runs: a Slurm job's compute node, not the login node
        # that created the run, so readers know which machine the pid belongs to.
        where = {"host": hostname(), "node": os.environ.get("SLURMD_NODENAME")}
        update_run(
            self.paths,
            pid=me["pid"],
            pgid=os.getpgid(0),
            process_create_time=me["create_time"],
            parent_pid=os.getppid(),
            **where,
        )
        note_attempt(self.paths, pid=me["pid"], process_create_time=me["create_time"], **where)
        transition(
            self.paths,
            "running",
            event="process_started",
            changes={"phase": "starting", "pid": me["pid"], "host": hostname()},
            pid=me["pid"],
            host=hostname(),
            argv=sys.argv[1:],
        )
        heartbeat(self.paths)
        if handle_signals and threading.current_thread() is threading.main_thread():
            self._previous_handler = signal.signal(signal.SIGTERM, self._on_sigterm)
        self._spawn(self._heartbeat_loop, "oceansr-heartbeat")
        if self._parent is not None:
            self._spawn(self._watch_parent, "oceansr-parent-watch")
        return self

    def _reopen_existing(self) -> None:
        """Attach to a run made by the control plane, or resume a finished one.

        A terminal run only reopens with a checkpoint to resume from (``ckpt_path``):
        that is an explicit resume, recorded as a new attempt and a ``resumed`` event.
        """
        doc = read_status(self.paths)
        if doc.get("kind") != self.kind:
            raise RunStateError(
                f"run {self.paths.run_id} is a {doc.get('kind')} run, not {self.kind}",
                field="run_id",
                fix="omit run_id to create a new run",
            )
        if not is_terminal(doc):
            return
        if not self.resuming_from:
            raise ConfigError(
                f"run {self.paths.run_id} already exists and is {doc['status']}",
                field="run_id",
                fix="omit run_id for a new run, or add ckpt_path=<its last.ckpt> to resume it",
            )
        add_attempt(
            self.paths,
            ckpt_path=self.resuming_from,
            backend="foreground",
            previous_ended_at=doc.get("ended_at"),  # the wait is not running time
        )
        transition(
            self.paths,
            "running",
            event="resumed",
            allow_terminal_exit=True,
            changes={"phase": "starting", "error_summary": None},
            ckpt_path=self.resuming_from,
            previous_status=doc["status"],
        )

    def _spawn(self, target: Any, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    # -- background threads ------------------------------------------------------
    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(PUBLISH_S):
            with contextlib.suppress(Exception):  # a missed beat must never kill training
                self.flush()

    def publish_progress(self, progress: dict[str, Any]) -> None:
        """Hand step-level progress to the heartbeat thread (no file I/O on the hot path).

        A status write costs milliseconds (lock, fsync, rename): done once a second off
        the training thread, it costs the training loop nothing measurable.
        """
        self._pending_progress = progress

    def publish_status(self, changes: dict[str, Any]) -> None:
        """Hand status changes (data preparation's phase and progress) to the heartbeat
        thread, like :meth:`publish_progress`: the newest replaces any not yet written."""
        self._pending_status = changes

    def write_status_now(self, changes: dict[str, Any]) -> None:
        """Write ``changes`` at once, dropping any published status not yet written (so
        an older ``data_progress`` can never land after them)."""
        if not self.enabled:
            return
        with self._write_lock:
            self._pending_status = None
            update_status(self.paths, changes)

    def flush(self) -> None:
        """Write pending progress now (with the heartbeat), or just beat when it is due."""
        with self._write_lock:
            pending, self._pending_progress = self._pending_progress, None
            status, self._pending_status = self._pending_status, None
            now = time.monotonic()
            # The memory goes with each beat: if the kernel's OOM killer ends the run, the
            # last value near the limit is the evidence (docs/architecture.md, failure taxonomy).
            if pending is not None or status is not None:
                progress = {} if pending is None else {"progress": pending}
                heartbeat(self.paths, {**(status or {}), **progress, "memory": memory_sample()})
            elif now - self._last_beat >= HEARTBEAT_S:
                heartbeat(self.paths, {"memory": memory_sample()})
            else:
                return
            self._last_beat = now

    def _watch_parent(self) -> None:
        if self._parent is None:
            return
        pid, created = self._parent
        while not self._stop.wait(PARENT_POLL_S):
            if not is_alive(pid, created):
                detail = f"controller (pid {pid}) exited and on_exit=terminate"
                self.request_stop(KilledBy(KillKind.CONTROLLER_EXIT, detail))
                return

    # -- stopping ----------------------------------------------------------------
    @property
    def stop_reason(self) -> str | None:
        """The stop's cause in words (for messages and exceptions), None before a stop."""
        cause = self.stop_cause
        return None if cause is None else cause.detail or cause.kind.value

    def request_stop(self, cause: KilledBy) -> None:
        """Stop like SIGTERM does, remembering why (used by the parent watcher)."""
        self.stop_cause = self.stop_cause or cause
        os.kill(os.getpid(), signal.SIGTERM)

    def _on_sigterm(self, signum: int, frame: Any) -> None:
        self.stop_cause = self.stop_cause or self._sigterm_cause()
        if self.in_training_loop:
            return  # Lightning stops at the end of the current batch (SIGTERMException)
        raise StopRequested(self.stop_reason or "SIGTERM received")

    def _sigterm_cause(self) -> KilledBy:
        """The kill call that asked for this SIGTERM (this attempt's ``kill_requested``
        event), else whoever sends a SIGTERM unasked (:func:`unrequested_sigterm`)."""
        request = pending_kill(self.paths)
        if request is not None:
            return KilledBy.of_request(request)
        return unrequested_sigterm(os.environ, time.time())

    # -- outcomes ----------------------------------------------------------------
    def finish(self, event: str, changes: dict[str, Any], **payload: Any) -> None:
        """``completed`` with the kind's closing event (``training_end``, ``predict_end``)."""
        if self.enabled:
            transition(
                self.paths, "completed", event=event, changes={"exit_code": 0, **changes}, **payload
            )

    def killed(
        self,
        last_checkpoint: str | None = None,
        *,
        exit_code: int = EXIT_KILLED,
        cause: KilledBy | None = None,
    ) -> None:
        """``killed`` with ``cause``, else the cause our handlers saw (:attr:`stop_cause`)."""
        if not self.enabled:
            return
        record_killed(
            self.paths,
            cause or self.stop_cause or UNSEEN_SIGNAL,
            changes={"exit_code": exit_code, "last_checkpoint": last_checkpoint},
            last_checkpoint=last_checkpoint,
        )

    def failed(self, exc: BaseException) -> dict[str, Any]:
        summary = classify_exception(exc, log_tail=read_tail_text(self.paths.train_log) or None)
        if self.enabled:  # the whole traceback, for whoever debugs it; replies give its path
            full = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            summary["traceback_path"] = write_error_file(
                self.paths.dir, full, runs_root=self.paths.root
            )
            transition(
                self.paths,
                "failed",
                event=ERROR_EVENTS.get(self.kind, "training_error"),
                changes={"error_summary": summary, "exit_code": 1},
                error_summary=summary,
            )
        return summary

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=1.0)
        if self._previous_handler is not None:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGTERM, self._previous_handler)
            self._previous_handler = None

    def status(self) -> dict[str, Any]:
        return read_status(self.paths)
