"""Read-side calls: ``status``, ``logs``, ``wait`` and ``list_runs``.

They answer from the run directory alone, so any process can ask about any run; the
only thing they add is liveness (:func:`oceansr.control.observe.live`), which records
a run whose process is gone before answering.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from typing import Any, BinaryIO

from oceansr.core.errors import ConfigError
from oceansr.runs import (
    CorruptRunFileError,
    LogSlice,
    RunLockTimeoutError,
    RunNotFoundError,
    RunPaths,
    check_run_dir,
    duration_s,
    is_terminal,
    list_run_dirs,
    open_regular,
    read_from,
    read_tail,
)

from .args import PathLike, choice, count, run_paths, runs_root_path, seconds, status_filter
from .observe import live, read_run_doc
from .replies import RequestError, replies
from .views import DEFAULT_TAIL_LINES, model_of, run_record, status_record, status_reply

JsonDict = dict[str, Any]

DEFAULT_WAIT_TIMEOUT_S = 120.0
DEFAULT_POLL_S = 0.1
DEFAULT_MAX_BYTES = 64 * 1024
#: The smallest reply that always holds one whole UTF-8 character (so reads progress).
MIN_MAX_BYTES = 4


@replies
def status(
    process_id: str,
    *,
    runs_root: PathLike | None = None,
    heartbeat_timeout: float | None = None,
) -> JsonDict:
    """The run's status document plus ``process_id``, ``run_dir``, ``log_path``,
    ``duration_s``, ``next`` (suggested calls) and, once completed, ``test_metrics``.

    Liveness is applied first: a non-terminal run whose process is gone is recorded as
    ``failed``/``process_lost`` (or ``killed`` if a kill was requested) before answering.
    """
    paths = run_paths(process_id, runs_root)
    return status_reply(paths, live(paths, stale_after=heartbeat_timeout))


# --------------------------------------------------------------------------- logs


def _log_reply(paths: RunPaths, piece: LogSlice) -> JsonDict:
    content, lossy = piece.text()
    reply: JsonDict = {
        "process_id": paths.run_id,
        "content": content,
        "offset": piece.start,
        "next_offset": piece.next_offset,
        "size": piece.size,
        "truncated": piece.truncated,
        "eof": piece.eof,
        "log_path": str(paths.train_log),
    }
    if lossy:
        reply["decode_errors"] = True
    return reply


def _slice(handle: BinaryIO, offset: int | None, lines: int, max_bytes: int) -> LogSlice:
    size = os.fstat(handle.fileno()).st_size
    if offset is None:
        return read_tail(handle, lines, size, max_bytes)
    if offset > size:
        raise RequestError(
            f"offset {offset} is past the end of train.log ({size} bytes)",
            field="offset",
            suggestions=["use the next_offset of the previous reply", "logs(process_id, tail=50)"],
        )
    return read_from(handle, offset, size, max_bytes)


@replies
def logs(
    process_id: str,
    tail: int | None = None,
    offset: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    *,
    runs_root: PathLike | None = None,
) -> JsonDict:
    """The run's ``train.log``: the last ``tail`` lines (default 50), or text from byte
    ``offset`` on.

    Reply ``{"process_id", "content", "offset", "next_offset", "size", "truncated",
    "eof"}``; ``content`` is at most ``max_bytes`` bytes of UTF-8 and never ends inside
    a character, so feeding ``next_offset`` back as ``offset`` reproduces the file byte
    for byte. ``truncated``: more text exists than this reply holds (capped).
    """
    paths = run_paths(process_id, runs_root)
    if tail is not None and offset is not None:
        raise RequestError(
            "give tail (last N lines) or offset (from byte N), not both",
            field="offset",
            suggestions=["logs(process_id, tail=50)", "logs(process_id, offset=<next_offset>)"],
        )
    max_bytes = max(MIN_MAX_BYTES, count("max_bytes", max_bytes, minimum=1))
    if offset is not None:
        offset = count("offset", offset)
    lines = DEFAULT_TAIL_LINES if tail is None else count("tail", tail)
    try:
        handle = os.fdopen(open_regular(paths.train_log), "rb")  # closed below; never blocks
    except FileNotFoundError:
        if offset:
            raise RequestError(
                f"offset {offset} is past the end of train.log (0 bytes)",
                field="offset",
                suggestions=["logs(process_id, offset=0) once the run writes its log"],
            ) from None
        return _log_reply(paths, LogSlice(b"", 0, 0, truncated=False))
    with handle:
        return _log_reply(paths, _slice(handle, offset, lines, max_bytes))


# --------------------------------------------------------------------------- wait


def _poll_until(
    paths: RunPaths,
    doc: JsonDict,
    *,
    deadline: float,
    poll: float,
    until: str,
    stale: Any,
    cancel: threading.Event,
) -> tuple[JsonDict, bool, bool]:
    """Poll (liveness included) until the status changes, the run ends, the deadline
    or ``cancel`` is set: ``(doc, changed, timed_out)``."""
    initial = doc.get("status")
    while not is_terminal(doc):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return doc, False, True
        if cancel.wait(min(poll, remaining)):
            return doc, False, False
        doc = live(paths, stale_after=stale)
        if is_terminal(doc) or (until == "change" and doc.get("status") != initial):
            return doc, doc.get("status") != initial, False
    return doc, False, False


@replies
def wait(
    process_id: str,
    timeout: float = DEFAULT_WAIT_TIMEOUT_S,
    poll: float = DEFAULT_POLL_S,
    *,
    runs_root: PathLike | None = None,
    until: str = "change",
    heartbeat_timeout: float | None = None,
    cancel: threading.Event | None = None,
) -> JsonDict:
    """Long-poll: return as soon as ``status`` differs from its value at the call
    (``until="terminal"``: once it is completed/failed/killed), at once if the run is
    already terminal, else after ``timeout`` seconds.

    The reply is :func:`status`'s plus ``changed``, ``timed_out``, ``waited_s``,
    ``previous_status`` and ``cancelled``. Liveness is checked on every poll, so a
    trainer that dies without a word turns into a terminal ``process_lost`` within one
    poll interval. ``cancel`` ends the wait at once when set: a caller whose client went
    away (the MCP server on EOF or ``notifications/cancelled``) does not sit out the
    timeout, which would keep it, and under on_exit=terminate its runs, alive.
    """
    cancel = cancel or threading.Event()
    paths = run_paths(process_id, runs_root)
    timeout = seconds("timeout", timeout)
    poll = min(max(seconds("poll", poll), 0.01), 0.5)
    choice("until", until, ("change", "terminal"))
    began = time.monotonic()
    doc = live(paths, stale_after=heartbeat_timeout)
    initial = doc.get("status")
    doc, changed, timed_out = _poll_until(
        paths,
        doc,
        deadline=began + timeout,
        poll=poll,
        until=until,
        stale=heartbeat_timeout,
        cancel=cancel,
    )
    reply = status_reply(paths, doc)
    reply.update(
        changed=changed,
        timed_out=timed_out,
        waited_s=round(time.monotonic() - began, 3),
        previous_status=initial,
    )
    if cancel.is_set():
        reply["cancelled"] = True
    return reply


# --------------------------------------------------------------------------- list


def _row(paths: RunPaths) -> JsonDict:
    """One compact list row; a run that cannot be read is one ``unreadable`` row saying
    why, so one damaged folder (a link out of the root, a link loop, a FIFO or a link in
    place of a run file) never hides the others (docs/architecture.md, run directory)."""
    try:
        check_run_dir(paths)
        return _row_of(paths, live(paths), read_run_doc(paths))
    except RunNotFoundError:
        raise
    except (CorruptRunFileError, RunLockTimeoutError, OSError) as exc:
        return {"process_id": paths.run_id, "status": "unreadable", "error": str(exc)}
    except (TypeError, ValueError, AttributeError, KeyError) as exc:  # ill-typed fields
        error = f"{paths.status_json} has ill-typed fields: {type(exc).__name__}: {exc}"
        return {"process_id": paths.run_id, "status": "unreadable", "error": error}


def _row_of(paths: RunPaths, doc: JsonDict, run_doc: JsonDict) -> JsonDict:
    record = status_record(paths, doc)
    run = run_record(run_doc)
    progress, best, test = record.progress, record.metrics_of("best"), record.metrics_of("test")
    return {
        "process_id": paths.run_id,
        "kind": record.kind,
        "status": record.status.value,
        "phase": record.phase,
        # why a scheduler keeps the job waiting (Priority, Resources, ...) while queued
        "queue_reason": record.extra.get("queue_reason") if record.status == "queued" else None,
        "created_at": record.created_at,
        "ended_at": record.ended_at,
        "duration_s": duration_s(doc, run_doc),
        "epoch": progress.get("epoch"),
        "total_epochs": progress.get("total_epochs"),
        "step": progress.get("step"),
        "percent": progress.get("percent"),
        "eta_s": progress.get("eta_s"),
        "model": model_of(paths, run),
        "best_val_rmse": best.get("val/rmse"),
        "best_epoch": best.get("epoch"),
        "test_rmse": test.get("test/rmse"),
        "test_rmse_bicubic": test.get("test/rmse_bicubic"),
        "failure_type": (record.error_summary or {}).get("failureType"),
        "overrides": run_doc.get("overrides"),
    }


@replies
def list_runs(
    status: str | Sequence[str] | None = None,
    *,
    runs_root: PathLike | None = None,
    limit: int | None = None,
) -> JsonDict:
    """Every run under the root, newest first, one compact row each (liveness applied).

    ``status`` filters (a name, a comma-separated string or a list); ``limit`` caps the
    rows (None: all). Reply ``{"runs": [...], "count", "total", "runs_root"}``: ``count``
    rows of ``total`` matching runs, so a capped list says how many it left out.
    """
    wanted = status_filter(status)
    limit = None if limit is None else count("limit", limit, minimum=1)
    root = runs_root_path(runs_root)
    if root.exists() and not root.is_dir():
        raise ConfigError(
            f"runs_root={root} is a file, not a directory of runs",
            field="runs_root",
            fix="runs_root=<the directory holding the runs, e.g. ./runs>",
        )
    rows: list[JsonDict] = []
    total = 0
    for paths in list_run_dirs(root):
        if wanted is None and limit is not None and total >= limit:
            total += 1  # past the limit, unfiltered: counted, not read
            continue
        try:
            row = _row(paths)
        except RunNotFoundError:  # deleted while listing
            continue
        if wanted is not None and row["status"] not in wanted:
            continue
        total += 1
        if limit is None or len(rows) < limit:
            rows.append(row)
    return {"runs": rows, "count": len(rows), "total": total, "runs_root": str(root)}
