"""Where this training process sits in a (possibly multi-node) job: rank and nodes.

Only global rank 0 may write the run directory. Lightning's own launcher sets
``LOCAL_RANK``/``NODE_RANK`` for the processes it spawns, but under ``srun`` (the Slurm
backend, docs/architecture.md, launch backends) every task is started by Slurm and
knows its place from ``SLURM_PROCID``; torchrun-style launchers set ``RANK``. Reading
only the local and node ranks would make task 0 of *every* node a writer.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass


def _int_env(name: str) -> int | None:
    try:
        return int(os.environ[name])
    except (KeyError, ValueError):
        return None


def global_rank() -> int:
    """This process's global rank: ``RANK``, else ``SLURM_PROCID`` inside an ``srun``
    step, else the Lightning-spawned ``NODE_RANK``/``LOCAL_RANK`` pair (0 when alone)."""
    rank = _int_env("RANK")
    if rank is not None:
        return rank
    if os.environ.get("SLURM_STEP_ID") is not None:
        procid = _int_env("SLURM_PROCID")
        if procid is not None:
            return procid
    local, node = _int_env("LOCAL_RANK") or 0, _int_env("NODE_RANK") or 0
    return 0 if local == 0 and node == 0 else max(1, local + node)


def node_list() -> list[str]:
    """The job's nodes (``n[1-2]`` expanded by ``scontrol``), else this host."""
    compact = os.environ.get("SLURM_STEP_NODELIST") or os.environ.get("SLURM_JOB_NODELIST")
    if not compact:
        return [socket.gethostname()]
    if shutil.which("scontrol"):
        try:
            out = subprocess.run(
                ["scontrol", "show", "hostnames", compact],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.split()
            if out:
                return out
        except (OSError, subprocess.SubprocessError):
            pass
    return [compact]


def cluster_info() -> dict[str, object]:
    """What ``training_start`` records about the placement of the run."""
    info: dict[str, object] = {"nodes": node_list()}
    job_id = os.environ.get("SLURM_JOB_ID")
    if job_id:
        info["slurm_job_id"] = job_id
        info["slurm_restart_count"] = _int_env("SLURM_RESTART_COUNT") or 0
    return info


@dataclass(frozen=True)
class SlurmJobNow:
    """A job as ``scontrol show job`` shows it to one of its own tasks."""

    job_id: str
    state: str
    reason: str
    nodes: str
    restarts: int


def _fields(line: str) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in line.split():
        key, sep, value = item.partition("=")
        if sep and key not in fields:
            fields[key] = value
    return fields


def slurm_job_now(job_id: str | None = None) -> SlurmJobNow | None:
    """This job's state as the controller knows it now, or None outside Slurm or when
    ``scontrol`` cannot answer.

    Why ask: a task stopped by SIGTERM cannot tell from the signal whether Slurm cancels
    the job, ends it at its time limit, or requeues it (node failure, ``scontrol
    requeue``, preemption); the controller sets the job's state before it signals the
    tasks, so the state read after the stop says which (runs.scheduler decides).
    """
    job = job_id or os.environ.get("SLURM_JOB_ID")
    if not job or shutil.which("scontrol") is None:
        return None
    try:
        out = subprocess.run(
            ["scontrol", "show", "job", "-o", job],
            capture_output=True,
            text=True,
            timeout=15,
            check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    fields = _fields(out)
    if "JobState" not in fields:
        return None
    restarts = fields.get("Restarts", "0")
    return SlurmJobNow(
        job_id=job,
        state=fields["JobState"],
        reason="" if fields.get("Reason") in (None, "None") else fields["Reason"],
        nodes="" if fields.get("NodeList") in (None, "(null)") else fields["NodeList"],
        restarts=int(restarts) if restarts.isdigit() else 0,
    )


def slurm_job_settled(restart: int, wait_s: float = 5.0) -> SlurmJobNow | None:
    """This job's state once Slurm has decided what to do with it after a stop.

    Right after ``scontrol requeue`` or a cancel the job is ``COMPLETING`` for a moment;
    a requeue shows at once in the restart count (above ``restart``, this attempt's),
    any other decision in the state. Polls for up to ``wait_s`` (the trainer has
    Slurm's KillWait, 30 s by default, before the SIGKILL).
    """
    deadline = time.monotonic() + wait_s
    job = slurm_job_now()
    while job is not None and job.state == "COMPLETING" and job.restarts <= restart:
        if time.monotonic() >= deadline:
            break
        time.sleep(0.25)
        job = slurm_job_now()
    return job
