"""Typed run records (oceansr.runs.records) and the structured cause of a kill.

In-process and cheap: run directories are written with the store's own writers (or, for
compatibility, as an older oceansr wrote them), and each kill path is driven through the
function that records it: the kill call, the reader that finds the process gone, the
trainer's SIGTERM handler and parent watcher.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from oceansr import control
from oceansr.engine.callbacks import session as session_module
from oceansr.engine.callbacks.session import (
    END_TIME_SLACK_S,
    RunSession,
    StopRequested,
    unrequested_sigterm,
)
from oceansr.runs import (
    STATUSES,
    TERMINAL_STATUSES,
    KilledBy,
    KillKind,
    RunPaths,
    RunRecord,
    RunStatus,
    StatusRecord,
    add_attempt,
    append_event,
    heartbeat,
    is_terminal,
    read_events,
    read_run,
    read_status,
    record_killed,
    transition,
    update_run,
    update_status,
)
from runfactory import dead_pid, make_run

# --------------------------------------------------------------------------- the enum


def test_run_status_members_are_the_strings_of_the_files() -> None:
    assert [s.value for s in RunStatus] == list(STATUSES)
    assert RunStatus.KILLED == "killed" and RunStatus("killed") is RunStatus.KILLED
    assert json.dumps({"status": RunStatus.QUEUED}) == '{"status": "queued"}'
    assert f"{RunStatus.RUNNING}" == "running"
    assert all(type(name) is str for name in STATUSES)  # plain strings for JSON schemas


def test_run_status_knows_which_states_are_final() -> None:
    terminal = {s for s in RunStatus if s.is_terminal}
    assert terminal == {RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.KILLED}
    assert terminal == TERMINAL_STATUSES
    assert RunStatus.parse("failed") is RunStatus.FAILED
    for other in ("error", "unreadable", None, 3, "KILLED"):
        assert RunStatus.parse(other) is None
        assert not is_terminal(other)
    assert is_terminal(RunStatus.KILLED) and is_terminal({"status": "completed"})


# --------------------------------------------------------------------------- round trips


def _full_run(root: Path) -> RunPaths:
    """A run that went through every writer that adds to its files."""
    paths = make_run(root, extra={"cwd": "/home/u", "model": "srcnn"})
    update_run(paths, pid=4242, pgid=4242, process_create_time=1772359000.25, parent_pid=1)
    add_attempt(paths, ckpt_path="checkpoints/last.ckpt", backend="local")
    progress = {"epoch": 2, "total_epochs": 10, "step": 40, "eta_s": 5.0, "eta_pending": None}
    heartbeat(paths, {"progress": progress, "memory": {"rss_mb": 512.0}})
    update_status(paths, {"phase": "training", "metrics": {"best": {"val/rmse": 0.5}}})
    cause = KilledBy(KillKind.USER, "kill requested by the user (MCP)")
    record_killed(paths, cause, changes={"exit_code": 143}, last_checkpoint=None)
    return paths


def test_records_round_trip_the_files_this_version_writes(tmp_path: Path) -> None:
    paths = _full_run(tmp_path)
    failed = make_run(tmp_path)
    summary = {"failureType": "nan_loss", "message": "NaN", "suggestions": ["x=1"]}
    transition(failed, "failed", event="training_error", changes={"error_summary": summary})
    for doc in (read_status(paths), read_status(failed), read_status(make_run(tmp_path))):
        assert StatusRecord.from_json(doc).to_json() == doc
    for run in (paths, failed):
        assert RunRecord.from_json(read_run(run)).to_json() == read_run(run)


def test_the_killed_event_and_status_carry_the_same_cause(tmp_path: Path) -> None:
    paths = _full_run(tmp_path)
    record = StatusRecord.from_json(read_status(paths))
    (event,) = read_events(paths, names="killed")
    assert record.status is RunStatus.KILLED and record.is_terminal
    assert record.killed_by == KilledBy(KillKind.USER, "kill requested by the user (MCP)")
    assert event["killed_by"] == record.killed_by.to_json()
    assert event["reason"] == "kill requested by the user (MCP)"  # text for older readers
    assert record.extra == {"memory": {"rss_mb": 512.0}}
    assert record.metrics_of("best") == {"val/rmse": 0.5} and record.metrics_of("test") == {}
    run = RunRecord.from_json(read_run(paths))
    assert run.model == "srcnn" and run.overrides == ["experiment=smoke"]
    assert run.pid == 4242 and len(run.attempts) == 1 and run.extra["cwd"] == "/home/u"


def test_a_resume_clears_the_cause_of_the_previous_kill(tmp_path: Path) -> None:
    paths = _full_run(tmp_path)
    doc = transition(paths, "running", event="resumed", allow_terminal_exit=True)
    assert doc["killed_by"] is None and doc["status"] == "running"
    doc = record_killed(paths, KilledBy(KillKind.SIGNAL))
    assert doc["killed_by"] == {"kind": "signal", "detail": None}  # replaced, not merged


# --------------------------------------------------------------------------- older files

#: A killed run's files exactly as oceansr wrote them before ``killed_by`` (generated with
#: that version's store: the trainer stopped when its MCP server exited).
OLD_RUN_ID = "train-20260301-101500-a1b2c3"
OLD_STATUS: dict[str, Any] = {
    "schema_version": 1,
    "run_id": OLD_RUN_ID,
    "kind": "train",
    "status": "killed",
    "phase": "done",
    "pid": 4242,
    "host": "node1",
    "created_at": "2026-12-02T05:37:36.635Z",
    "started_at": "2026-12-02T05:37:36.722Z",
    "ended_at": "2026-12-02T05:37:36.764Z",
    "updated_at": "2026-12-02T05:37:36.767Z",
    "heartbeat_at": "2026-12-02T05:37:36.733Z",
    "exit_code": 143,
    "progress": {
        "epoch": 2,
        "total_epochs": 10,
        "step": 40,
        "total_steps": 200,
        "percent": 20.0,
        "elapsed_s": 12.5,
        "eta_s": 50.0,
        "samples_per_s": 30.1,
        "eta_pending": None,
    },
    "metrics": {"latest": {"val/rmse": 0.5}, "best": {"val/rmse": 0.5, "epoch": 1}, "test": {}},
    "best_checkpoint": None,
    "last_checkpoint": "checkpoints/last.ckpt",
    "error_summary": None,
    "memory": {"rss_mb": 512.0},
}
OLD_RUN: dict[str, Any] = {
    "schema_version": 1,
    "run_id": OLD_RUN_ID,
    "created_at": "2026-12-02T05:37:36.635Z",
    "kind": "train",
    "overrides": ["experiment=smoke"],
    "command": ["python", "-m", "oceansr.train"],
    "backend": "local",
    "on_exit": "terminate",
    "host": "vm",
    "pid": 4242,
    "pgid": 4242,
    "process_create_time": 1772359000.25,
    "parent_pid": 4200,
    "attempts": [],
    "cwd": "/home/u",
    "model": "srcnn",
}
OLD_EVENTS = f"""\
{{"seq": 1, "ts": "2026-12-02T05:37:36.655Z", "run_id": "{OLD_RUN_ID}", "event": "run_created", \
"kind": "train", "overrides": ["experiment=smoke"], "command": ["python", "-m", "oceansr.train"], \
"backend": "local", "on_exit": "terminate"}}
{{"seq": 2, "ts": "2026-12-02T05:37:36.723Z", "run_id": "{OLD_RUN_ID}", "event": \
"process_started", "pid": 4242, "host": "node1", "argv": []}}
{{"seq": 3, "ts": "2026-12-02T05:37:36.764Z", "run_id": "{OLD_RUN_ID}", "event": "killed", \
"reason": "controller (pid 4200) exited and on_exit=terminate", \
"last_checkpoint": "checkpoints/last.ckpt"}}
"""


def _old_run(root: Path, status: dict[str, Any] = OLD_STATUS) -> RunPaths:
    paths = RunPaths.for_id(OLD_RUN_ID, root)
    paths.dir.mkdir(parents=True)
    paths.status_json.write_text(json.dumps(status, indent=2), encoding="utf-8")
    paths.run_json.write_text(json.dumps(OLD_RUN, indent=2), encoding="utf-8")
    paths.events_jsonl.write_text(OLD_EVENTS, encoding="utf-8")
    return paths


def test_records_read_a_run_written_before_killed_by(tmp_path: Path) -> None:
    paths = _old_run(tmp_path)
    record = StatusRecord.from_json(read_status(paths))
    assert record.killed_by is None and record.status is RunStatus.KILLED
    assert record.to_json() == {**OLD_STATUS, "killed_by": None}
    assert RunRecord.from_json(read_run(paths)).to_json() == OLD_RUN
    reply = control.status(OLD_RUN_ID, runs_root=tmp_path)
    assert reply["kill_reason"] == {
        "by": "controller_exit",
        "detail": "controller (pid 4200) exited and on_exit=terminate",
    }
    (row,) = control.list_runs(runs_root=tmp_path)["runs"]
    assert row["status"] == "killed" and row["model"] == "srcnn" and row["epoch"] == 2


def test_a_status_without_optional_fields_still_reads(tmp_path: Path) -> None:
    optional = ("heartbeat_at", "progress", "metrics", "best_checkpoint", "error_summary")
    sparse = {k: v for k, v in OLD_STATUS.items() if k not in optional}
    paths = _old_run(tmp_path, sparse)
    record = StatusRecord.from_json(read_status(paths))
    assert record.progress == {} and record.heartbeat_at is None and record.metrics_of("best") == {}
    reply = control.status(paths.run_id, runs_root=tmp_path)
    assert reply["status"] == "killed" and reply["kill_reason"]["by"] == "controller_exit"
    (row,) = control.list_runs(runs_root=tmp_path)["runs"]
    assert row["status"] == "killed" and row["epoch"] is None and row["best_val_rmse"] is None


def test_damaged_fields_are_named_not_guessed(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="'progress'"):
        StatusRecord.from_json({**OLD_STATUS, "progress": "x"})
    with pytest.raises(TypeError, match="'best'"):
        StatusRecord.from_json({**OLD_STATUS, "metrics": {"best": [1]}})
    with pytest.raises(ValueError, match="'status'"):
        StatusRecord.from_json({**OLD_STATUS, "status": "paused"})
    with pytest.raises(TypeError, match="'overrides'"):
        RunRecord.from_json({**OLD_RUN, "overrides": "model=srcnn"})
    assert RunRecord.from_json({}).overrides == []  # a damaged run.json reads as empty
    paths = _old_run(tmp_path, {**OLD_STATUS, "pid": "4242"})
    reply = control.status(paths.run_id, runs_root=tmp_path)
    assert reply["status"] == "error" and "'pid'" in reply["error_summary"]["message"]


def test_killed_by_reads_tolerantly() -> None:
    assert KilledBy.from_json(None) is None and KilledBy.from_json("user") is None
    newer = KilledBy.from_json({"kind": "quota", "detail": "over budget"})
    assert newer == KilledBy(KillKind.SYSTEM, "over budget")
    old_request = {"event": "kill_requested", "reason": "kill requested via oceansr.control"}
    assert KilledBy.of_request(old_request) == KilledBy(KillKind.USER, old_request["reason"])
    cause = KilledBy(KillKind.CONTROLLER_EXIT, "controller gone")
    assert KilledBy.of_request({"reason": "x", "killed_by": cause.to_json()}) == cause


# --------------------------------------------------------------------------- kill paths


def _killed_by(paths: RunPaths) -> dict[str, Any]:
    """The cause in status.json, checked to be the one in the last ``killed`` event."""
    doc = read_status(paths)
    assert doc["status"] == "killed"
    assert read_events(paths, names="killed")[-1]["killed_by"] == doc["killed_by"]
    return dict(doc["killed_by"])


def test_kill_call_records_a_user_kill(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", "print('ready', flush=True); import time; time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        paths = make_run(tmp_path, pid=proc.pid, pgid=proc.pid)
        reply = control.kill(paths.run_id, grace=5, runs_root=tmp_path, reason="from a test")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
    assert reply["status"] == "killed", reply
    assert reply["kill_reason"] == {"by": "user", "detail": "from a test"}
    assert _killed_by(paths) == {"kind": "user", "detail": "from a test"}
    (request,) = read_events(paths, names="kill_requested")
    assert request["killed_by"] == {"kind": "user", "detail": "from a test"}


def test_a_requested_kill_found_gone_is_a_user_kill(tmp_path: Path) -> None:
    pid, created = dead_pid()
    paths = make_run(tmp_path, pid=pid, create_time=created)
    append_event(paths, "kill_requested", reason="asked by an older controller")
    reply = control.status(paths.run_id, runs_root=tmp_path)
    assert reply["kill_reason"] == {"by": "user", "detail": "asked by an older controller"}
    assert _killed_by(paths)["kind"] == "user"


def _session(paths: RunPaths) -> RunSession:
    """The trainer's session for a run the control plane made (not opened: no threads,
    no handler installed; the tests call the handlers as the OS or the watcher would)."""
    return RunSession(paths, [])


@pytest.fixture
def no_slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SLURM_JOB_ID", "SLURM_JOB_END_TIME"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.usefixtures("no_slurm")
def test_an_unrequested_sigterm_is_a_signal(tmp_path: Path) -> None:
    paths = make_run(tmp_path)
    session = _session(paths)
    session.in_training_loop = True  # Lightning stops at the next batch: only remember why
    session._on_sigterm(signal.SIGTERM, None)
    session.killed("checkpoints/last.ckpt")
    assert _killed_by(paths) == {"kind": "signal", "detail": "SIGTERM received"}
    assert read_events(paths, names="killed")[-1]["reason"] == "SIGTERM received"


@pytest.mark.usefixtures("no_slurm")
def test_a_sigterm_the_kill_call_asked_for_is_the_users(tmp_path: Path) -> None:
    paths = make_run(tmp_path)
    cause = KilledBy(KillKind.USER, "kill requested by the user (MCP)")
    append_event(paths, "kill_requested", reason=cause.detail, killed_by=cause.to_json())
    session = _session(paths)
    with pytest.raises(StopRequested):  # outside the training loop: stop at once
        session._on_sigterm(signal.SIGTERM, None)
    session.killed()
    assert _killed_by(paths) == cause.to_json()


@pytest.mark.usefixtures("no_slurm")
def test_a_kill_request_of_an_earlier_attempt_does_not_count(tmp_path: Path) -> None:
    paths = make_run(tmp_path, events=[{"event": "kill_requested", "reason": "first attempt"}])
    append_event(paths, "resumed", ckpt_path="checkpoints/last.ckpt")
    session = _session(paths)
    session.in_training_loop = True
    session._on_sigterm(signal.SIGTERM, None)
    session.killed()
    assert _killed_by(paths)["kind"] == "signal"


def test_the_parent_watcher_records_a_controller_exit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = make_run(tmp_path)
    session = _session(paths)
    pid, created = dead_pid()
    session._parent = (pid, created)
    sent: list[tuple[int, int]] = []
    monkeypatch.setattr(session_module.os, "kill", lambda *args: sent.append(args))
    session._watch_parent()  # the controller is gone: stop ourselves as on SIGTERM
    assert sent == [(os.getpid(), signal.SIGTERM)]
    session.in_training_loop = True
    session._on_sigterm(signal.SIGTERM, None)  # the signal it sent: the first cause stays
    session.killed("checkpoints/last.ckpt")
    cause = _killed_by(paths)
    assert cause["kind"] == "controller_exit" and f"pid {pid}" in cause["detail"]
    reply = control.status(paths.run_id, runs_root=tmp_path)
    assert reply["kill_reason"] == {"by": "controller_exit", "detail": cause["detail"]}


def test_a_sigterm_inside_a_slurm_job_is_the_schedulers_or_its_time_limit() -> None:
    now = time.time()
    assert unrequested_sigterm({}, now).kind is KillKind.SIGNAL
    job = {"SLURM_JOB_ID": "42"}
    assert unrequested_sigterm(job, now).kind is KillKind.SCHEDULER
    later = {**job, "SLURM_JOB_END_TIME": str(int(now + 3600))}
    assert unrequested_sigterm(later, now).kind is KillKind.SCHEDULER
    bad = {**job, "SLURM_JOB_END_TIME": "soon"}
    assert unrequested_sigterm(bad, now).kind is KillKind.SCHEDULER
    ended = {**job, "SLURM_JOB_END_TIME": str(now + END_TIME_SLACK_S / 2)}
    cause = unrequested_sigterm(ended, now)
    assert cause.kind is KillKind.TIME_LIMIT and "42" in str(cause.detail)


def test_the_trainer_records_a_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLURM_JOB_ID", "77")
    monkeypatch.setenv("SLURM_JOB_END_TIME", str(int(time.time()) - 5))
    paths = make_run(tmp_path)
    session = _session(paths)
    session.in_training_loop = True
    session._on_sigterm(signal.SIGTERM, None)
    session.killed()
    assert _killed_by(paths)["kind"] == "time_limit"
    assert control.status(paths.run_id, runs_root=tmp_path)["kill_reason"]["by"] == "time_limit"


@pytest.mark.usefixtures("no_slurm")
@pytest.mark.parametrize(
    ("stop", "kind", "detail"),
    [
        (KeyboardInterrupt(), "signal", "interrupted (KeyboardInterrupt)"),
        (StopRequested("SIGTERM received"), "signal", "SIGTERM received"),
    ],
)
def test_a_stopped_predict_run_records_a_signal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: BaseException, kind: str, detail: str
) -> None:
    from oceansr.predict import recorded

    def interrupted(**_: Any) -> dict[str, Any]:
        raise stop

    monkeypatch.setattr(recorded, "predict", interrupted)  # stopped before any work
    with pytest.raises(recorded.PredictKilled) as killed:
        recorded.run_predict_recorded(None, tmp_path, input="in.nc", checkpoint="m.ckpt")
    paths = RunPaths.for_id(killed.value.run_id, tmp_path)
    assert _killed_by(paths) == {"kind": kind, "detail": detail}
    assert killed.value.reason == detail
