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
