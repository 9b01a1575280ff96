"""Slurm preemption and time limits: checkpoint, requeue, continue the same run.

A Slurm run asks for a warning signal before its time limit (``launcher.signal``,
``USR1@90`` by default); ``scancel --signal=USR1`` sends the same to preempt it.
Lightning's SLURMEnvironment handles it: it writes ``hpc_ckpt_<n>.ckpt`` into the run
directory and calls ``scontrol requeue``, after which Slurm terminates the tasks and
queues the job again; the requeued job runs the same command, and Lightning resumes
from the newest ``hpc_ckpt`` by itself, so the global step continues.

What this module adds is the run-directory side (docs/architecture.md, launch
backends): the SIGTERM that follows the requeue must not record the run as
``killed``, but as ``queued`` with a ``requeued`` event; and the restarted job is a
new attempt of the same run. Lightning installs its USR1 handler only when none is
installed, so :class:`RequeueWatch` wraps Lightning's handler once training has
started instead of installing its own first. A warning that arrives before that (the
job still importing or loading data) is caught by :mod:`oceansr.engine.early_signals` and
replayed here into Lightning's handler.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path
from typing import Any

import lightning as L
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import Callback

from oceansr.engine import early_signals
from oceansr.engine.callbacks.session import unrequested_sigterm
from oceansr.engine.cluster import slurm_job_settled
from oceansr.runs import (
    EXIT_KILLED,
    KilledBy,
    KillKind,
    RunPaths,
    add_attempt,
    read_status,
    record_killed,
    record_requeued,
    transition,
    update_status,
)
from oceansr.runs.checkpoint_file import checkpoint_step, newest_resumable
from oceansr.runs.scheduler import JobEnding, ending_after_signal

#: Stops that oceansr itself asked for: recorded as such, whatever the job's state.
ASKED_BY_OCEANSR: frozenset[KillKind] = frozenset({KillKind.USER, KillKind.CONTROLLER_EXIT})


def restart_count() -> int:
    """How often Slurm restarted this job (0 outside Slurm and on the first attempt)."""
    try:
        return int(os.environ.get("SLURM_RESTART_COUNT", "0"))
    except ValueError:
        return 0


class RequeueWatch(Callback):
    """Notices Lightning's auto-requeue signal, so the stop that follows is recorded as
    a requeue rather than a kill."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None
        self.step: int | None = None

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The last hook before Lightning registers its handlers: under Slurm auto-requeue
        # the early handler steps aside so that Lightning installs its USR1 handler.
        if SLURMEnvironment.detect():
            with contextlib.suppress(ValueError):  # not the main thread: nothing installed
                early_signals.hand_over(signal.SIGUSR1)

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        for signum in early_signals.WARNING_SIGNALS:
            previous = signal.getsignal(signum)
            if callable(previous) and not early_signals.is_early_handler(previous):
                # Lightning's SLURM handler is installed for this one
                with contextlib.suppress(ValueError):  # not the main thread: Lightning's alone
                    signal.signal(signum, self._wrap(previous, trainer))
        self.replay_early_signals()

    def replay_early_signals(self) -> None:
        """Warnings that arrived during start-up reach Lightning's handler now (so the
        job checkpoints and requeues); where none is installed (not a Slurm job) they
        have no requeue meaning and stay ignored, as the handler already logged."""
        for signum in early_signals.take_pending():
            handler = signal.getsignal(signum)
            if callable(handler) and not early_signals.is_early_handler(handler):
                name = signal.Signals(signum).name
                print(f"oceansr: replaying {name} received during start-up", flush=True)
                signal.raise_signal(signum)

    def _wrap(self, previous: Any, trainer: L.Trainer) -> Any:
        def handler(signum: int, frame: Any) -> None:
            self.requested = True
            self.signal_name = signal.Signals(signum).name
            self.step = int(trainer.global_step)
            previous(signum, frame)

        return handler

    def record(self, paths: RunPaths) -> None:
        """The run is back in the queue: ``queued`` plus one ``requeued`` event."""
        newest = newest_resumable(paths)
        record_requeued(
            paths,
            by="trainer",
            reason=f"requeued by Lightning on {self.signal_name or 'the warning signal'}",
            signal=self.signal_name,
            step=self.step,
            # what the next attempt continues from: Lightning's hpc_ckpt at ``step``, or
            # the last.ckpt of the stop that followed, one batch later
            checkpoint=str(newest) if newest else None,
            checkpoint_step=None if newest is None else checkpoint_step(newest),
            slurm_job_id=os.environ.get("SLURM_JOB_ID"),
            restart=restart_count(),
        )


def record_scheduler_stop(
    paths: RunPaths, requeue: RequeueWatch, stop_cause: KilledBy | None
) -> JobEnding | None:
    """Record what the scheduler does with a job whose trainer a signal just stopped, when
    that is known; None leaves the caller's own ``killed`` record (not a Slurm job, a kill
    that oceansr asked for, a state that does not say).

    Lightning's requeue is known here; any other SIGTERM inside a Slurm job is explained
    by the job's state (:func:`oceansr.engine.cluster.slurm_job_settled`): pending again means
    Slurm requeued it (node failure, ``scontrol requeue``, preemption), so the run stays
    ``queued`` and the next attempt continues it; otherwise the run ends as Slurm ended
    the job (cancelled, time limit, node failure), named truthfully.
    """
    if requeue.requested:
        requeue.record(paths)
        return JobEnding("requeued", "requeued by Slurm")
    job_id = os.environ.get("SLURM_JOB_ID")
    if not job_id or (stop_cause is not None and stop_cause.kind in ASKED_BY_OCEANSR):
        return None
    job = slurm_job_settled(restart_count())
    if job is None:
        return None
    restarted = job.restarts > restart_count()
    ending = ending_after_signal(job_id, job.state, job.nodes, job.reason, restarted=restarted)
    if ending is None:
        # The job ends but its final state is not readable yet: Slurm keeps it
        # COMPLETING until this very task exits. Named as the scheduler's doing, with
        # the state it has now (a cancel, a preemption or the time limit).
        cause = unrequested_sigterm(os.environ, time.time())
        said = KilledBy(cause.kind, f"{cause.detail}; Slurm state {job.state}")
        ending = JobEnding("killed", said.detail or "", said)
    newest = newest_resumable(paths)
    checkpoint = str(newest) if newest else None
    step = (read_status(paths).get("progress") or {}).get("step")
    if ending.outcome == "requeued":
        record_requeued(
            paths,
            by="trainer",
            reason=ending.reason,
            signal="SIGTERM",
            step=step,
            checkpoint=checkpoint,
            checkpoint_step=None if newest is None else checkpoint_step(newest),
            slurm_job_id=job_id,
            slurm_state=job.state,
            restart=restart_count(),
        )
    elif ending.killed_by is not None:
        record_killed(
            paths,
            ending.killed_by,
            changes={"exit_code": EXIT_KILLED, "last_checkpoint": checkpoint},
            last_checkpoint=checkpoint,
            slurm_state=job.state,
        )
    elif ending.error_summary is not None:
        transition(
            paths,
            "failed",
            event="process_lost",
            changes={"error_summary": ending.error_summary, "exit_code": EXIT_KILLED},
            error_summary=ending.error_summary,
            exit_code=EXIT_KILLED,
            slurm_state=job.state,
        )
    return ending


def record_restart(paths: RunPaths) -> bool:
    """The job's trainer starts: a restarted Slurm job is a new attempt of the same run.

    Returns False when there is nothing to run: Slurm restarted a job whose run already
    completed (a node lost after the last write). A restart after an attempt that ended
    unrecorded (the node died with its processes) records that attempt's ``requeued``
    event now; one whose run a reader had already judged ``killed``/``failed`` is
    reopened, since the scheduler running the job again proves the judgement wrong.
    The queue reason of the wait that just ended is cleared.
    """
    restart = restart_count()
    changes: dict[str, Any] = {}
    if restart >= 1:
        doc = read_status(paths)
        if doc.get("status") == "completed":
            return False
        record_requeued(
            paths,
            by="next_attempt",
            reason=f"Slurm restarted job {os.environ.get('SLURM_JOB_ID')} (restart {restart})",
            reopen=True,
            restart=restart,
        )
        record = add_attempt(
            paths,
            backend="slurm",
            job_id=os.environ.get("SLURM_JOB_ID"),
            restart=restart,
            requeued=True,
        )
        changes["attempt"] = record["attempt"]  # status shows the count
    if read_status(paths).get("queue_reason") is not None:
        changes["queue_reason"] = None
    if changes:
        update_status(paths, changes)
    return True


def restart_completed(paths: RunPaths) -> bool:
    """Whether Slurm restarted the job of a run that already completed (every rank asks,
    so none starts a training the others skip)."""
    if restart_count() < 1 or not paths.status_json.exists():
        return False
    return read_status(paths).get("status") == "completed"


def continue_from(paths: RunPaths, mode: str) -> Path | None:
    """The checkpoint a restarted training job continues from (None: the first attempt,
    an evaluation, or no loadable checkpoint yet, so it starts afresh).

    Lightning resumes by itself only from ``hpc_ckpt_*``, written on its own warning
    signal; a node failure or ``scontrol requeue`` leaves ``last.ckpt`` instead (an epoch
    end, or the stop), which may be newer: :func:`newest_resumable` picks by global step.
    """
    if mode != "train" or restart_count() < 1:
        return None
    return newest_resumable(paths)
