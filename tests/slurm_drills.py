"""Fault drills on the local Slurm cluster: what a cluster does to a run, done for real.

Shared by the cluster tests (tests/control/test_slurm_faults.py) and the benchmark
(benchmarks/slurm.py, N/N counts). Each drill starts a slow smoke training through
``oceansr.control``, waits for a moment (start-up, or a training step), does to the job
what a cluster does (sets its node down, ``scontrol requeue``, the warning signal), keeps
releasing the requeued job (Slurm holds a requeued job back for ~150 s here) and returning
the node to service, and reads back what the run directory says: the outcome the issue
names, "the run completes in the same directory with the global step continuing".
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from oceansr import control
from oceansr.runs import RunPaths, is_terminal, read_events, read_run, read_status
from oceansr.runs.checkpoint_file import checkpoint_step as checkpoint_step_of
from oceansr.runs.checkpoint_file import newest_resumable
from slurm_support import release_held_job, slurm, wait_until

#: Slow enough that a fault lands mid-training, short enough for CI: 3 x 8 steps.
EPOCHS, STEPS = 3, 8
DRILL_OVERRIDES = [
    "experiment=smoke",
    f"trainer.max_epochs={EPOCHS}",
    f"trainer.limit_train_batches={STEPS}",
    "debug.sleep_per_step=0.6",
]
FAULTS = ("node_down", "scontrol_requeue", "warning_signal")
PHASES = ("startup", "training")
#: How long a requeued job stays held before the drill releases it (Slurm's own hold is
#: ~150 s; the stopped attempt's tasks need a few seconds to go).
RELEASE_AFTER_S = 10.0
#: Not a speed claim: the deadline after which a drill counts as stuck.
DRILL_DEADLINE_S = 600.0


@dataclass
class DrillResult:
    """What one drill observed, and whether it is what a user would want."""

    fault: str
    phase: str
    process_id: str
    status: str
    attempts: int
    requeued_events: int
    step_at_fault: int | None
    #: the global step of the newest loadable checkpoint when the fault came
    checkpoint_step: int | None
    first_step_after: int | None
    final_step: int | None
    total_steps: int
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Completed, requeued at least once with one event per extra attempt, every step
        trained, and the next attempt started no earlier than the checkpoint that existed
        when the fault came (steps after it may be trained again: they were never saved)."""
        continued = self.checkpoint_step is None or (
            self.first_step_after is not None and self.first_step_after >= self.checkpoint_step
        )
        return (
            self.status == "completed"
            and self.attempts >= 2
            and self.requeued_events == self.attempts - 1
            and self.final_step == self.total_steps
            and continued
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


def job_id_of(process_id: str, root: Path) -> str:
    """The Slurm job id recorded in run.json (the same job across requeues)."""
    return str(read_run(RunPaths.for_id(process_id, root=root))["job_ids"][-1])


def _job_state(job_id: str) -> str:
    return slurm(["squeue", "-h", "-j", job_id, "-o", "%T"]).strip()


def _node_of(job_id: str) -> str:
    return slurm(["squeue", "-h", "-j", job_id, "-o", "%N"]).strip()


def _step(process_id: str, root: Path) -> int:
    doc = read_status(RunPaths.for_id(process_id, root=root))
    return int((doc.get("progress") or {}).get("step") or 0)


def wait_for_moment(process_id: str, job_id: str, root: Path, phase: str) -> None:
    """Start-up: the job's task runs but training has not started (1 s after RUNNING).
    Training: mid-epoch 2, two steps after epoch 1's ``last.ckpt``."""
    if phase == "startup":
        wait_until(lambda: _job_state(job_id) == "RUNNING", f"job {job_id} running", interval=0.1)
        time.sleep(1.0)
        return
    step = STEPS + 2
    wait_until(
        lambda: _step(process_id, root) >= step, f"{process_id} at step {step}", interval=0.2
    )


def inflict(fault: str, job_id: str) -> str | None:
    """Do ``fault`` to the job; the node set down, if any (to return it afterwards)."""
    if fault == "node_down":
        node = _node_of(job_id)
        slurm(["scontrol", "update", f"nodename={node}", "state=down", "reason=oceansr-drill"])
        return node
    if fault == "scontrol_requeue":
        slurm(["scontrol", "requeue", job_id])
    elif fault == "warning_signal":
        slurm(["scancel", "--signal=USR1", job_id])
    else:
        raise ValueError(f"unknown fault {fault!r}; expected one of {FAULTS}")
    return None


def return_node(node: str) -> None:
    """Back to service (best effort: with ReturnToService=2 it may already be back)."""
    subprocess.run(
        ["scontrol", "update", f"nodename={node}", "state=resume"],
        capture_output=True,
        timeout=60,
        check=False,
    )


def run_to_end(process_id: str, job_id: str, root: Path, node: str | None) -> dict[str, Any]:
    """Polls the run (through the control plane, as a user would) until it is terminal,
    releasing each requeued attempt and returning a downed node to service."""

    queued_since: list[float] = []

    def finished() -> dict[str, Any] | None:
        doc = control.status(process_id, runs_root=root)
        if is_terminal(doc):
            return doc
        if node is not None:
            return_node(node)
        if doc["status"] != "queued":
            queued_since.clear()
            return None
        queued_since.append(time.monotonic())
        # Slurm holds a requeued job back (BeginTime, ~150 s here) so that the stopped
        # attempt's tasks are gone before it starts again; released at once, slurmd may
        # refuse "a second copy" and Slurm then holds the job for good. Shortened to 10 s.
        if time.monotonic() - queued_since[0] >= RELEASE_AFTER_S:
            release_held_job(job_id)
            if "held" in str(doc.get("queue_reason") or ""):
                # "launch failed requeued held": Slurm holds a job whose relaunch failed
                # (its node was still down); an operator releases it
                subprocess.run(["scontrol", "release", job_id], capture_output=True, check=False)
        return None

    return wait_until(finished, f"run {process_id} terminal", DRILL_DEADLINE_S, interval=1.0)


def drill(fault: str, phase: str, root: Path) -> DrillResult:
    """One drill, start to terminal status (the job is cancelled if it gets stuck)."""
    reply = control.start(DRILL_OVERRIDES, runs_root=root, backend="slurm", wait_for_start=False)
    process_id = reply["process_id"]
    job_id = job_id_of(process_id, root)
    node = None
    try:
        wait_for_moment(process_id, job_id, root, phase)
        step_at_fault = _step(process_id, root)
        newest = newest_resumable(RunPaths.for_id(process_id, root=root))
        checkpoint_step = None if newest is None else checkpoint_step_of(newest)
        node = inflict(fault, job_id)
        final = run_to_end(process_id, job_id, root, node)
    finally:
        if node is not None:
            return_node(node)
        subprocess.run(["scancel", job_id], capture_output=True, timeout=60, check=False)
    return _observed(fault, phase, process_id, root, final, step_at_fault, checkpoint_step)


def _observed(
    fault: str,
    phase: str,
    process_id: str,
    root: Path,
    final: dict[str, Any],
    step_at_fault: int,
    checkpoint_step: int | None,
) -> DrillResult:
    paths = RunPaths.for_id(process_id, root=root)
    events = read_events(paths)
    names = [e["event"] for e in events]
    starts = [i for i, name in enumerate(names) if name == "training_start"]
    after = events[starts[1]] if len(starts) >= 2 else None
    attempts = read_run(paths).get("attempts") or []
    progress = final.get("progress") or {}
    return DrillResult(
        fault=fault,
        phase=phase,
        process_id=process_id,
        status=final["status"],
        attempts=len(attempts),
        requeued_events=names.count("requeued"),
        step_at_fault=step_at_fault,
        checkpoint_step=checkpoint_step,
        first_step_after=None if after is None else after.get("start_step"),
        final_step=progress.get("step"),
        total_steps=EPOCHS * STEPS,
        notes=[
            f"{e['event']}: {e.get('reason') or ''}" for e in events if e["event"] == "requeued"
        ],
    )
