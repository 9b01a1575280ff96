"""Requeue by a short ``--time``: Slurm's own warning signal, nobody sends it by hand.

Timing, from how Slurm 22.05 works and the local cluster's slurm.conf
(scripts/slurm-local.sh: KillWait 30 s, OverTimeLimit 0), measured here:

- ``--time`` has minute granularity (``MM:SS`` rounds the seconds up to a minute).
- slurmctld checks time limits and sends ``--signal`` warnings every 30 s
  (``PERIODIC_TIMEOUT``, compiled in, not configurable) and sends a warning rather early
  than late: ``USR1@N`` on a ``T`` s limit arrived between ``T-N-30`` and ``T-N`` s after
  the job started (measured with T=120, N=30: at 79 s and 89 s). The time-limit kill comes
  at a check >= T s, so the trainer has >= N s to checkpoint and requeue (about 1 s).
- A requeue clears the "warning sent" flag: every attempt is warned again.
- Start-up (job start to ``training_start``) takes 8-15 s; a step at
  ``debug.sleep_per_step=1`` takes 1.1-1.4 s on this shared machine.

So ``launcher.time=2`` with ``USR1@20`` warns each attempt 70-100 s after it starts, and
90 steps (>= 99 s of training) are still running at 100 s: attempt 1 is always requeued.
It has trained >= 55 s by then, so attempt 2 usually finishes before its own warning; more
attempts (a slow or loaded machine, an early warning) are accepted, up to MAX_ATTEMPTS as a
deadline rather than a claim, and every hand-over is checked. ``launcher.time=1`` (the
shortest) with ``USR1@30`` warned each attempt 20-30 s after it started, ~15 s into
training: 5 requeues for 60 steps before we stopped it; ``time=2`` with ``USR1@30`` took
3 attempts and 208 s.

Wall time measured here: 147 s, 2 attempts (the test prints both with -s).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oceansr import control
from oceansr.runs import RunPaths, is_terminal, read_events
from slurm_support import (  # fixtures imported so pytest finds them here
    release_held_job,
    requires_slurm,  # noqa: F401
    slurm_jobs_fixture,  # noqa: F401
)
from waiting import wait_until

EPOCHS, STEPS_PER_EPOCH = 9, 10  # x 1.1-1.4 s per step
TIME_LIMITED = [
    "experiment=smoke",
    f"trainer.max_epochs={EPOCHS}",
    f"trainer.limit_train_batches={STEPS_PER_EPOCH}",
    "debug.sleep_per_step=1.0",
    "launcher.time=2",
    "launcher.signal=USR1@20",
]
#: Not a speed claim: the deadline (MAX_ATTEMPTS x 180 s) after which the run counts as stuck.
MAX_ATTEMPTS = 5


def _run_to_the_end(process_id: str, job_id: str, root: Path) -> dict:
    """Waits for the terminal status, releasing each requeued attempt at once."""

    def finished() -> dict | None:
        doc = control.wait(process_id, until="terminal", timeout=5, runs_root=root)
        if is_terminal(doc["status"]):
            return doc
        if doc["status"] == "queued":
            release_held_job(job_id)
        return None

    return wait_until(
        finished,
        f"the run to finish within {MAX_ATTEMPTS} attempts",
        MAX_ATTEMPTS * 180,
        interval=0,
    )


@pytest.mark.usefixtures("requires_slurm")
@pytest.mark.timeout(MAX_ATTEMPTS * 180 + 300)
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
    assert "#SBATCH --time=2" in script and "#SBATCH --signal=USR1@20" in script
    done = _run_to_the_end(reply["process_id"], job_id, tmp_path)
    assert done["status"] == "completed", done.get("error_summary")
    requeues = read_events(paths, names="requeued")
    starts = read_events(paths, names="training_start")
    assert requeues, "the time-limit warning requeued the job"
    assert all(r["signal"] == "SIGUSR1" and r["checkpoint"] for r in requeues)
    assert len(starts) == len(requeues) + 1 == done["attempt"]
    # continuous global step: each attempt starts where the previous one checkpointed
    # continuous step: each attempt starts where its requeue's checkpoint was saved
    assert [s["start_step"] for s in starts] == [0, *(r["checkpoint_step"] for r in requeues)]
    assert all(r["checkpoint_step"] >= r["step"] for r in requeues)
    assert [s["slurm_restart_count"] for s in starts] == list(range(len(starts)))
    assert done["progress"]["step"] == EPOCHS * STEPS_PER_EPOCH
    assert not read_events(paths, names="killed")
    assert [p.name for p in tmp_path.iterdir()] == [reply["process_id"]]
    print(f"time-limit requeue: {len(starts)} attempts, {time.monotonic() - began:.0f} s")
