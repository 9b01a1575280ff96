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
from typing import Any

import lightning as L
from lightning.fabric.plugins.environments import SLURMEnvironment
from lightning.pytorch.callbacks import Callback

from oceansr.engine import early_signals
from oceansr.runs import RunPaths, add_attempt, read_status, transition, update_status


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
        """The run is back in the queue: ``queued`` plus a ``requeued`` event."""
        checkpoints = sorted(paths.dir.glob("hpc_ckpt_*.ckpt"), key=lambda p: p.stat().st_mtime)
        transition(
            paths,
            "queued",
            event="requeued",
            changes={"queue_reason": "requeued", "pid": None, "heartbeat_at": None},
            signal=self.signal_name,
            step=self.step,
            checkpoint=str(checkpoints[-1]) if checkpoints else None,
            slurm_job_id=os.environ.get("SLURM_JOB_ID"),
            restart=restart_count(),
        )


def record_restart(paths: RunPaths) -> None:
    """The job's trainer starts: a requeued job is a new attempt of the same run (status
    shows the count), and the queue reason of the wait that just ended is cleared."""
    changes: dict[str, Any] = {}
    restart = restart_count()
    if restart >= 1:
        attempt = add_attempt(
            paths,
            backend="slurm",
            job_id=os.environ.get("SLURM_JOB_ID"),
            restart=restart,
            requeued=True,
        )
        changes["attempt"] = attempt["attempt"]
    if read_status(paths).get("queue_reason") is not None:
        changes["queue_reason"] = None
    if changes:
        update_status(paths, changes)
