"""How a run ended: recording the exit of a process that is gone, and run durations.

Any reader may be the first to notice that a run's process has ended (the reaper of
the controller that started it, a ``status`` call from another process, the report
builder). Each calls :func:`record_exit`, which decides under the run lock, so the
outcome is recorded exactly once whoever gets there first (see docs/architecture.md,
run directory).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from .failures import MESSAGES, classify_exit, error_summary, signal_name
from .logs import read_tail_text
from .oom import oom_evidence
from .paths import RunPaths
from .records import KilledBy, RunStatus, is_terminal
from .store import (
    parse_iso,
    read_events,
    read_run,
    read_status,
    run_lock,
    transition,
    update_status,
)

JsonDict = dict[str, Any]


def pending_kill(paths: RunPaths) -> JsonDict | None:
    """The ``kill_requested`` event of the current attempt (none after a ``resumed``)."""
    for event in reversed(read_events(paths, names=("kill_requested", "resumed"))):
        return event if event["event"] == "kill_requested" else None
    return None


def record_killed(
    paths: RunPaths,
    cause: KilledBy,
    *,
    changes: Mapping[str, Any] | None = None,
    **payload: Any,
) -> JsonDict:
    """Move the run to ``killed`` with its cause: ``killed_by`` in status.json and in the
    ``killed`` event, plus the event's ``reason`` text (what readers of runs recorded
    before ``killed_by`` and the report's history show). The one way every kill path
    (the trainer, a kill call, a reader finding the process gone, the Slurm backend)
    records a kill, so none of them can forget the cause."""
    recorded = cause.to_json()
    return transition(
        paths,
        RunStatus.KILLED,
        event="killed",
        changes={**(changes or {}), "killed_by": recorded},
        reason=cause.detail or cause.kind.value,
        killed_by=recorded,
        **payload,
    )


def own_exit_code(doc: Mapping[str, Any], exit_code: int | None) -> int | None:
    """``exit_code`` if it can be the run's own, else None.

    A run still ``queued`` when its end is recorded never ran a trainer in this attempt
    (its job was cancelled or failed in the scheduler's queue), and a terminal run that
    recorded no process (``pid`` null in status.json: a job that never started, or a
    requeued one) has no exit status: what the scheduler reports for such a job (0 for a
    cancelled pending job) is not a process's, and would read as a clean exit.
    """
    if doc.get("status") == RunStatus.QUEUED.value:
        return None
    if is_terminal(doc) and doc.get("pid") is None:
        return None
    return exit_code


def current_attempt(paths: RunPaths) -> int:
    """The number of the attempt that runs now (or ran last): one per record in
    ``run.json["attempts"]``, at least 1 (a foreground run may have no record)."""
    try:
        attempts = read_run(paths).get("attempts")
    except (OSError, ValueError):
        return 1
    return max(1, len(attempts)) if isinstance(attempts, list) else 1


def record_requeued(
    paths: RunPaths,
    *,
    by: str,
    reason: str,
    reopen: bool = False,
    changes: Mapping[str, Any] | None = None,
    **payload: Any,
) -> JsonDict:
    """The scheduler will run the job again: ``queued`` with one ``requeued`` event for
    the attempt that just ended; return the status doc.

    Several parties may notice the same requeue: the trainer (Lightning's warning
    handler, or a SIGTERM that Slurm sent because it requeues the job), a reader that
    finds the job pending again, the next attempt as it starts (when the node died too
    fast for anyone else). Under the run lock only the first writes the event:
    ``requeued_after`` in status.json names the attempt whose end it recorded. ``by``
    says who noticed (``trainer``, ``control``, ``next_attempt``). A terminal status is
    kept unless ``reopen`` (the next attempt runs: the scheduler did run the job again,
    so whoever made the run terminal misjudged it).
    """
    with run_lock(paths):
        current = read_status(paths)
        attempt = current_attempt(paths)
        terminal = is_terminal(current)
        recorded = current.get("requeued_after") == attempt
        if (terminal and not reopen) or (recorded and not terminal):
            return current
        if terminal:
            payload = {**payload, "previous_status": current.get("status")}
        return transition(
            paths,
            RunStatus.QUEUED,
            event=None if recorded else "requeued",
            allow_terminal_exit=terminal,
            changes={
                "queue_reason": reason,
                "pid": None,
                "heartbeat_at": None,
                "requeued_after": attempt,
                **(changes or {}),
            },
            attempt=attempt,
            by=by,
            reason=reason,
            **payload,
        )


def record_exit(paths: RunPaths, exit_code: int | None, *, detail: str | None = None) -> JsonDict:
    """Make sure a run whose process ended has a terminal status; return the status doc.

    Idempotent and race-free: under the run lock, a status the trainer (or another
    reader) already made terminal is kept (only a missing exit code is filled in).
    A run that never ran a process keeps ``exit_code`` null (:func:`own_exit_code`).
    Otherwise the run becomes ``killed`` if a kill was requested for this attempt, else
    ``failed`` with a classified ``process_lost``/``cpu_oom``/... summary and the log tail.
    """
    log_tail = read_tail_text(paths.train_log)
    with run_lock(paths):
        current = read_status(paths)
        exit_code = own_exit_code(current, exit_code)
        if is_terminal(current):
            if exit_code is not None and current.get("exit_code") is None:
                current = update_status(paths, {"exit_code": exit_code})
            return current
        kill_event = pending_kill(paths)
        if kill_event is not None:
            return record_killed(
                paths,
                KilledBy.of_request(kill_event),
                changes={"exit_code": exit_code},
                exit_code=exit_code,
                signal=signal_name(exit_code),
                recorded_by="control",
            )
        summary = _lost_summary(exit_code, log_tail, detail, evidence_of_oom(paths, current))
        return transition(
            paths,
            "failed",
            event="process_lost",
            changes={"error_summary": summary, "exit_code": exit_code},
            error_summary=summary,
            exit_code=exit_code,
            signal=signal_name(exit_code),
        )


def evidence_of_oom(paths: RunPaths, status: Mapping[str, Any] | None = None) -> str | None:
    """Why the run's SIGKILL would be an OOM kill (see :mod:`oceansr.runs.oom`), or None:
    the counter recorded at launch in ``run.json``, the memory in ``status.json``."""
    try:
        start = read_run(paths).get("oom_kills_at_start")
        doc = read_status(paths) if status is None else status
    except (OSError, ValueError):
        return None
    memory = doc.get("memory")
    return oom_evidence(start, memory if isinstance(memory, Mapping) else None)


def _lost_summary(
    exit_code: int | None, log_tail: str, detail: str | None, evidence: str | None
) -> JsonDict:
    """Classified from the exit status when it is known, else a plain ``process_lost``."""
    if exit_code is not None:
        summary = classify_exit(exit_code, log_tail, oom_evidence=evidence)
    else:
        summary = error_summary(
            "process_lost",
            f"{MESSAGES['process_lost']} {detail or ''}".strip(),
            log_tail=log_tail,
            exit_code=None,
            signal=None,
        )
    if detail:
        summary["detail"] = detail
    return summary


def age_s(stamp: Any, now: float | None = None) -> float | None:
    """Seconds since the ISO timestamp ``stamp`` (never negative); None if not a timestamp."""
    if not isinstance(stamp, str):
        return None
    try:
        then = parse_iso(stamp).timestamp()
    except ValueError:
        return None
    return max(0.0, (time.time() if now is None else now) - then)


def duration_s(doc: Mapping[str, Any], run_doc: Mapping[str, Any] | None = None) -> float | None:
    """Seconds a run spent running: start to end, or to now while it runs, less the time
    it sat terminal waiting for each resume; None without usable timestamps, and None for
    a run that never started (no ``started_at``: pending, queued, or ended in a
    scheduler's queue), whose time in the queue is no running time.

    The one definition behind status, list, the report and the summary card
    (docs/architecture.md, run directory). The waits come from ``run_doc["attempts"]``:
    a resumed attempt records ``previous_ended_at`` (when the run had stopped) next to
    its own ``started_at``, so a killed run resumed an hour later does not count the hour.
    """
    start = doc.get("started_at")
    if not isinstance(start, str):
        return None
    try:
        begin = parse_iso(start).timestamp()
        end_stamp = doc.get("ended_at")
        end = parse_iso(end_stamp).timestamp() if isinstance(end_stamp, str) else time.time()
    except ValueError:
        return None
    waited = sum(_waits(run_doc))
    return round(max(0.0, end - begin - waited), 2)


def _waits(run_doc: Mapping[str, Any] | None) -> list[float]:
    """Seconds between each attempt's ``previous_ended_at`` and its ``started_at``;
    attempts without both stamps (first attempts, damaged records) add nothing."""
    attempts = (run_doc or {}).get("attempts")
    if not isinstance(attempts, list):
        return []
    waits = []
    for attempt in attempts:
        if not isinstance(attempt, Mapping):
            continue
        stopped, restarted = attempt.get("previous_ended_at"), attempt.get("started_at")
        if not (isinstance(stopped, str) and isinstance(restarted, str)):
            continue
        try:
            gap = parse_iso(restarted).timestamp() - parse_iso(stopped).timestamp()
        except ValueError:
            continue
        waits.append(max(0.0, gap))
    return waits
