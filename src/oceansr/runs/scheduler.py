"""What a Slurm job state means for a run: will the job run again, and if not, how it ended.

Two parties read Slurm's word on a job: the trainer inside the job, when a signal stops it
(``scontrol show job`` on the compute node), and the control plane on the login node
(``squeue``, batched). Both must reach the same verdict from the same state, so the
vocabulary lives here, in the torch-free protocol layer (docs/architecture.md, launch
backends, "attempts"): a state in which the scheduler will run the job again is never
recorded as an ending, and each final state has one truthful ending.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .failures import error_summary
from .records import KilledBy, KillKind

#: Job states in which the job may still run (or run again).
ACTIVE_STATES: frozenset[str] = frozenset(
    {
        "PENDING",
        "CONFIGURING",
        "RUNNING",
        "COMPLETING",
        "SUSPENDED",
        "REQUEUED",
        "REQUEUE_FED",
        "REQUEUE_HOLD",
        "RESIZING",
        "SIGNALING",
        "STAGE_OUT",
        "STOPPED",
        "RESV_DEL_HOLD",
    }
)
#: Active states in which no task of the job runs: the job waits to (re)start, the run is
#: ``queued``. Seen by a job's own task after a signal, they mean Slurm requeued it (node
#: failure, ``scontrol requeue``, preemption with requeue, Lightning's warning handler).
QUEUED_STATES: frozenset[str] = frozenset(
    {"PENDING", "CONFIGURING", "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESV_DEL_HOLD"}
)
#: Final states that name a failure of the cluster, not of the training.
NODE_FAILURE_STATES: frozenset[str] = frozenset({"NODE_FAIL", "BOOT_FAIL"})
TIME_LIMIT_STATES: frozenset[str] = frozenset({"TIMEOUT", "DEADLINE"})
#: Final state -> failure type, for a job whose run recorded no end of its own.
FAILURE_BY_STATE: dict[str, str] = {
    "OUT_OF_MEMORY": "cpu_oom",
    **dict.fromkeys(TIME_LIMIT_STATES, "time_limit"),
    **dict.fromkeys(NODE_FAILURE_STATES, "node_failure"),
    "PREEMPTED": "process_lost",
}


@dataclass(frozen=True)
class JobEnding:
    """How a stopped job's run must be recorded: ``requeued`` (the scheduler runs it
    again), ``killed`` with ``killed_by``, or ``failed`` with ``error_summary``."""

    outcome: str
    reason: str
    killed_by: KilledBy | None = None
    error_summary: dict[str, Any] | None = None


def will_run_again(state: str) -> bool:
    """Whether a job in ``state`` is queued to run (again)."""
    return state in QUEUED_STATES


def node_failure_summary(
    job_id: str, state: str, nodes: str, reason: str, log_tail: str | None = None
) -> dict[str, Any]:
    """``node_failure`` naming the job's nodes and Slurm's state and reason."""
    where = f" on node(s) {nodes}" if nodes else ""
    message = (
        f"Slurm job {job_id} ended {state}{where} (reason {reason or 'none'}): a node of the "
        "job failed; the training itself did not fail."
    )
    summary = error_summary("node_failure", message, log_tail=log_tail)
    summary.update(slurm_state=state, job_id=job_id, nodes=nodes or None)
    return summary


def cancelled_detail(job_id: str, state: str) -> str:
    """Why a run is ``killed`` by the scheduler although no kill of ours asked for it."""
    return (
        f"Slurm job {job_id} was cancelled outside oceansr (scancel or an administrator); "
        f"Slurm state {state}"
    )


def ending_after_signal(
    job_id: str, state: str, nodes: str, reason: str, *, restarted: bool = False
) -> JobEnding | None:
    """What Slurm did to a job whose task was just stopped by a signal nobody asked
    oceansr for, from the job's state at that moment; None when the state does not say
    (a running job: someone signalled the task directly), so the caller keeps its own
    judgement of the signal.

    ``restarted``: the job's restart count is above the stopped attempt's. Right after a
    requeue the job is still ``COMPLETING`` (its tasks are being stopped) and only the
    count says that it will run again.
    """
    said = f"Slurm job {job_id}: {state}" + (f", reason {reason}" if reason else "")
    if will_run_again(state) or (restarted and state in ACTIVE_STATES):
        return JobEnding("requeued", f"requeued by Slurm ({said})")
    if state == "CANCELLED":
        detail = cancelled_detail(job_id, state)
        return JobEnding("killed", detail, KilledBy(KillKind.SCHEDULER, detail))
    if state in TIME_LIMIT_STATES:
        detail = f"Slurm job {job_id} reached its time limit ({state})"
        return JobEnding("killed", detail, KilledBy(KillKind.TIME_LIMIT, detail))
    if state == "PREEMPTED":
        detail = f"Slurm job {job_id} was preempted and will not be requeued ({said})"
        return JobEnding("killed", detail, KilledBy(KillKind.SCHEDULER, detail))
    if state in NODE_FAILURE_STATES:
        summary = node_failure_summary(job_id, state, nodes, reason)
        return JobEnding("failed", summary["message"], error_summary=summary)
    return None
