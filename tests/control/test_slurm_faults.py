"""What clusters do to runs, on the local two-node cluster: a run survives every requeue.

A node failure, ``scontrol requeue`` and the warning signal, at start-up and mid-training:
Slurm requeues the job, the run stays ``queued`` (never ``killed``), the next attempt
continues in the same run directory from the newest checkpoint, and the run completes
with every step trained once (tests/slurm_drills.py does the drill; these tests state
what must hold). Skipped without a cluster, failed under CI=true (tests/slurm_support.py).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oceansr import control
from oceansr.core.errors import RunStateError
from oceansr.report import make_report
from oceansr.runs import RunPaths, read_events, read_run, read_status, transition
from slurm_drills import DRILL_DEADLINE_S, DrillResult, drill, job_id_of
from slurm_support import requires_slurm, slurm_jobs_fixture  # noqa: F401  (fixtures)
from waiting import wait_until

pytestmark = [
    pytest.mark.usefixtures("requires_slurm"),
    pytest.mark.timeout(DRILL_DEADLINE_S + 120),
]


def _explain(result: DrillResult, root: Path) -> str:
    events = read_events(RunPaths.for_id(result.process_id, root=root))
    trail = [f"{e['event']} {e.get('reason') or e.get('killed_by') or ''}" for e in events]
    return f"{result.as_dict()}\nevents: {trail}"


@pytest.mark.parametrize(
    ("fault", "phase"),
    [
        ("node_down", "training"),
        ("scontrol_requeue", "startup"),
        ("scontrol_requeue", "training"),
        ("warning_signal", "startup"),
    ],
)
def test_requeued_run_completes_in_the_same_directory(
    fault: str, phase: str, tmp_path: Path
) -> None:
    result = drill(fault, phase, tmp_path)
    why = _explain(result, tmp_path)
    assert result.status == "completed", why
    assert result.attempts >= 2, why
    assert result.requeued_events == result.attempts - 1, why
    assert result.final_step == result.total_steps, why
    # one run directory: the drill's root holds exactly the one run
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".")] == [
        result.process_id
    ], why
    if phase == "training":  # what was saved is not trained again
        assert result.checkpoint_step is not None, why
        assert result.first_step_after is not None, why
        assert result.first_step_after >= result.checkpoint_step, why
    assert "killed" not in [
        e["event"] for e in read_events(RunPaths.for_id(result.process_id, root=tmp_path))
    ], why


# --------------------------------------------------------------------------- readers elsewhere


def _slow_run(root: Path, *extra: str) -> tuple[str, str]:
    reply = control.start(
        ["experiment=smoke", "trainer.max_epochs=1000", *extra],
        runs_root=root,
        backend="slurm",
        wait_for_start=False,
    )
    return reply["process_id"], job_id_of(reply["process_id"], root)


def test_report_on_running_and_queued_jobs_leaves_them_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, slurm_jobs: list[str]
) -> None:
    """The report never judges liveness itself: the old file-only check took a queued job
    (no pid) for lost after the heartbeat limit and a compute node's pid for a local one."""
    monkeypatch.setenv("OCEANSR_HEARTBEAT_TIMEOUT", "1")  # any verdict of its own would fire
    running, running_job = _slow_run(tmp_path)
    slurm_jobs.append(running_job)
    wait_until(
        lambda: control.status(running, runs_root=tmp_path)["status"] == "running",
        f"run {running} running",
    )
    # a job held in the queue: no pid, created long before the heartbeat limit
    queued, queued_job = _slow_run(tmp_path, "launcher.extra_sbatch=[--hold]")
    slurm_jobs.append(queued_job)
    time.sleep(2.5)
    for process_id, state in ((running, "running"), (queued, "queued")):
        paths = RunPaths.for_id(process_id, root=tmp_path)
        before = paths.status_json.read_bytes()
        with pytest.raises(RunStateError):
            make_report(process_id, runs_root=tmp_path)
        assert read_status(paths)["status"] == state
        if state == "queued":  # nothing else writes it meanwhile
            assert paths.status_json.read_bytes() == before
    control.kill(running, runs_root=tmp_path)
    control.kill(queued, runs_root=tmp_path)


def test_resume_is_refused_while_slurm_runs_the_job(tmp_path: Path, slurm_jobs: list[str]) -> None:
    """A run misjudged as failed while its job still runs (an older reader, a stale
    heartbeat) cannot be resumed on top of the live job: Slurm says it runs."""
    process_id, job_id = _slow_run(tmp_path)
    slurm_jobs.append(job_id)
    paths = RunPaths.for_id(process_id, root=tmp_path)
    wait_until(lambda: paths.last_ckpt.is_file(), f"run {process_id} wrote last.ckpt")
    transition(paths, "failed", event="process_lost", changes={"error_summary": None})
    jobs_before = read_run(paths)["job_ids"]
    reply = control.resume(process_id, runs_root=tmp_path)
    assert reply["status"] == "error", reply
    assert "kill" in str(reply["error_summary"]).lower(), reply
    assert read_run(paths)["job_ids"] == jobs_before  # nothing submitted
    control.kill(process_id, runs_root=tmp_path)
