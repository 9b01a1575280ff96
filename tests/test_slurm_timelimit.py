"""Requeue by a short ``--time``: Slurm's own warning signal, nobody sends it by hand.

Timing, from how Slurm 22.05 works and the local cluster's slurm.conf
(scripts/slurm-local.sh: KillWait 30 s, OverTimeLimit 0):

- ``--time`` has minute granularity (``MM:SS`` rounds the seconds up to a minute), so
  ``launcher.time=1`` is the shortest limit: 60 s.
- slurmctld checks time limits and warnings every 30 s (``PERIODIC_TIMEOUT``, compiled in,
  not configurable), so ``--signal=USR1@30`` arrives 30-60 s after the job starts, and
  the time-limit kill comes at the earliest one check (30 s) after the warning: the
  trainer has >= 30 s to checkpoint and requeue.
- A requeue clears the "warning sent" flag, so every attempt is warned again 30-60 s after
  it starts. Attempt 1 must still be training when its warning comes: 30 epochs x 2 steps
  at ``debug.sleep_per_step=1`` are >= 60 s of training. Each attempt trains for
  >= 30 s less its start-up, so the run completes in its second or third attempt; the
  test accepts both and checks every hand-over (continuous global step, one ``requeued``
  event per restart).

Wall time measured on the local cluster: about 2-3 minutes (see the brief's report).
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from oceansr import control
from oceansr.runs import RunPaths, read_events
from slurm_support import (  # fixtures imported so pytest finds them here
    requires_slurm,  # noqa: F401
    slurm_jobs_fixture,  # noqa: F401
)

EPOCHS = 30  # x 2 steps (experiment=smoke) x 1 s per step
TIME_LIMITED = [
    "experiment=smoke",
    f"trainer.max_epochs={EPOCHS}",
    "debug.sleep_per_step=1.0",
    "launcher.time=1",
    "launcher.signal=USR1@30",
]
MAX_ATTEMPTS = 4


def _release(job_id: str) -> None:
    """Slurm holds a requeued job back (reason BeginTime, ~2 min here); start it now."""
    subprocess.run(
        ["scontrol", "update", f"JobId={job_id}", "StartTime=now"],
        capture_output=True,
        timeout=15,
        check=False,
    )


def _run_to_the_end(process_id: str, job_id: str, root: Path) -> dict:
    """Waits for the terminal status, releasing each requeued attempt at once."""
    deadline = time.monotonic() + MAX_ATTEMPTS * 120
    while True:
        doc = control.wait(process_id, until="terminal", timeout=5, runs_root=root)
        if doc["status"] in ("completed", "failed", "killed"):
            return doc
        assert time.monotonic() < deadline, f"not finished after {MAX_ATTEMPTS} attempts: {doc}"
        if doc["status"] == "queued":
            _release(job_id)


@pytest.mark.usefixtures("requires_slurm")
def test_time_limit_warning_checkpoints_requeues_and_completes(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    began = time.monotonic()
    reply = control.start(TIME_LIMITED, backend="slurm", runs_root=tmp_path, startup_timeout=180)
    job_id = reply.get("job_id")
    assert isinstance(job_id, str), reply
    slurm_jobs.append(job_id)
    assert reply["status"] == "started", reply
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    script = (paths.dir / "submit.sbatch").read_text().splitlines()
    assert "#SBATCH --time=1" in script and "#SBATCH --signal=USR1@30" in script
    done = _run_to_the_end(reply["process_id"], job_id, tmp_path)
    assert done["status"] == "completed", done.get("error_summary")
    requeues = read_events(paths, names="requeued")
    starts = read_events(paths, names="training_start")
    assert 1 <= len(requeues) < MAX_ATTEMPTS, "the time-limit warning requeued the job"
    assert all(r["signal"] == "SIGUSR1" and r["checkpoint"] for r in requeues)
    assert len(starts) == len(requeues) + 1 == done["attempt"]
    # continuous global step: each attempt starts where the previous one checkpointed
    assert [s["start_step"] for s in starts] == [0, *(r["step"] for r in requeues)]
    assert [s["slurm_restart_count"] for s in starts] == list(range(len(starts)))
    assert done["progress"]["step"] == EPOCHS * 2
    assert not read_events(paths, names="killed")
    assert [p.name for p in tmp_path.iterdir()] == [reply["process_id"]]
    print(f"time-limit requeue: {len(starts)} attempts, {time.monotonic() - began:.0f} s")
