"""Typed run records (oceansr.runs.records) and the structured cause of a kill.

In-process and cheap: run directories are written with the store's own writers.
"""

from __future__ import annotations

import json
from pathlib import Path

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
from runfactory import make_run

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
