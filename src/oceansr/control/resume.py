"""``resume``: continue a killed or failed run from its last checkpoint, same run id,
new attempt, on the backend that ran it."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from oceansr.runs import (
    ON_EXIT_POLICIES,
    RunPaths,
    hydra_quote,
    override_key,
    read_run,
    read_status,
    run_identity,
    run_lock,
    transition,
    update_run,
    with_override,
)
from oceansr.runs.checkpoint_file import resume_blocker

from .args import PathLike, choice, normalise_overrides, run_paths, seconds
from .backends import Backend, get_backend
from .confine import Confinement
from .launch import (
    COMMAND_KEYS,
    DEFAULT_STARTUP_TIMEOUT_S,
    ENTRY_POINTS,
    launch,
    trainer_command,
    validate_config,
)
from .observe import live
from .replies import RequestError, exception_reply, replies
from .views import RESUMABLE, call

JsonDict = dict[str, Any]


def _resume_checks(process_id: str, paths: RunPaths, doc: JsonDict, run_doc: JsonDict) -> Backend:
    """Refuse a resume that cannot work; return the backend that ran the run."""
    if doc.get("status") not in RESUMABLE:
        raise RequestError(
            f"run {process_id} is {doc.get('status')}; only killed or failed runs can be resumed",
            suggestions=[f"status('{process_id}')"]
            + (["start(overrides) for a new run"] if doc.get("status") == "completed" else []),
        )
    # Before the checkpoint: a live job may be writing it, and "stop it first" is the
    # answer whatever the checkpoint holds.
    backend = get_backend(run_doc.get("backend") or "local")
    _refuse_while_alive(process_id, backend, run_doc)
    if not paths.last_ckpt.is_file():
        raise RequestError(
            f"run {process_id} has no checkpoints/last.ckpt to resume from (it stopped "
            "before its first checkpoint)",
            suggestions=["start the same overrides again as a new run"],
        )
    damaged = resume_blocker(paths.last_ckpt)
    if damaged is not None:
        raise RequestError(
            f"run {process_id} cannot be resumed: checkpoints/last.ckpt does not load ({damaged})",
            suggestions=["start the same overrides again as a new run"],
        )
    return backend


def _refuse_while_alive(process_id: str, backend: Backend, run_doc: Mapping[str, Any]) -> None:
    """Refuse while the run's backend says its job or process still runs: a second
    attempt on top of a live one would write the same run directory twice.

    A job is asked by its job id (a scheduler answers from any login node, and a
    job records no pid while it is queued); a process by its pid, where the backend can
    reach it (a pid on another host means nothing here). A job whose state is unknown
    counts as running (the backend's rule: never double-start)."""
    identity = run_identity(run_doc)
    if identity.job_id is not None:
        what = f"job {identity.job_id}"
    elif identity.pid is not None and backend.unreachable_reason(run_doc) is None:
        what = f"the process (pid {identity.pid})"
    else:
        return
    if not backend.is_running(identity):
        return
    raise StillRunningError(
        f"run {process_id} cannot be resumed: its {what} is still queued or running "
        "(or its state cannot be read); a resume now would start a second attempt on top "
        "of it",
        field="process_id",
        suggestions=[f"kill('{process_id}') stops it; then resume('{process_id}')"],
    )


class StillRunningError(RequestError):
    """A resume refused because the run's job or process still runs: the reply also
    offers the calls that resolve it (``kill``, ``status``) as ``next``."""

    def reply(self, process_id: str) -> JsonDict:
        reply = exception_reply(self, process_id=process_id, call="resume")
        reply["next"] = [
            call("kill", "stop the job or process that still runs", process_id=process_id),
            call("status", "what the run's backend says now", process_id=process_id),
        ]
        return reply


def _resume_overrides(overrides: Sequence[str] | str) -> list[str]:
    """The caller's overrides for a resume; ``ckpt_path`` and ``run_id`` are the run's."""
    changes = normalise_overrides(overrides)
    fixed = [o for o in changes if override_key(o) in ("ckpt_path", "run_id", "runs_root")]
    if fixed:
        raise RequestError(
            f"resume sets {override_key(fixed[0])} itself; remove {fixed[0]!r}",
            suggestions=["resume(process_id, overrides=['trainer.max_epochs=40'])"],
        )
    return changes


def _resume_cwd(run_doc: Mapping[str, Any]) -> str | None:
    cwd = run_doc.get("cwd") if isinstance(run_doc.get("cwd"), str) else None
    return cwd if cwd is not None and os.path.isdir(cwd) else None


def _reopen(paths: RunPaths, process_id: str, ckpt: str) -> tuple[JsonDict, int]:
    """Move the run back to ``running`` (event ``resumed``) under the lock; return what
    the new attempt records and the events offset to await its start from."""
    with run_lock(paths):
        current = read_status(paths)
        if current.get("status") not in RESUMABLE:
            raise RequestError(
                f"run {process_id} is {current.get('status')} (resumed meanwhile?)",
                suggestions=[f"status('{process_id}')"],
            )
        step = (current.get("progress") or {}).get("step")
        update_run(paths, pid=None, pgid=None, process_create_time=None, parent_pid=None)
        transition(
            paths,
            "running",
            event="resumed",
            allow_terminal_exit=True,
            changes={"phase": "starting", "pid": None, "heartbeat_at": None, "error_summary": None},
            ckpt_path=ckpt,
            previous_status=current.get("status"),
            previous_step=step,
        )
        offset = paths.events_jsonl.stat().st_size
    info = {
        "resumed_from": ckpt,
        "previous_status": current.get("status"),
        "previous_step": step,
        # the wait since then is not running time (runs.outcome.duration_s)
        "previous_ended_at": current.get("ended_at"),
    }
    return info, offset


@replies
def resume(
    process_id: str,
    *,
    runs_root: PathLike | None = None,
    wait_for_start: bool = True,
    startup_timeout: float = DEFAULT_STARTUP_TIMEOUT_S,
    on_exit: str | None = None,
    overrides: Sequence[str] | str = (),
    confine: Confinement | None = None,
) -> JsonDict:
    """Continue a ``killed``/``failed`` run from its ``checkpoints/last.ckpt``.

    ``overrides`` change the recorded ones for this and later attempts, e.g.
    ``["trainer.max_epochs=40"]`` to extend a run that finished its epochs; they are
    validated like a start's (``ckpt_path`` is the resume's own and cannot be given).

    Same run id, new attempt: the status moves back to ``running`` (event ``resumed``)
    and the trainer is spawned with the run's recorded overrides plus
    ``ckpt_path=<last.ckpt>``, so Lightning restores the optimiser, epoch and global
    step. ``on_exit`` defaults to the run's recorded policy. Same replies as :func:`start`.
    ``confine`` (an agent over MCP): the new overrides are held to
    :meth:`Confinement.overrides`; the recorded ones are the run's and stay as they are.
    """
    paths = run_paths(process_id, runs_root)
    timeout = seconds("startup_timeout", startup_timeout)
    doc = live(paths)
    run_doc = read_run(paths)
    policy = choice("on_exit", on_exit or run_doc.get("on_exit") or "keep", ON_EXIT_POLICIES)
    kind = choice("kind", run_doc.get("kind"), ENTRY_POINTS)
    try:
        backend = _resume_checks(process_id, paths, doc, run_doc)
    except StillRunningError as exc:
        return exc.reply(process_id)
    ckpt = str(paths.last_ckpt)
    changes = _resume_overrides(overrides)
    # A run trained in-process or by hand records the run_id/runs_root it was given;
    # the command sets both itself (trainer_command), so they are not the request's.
    recorded = [o for o in run_doc.get("overrides") or [] if override_key(o) not in COMMAND_KEYS]
    if confine is not None and changes:
        confine.overrides(changes, recorded=recorded)
    for change in changes:
        recorded = with_override(recorded, change)
    overrides = with_override(recorded, f"ckpt_path={hydra_quote(ckpt)}")
    cwd = _resume_cwd(run_doc)
    if cwd is None or os.path.samefile(cwd, os.getcwd()):
        # Relative data paths resolve against the run's working directory; validate here
        # only when that is ours (else the trainer's own checks report it).
        checked = validate_config(kind, overrides)
        if not checked.get("ok"):
            summary = checked["error_summary"]
            return {"status": "error", "process_id": process_id, "error_summary": summary}
    backend.check_available()  # e.g. no sbatch: missing_dependency, the run unchanged
    attempt_info, offset = _reopen(paths, process_id, ckpt)
    if changes:  # later resumes and the report see the run's overrides as they now are
        update_run(paths, overrides=recorded)
        attempt_info = {**attempt_info, "overrides_changed": changes}
    return launch(
        paths,
        trainer_command(kind, paths, overrides),
        backend=backend,
        on_exit=policy,
        cwd=cwd,
        wait_for_start=bool(wait_for_start),
        timeout=timeout,
        events_offset=offset,
        attempt_info=attempt_info,
    )
