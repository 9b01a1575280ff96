"""Tests of the run-directory protocol (oceansr.runs), with real files and real processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import oceansr.runs as runs
from oceansr.runs import (
    EVENT_NAMES,
    FAILURE_TYPES,
    PHASES,
    STATUSES,
    TERMINAL_STATUSES,
    CorruptRunFileError,
    InvalidRunIdError,
    RunExistsError,
    RunNotFoundError,
    RunPaths,
)
from runfactory import dead_pid, make_run
from waiting import PATIENCE_S, returns_within, wait_until

STATUS_KEYS = {
    "schema_version",
    "run_id",
    "kind",
    "status",
    "phase",
    "pid",
    "host",
    "created_at",
    "started_at",
    "ended_at",
    "updated_at",
    "heartbeat_at",
    "exit_code",
    "progress",
    "metrics",
    "best_checkpoint",
    "last_checkpoint",
    "error_summary",
    "killed_by",
}
PROGRESS_KEYS = {
    "epoch",
    "total_epochs",
    "step",
    "total_steps",
    "percent",
    "elapsed_s",
    "eta_s",
    "samples_per_s",
}


def _new_run(root: Path, kind: str = "train", **kwargs) -> RunPaths:
    """A freshly created (pending) run, through the shared factory."""
    return make_run(
        root,
        kind=kind,
        status="pending",
        overrides=["model=srcnn", "trainer.max_epochs=2"],
        command=[sys.executable, "-m", "oceansr.train"],
        **kwargs,
    )


@pytest.fixture
def run(tmp_path: Path) -> RunPaths:
    return _new_run(tmp_path / "runs")


def _spawn(code: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(proc: subprocess.Popen[str], timeout: float = PATIENCE_S) -> str:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return out


# --------------------------------------------------------------------------- ids


def test_new_run_id_format_time_and_uniqueness() -> None:
    when = datetime(2026, 11, 28, 6, 15, 0, tzinfo=UTC)
    run_id = runs.new_run_id(now=when)
    assert runs.RUN_ID_RE.fullmatch(run_id)
    assert run_id.startswith("train-20261128-061500-")
    assert runs.new_run_id("predict").startswith("predict-")
    # An aware non-UTC time is converted; a naive one is taken as UTC.
    tokyo = when.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert runs.new_run_id(now=tokyo).startswith("train-20261128-061500-")
    assert runs.new_run_id(now=when.replace(tzinfo=None)).startswith("train-20261128-061500-")
    ids = {runs.new_run_id(now=when) for _ in range(2000)}
    assert len(ids) == 2000
    assert all(runs.validate_run_id(i) == i for i in ids)


@pytest.mark.parametrize("kind", ["", "Train", "tr-ain", "train1", "../x", None])
def test_new_run_id_rejects_bad_kind(kind: object) -> None:
    with pytest.raises(ValueError, match="kind"):
        runs.new_run_id(kind)  # type: ignore[arg-type]


BAD_IDS = [
    "",
    "..",
    ".",
    "/",
    "junk",
    "train",
    "train-20261128-000000-ABCDEF",
    "Train-20261128-000000-abcdef",
    "train-20261128-000000-abcde",
    "train-20261128-000000-abcdefg",
    "train-2026112-000000-abcdef",
    "train-20261128-000000-abcdef\n",
    " train-20261128-000000-abcdef",
    "train-20261128-000000-abc/ef",
    "../train-20261128-000000-abcdef",
    "train-20261128-000000-abcdef/..",
    "/tmp/train-20261128-000000-abcdef",
    "/etc/passwd",
    "train_20261128_000000_abcdef",
    "train-２０２６１１２８-000000-abcdef",
    None,
    123,
    b"train-20261128-000000-abcdef",
    Path("train-20261128-000000-abcdef"),
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_validate_run_id_rejects(bad: object) -> None:
    with pytest.raises(InvalidRunIdError, match=r"YYYYMMDD-HHMMSS-xxxxxx"):
        runs.validate_run_id(bad)
    assert not runs.is_valid_run_id(bad)
    assert issubclass(InvalidRunIdError, ValueError)


@pytest.mark.parametrize("bad", ["..", "/", "../../etc", "/abs/path", "TRAIN-20261128-000000-abc"])
def test_run_paths_validate_before_touching_the_file_system(
    bad: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_fs(*_a: object, **_k: object) -> None:
        raise AssertionError("file system touched before validation")

    monkeypatch.setattr(runs.paths, "default_runs_root", no_fs)
    monkeypatch.setattr(runs.paths, "_absolute", no_fs)
    with pytest.raises(InvalidRunIdError):
        RunPaths.for_id(bad)
    with pytest.raises(InvalidRunIdError):
        RunPaths(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


def test_run_paths_layout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_id = "train-20261128-061500-a1b2c3"
    paths = RunPaths.for_id(run_id, tmp_path)
    d = tmp_path / run_id
    assert paths.dir == d
    assert paths.run_json == d / "run.json"
    assert paths.config_yaml == d / "config.yaml"
    assert paths.status_json == d / "status.json"
    assert paths.events_jsonl == d / "events.jsonl"
    assert paths.train_log == d / "train.log"
    assert paths.checkpoints_dir == d / "checkpoints"
    assert paths.last_ckpt == d / "checkpoints" / "last.ckpt"
    assert paths.best_ckpt == d / "checkpoints" / "best.ckpt"
    assert paths.metrics_csv == d / "metrics.csv"
    assert paths.plots_dir == d / "plots"
    assert paths.report_md == d / "report.md"
    assert paths.predictions_dir == d / "predictions"
    assert paths.lock == d / ".lock"
    assert RunPaths.from_dir(d) == paths
    assert RunPaths.from_dir(f"{d}/") == paths
    with pytest.raises(InvalidRunIdError):
        RunPaths.from_dir(d / "..")
    with pytest.raises(InvalidRunIdError):
        RunPaths.from_dir(tmp_path)

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OCEANSR_RUNS", raising=False)
    assert runs.default_runs_root() == tmp_path / "runs"
    assert RunPaths.for_id(run_id).root.is_absolute()
    monkeypatch.setenv("OCEANSR_RUNS", "elsewhere")
    assert runs.default_runs_root() == tmp_path / "elsewhere"
    monkeypatch.setenv("OCEANSR_RUNS", "")
    assert runs.default_runs_root() == tmp_path / "runs"


# --------------------------------------------------------------------------- schema


def test_schema_constants_follow_design() -> None:
    assert runs.SCHEMA_VERSION == 1
    assert set(STATUSES) == {"pending", "queued", "running", "completed", "failed", "killed"}
    assert {"completed", "failed", "killed"} == TERMINAL_STATUSES
    assert "starting" in PHASES and "done" in PHASES
    assert {"run_created", "training_start", "epoch_end", "process_lost"} <= set(EVENT_NAMES)
    # DESIGN.md's 14 types plus node_failure (docs/architecture.md, failure taxonomy)
    assert len(FAILURE_TYPES) == 15 and {"cuda_oom", "process_lost", "unknown"} <= set(
        FAILURE_TYPES
    )
    assert "node_failure" in FAILURE_TYPES
    assert runs.is_terminal("killed") and runs.is_terminal({"status": "failed"})
    assert not runs.is_terminal("running") and not runs.is_terminal(None)


# --------------------------------------------------------------------------- create


def test_create_run_layout(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    paths = _new_run(root, extra={"notes": "first try"})
    assert sorted(p.name for p in root.iterdir()) == [paths.run_id]  # no staging leftovers
    assert {p.name for p in paths.dir.iterdir()} >= {"run.json", "status.json", "events.jsonl"}

    run_doc = runs.read_run(paths)
    assert run_doc["run_id"] == paths.run_id
    assert run_doc["kind"] == "train"
    assert run_doc["overrides"] == ["model=srcnn", "trainer.max_epochs=2"]
    assert run_doc["command"][1:] == ["-m", "oceansr.train"]
    assert run_doc["backend"] == "local" and run_doc["on_exit"] == "keep"
    assert run_doc["host"] and run_doc["attempts"] == [] and run_doc["notes"] == "first try"
    for key in ("pid", "pgid", "process_create_time", "parent_pid"):
        assert run_doc[key] is None
    assert runs.parse_iso(run_doc["created_at"]).tzinfo is not None
    assert run_doc["created_at"].endswith("Z")

    status = runs.read_status(paths)
    assert set(status) == STATUS_KEYS
    assert set(status["progress"]) == PROGRESS_KEYS
    assert status["metrics"] == {"latest": {}, "best": {}, "test": {}}
    assert status["schema_version"] == 1
    assert (status["status"], status["phase"]) == ("pending", "starting")
    assert status["created_at"] == run_doc["created_at"]
    assert status["error_summary"] is None and status["exit_code"] is None

    (event,) = runs.read_events(paths)
    assert event["seq"] == 1 and event["event"] == "run_created"
    assert event["run_id"] == paths.run_id and event["ts"].endswith("Z")
    assert event["overrides"] == run_doc["overrides"]

    with pytest.raises(RunExistsError):
        runs.create_run(
            paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep"
        )
    assert runs.read_run(paths) == run_doc


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "predict"}, "kind"),
        ({"on_exit": "explode"}, "on_exit"),
        ({"extra": {"run_id": "x"}}, "standard fields"),
    ],
)
def test_create_run_rejects_bad_arguments(tmp_path: Path, kwargs: dict, match: str) -> None:
    paths = RunPaths.for_id(runs.new_run_id(), tmp_path)
    args = {"kind": "train", "overrides": [], "command": None, "backend": "local"}
    args["on_exit"] = "keep"
    with pytest.raises(ValueError, match=match):
        runs.create_run(paths, **{**args, **kwargs})
    assert not any(tmp_path.iterdir())


def test_unknown_run_raises_and_creates_nothing(tmp_path: Path) -> None:
    paths = RunPaths.for_id("train-20261128-000000-zzzzzz", tmp_path)
    for call in (
        lambda: runs.read_status(paths),
        lambda: runs.read_run(paths),
        lambda: runs.read_events(paths),
        lambda: runs.update_status(paths, {"phase": "training"}),
        lambda: runs.append_event(paths, "epoch_end", epoch=1),
        lambda: runs.update_run(paths, pid=1),
    ):
        with pytest.raises(RunNotFoundError, match="not found"):
            call()
    assert not paths.dir.exists()


def test_missing_status_in_existing_dir_is_corrupt(run: RunPaths) -> None:
    run.status_json.unlink()
    with pytest.raises(CorruptRunFileError, match=r"no status\.json"):
        runs.read_status(run)
    run.status_json.write_text("[1, 2]")
    with pytest.raises(CorruptRunFileError, match="not an object"):
        runs.read_status(run)


# --------------------------------------------------------------------------- updates


def test_update_status_deep_merges(run: RunPaths) -> None:
    before = runs.read_status(run)
    while runs.now_iso() <= before["updated_at"]:  # updated_at has millisecond steps
        time.sleep(0.001)
    doc = runs.update_status(run, {"status": "running", "phase": "training", "pid": 42})
    doc = runs.update_status(run, {"progress": {"epoch": 1, "step": 10, "eta_s": float("nan")}})
    doc = runs.update_status(run, {"progress": {"step": 20}, "metrics": {"latest": {"rmse": 0.5}}})
    doc = runs.update_status(run, {"metrics": {"latest": {"mae": 0.3}, "best": {"rmse": 0.4}}})
    assert doc == runs.read_status(run)
    assert doc["status"] == "running" and doc["pid"] == 42
    assert doc["progress"]["epoch"] == 1 and doc["progress"]["step"] == 20
    assert doc["progress"]["eta_s"] is None  # NaN is written as null: strict JSON
    assert doc["progress"]["total_steps"] is None  # untouched keys survive
    assert doc["metrics"] == {
        "latest": {"rmse": 0.5, "mae": 0.3},
        "best": {"rmse": 0.4},
        "test": {},
    }
    assert doc["updated_at"] > before["updated_at"]
    json.loads(run.status_json.read_text(), parse_constant=pytest.fail)  # no NaN literals

    first = {"failureType": "cuda_oom", "message": "m", "traceback_tail": "tb"}
    runs.update_status(run, {"error_summary": first})
    doc = runs.update_status(run, {"error_summary": {"failureType": "unknown", "message": "x"}})
    assert doc["error_summary"] == {"failureType": "unknown", "message": "x"}  # replaced whole


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"status": "exploded"}, ValueError),
        ({"phase": "warming"}, ValueError),
        ({"run_id": "train-20261128-000000-aaaaaa"}, ValueError),
        ({"schema_version": 2}, ValueError),
        ([("status", "running")], TypeError),
    ],
)
def test_update_status_rejects_bad_changes(run: RunPaths, changes: object, error: type) -> None:
    before = run.status_json.read_bytes()
    with pytest.raises(error):
        runs.update_status(run, changes)  # type: ignore[arg-type]
    assert run.status_json.read_bytes() == before


def test_update_run_and_attempts(run: RunPaths) -> None:
    identity = runs.process_identity()
    doc = runs.update_run(
        run,
        pid=identity["pid"],
        pgid=os.getpgid(0),
        process_create_time=identity["create_time"],
        parent_pid=os.getppid(),
    )
    assert doc == runs.read_run(run) and doc["pid"] == os.getpid()
    first = runs.add_attempt(run, pid=1)
    second = runs.add_attempt(run, pid=2, resumed_from="checkpoints/last.ckpt")
    assert (first["attempt"], second["attempt"]) == (1, 2)
    assert [a["pid"] for a in runs.read_run(run)["attempts"]] == [1, 2]
    with pytest.raises(ValueError, match="cannot change"):
        runs.update_run(run, kind="predict")


# --------------------------------------------------------------------------- terminal


def test_terminal_states_are_final(run: RunPaths) -> None:
    runs.transition(run, "running", event="process_started", pid=7)
    done = runs.transition(
        run, "completed", event="training_end", changes={"exit_code": 0}, duration_s=3.5
    )
    assert done["status"] == "completed" and done["phase"] == "done"
    assert done["ended_at"] and done["exit_code"] == 0 and done["started_at"]
    raw = run.status_json.read_bytes()

    for status in ("running", "failed", "killed", "pending"):
        assert runs.update_status(run, {"status": status, "phase": "training"}) == done
        assert runs.transition(run, status, event="killed") == done
    assert runs.transition(run, "completed", event="training_end") == done  # idempotent
    assert run.status_json.read_bytes() == raw
    names = [e["event"] for e in runs.read_events(run)]
    assert names == ["run_created", "process_started", "training_end"]

    # Updates that leave the status alone still apply to a terminal run.
    doc = runs.update_status(run, {"error_summary": {"log_tail": "bye"}, "status": "completed"})
    assert doc["status"] == "completed" and doc["error_summary"] == {"log_tail": "bye"}


def test_resume_leaves_terminal_state_explicitly(run: RunPaths) -> None:
    summary = {"failureType": "nan_loss", "message": "loss is NaN at step 12"}
    failed = runs.transition(
        run,
        "failed",
        event="training_error",
        changes={"exit_code": 1, "error_summary": summary},
        error_summary=summary,
    )
    assert failed["status"] == "failed" and failed["error_summary"] == summary
    resumed = runs.transition(
        run, "running", event="resumed", changes={"phase": "training"}, allow_terminal_exit=True
    )
    assert resumed["status"] == "running" and resumed["phase"] == "training"
    assert resumed["ended_at"] is None and resumed["exit_code"] is None
    assert resumed["error_summary"] is None
    events = runs.read_events(run)
    assert [e["event"] for e in events] == ["run_created", "training_error", "resumed"]
    assert events[1]["error_summary"] == summary


# --------------------------------------------------------------------------- events


def test_append_and_filter_events(run: RunPaths) -> None:
    for epoch in range(1, 4):
        record = runs.append_event(run, "epoch_end", epoch=epoch, val={"rmse": 1.0 / epoch})
        assert record["seq"] == epoch + 1
    runs.append_event(run, "some_future_event", detail=Path("x/y"))
    events = runs.read_events(run)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]
    assert events[-1] == {**events[-1], "event": "some_future_event", "detail": "x/y"}
    assert [e["epoch"] for e in runs.read_events(run, names="epoch_end")] == [1, 2, 3]
    assert [e["seq"] for e in runs.read_events(run, after_seq=3)] == [4, 5]
    assert runs.read_events(run, after_seq=2, names=["run_created", "epoch_end"])[0]["seq"] == 3
    for bad_name in ("", "Epoch", "epoch end", None):
        with pytest.raises(ValueError, match="event name"):
            runs.append_event(run, bad_name)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="reserved"):
        runs.append_event(run, "epoch_end", seq=1)


def test_partial_last_line_is_skipped_and_repaired(run: RunPaths) -> None:
    runs.append_event(run, "process_started", pid=1)
    with run.events_jsonl.open("ab") as f:  # a writer that died mid-line
        f.write(b'{"seq": 3, "ts": "2026-11-28T00:00:00.000Z", "run_id": "x", "event": "epo')
    assert [e["seq"] for e in runs.read_events(run)] == [1, 2]
    record = runs.append_event(run, "epoch_end", epoch=1)
    assert record["seq"] == 3
    assert [e["seq"] for e in runs.read_events(run)] == [1, 2, 3]
    lines = run.events_jsonl.read_bytes().split(b"\n")
    assert lines[-1] == b""  # the file ends with a newline again
    assert json.loads(lines[-2])["event"] == "epoch_end"  # our event is whole on its own line


def test_invalid_lines_in_the_middle_are_skipped(run: RunPaths) -> None:
    with run.events_jsonl.open("ab") as f:
        f.write(b'not json\n[1, 2]\n{"seq": "2", "event": "x"}\n\n{"no_seq": 1}\n\xff\xfe\n')
    assert runs.append_event(run, "epoch_end")["seq"] == 2
    assert [e["event"] for e in runs.read_events(run)] == ["run_created", "epoch_end"]


def test_seq_found_from_tail_with_long_lines(run: RunPaths) -> None:
    big = "x" * 50_000  # longer than the tail chunk: the reader must widen its window
    runs.append_event(run, "epoch_end", blob=big)
    assert runs.append_event(run, "epoch_end", blob=big)["seq"] == 3
    assert runs.append_event(run, "checkpoint_saved")["seq"] == 4


def test_tail_events_offsets(run: RunPaths) -> None:
    events, offset = runs.tail_events(run)
    assert [e["seq"] for e in events] == [1]
    assert runs.tail_events(run, offset) == ([], offset)
    runs.append_event(run, "process_started")
    with run.events_jsonl.open("ab") as f:
        f.write(b'{"seq": 3, "ev')  # being written: not consumed yet
    events, offset2 = runs.tail_events(run, offset)
    assert [e["event"] for e in events] == ["process_started"]
    assert offset2 == offset + len(run.events_jsonl.read_bytes().split(b"\n")[1]) + 1
    runs.append_event(run, "training_start")
    events, _ = runs.tail_events(run, offset2, names="training_start")
    assert [e["seq"] for e in events] == [3]


_APPENDER = """
import sys
from oceansr.runs import RunPaths, append_event, read_status, run_lock, update_status
paths = RunPaths.from_dir(sys.argv[1])
worker, count = int(sys.argv[2]), int(sys.argv[3])
for i in range(count):
    append_event(paths, "epoch_end", worker=worker, i=i)
    if i % 10 == 0:  # read-modify-write under the (re-entrant) lock: no lost increments
        with run_lock(paths):
            step = read_status(paths)["progress"]["step"] or 0
            update_status(paths, {"progress": {"step": step + 1}})
"""


def test_concurrent_appenders_get_gapless_increasing_seq(run: RunPaths) -> None:
    workers, count = 4, 250
    procs = [_spawn(_APPENDER, str(run.dir), str(w), str(count)) for w in range(workers)]
    for proc in procs:
        _finish(proc)
    lines = run.events_jsonl.read_bytes().split(b"\n")
    assert lines[-1] == b""
    records = [json.loads(line) for line in lines[:-1]]  # every line parses
    total = workers * count + 1
    assert [r["seq"] for r in records] == list(range(1, total + 1))
    for w in range(workers):  # each worker's own events stay in its order
        assert [r["i"] for r in records if r.get("worker") == w] == list(range(count))
    assert runs.read_status(run)["progress"]["step"] == workers * count // 10


_STATUS_WRITER = """
import sys
from oceansr.runs import RunPaths, heartbeat, update_status
paths = RunPaths.from_dir(sys.argv[1])
n = int(sys.argv[2])
update_status(paths, {"status": "running", "phase": "training"})
for i in range(n):
    heartbeat(paths, {"progress": {"step": i, "percent": 100.0 * i / n},
                      "metrics": {"latest": {f"k{i % 7}": i, "loss": 1.0 / (i + 1)}}})
"""


def test_status_is_never_torn_while_rewritten(run: RunPaths) -> None:
    updates = 3000
    writer = _spawn(_STATUS_WRITER, str(run.dir), str(updates))
    reads, last_step = 0, -1
    while writer.poll() is None:
        doc = json.loads(run.status_json.read_bytes())  # raw read: no retry to hide a tear
        assert set(doc) >= STATUS_KEYS and set(doc["progress"]) >= PROGRESS_KEYS
        step = doc["progress"]["step"]
        if step is not None:
            assert step >= last_step  # never goes back to an older document
            last_step = step
        assert runs.read_status(run)["run_id"] == run.run_id
        reads += 1
    _finish(writer)
    final = runs.read_status(run)
    assert final["progress"]["step"] == updates - 1 and final["heartbeat_at"]
    assert reads > 100
    leftovers = [p.name for p in run.dir.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_atomic_write_json_and_read_json(tmp_path: Path) -> None:
    target = tmp_path / "doc.json"
    runs.atomic_write_json(target, {"a": float("inf"), "p": tmp_path, "t": (1, 2)})
    assert runs.read_json(target) == {"a": None, "p": str(tmp_path), "t": [1, 2]}
    assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]
    target.write_text('{"half": ')
    with pytest.raises(CorruptRunFileError, match="not valid JSON"):
        runs.read_json(target)


_LOCK_HOLDER = """
import sys
from oceansr.runs import RunPaths, run_lock
with run_lock(RunPaths.from_dir(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_lock_timeout_is_reported(run: RunPaths) -> None:
    def locked_out() -> None:
        with (
            pytest.raises(runs.RunLockTimeoutError, match="could not lock"),
            runs.run_lock(run, timeout=0.2),
        ):
            pass

    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(run.dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        # The holder never lets go by itself: only the timeout can end the attempt.
        returns_within(locked_out, "run_lock(timeout=0.2) on a held lock")
        assert runs.read_status(run)["status"] == "pending"  # reads never need the lock
    finally:
        holder.communicate("\n", timeout=PATIENCE_S)
    with runs.run_lock(run, timeout=1.0):
        pass


def test_to_jsonable_unwraps_array_scalars() -> None:
    np = pytest.importorskip("numpy")
    doc = {"i": np.int64(3), "f": np.float32(0.5), "nan": np.float64("nan"), "a": np.arange(3)}
    assert runs.to_jsonable(doc) == {"i": 3, "f": 0.5, "nan": None, "a": [0, 1, 2]}
    assert runs.to_jsonable({1: {"s": {2, 1}}}) == {"1": {"s": [1, 2]}}


# --------------------------------------------------------------------------- liveness


def test_liveness_current_dead_zombie_and_reused_pid() -> None:
    me = runs.process_identity()
    assert me["pid"] == os.getpid()
    assert runs.is_alive(me["pid"], me["create_time"])
    assert runs.is_alive(me["pid"], None)
    assert not runs.is_alive(me["pid"], me["create_time"] - 100.0)  # pid reused by another
    assert not runs.is_alive(None, None) and not runs.is_alive(0, None)

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead_identity = runs.process_identity(dead.pid)
    dead.wait()  # exited and reaped
    assert not runs.is_alive(dead.pid, dead_identity["create_time"])
    with pytest.raises(ProcessLookupError):
        runs.process_identity(dead.pid)

    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    identity = runs.process_identity(zombie.pid)
    wait_until(  # exits, not yet reaped: a zombie is not alive
        lambda: not runs.is_alive(zombie.pid, identity["create_time"]),
        "the exited (unreaped) child counts as dead",
        interval=0.01,
    )
    assert zombie.poll() is not None  # it was a zombie until now


def test_heartbeat_age() -> None:
    beat = datetime(2026, 11, 28, 6, 0, 0, tzinfo=UTC)
    doc = {"heartbeat_at": "2026-11-28T06:00:00.000Z"}
    assert runs.heartbeat_age_s(doc, now=beat + timedelta(seconds=12.5)) == 12.5
    assert runs.heartbeat_age_s(doc, now=(beat + timedelta(seconds=3)).timestamp()) == 3.0
    assert runs.heartbeat_age_s(doc, now=beat - timedelta(seconds=5)) == 0.0  # clock skew
    assert runs.heartbeat_age_s({"heartbeat_at": None}) is None
    assert runs.heartbeat_age_s({"heartbeat_at": "yesterday"}) is None
    # Without ``now``: the age against the clock, no more than the time it took to ask.
    before = time.time()
    age = runs.heartbeat_age_s({"heartbeat_at": runs.now_iso()})
    assert age is not None and 0.0 <= age <= time.time() - before + 0.002  # ms stamps


# --------------------------------------------------------------------------- listing


def test_list_run_dirs_newest_first_ignoring_junk(tmp_path: Path) -> None:
    assert runs.list_run_dirs(tmp_path / "missing") == []
    base = datetime(2026, 11, 28, 6, 0, 0, tzinfo=UTC)
    made = []
    for minutes, kind in [(0, "train"), (1, "predict"), (2, "train"), (3, "predict")]:
        run_id = runs.new_run_id(kind, now=base + timedelta(minutes=minutes))
        paths = RunPaths.for_id(run_id, tmp_path)
        runs.create_run(
            paths, kind=kind, overrides=[], command=None, backend="local", on_exit="keep"
        )
        made.append(paths)
    for junk in ("notes", ".creating-train-20261128-070000-aaaaaa-1234", "TRAIN-20261128-000000-x"):
        (tmp_path / junk).mkdir()
    (tmp_path / "train-20261128-080000-bbbbbb").write_text("a file, not a run")
    (tmp_path / "train-20261128-000000-ABCDEF").mkdir()
    listed = runs.list_run_dirs(tmp_path)
    assert listed == made[::-1]
    assert all(isinstance(p, RunPaths) for p in listed)


# --------------------------------------------------------------------------- import


def test_import_is_light() -> None:
    """No heavy module comes with ``oceansr.runs`` (its import time, ~40 ms, target
    under 1 s: benchmarks/control.py, ``import_runs_ms``)."""
    code = (
        "import sys\n"
        "import oceansr.runs\n"
        "heavy = [m for m in ('torch', 'lightning', 'numpy', 'filelock', 'psutil')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_transition_appends_the_event_before_the_status_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers take no lock: once status says completed, its event must be readable."""
    from oceansr.runs import store

    paths = RunPaths.for_id(runs.new_run_id("predict"), tmp_path)
    runs.create_run(
        paths, kind="predict", overrides=[], command=None, backend="local", on_exit="keep"
    )
    seen: list[bool] = []
    original = store.atomic_write_json

    def spy(path, obj):  # the moment status.json turns completed, is the event there already?
        if Path(path).name == "status.json" and obj.get("status") == "completed":
            seen.append(bool(runs.read_events(paths, names="predict_end")))
        return original(path, obj)

    monkeypatch.setattr(store, "atomic_write_json", spy)
    runs.transition(paths, "running")
    runs.transition(paths, "completed", event="predict_end", output_path="x.nc")
    assert seen == [True]


def test_lightning_gpu_misconfiguration_is_a_config_error_with_trainer_cpu_advice() -> None:
    from lightning.fabric.utilities.exceptions import MisconfigurationException

    from oceansr.runs.failures import classify_exception

    summary = classify_exception(MisconfigurationException("No supported gpu backend found!"))
    assert summary["failureType"] == "config_error"
    assert summary["suggestions"][0].startswith("trainer=cpu")


# --------------------------------------------------------------------------- hydra quoting

AWKWARD_VALUES = [
    "plain",
    "/data/数据/海温.nc",
    "with space",
    "it's",
    'double "quoted"',
    "C:\\dir\\",
    "a\\b",
    "a\\'b",
    "x=y",
    "a,b",
    "[1,2]",
    "{a:1}",
    "${oc.env:HOME}",
    "\\${x}",
    "${a}${b}",
    "",
    "tab\there",
    "\\",
    "'",
]


@pytest.mark.parametrize("value", AWKWARD_VALUES, ids=repr)
def test_hydra_quote_round_trips_through_hydra_and_omegaconf(value: str) -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    parsed = OverridesParser.create().parse_override(f"key={runs.hydra_quote(value)}")
    assert not parsed.is_sweep_override()
    config = OmegaConf.create({"key": parsed.value()})
    assert OmegaConf.to_container(config, resolve=True)["key"] == value  # literal, no interpolation


def test_hydra_quote_leaves_plain_tokens_and_typed_values_bare() -> None:
    assert runs.hydra_quote("srcnn") == "srcnn"
    assert runs.hydra_quote("/runs/a_b-c.1") == "/runs/a_b-c.1"
    assert runs.hydra_quote(True) == "true" and runs.hydra_quote(None) == "null"
    assert runs.hydra_quote(3) == "3" and runs.hydra_quote(1e-3) == "0.001"
    assert runs.hydra_quote(["temp", "sea salt"]) == "[temp,'sea salt']"
    assert runs.hydra_quote("数据") == "'数据'"
    assert runs.with_override(["a=1", "+b=2", "c=3"], "b=4") == ["a=1", "c=3", "b=4"]


# --------------------------------------------------------------------------- log slicing


def test_log_slices_never_split_a_character_and_chain_back_to_the_file(tmp_path: Path) -> None:
    data = ("ascii line\n" + "海温 ±0.5 °C 💥\n" * 40).encode()
    log = tmp_path / "train.log"
    log.write_bytes(data)
    with open(log, "rb") as handle:
        offset, rebuilt = 0, b""
        while offset < len(data):
            piece = runs.read_from(handle, offset, len(data), 7)
            assert piece.text() == (piece.data.decode("utf-8"), False)
            rebuilt += data[offset : piece.start] + piece.data  # skipped bytes: none here
            offset = piece.next_offset
        assert rebuilt == data and piece.eof
        tail = runs.read_tail(handle, 2, len(data), 1 << 16)
        assert tail.data.decode() == "海温 ±0.5 °C 💥\n" * 2 and not tail.truncated
        assert runs.read_tail(handle, 0, len(data), 1 << 16).data == b""
        inside = runs.read_from(handle, len(b"ascii line\n") + 1, len(data), 64)
        assert inside.data.decode().startswith("温")  # started inside 海: moved to the next
    assert runs.read_tail_text(log, 40).startswith("海温")  # from a line start
    assert runs.read_tail_text(tmp_path / "missing.log") == ""


# --------------------------------------------------------------------------- liveness from files


def process_rules(
    paths: runs.RunPaths, doc: Mapping[str, Any], stale_after: float
) -> runs.LostVerdict | None:
    """A verdict as a backend of processes on this machine gives it (the local one's)."""
    return runs.lost_verdict(paths, doc, runs.read_run(paths), stale_after)


def test_apply_liveness_records_a_backends_lost_verdict_once(tmp_path: Path) -> None:
    pid, created = dead_pid()
    paths = make_run(tmp_path, pid=pid, create_time=created)
    doc = runs.apply_liveness(paths, verdict=process_rules)
    assert doc["status"] == "failed" and doc["error_summary"]["failureType"] == "process_lost"
    assert f"process {pid} is gone" in doc["error_summary"]["detail"]
    assert runs.apply_liveness(paths, verdict=process_rules)["status"] == "failed"
    assert [e["event"] for e in runs.read_events(paths)].count("process_lost") == 1


def test_apply_liveness_records_killed_and_keeps_live_runs(tmp_path: Path) -> None:
    pid, created = dead_pid()
    asked = make_run(
        tmp_path, pid=pid, create_time=created, events=[{"event": "kill_requested", "reason": "t"}]
    )
    assert runs.apply_liveness(asked, verdict=process_rules)["status"] == "killed"
    mine = make_run(tmp_path, pid=os.getpid())
    assert runs.apply_liveness(mine, verdict=process_rules)["status"] == "running"
    stamp = (datetime.now(UTC) - timedelta(seconds=90)).isoformat()
    runs.update_status(mine, {"heartbeat_at": stamp})
    kept = runs.apply_liveness(mine, stale_after=300, verdict=process_rules)
    assert kept["status"] == "running"
    lost = runs.apply_liveness(mine, stale_after=30, verdict=process_rules)
    assert lost["status"] == "failed" and "heartbeat stale" in lost["error_summary"]["message"]


def test_lost_verdict_uses_a_backends_observed_exit_code(tmp_path: Path) -> None:
    pid, created = dead_pid()
    paths = make_run(tmp_path, pid=pid, create_time=created)
    asked: list[tuple[str, int, float]] = []

    def observed(run_id: str, run_pid: int, wait_s: float) -> int | None:
        asked.append((run_id, run_pid, wait_s))
        return 137

    run_doc = runs.read_run(paths)
    verdict = runs.lost_verdict(paths, runs.read_status(paths), run_doc, 60.0, exit_code=observed)
    assert verdict == runs.LostVerdict(137, f"process {pid} exited with code 137")
    assert asked == [(paths.run_id, pid, 0.0)]
    assert runs.run_identity(run_doc) == runs.ProcessIdentity(pid, None, created)


def test_record_exit_classifies_a_known_exit_code_once(tmp_path: Path) -> None:
    paths = make_run(tmp_path, pid=os.getpid())
    paths.train_log.write_text("Killed\n", encoding="utf-8")
    doc = runs.record_exit(paths, -9, detail="process exited with code -9")
    assert doc["status"] == "failed" and doc["exit_code"] == -9
    assert doc["error_summary"]["failureType"] in ("cpu_oom", "process_lost")
    again = runs.record_exit(paths, None)
    assert again["error_summary"] == doc["error_summary"]
    assert runs.duration_s(doc) is not None and runs.duration_s({}) is None


def test_protocol_constants_are_the_ones_the_trainer_uses() -> None:
    from oceansr.runs import protocol

    assert protocol.PARENT_ENV == "OCEANSR_PARENT" and protocol.RUN_ID_ENV == "OCEANSR_RUN_ID"
    assert protocol.EXIT_KILLED == 128 + 15 and protocol.SPLITS == ("train", "valid", "test")
    assert protocol.hostname() == __import__("socket").gethostname()


def test_the_report_alone_reads_a_run_as_recorded_and_judges_nothing(tmp_path: Path) -> None:
    """Without control (and its backends) the report cannot know what a pid means, so it
    writes no verdict: a dead pid stays ``running`` until a backend-aware reader looks."""
    code = textwrap.dedent(
        """
        import subprocess, sys
        from oceansr.report.history import load_history
        history = load_history(sys.argv[1], runs_root=sys.argv[2])
        assert not any(m.startswith("oceansr.control") for m in sys.modules), "control imported"
        print(history.state)
        """
    )
    pid, created = dead_pid()
    paths = make_run(tmp_path, pid=pid, create_time=created)
    before = paths.status_json.read_bytes()
    out = _finish(_spawn(code, paths.run_id, str(tmp_path)))
    assert out.strip() == "running"
    assert paths.status_json.read_bytes() == before
