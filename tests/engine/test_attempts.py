"""The attempt model without a cluster: Slurm's job state -> the run's record, one
``requeued`` event per attempt, the newest loadable checkpoint, a restarted job's start.

The same rules run on the real cluster in tests/control/test_slurm_faults.py.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
import torch

from oceansr.control import status as control_status
from oceansr.control.backends import find_backend
from oceansr.control.backends.slurm import SlurmBackend
from oceansr.control.backends.slurm_state import JobStateCache
from oceansr.engine.callbacks.requeue import (
    RequeueWatch,
    continue_from,
    record_restart,
    record_scheduler_stop,
    restart_completed,
)
from oceansr.runs import (
    KilledBy,
    KillKind,
    RunPaths,
    add_attempt,
    create_run,
    new_run_id,
    read_events,
    read_status,
    record_killed,
    record_requeued,
    transition,
    update_run,
)
from oceansr.runs.checkpoint_file import newest_resumable
from oceansr.runs.scheduler import ending_after_signal


def _run(root: Path, *, backend: str = "slurm") -> RunPaths:
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=[], command=["x"], backend=backend, on_exit="keep")
    add_attempt(paths, backend=backend, job_id="42")
    transition(paths, "running", event="process_started", changes={"pid": 1234})
    return paths


def _requeued(paths: RunPaths) -> list[dict]:
    return [e for e in read_events(paths) if e["event"] == "requeued"]


# --------------------------------------------------------------------------- Slurm's word


@pytest.mark.parametrize("state", ["PENDING", "REQUEUED", "REQUEUE_HOLD"])
def test_a_job_queued_again_is_a_requeue(state: str) -> None:
    ending = ending_after_signal("7", state, "", "BeginTime")
    assert ending is not None and ending.outcome == "requeued"
    assert "7" in ending.reason and state in ending.reason


def test_a_completing_job_whose_restart_count_rose_is_a_requeue() -> None:
    # scontrol requeue: the job shows COMPLETING (tasks stopping), Restarts already +1
    ending = ending_after_signal("7", "COMPLETING", "n1", "", restarted=True)
    assert ending is not None and ending.outcome == "requeued"
    assert ending_after_signal("7", "COMPLETING", "n1", "") is None


def test_cancel_outside_oceansr_is_killed_by_the_scheduler_with_its_state() -> None:
    ending = ending_after_signal("7", "CANCELLED", "n1", "")
    assert ending is not None and ending.killed_by is not None
    assert ending.killed_by.kind is KillKind.SCHEDULER
    assert "CANCELLED" in (ending.killed_by.detail or "")
    assert "scancel" in (ending.killed_by.detail or "")


def test_time_limit_without_requeue_is_a_time_limit() -> None:
    ending = ending_after_signal("7", "TIMEOUT", "n1", "TimeLimit")
    assert ending is not None and ending.killed_by is not None
    assert ending.killed_by.kind is KillKind.TIME_LIMIT


def test_node_failure_without_requeue_fails_naming_the_node() -> None:
    ending = ending_after_signal("7", "NODE_FAIL", "n2", "NodeDown")
    assert ending is not None and ending.outcome == "failed"
    summary = ending.error_summary or {}
    assert summary["failureType"] == "node_failure"
    assert "n2" in summary["message"] and summary["nodes"] == "n2"
    assert summary["suggestions"] == ["launcher.requeue=true"]


def test_a_running_job_does_not_explain_the_signal() -> None:
    assert ending_after_signal("7", "RUNNING", "n1", "") is None


# --------------------------------------------------------------------------- one event per attempt


def test_requeue_noticed_by_several_parties_is_recorded_once(tmp_path: Path) -> None:
    paths = _run(tmp_path)
    first = record_requeued(paths, by="trainer", reason="requeued by Slurm")
    again = record_requeued(paths, by="control", reason="requeued by Slurm (squeue)")
    assert first["status"] == again["status"] == "queued"
    assert first["pid"] is None and first["heartbeat_at"] is None
    events = _requeued(paths)
    assert len(events) == 1 and events[0]["by"] == "trainer" and events[0]["attempt"] == 1
    # the next attempt runs and is requeued in turn: one more event
    add_attempt(paths, backend="slurm", job_id="42", restart=1)
    transition(paths, "running", event="process_started", changes={"pid": 99})
    record_requeued(paths, by="control", reason="requeued by Slurm")
    assert [e["attempt"] for e in _requeued(paths)] == [1, 2]


def test_a_terminal_run_is_reopened_only_by_the_next_attempt(tmp_path: Path) -> None:
    paths = _run(tmp_path)
    record_killed(paths, KilledBy(KillKind.SIGNAL, "SIGTERM received"))
    kept = record_requeued(paths, by="control", reason="requeued")
    assert kept["status"] == "killed" and _requeued(paths) == []
    reopened = record_requeued(paths, by="next_attempt", reason="restarted", reopen=True)
    assert reopened["status"] == "queued"
    assert reopened["killed_by"] is None and reopened["ended_at"] is None
    assert _requeued(paths)[0]["previous_status"] == "killed"


# --------------------------------------------------------------------------- checkpoints


def _checkpoint(path: Path, step: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    hparams = {key: [] for key in ("model", "variables", "units", "scale", "mean", "std")}
    torch.save({"global_step": step, "hyper_parameters": hparams}, path)
    return path


def test_newest_resumable_is_the_highest_step_that_loads(tmp_path: Path) -> None:
    paths = _run(tmp_path)
    assert newest_resumable(paths) is None
    _checkpoint(paths.dir / "hpc_ckpt_1.ckpt", 4)
    last = _checkpoint(paths.last_ckpt, 9)
    assert newest_resumable(paths) == last
    newer = _checkpoint(paths.dir / "hpc_ckpt_2.ckpt", 12)
    assert newest_resumable(paths) == newer
    newer.write_bytes(newer.read_bytes()[:100])  # the node died mid-save
    assert newest_resumable(paths) == last


def test_restarted_job_continues_and_a_first_attempt_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _run(tmp_path)
    last = _checkpoint(paths.last_ckpt, 6)
    monkeypatch.delenv("SLURM_RESTART_COUNT", raising=False)
    assert continue_from(paths, "train") is None
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert continue_from(paths, "train") == last
    assert continue_from(paths, "test") is None  # an evaluation keeps its ckpt_path


def test_restart_after_an_unrecorded_end_is_a_new_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _run(tmp_path)  # running: the node died with the trainer, nobody wrote
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    assert record_restart(paths) is True
    assert read_status(paths)["status"] == "queued"
    assert read_status(paths)["attempt"] == 2
    assert [e["by"] for e in _requeued(paths)] == ["next_attempt"]
    assert len(json.loads(paths.run_json.read_text())["attempts"]) == 2


def test_restart_of_a_run_judged_killed_reopens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _run(tmp_path)
    record_killed(paths, KilledBy(KillKind.SCHEDULER, "SIGTERM from Slurm"))
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert record_restart(paths) is True
    assert read_status(paths)["status"] == "queued"


def test_restart_of_a_completed_run_trains_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _run(tmp_path)
    transition(paths, "completed", event="training_end", changes={"exit_code": 0})
    monkeypatch.setenv("SLURM_RESTART_COUNT", "1")
    assert restart_completed(paths)
    assert record_restart(paths) is False
    assert read_status(paths)["status"] == "completed"


# --------------------------------------------------------------------------- the reader's side


class _Squeue:
    def __init__(self, line: str) -> None:
        self.line = line

    def __call__(self, args: Sequence[str]) -> str:
        return self.line + "\n"


@pytest.mark.parametrize(("restarts", "expected"), [(1, "queued"), (0, "running")])
def test_reader_finding_a_running_job_pending_again_records_the_requeue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restarts: int, expected: str
) -> None:
    backend = find_backend("slurm")
    assert isinstance(backend, SlurmBackend)
    line = f"42|PENDING|BeginTime||0|{restarts}|"
    monkeypatch.setattr(backend, "jobs", JobStateCache(ttl_s=60.0, runner=_Squeue(line)))
    paths = _run(tmp_path)
    update_run(paths, job_id="42", host="elsewhere")
    doc = control_status(paths.run_id, runs_root=tmp_path)
    assert doc["status"] == expected
    assert len(_requeued(paths)) == (1 if expected == "queued" else 0)
    if expected == "queued":
        assert _requeued(paths)[0]["by"] == "control"
        assert "BeginTime" in doc["queue_reason"]


# --------------------------------------------------------------------------- the trainer's side


@pytest.fixture
def fake_scontrol(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A ``scontrol`` on PATH that shows this job in the state a test sets."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shown = bin_dir / "shown"
    script = bin_dir / "scontrol"
    script.write_text(f'#!/bin/sh\ncat "{shown}"\n')
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{os.environ['PATH']}")
    monkeypatch.setenv("SLURM_JOB_ID", "42")
    monkeypatch.setenv("SLURM_RESTART_COUNT", "0")

    def show(state: str, restarts: int = 0, nodes: str = "n2") -> None:
        shown.write_text(
            f"JobId=42 JobName=x JobState={state} Reason=None Requeue=1 "
            f"Restarts={restarts} NodeList={nodes}\n"
        )

    return show


def test_trainer_stopped_by_a_requeue_records_queued(tmp_path: Path, fake_scontrol) -> None:
    paths = _run(tmp_path)
    fake_scontrol("COMPLETING", restarts=1)  # scontrol requeue, as the task sees it
    ending = record_scheduler_stop(paths, RequeueWatch(), KilledBy(KillKind.SCHEDULER, "x"))
    assert ending is not None and ending.outcome == "requeued"
    assert read_status(paths)["status"] == "queued"
    (event,) = _requeued(paths)
    assert event["by"] == "trainer" and event["slurm_state"] == "COMPLETING"


def test_trainer_stopped_by_a_node_failure_without_requeue_fails_naming_it(
    tmp_path: Path, fake_scontrol
) -> None:
    paths = _run(tmp_path)
    fake_scontrol("NODE_FAIL", nodes="n2")
    record_scheduler_stop(paths, RequeueWatch(), None)
    doc = read_status(paths)
    assert doc["status"] == "failed"
    assert doc["error_summary"]["failureType"] == "node_failure"
    assert "n2" in doc["error_summary"]["message"]


def test_trainer_in_a_job_that_ends_names_slurm_and_the_state(
    tmp_path: Path, fake_scontrol
) -> None:
    paths = _run(tmp_path)
    fake_scontrol("CANCELLED")
    record_scheduler_stop(paths, RequeueWatch(), None)
    doc = read_status(paths)
    assert doc["status"] == "killed" and doc["killed_by"]["kind"] == "scheduler"
    assert "scancel" in doc["killed_by"]["detail"] and "CANCELLED" in doc["killed_by"]["detail"]


def test_a_kill_oceansr_asked_for_is_left_to_the_caller(tmp_path: Path, fake_scontrol) -> None:
    paths = _run(tmp_path)
    fake_scontrol("PENDING", restarts=1)
    assert record_scheduler_stop(paths, RequeueWatch(), KilledBy(KillKind.USER, "kill")) is None
    assert read_status(paths)["status"] == "running" and _requeued(paths) == []
