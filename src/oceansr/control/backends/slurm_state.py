"""Slurm job state, read in batches, and what a finished job's state means for a run.

Every ``status``/``list``/``wait`` round asks about many runs; one ``squeue`` per run
would hammer the controller of a shared cluster (and cost ~20 ms each). So
:class:`JobStateCache` runs **one** ``squeue --states=all`` for all of this user's jobs
and answers every lookup from that snapshot for ``ttl_s`` seconds (see
docs/architecture.md, launch backends). ``--states=all`` keeps finished jobs visible
for the cluster's ``MinJobAge`` (300 s by default), long enough for a reader to see
how a job ended; ``sacct`` would remember longer, but accounting is often disabled
(it is on the local test cluster), so it is not relied on.
"""

from __future__ import annotations

import getpass
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from oceansr.runs.failures import error_summary
from oceansr.runs.scheduler import (
    ACTIVE_STATES,
    FAILURE_BY_STATE,
    NODE_FAILURE_STATES,
    QUEUED_STATES,
    cancelled_detail,
    node_failure_summary,
)

_FORMAT = "JobID:|,State:|,Reason:|,NodeList:|,exit_code:|,RestartCnt:|"
_SQUEUE_TIMEOUT_S = 15.0

Runner = Callable[[Sequence[str]], str]


@dataclass(frozen=True)
class JobInfo:
    """One job as ``squeue`` shows it."""

    job_id: str
    state: str
    reason: str
    nodes: str
    #: the raw wait status Slurm records (exit code << 8 | signal), None while unknown
    wait_status: int | None
    restarts: int

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def queued(self) -> bool:
        return self.state in QUEUED_STATES

    @property
    def exit_code(self) -> int | None:
        """A shell-style exit status: the code, or 128+signal when a signal ended it."""
        if self.wait_status is None or self.active:
            return None
        code, sig = (self.wait_status >> 8) & 0xFF, self.wait_status & 0x7F
        return 128 + sig if sig else code


def _int(text: str) -> int | None:
    try:
        return int(text)
    except ValueError:
        return None


def parse_squeue(text: str) -> dict[str, JobInfo]:
    """``{job_id: JobInfo}`` from ``squeue -h -O <_FORMAT>`` output (bad lines skipped)."""
    jobs: dict[str, JobInfo] = {}
    for line in text.splitlines():
        parts = [part.strip() for part in line.split("|")]
        if len(parts) < 6 or not parts[0]:
            continue
        job_id, state, reason, nodes, wait_status, restarts = parts[:6]
        jobs[job_id] = JobInfo(
            job_id=job_id,
            state=state.split()[0] if state else "UNKNOWN",
            reason=reason,
            nodes=nodes,
            wait_status=_int(wait_status),
            restarts=_int(restarts) or 0,
        )
    return jobs


def run_squeue(args: Sequence[str]) -> str:
    """Run a Slurm query; raises ``OSError`` when it cannot answer (controller down)."""
    proc = subprocess.run(
        list(args), capture_output=True, text=True, timeout=_SQUEUE_TIMEOUT_S, check=False
    )
    if proc.returncode != 0:
        raise OSError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


class JobStateCache:
    """One ``squeue`` snapshot of this user's jobs, reused for ``ttl_s`` seconds.

    ``lookup`` answers ``None`` when Slurm could not be asked (the caller then judges
    from the heartbeat alone) and :data:`GONE` when Slurm no longer knows the job.
    """

    def __init__(self, ttl_s: float = 1.0, runner: Runner = run_squeue) -> None:
        self.ttl_s = ttl_s
        self.runner = runner
        self.calls = 0
        self._lock = threading.Lock()
        self._jobs: dict[str, JobInfo] | None = None
        self._taken = 0.0

    def snapshot(self, *, fresh: bool = False) -> dict[str, JobInfo] | None:
        """All of this user's jobs Slurm remembers, or None if squeue failed."""
        with self._lock:
            age = time.monotonic() - self._taken
            if fresh or self._jobs is None or age > self.ttl_s:
                command = ["squeue", "-h", "--states=all", "-u", getpass.getuser(), "-O", _FORMAT]
                self.calls += 1
                try:
                    self._jobs = parse_squeue(self.runner(command))
                except (OSError, subprocess.SubprocessError):
                    self._jobs = None
                self._taken = time.monotonic()
            return self._jobs

    def lookup(self, job_id: str, *, fresh: bool = False) -> JobInfo | None:
        jobs = self.snapshot(fresh=fresh)
        if jobs is None:
            return None
        return jobs.get(job_id, gone(job_id))

    def forget(self) -> None:
        """Drop the snapshot (after scancel/sbatch the next lookup must ask again)."""
        with self._lock:
            self._jobs = None


def gone(job_id: str) -> JobInfo:
    """A job Slurm no longer lists (finished more than MinJobAge ago, or purged)."""
    return JobInfo(job_id, "GONE", "", "", None, 0)


# --------------------------------------------------------------------------- outcomes


def job_failure(job: JobInfo, log_tail: str | None) -> dict[str, Any]:
    """The error summary of a job that ended without the trainer recording why."""
    if job.state in NODE_FAILURE_STATES:
        summary = node_failure_summary(job.job_id, job.state, job.nodes, job.reason, log_tail)
        summary["exit_code"] = job.exit_code
        return summary
    failure = FAILURE_BY_STATE.get(job.state, "process_lost")
    where = f" on {job.nodes}" if job.nodes else ""
    message = f"Slurm job {job.job_id} ended {job.state}{where} (reason {job.reason or 'none'})."
    if job.state == "GONE":
        message = f"Slurm job {job.job_id} is no longer known to Slurm and the run recorded no end."
    summary = error_summary(failure, message, log_tail=log_tail)
    summary.update(slurm_state=job.state, job_id=job.job_id, exit_code=job.exit_code)
    return summary


def cancelled_reason(job: JobInfo) -> str:
    """Why a run became ``killed`` although nobody called our kill."""
    return cancelled_detail(job.job_id, job.state)
