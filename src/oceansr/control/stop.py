"""``kill``: stop a run gracefully, then for sure, and record it as ``killed``."""

from __future__ import annotations

import os
import time
from typing import Any

from oceansr.runs import (
    KilledBy,
    KillKind,
    RunPaths,
    append_event,
    is_terminal,
    read_status,
    record_exit,
    run_identity,
)

from .args import PathLike, run_paths, seconds
from .observe import backend_of, live, read_run_doc
from .queries import DEFAULT_POLL_S
from .replies import RequestError, error_reply, replies
from .views import RESUMABLE, status_reply

JsonDict = dict[str, Any]

DEFAULT_KILL_GRACE_S = 30.0


def _await_pid(paths: RunPaths, timeout: float) -> JsonDict:
    """run.json once it names a process or job (a start in another process may be
    spawning or submitting)."""
    deadline = time.monotonic() + timeout
    run_doc = read_run_doc(paths)
    while _unnamed(run_doc) and time.monotonic() < deadline:
        time.sleep(DEFAULT_POLL_S)
        run_doc = read_run_doc(paths)
    return run_doc


def _unnamed(run_doc: JsonDict) -> bool:
    identity = run_identity(run_doc)
    return identity.pid is None and identity.job_id is None


@replies
def kill(
    process_id: str,
    grace: float = DEFAULT_KILL_GRACE_S,
    *,
    runs_root: PathLike | None = None,
    reason: str | None = None,
) -> JsonDict:
    """Stop a run: ``kill_requested``, SIGTERM to the trainer (Lightning finishes the
    batch and writes ``last.ckpt``), SIGKILL to its whole process group after ``grace``
    seconds, until no process of the group is left. Final status ``killed`` (recorded
    here if the trainer died before it could), ``killed_by`` kind ``user`` with ``reason``
    as its detail. Refused for a terminal run, unless a ``failed``/``killed`` run's
    backend says its job or process still runs (recorded lost while it lived on): then
    that is stopped and the recorded status stays.

    The reply is :func:`status`'s plus ``kill``: ``{"signal", "escalated", "waited_s",
    "survivors"}``.
    """
    paths = run_paths(process_id, runs_root)
    grace = seconds("grace", grace)
    doc = live(paths)
    if is_terminal(doc):
        return _stop_leftover(paths, doc, grace)
    run_doc = read_run_doc(paths)
    backend = backend_of(run_doc)
    if backend is None:
        raise RequestError(
            f"run {process_id} was started by backend {run_doc.get('backend')!r}, "
            "which this controller does not have",
            suggestions=["call kill where that backend is available"],
        )
    unreachable = backend.unreachable_reason(run_doc)
    if unreachable:
        raise RequestError(
            f"run {process_id} cannot be stopped from here: {unreachable}",
            suggestions=[f"call kill('{process_id}') where the run's backend is reachable"],
        )
    began = time.monotonic()
    cause = KilledBy(KillKind.USER, reason or "kill requested via oceansr.control")
    append_event(
        paths,
        "kill_requested",
        reason=cause.detail,
        killed_by=cause.to_json(),  # what the trainer or record_exit records as killed_by
        grace_s=grace,
        requested_by_pid=os.getpid(),
    )
    identity = run_identity(_await_pid(paths, min(grace, 5.0)))
    outcome = backend.stop(identity, grace).as_dict()
    named = identity.pid is not None or identity.job_id is not None
    code = backend.exit_code(paths.run_id, identity, wait_s=1.0) if named else None
    final = record_exit(paths, code, detail="stopped by kill")
    outcome["waited_s"] = round(time.monotonic() - began, 3)
    reply = status_reply(paths, final)
    reply["kill"] = outcome
    return reply


def _stop_leftover(paths: RunPaths, doc: JsonDict, grace: float) -> JsonDict:
    """A terminal run: refused, unless it is ``failed``/``killed`` and its backend says
    its job or process still runs.

    That happens when a run was recorded lost while its job lived on (a stale
    heartbeat, an older reader's misjudgement); ``resume`` then refuses and suggests
    this call. The leftover is stopped like a live run, and the recorded status stays:
    terminal states are final. A pid is only trusted with its start time here, since a
    finished run's pid may belong to another process by now. A ``completed`` run's
    process that is still exiting is left to finish.
    """
    run_doc = read_run_doc(paths)
    backend = backend_of(run_doc)
    identity = run_identity(run_doc)
    known = identity.job_id is not None or (
        identity.pid is not None and identity.create_time is not None
    )
    if (
        doc.get("status") not in RESUMABLE
        or backend is None
        or not known
        or backend.unreachable_reason(run_doc) is not None
        or not backend.is_running(identity)
    ):
        return error_reply(
            "config_error",
            f"run {paths.run_id} is already {doc.get('status')}; there is nothing to kill",
            process_id=paths.run_id,
            suggestions=[f"status('{paths.run_id}')"],
            run_status=doc.get("status"),
        )
    began = time.monotonic()
    outcome = backend.stop(identity, grace).as_dict()
    outcome["waited_s"] = round(time.monotonic() - began, 3)
    reply = status_reply(paths, read_status(paths))
    reply["kill"] = outcome
    return reply
