"""Slurm launch backend: a run is a batch job, its identity the Slurm job id.

Why ``sbatch`` and not submitit: submitit 1.5.4 runs a command line only through a
pickled ``CommandFunction`` (so submitit must be importable inside the job), reads
job state from ``sacct`` (disabled on clusters without accounting, the local test
cluster included) and requeues only checkpointable callables. The trainer is already
a command with a durable run directory and Lightning already handles the warning
signal (checkpoint + ``scontrol requeue``), so a plain batch script is both simpler
and complete: :mod:`.slurm_script` renders it, :mod:`.slurm_state` reads job state in
batches (see docs/architecture.md, launch backends).

The run directory must live on a filesystem the compute nodes share: the job writes
``status.json``/``events.jsonl``/``train.log`` there, and any controller on a login
node answers ``status``/``logs``/``wait``/``kill``/``list`` from it plus one
``squeue`` per round.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from oceansr.core.errors import ConfigError, MissingDependencyError
from oceansr.runs import (
    KilledBy,
    KillKind,
    LostVerdict,
    ProcessIdentity,
    RunPaths,
    heartbeat_age_s,
    is_terminal,
    own_exit_code,
    pending_kill,
    read_run,
    read_status,
    read_tail_text,
    record_killed,
    record_requeued,
    run_identity,
    run_lock,
    transition,
    update_run,
    update_status,
)

from .base import Backend, ExitCallback, StopOutcome
from .local import child_env
from .slurm_script import render_script, settings_from
from .slurm_state import JobInfo, JobStateCache, cancelled_reason, job_failure

BACKEND = "slurm"
SCRIPT_NAME = "submit.sbatch"
#: The Slurm client commands a run cannot be started or followed without.
REQUIRED_TOOLS: tuple[str, ...] = ("sbatch", "squeue")
_POLL_S = 0.25
#: After a hard ``scancel``, how long Slurm may take to reap the job (its KillWait
#: is 30 s by default) before the job counts as a survivor.
_CANCEL_WAIT_S = 45.0


def check_on_exit(on_exit: str) -> None:
    """``on_exit=terminate`` cannot work for a job on another node: refuse it early."""
    if on_exit == "terminate":
        raise ConfigError(
            "on_exit='terminate' cannot stop a Slurm job when its controller exits (the "
            "job runs on a compute node and outlives the login-node session by design)",
            field="on_exit",
            fix="on_exit='keep' (the default for backend='slurm'); stop jobs with kill",
        )


def launcher_record(config: Any) -> dict[str, Any]:
    """The checked ``launcher`` settings of a composed config, as run.json keeps them."""
    from omegaconf import OmegaConf

    launcher = OmegaConf.select(config, "launcher") if config is not None else None
    mapping = OmegaConf.to_container(launcher, resolve=True) if launcher is not None else {}
    settings = (
        {str(key): value for key, value in mapping.items()} if isinstance(mapping, dict) else {}
    )
    return settings_from(settings).as_dict()


def _sbatch(script: Path, env: Mapping[str, str], cwd: Path) -> str:
    """Submit ``script``; the job id. ``OSError`` carries sbatch's own complaint."""
    proc = subprocess.run(
        ["sbatch", "--parsable", str(script)],
        capture_output=True,
        text=True,
        env=dict(env),
        cwd=cwd,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0:
        raise OSError(f"sbatch refused the job: {proc.stderr.strip() or proc.returncode}")
    return proc.stdout.strip().split(";")[0]


def _scancel(*args: str) -> None:
    subprocess.run(["scancel", *args], capture_output=True, timeout=30, check=False)


class SlurmBackend(Backend):
    """Runs as Slurm batch jobs (see the module docstring)."""

    name = BACKEND

    def __init__(self, jobs: JobStateCache | None = None) -> None:
        self.jobs = jobs or JobStateCache()
        self._submitted: dict[str, RunPaths] = {}

    # ------------------------------------------------------------------ submit

    def check_available(self) -> None:
        """``sbatch`` submits and ``squeue`` tells a job's state: without either on PATH
        a run could be neither started nor followed, so nothing is created."""
        missing = [tool for tool in REQUIRED_TOOLS if shutil.which(tool) is None]
        if missing:
            raise MissingDependencyError(
                f"the slurm backend needs {' and '.join(missing)}, not found on PATH",
                field="backend",
                fix="run on a Slurm login node (or add the Slurm client commands to PATH), "
                "or start with backend=local",
            )

    def environment(self, *, on_exit: str, base: Mapping[str, str] | None = None) -> dict[str, str]:
        check_on_exit(on_exit)
        return child_env(on_exit="keep", base=base)

    def submit(
        self,
        run_id: str,
        command: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str],
        cwd: str | os.PathLike[str] | None = None,
        on_exit: ExitCallback | None = None,
    ) -> ProcessIdentity:
        """Write ``submit.sbatch`` into the run directory and ``sbatch`` it. The job
        appends to ``log_path`` itself; no process of ours waits for it, so ``on_exit``
        is never called: readers record the end from the job state instead."""
        paths = RunPaths.from_dir(log_path.parent)
        run_doc = read_run(paths)
        workdir = Path(cwd or run_doc.get("cwd") or os.getcwd())
        try:
            settings = settings_from(run_doc.get("launcher") or {})
            script = render_script(
                settings, run_id=run_id, command=command, log_path=log_path, cwd=workdir
            )
        except ConfigError as exc:
            raise OSError(str(exc)) from exc
        script_path = paths.dir / SCRIPT_NAME
        script_path.write_text(script, encoding="utf-8")
        job_id = _sbatch(script_path, env, workdir)
        self._submitted[run_id] = paths
        self.jobs.forget()
        jobs = [*list(run_doc.get("job_ids") or []), job_id]
        update_run(paths, submit_script=str(script_path), job_ids=jobs)
        self._mark_queued(paths, job_id, settings.as_dict())
        return ProcessIdentity(pid=None, job_id=job_id)

    def _mark_queued(self, paths: RunPaths, job_id: str, launcher: dict[str, Any]) -> None:
        """``queued`` right after submission, unless the job already started."""
        with run_lock(paths):
            doc = read_status(paths)
            waiting = doc.get("status") == "pending" or (
                doc.get("status") == "running" and doc.get("pid") is None
            )
            if waiting:
                transition(
                    paths,
                    "queued",
                    event="job_submitted",
                    changes={"job_id": job_id, "queue_reason": None},
                    job_id=job_id,
                    script=str(paths.dir / SCRIPT_NAME),
                    launcher=launcher,
                )

    # ------------------------------------------------------------------ exit observation

    def _job(self, identity: ProcessIdentity, *, fresh: bool = False) -> JobInfo | None:
        return None if identity.job_id is None else self.jobs.lookup(identity.job_id, fresh=fresh)

    def exit_code(
        self, run_id: str, identity: ProcessIdentity, *, wait_s: float = 0.0
    ) -> int | None:
        """The job's exit status once Slurm says it ended (its outcome is recorded in
        the run directory first, with the Slurm state's failure type)."""
        deadline = time.monotonic() + wait_s
        job = self._job(identity)
        while (job is None or job.active) and time.monotonic() < deadline:
            time.sleep(_POLL_S)
            job = self._job(identity, fresh=True)
        if job is None or job.active:
            return None
        paths = self._submitted.get(run_id)
        if paths is not None:
            record_job_end(paths, job)
        return job.exit_code

    def wait_recorded(self, run_id: str, identity: ProcessIdentity, timeout: float) -> bool:
        # exit_code records synchronously; there is no reaper thread to wait for.
        return run_id in self._submitted

    # ------------------------------------------------------------------ identity, liveness

    def is_running(self, identity: ProcessIdentity) -> bool:
        job = self._job(identity, fresh=True)
        return job is None or job.active  # unknown counts as running: never double-start

    def unreachable_reason(self, run_doc: Mapping[str, Any]) -> str | None:
        if shutil.which("scancel") is None:
            return "the Slurm commands (scancel) are not on this machine; use a login node"
        return None

    def lost_verdict(
        self,
        paths: RunPaths,
        doc: Mapping[str, Any],
        run_doc: Mapping[str, Any],
        stale_after: float,
    ) -> LostVerdict | None:
        """Judge from the job state (one cached ``squeue`` per round), then the heartbeat.

        A queued job refreshes ``queue_reason`` in status.json (and in ``doc``, which
        is what the caller answers with). A job that ended without a terminal status is
        recorded here with its Slurm state's failure type.
        """
        identity = run_identity(run_doc)
        if identity.job_id is None:
            return super().lost_verdict(paths, doc, run_doc, stale_after)
        job = self.jobs.lookup(identity.job_id)
        if job is not None and job.queued:
            self._note_queued(paths, doc, job)
            return None
        if job is None or job.active:
            return _stale_heartbeat(doc, stale_after, identity.job_id)
        record_job_end(paths, job)
        return LostVerdict(job.exit_code, f"Slurm job {job.job_id} ended {job.state}")

    def _note_queued(self, paths: RunPaths, doc: Mapping[str, Any], job: JobInfo) -> None:
        if doc.get("status") == "running" and job.restarts >= 1:
            # Slurm requeued a running job (node failure, scontrol requeue, preemption)
            # and its trainer could not say so (yet): the run waits, it did not end
            written = record_requeued(
                paths,
                by="control",
                reason=f"requeued by Slurm (job {job.job_id}: {job.state}, reason "
                f"{job.reason or 'none'}, restart {job.restarts})",
                slurm_job_id=job.job_id,
                slurm_state=job.state,
                restart=job.restarts,
            )
            if isinstance(doc, dict):
                doc.update(written)
            return
        if doc.get("status") not in ("pending", "queued") or (
            doc.get("status") == "queued" and doc.get("queue_reason") == job.reason
        ):
            return
        with run_lock(paths):
            if read_status(paths).get("status") not in ("pending", "queued"):
                return
            written = update_status(
                paths, {"status": "queued", "queue_reason": job.reason, "job_id": job.job_id}
            )
        if isinstance(doc, dict):  # the reader answers with this very dict
            doc.update(written)

    # ------------------------------------------------------------------ signal, cancel

    def stop(self, identity: ProcessIdentity, grace: float) -> StopOutcome:
        """Queued: cancel at once. Running: SIGTERM to the job's tasks (the trainer
        checkpoints and records ``killed``), then ``scancel`` after ``grace``.

        The TERM goes to the job steps only, not ``--full``: ``--full`` also signals the
        batch step, whose ``srun`` answers SIGTERM with "forcing job termination" and
        SIGKILLs the tasks before they can checkpoint (measured on Slurm 22.05).
        """
        outcome = StopOutcome()
        job = self._job(identity, fresh=True)
        if identity.job_id is None or job is None or not job.active:
            return outcome
        if job.queued:
            _scancel(identity.job_id)
            outcome.signal = "scancel"
        else:
            _scancel("--signal=TERM", identity.job_id)
            outcome.signal = "SIGTERM"
            if self._wait_inactive(identity, grace):
                return outcome
            _scancel(identity.job_id)
            outcome.signal, outcome.escalated = "scancel", True
        if not self._wait_inactive(identity, _CANCEL_WAIT_S):
            outcome.survivors = [int(identity.job_id)] if identity.job_id.isdigit() else []
        return outcome

    def _wait_inactive(self, identity: ProcessIdentity, timeout: float) -> bool:
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            job = self._job(identity, fresh=True)
            if job is not None and not job.active:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S)


def _stale_heartbeat(doc: Mapping[str, Any], stale_after: float, job_id: str) -> LostVerdict | None:
    beat = heartbeat_age_s(doc)
    if beat is None or beat <= stale_after:
        return None
    why = f"heartbeat stale: last beat {beat:.0f} s ago (limit {stale_after:g} s)"
    return LostVerdict(None, f"{why}; Slurm job {job_id} may still run: kill it")


def record_job_end(paths: RunPaths, job: JobInfo) -> dict[str, Any]:
    """Give a run whose job ended a terminal status, once, under the run lock.

    Kept: a status the trainer recorded. Else ``killed`` when our kill asked for it or
    someone cancelled the job behind our back, else ``failed`` with the failure type of
    the Slurm state (OUT_OF_MEMORY → cpu_oom, TIMEOUT → time_limit, NODE_FAIL →
    node_failure naming the nodes, anything else → process_lost; runs/scheduler.py).
    A job that ended still queued never ran: ``exit_code`` stays null
    (``runs.own_exit_code``).
    """
    log_tail = read_tail_text(paths.train_log)
    with run_lock(paths):
        current = read_status(paths)
        if is_terminal(current):
            return current
        code = own_exit_code(current, job.exit_code)
        requested = pending_kill(paths)
        if requested is not None or job.state == "CANCELLED":
            cause = (
                KilledBy.of_request(requested)
                if requested is not None
                else KilledBy(KillKind.SCHEDULER, cancelled_reason(job))
            )
            return record_killed(
                paths,
                cause,
                changes={"exit_code": code},
                exit_code=code,
                slurm_state=job.state,
                recorded_by="control",
            )
        summary = {**job_failure(job, log_tail), "exit_code": code}
        return transition(
            paths,
            "failed",
            event="process_lost",
            changes={"error_summary": summary, "exit_code": code},
            error_summary=summary,
            exit_code=code,
            slurm_state=job.state,
        )
