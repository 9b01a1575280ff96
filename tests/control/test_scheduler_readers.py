"""Readers never misjudge scheduler runs (issue 16): a Slurm run is judged by its backend
(the job state) and by nothing else, whichever surface reads it.

The runs are real run directories left as the Slurm backend and the trainer leave them;
``squeue`` is the canned :class:`FakeSqueue` of the backend tests, so nothing here
touches a cluster (and nothing calls ``scancel`` or ``sbatch``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from test_slurm_backend import FakeSqueue, slurm_run

from oceansr import control
from oceansr.adapters import cli
from oceansr.adapters.mcp.server import build_server
from oceansr.control.backends import (
    LocalBackend,
    SlurmBackend,
    StopOutcome,
    find_backend,
    register_backend,
    unregister_backend,
)
from oceansr.control.backends.slurm_state import JobStateCache
from oceansr.core.errors import RunStateError
from oceansr.report import load_history, make_plots, make_report
from oceansr.runs import (
    LostVerdict,
    ProcessIdentity,
    RunPaths,
    heartbeat,
    read_events,
    read_run,
    read_status,
    transition,
    update_run,
)
from runfactory import dead_pid

JOB = "5150"


@pytest.fixture
def squeue(monkeypatch: pytest.MonkeyPatch) -> FakeSqueue:
    """The registered slurm backend reads job state from a :class:`FakeSqueue`."""
    fake = FakeSqueue()
    backend = find_backend("slurm")
    assert isinstance(backend, SlurmBackend)
    monkeypatch.setattr(backend, "jobs", JobStateCache(ttl_s=60.0, runner=fake))
    return fake


def _long_ago(seconds: float) -> str:
    return (datetime.now(UTC) - timedelta(seconds=seconds)).isoformat()


def running_on_a_compute_node(root: Path) -> RunPaths:
    """A Slurm run whose trainer runs on a compute node: run.json keeps the login node
    as host (this machine) and the trainer's pid, which is no process here."""
    paths = slurm_run(root, JOB)
    pid, created = dead_pid()
    update_run(paths, pid=pid, process_create_time=created)
    transition(
        paths,
        "running",
        event="process_started",
        changes={"pid": pid, "host": "compute-node-7", "job_id": JOB},
        pid=pid,
        host="compute-node-7",
    )
    heartbeat(paths)  # fresh: the trainer is beating
    return paths


def mark_submitted(paths: RunPaths, job_id: str) -> None:
    """What the Slurm backend records once sbatch took the job: queued, waiting."""
    transition(
        paths,
        "queued",
        event="job_submitted",
        changes={"job_id": job_id, "queue_reason": "Priority"},
        job_id=job_id,
    )


def queued_for_ten_minutes(root: Path) -> RunPaths:
    """A Slurm run whose job has waited in the queue for ten minutes: no pid at all."""
    paths = slurm_run(root, JOB)
    mark_submitted(paths, JOB)
    doc = json.loads(paths.status_json.read_text())
    doc.update(created_at=_long_ago(600), updated_at=_long_ago(600))
    paths.status_json.write_text(json.dumps(doc))
    return paths


SCHEDULER_RUNS = {"running": running_on_a_compute_node, "queued": queued_for_ten_minutes}


def _files(paths: RunPaths) -> tuple[bytes, bytes, bytes]:
    return (
        paths.status_json.read_bytes(),
        paths.events_jsonl.read_bytes(),
        paths.run_json.read_bytes(),
    )


# --------------------------------------------------------------------------- report


@pytest.mark.parametrize("state", sorted(SCHEDULER_RUNS))
def test_the_report_writes_no_verdict_of_its_own(tmp_path: Path, state: str) -> None:
    """Without a refresh, plots and report read status.json as recorded: the compute
    node's pid is not looked up here, a queued job is not 'no process recorded'."""
    paths = SCHEDULER_RUNS[state](tmp_path)
    before = _files(paths)
    with pytest.raises(RunStateError, match=f"is {state}"):
        make_report(paths.run_id, runs_root=tmp_path)
    with pytest.raises(RunStateError, match=f"is {state}"):
        make_plots(paths.run_id, runs_root=tmp_path, num_maps=0)
    assert load_history(paths.dir).state == state
    assert _files(paths) == before, "the report wrote to the run's files"


@pytest.mark.parametrize(("state", "job_state"), [("running", "RUNNING"), ("queued", "PENDING")])
def test_the_report_refreshed_through_the_backend_keeps_live_jobs(
    squeue: FakeSqueue, tmp_path: Path, state: str, job_state: str
) -> None:
    paths = SCHEDULER_RUNS[state](tmp_path)
    squeue.set(JOB, job_state, "Priority")
    with pytest.raises(RunStateError, match=f"is {state}"):
        make_report(paths.run_id, runs_root=tmp_path, refresh=control.live)
    with pytest.raises(RunStateError, match=f"is {state}"):
        make_plots(paths.run_id, runs_root=tmp_path, num_maps=0, refresh=control.live)
    doc = read_status(paths)
    assert doc["status"] == state and doc.get("error_summary") is None
    assert not read_events(paths, names=("process_lost", "killed"))
    assert squeue.calls >= 1, "the refresh asked the scheduler"


def _ended_job(fake: FakeSqueue, tmp_path: Path) -> RunPaths:
    """A run whose job Slurm reports ended (exit code 1) while status.json says running."""
    paths = running_on_a_compute_node(tmp_path)
    fake.set(JOB, "FAILED", "NonZeroExitCode", code=256)
    return paths


def test_oceansr_report_asks_the_runs_backend(
    squeue: FakeSqueue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI passes control's refresh: the job's end is recorded, then plotted."""
    paths = _ended_job(squeue, tmp_path)
    argv = ["--runs-root", str(tmp_path), "report", "plots", paths.run_id, "--num-maps", "0"]
    assert cli.main([*argv, "--json"]) == 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["status"] == "ok" and reply["run_status"] == "failed", reply
    (lost,) = read_events(paths, names="process_lost")
    assert lost["slurm_state"] == "FAILED" and lost["exit_code"] == 1


def test_the_mcp_plots_tool_asks_the_runs_backend(squeue: FakeSqueue, tmp_path: Path) -> None:
    paths = _ended_job(squeue, tmp_path)
    server = build_server(runs_root=str(tmp_path))

    async def visualize() -> dict[str, Any]:
        args = {"process_id": paths.run_id, "num_maps": 0}
        result = await server.call_tool("ocean_sr_train_visualize", args)
        return json.loads(result.content[0].text)

    reply = anyio.run(visualize)
    assert reply["status"] == "ok" and reply["run_status"] == "failed", reply
    assert read_status(paths)["error_summary"]["slurm_state"] == "FAILED"


# --------------------------------------------------------------------------- resume


def test_resume_refuses_while_the_job_runs_and_changes_nothing(
    squeue: FakeSqueue, tmp_path: Path
) -> None:
    """A job id and no pid (the run was recorded lost while its job ran on): resume
    would submit a second job on top of the live one."""
    paths = slurm_run(tmp_path, JOB)
    transition(paths, "failed", event="process_lost", changes={"error_summary": None})
    squeue.set(JOB, "RUNNING")
    before = _files(paths)
    reply = control.resume(paths.run_id, runs_root=tmp_path)
    assert reply["status"] == "error", reply
    summary = reply["error_summary"]
    assert summary["failureType"] == "config_error" and summary["field"] == "process_id"
    assert f"job {JOB}" in summary["message"] and "still queued or running" in summary["message"]
    assert any(f"kill('{paths.run_id}')" in said for said in summary["advice"]), summary
    assert [(c["action"], c["args"]) for c in reply["next"]] == [
        ("kill", {"process_id": paths.run_id}),
        ("status", {"process_id": paths.run_id}),
    ]
    assert _files(paths) == before


def test_resume_refuses_while_the_process_of_a_failed_local_run_lives(
    tmp_path: Path, sleeper: ProcessIdentity
) -> None:
    """The kill it suggests stops the leftover process and keeps the recorded status."""
    paths = _failed_local_run(tmp_path, sleeper)
    reply = control.resume(paths.run_id, runs_root=tmp_path)
    assert reply["status"] == "error" and f"pid {sleeper.pid}" in reply["error_summary"]["message"]
    assert reply["next"][0]["action"] == "kill"
    stopped = control.kill(paths.run_id, grace=30, runs_root=tmp_path)
    assert stopped["status"] == "failed" and stopped["kill"]["signal"] == "SIGTERM", stopped
    assert not LocalBackend().is_running(sleeper)
    again = control.kill(paths.run_id, runs_root=tmp_path)
    assert again["status"] == "error" and "nothing to kill" in again["error_summary"]["message"]
    assert read_status(paths)["status"] == "failed"


@pytest.fixture
def sleeper() -> Any:
    """A live process in its own session, standing for a trainer recorded lost."""
    import subprocess
    import sys

    from oceansr.runs import process_identity

    proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    ident = process_identity(proc.pid)
    yield ProcessIdentity(pid=proc.pid, pgid=proc.pid, create_time=ident["create_time"])
    proc.kill()
    proc.wait()


def _failed_local_run(root: Path, identity: ProcessIdentity) -> RunPaths:
    from runfactory import make_run

    paths = make_run(root, pid=identity.pid, create_time=identity.create_time, pgid=identity.pgid)
    transition(paths, "failed", event="process_lost", changes={"error_summary": None})
    return paths


# --------------------------------------------------------------------------- sweep


class HeldBackend(LocalBackend):
    """A scheduler whose jobs stay queued: submit records ``queued``, nothing runs, and
    a cancelled job reports exit status 0, as ``squeue`` shows a cancelled pending job."""

    name = "held"  # type: ignore[misc]

    def __init__(self) -> None:
        super().__init__()
        self.cancelled: set[str] = set()

    def submit(self, run_id: str, command: Sequence[str], **kwargs: Any) -> ProcessIdentity:
        paths = RunPaths.from_dir(kwargs["log_path"].parent)
        job_id = str(abs(hash(run_id)) % 100000)
        mark_submitted(paths, job_id)
        return ProcessIdentity(pid=None, job_id=job_id)

    def exit_code(
        self, run_id: str, identity: ProcessIdentity, *, wait_s: float = 0.0
    ) -> int | None:
        return 0 if identity.job_id in self.cancelled else None

    def is_running(self, identity: ProcessIdentity) -> bool:
        return identity.job_id not in self.cancelled

    def lost_verdict(self, *args: Any) -> LostVerdict | None:
        return None

    def stop(self, identity: ProcessIdentity, grace: float) -> StopOutcome:
        self.cancelled.add(str(identity.job_id))
        return StopOutcome(signal="cancel")


@pytest.fixture
def held() -> Any:
    backend = register_backend(HeldBackend())
    yield backend.name
    unregister_backend(backend.name)


def test_a_sweep_of_queued_jobs_is_started_not_failed(tmp_path: Path, held: str) -> None:
    reply = control.sweep(
        ["experiment=smoke", "seed=1,2"],
        runs_root=tmp_path,
        backend=held,
        wait_for_start=True,
        startup_timeout=0.3,
    )
    assert [run["status"] for run in reply["runs"]] == ["queued", "queued"], reply
    assert reply["status"] == "started" and "error_summary" not in reply
    assert len(reply["process_ids"]) == 2


# --------------------------------------------------------------------------- kill, list, CLI


def test_a_queued_job_killed_has_no_exit_code_and_no_duration(tmp_path: Path, held: str) -> None:
    started = control.start(
        ["experiment=smoke"], runs_root=tmp_path, backend=held, startup_timeout=0.3
    )
    assert started["status"] == "queued", started
    reply = control.kill(started["process_id"], grace=30, runs_root=tmp_path)
    assert reply["status"] == "killed" and reply["kill_reason"]["by"] == "user", reply
    assert reply["exit_code"] is None and reply["duration_s"] is None
    paths = RunPaths.for_id(started["process_id"], tmp_path)
    (killed,) = read_events(paths, names="killed")
    assert killed["exit_code"] is None


def test_a_job_killed_in_the_queue_never_ran(squeue: FakeSqueue, tmp_path: Path) -> None:
    """No exit code (a cancelled pending job reads 0:0 in squeue) and no running time."""
    paths = queued_for_ten_minutes(tmp_path)
    squeue.set(JOB, "CANCELLED", "None", code=0)
    doc = control.status(paths.run_id, runs_root=tmp_path)
    assert doc["status"] == "killed" and doc["kill_reason"]["by"] == "scheduler", doc
    assert doc["exit_code"] is None and doc["duration_s"] is None
    (killed,) = read_events(paths, names="killed")
    assert killed["exit_code"] is None
    row = control.list_runs(runs_root=tmp_path)["runs"][0]
    assert row["status"] == "killed" and row["duration_s"] is None
    assert read_run(paths)["job_id"] == JOB


def test_list_rows_carry_the_queue_reason(squeue: FakeSqueue, tmp_path: Path) -> None:
    paths = queued_for_ten_minutes(tmp_path)
    squeue.set(JOB, "PENDING", "Resources")
    (row,) = control.list_runs(runs_root=tmp_path)["runs"]
    assert row["process_id"] == paths.run_id
    assert row["status"] == "queued" and row["queue_reason"] == "Resources", row


def test_cli_status_and_list_show_the_job(
    squeue: FakeSqueue, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = queued_for_ten_minutes(tmp_path)
    squeue.set(JOB, "PENDING", "Resources")
    assert cli.main(["--runs-root", str(tmp_path), "status", paths.run_id]) == 0
    shown = capsys.readouterr().out
    assert f"{JOB} (queued: Resources)" in shown and "pid" not in shown, shown
    assert cli.main(["--runs-root", str(tmp_path), "list"]) == 0
    assert "queued (Resources)" in capsys.readouterr().out
