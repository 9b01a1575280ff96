"""Hostile run directories, made with real links, loops and FIFOs: the control plane
never reads or writes through a link out of a run, never blocks on a special file, and
shows each damaged run as one ``unreadable`` row while the others still list
(docs/architecture.md, run directory). Refused requests keep their tracebacks in a
private, bounded folder of the runs root (failure taxonomy)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import subprocess_env
from oceansr import control
from oceansr.control.replies import exception_reply
from oceansr.core.errors import ConfigError
from oceansr.runs import RunPaths, new_run_id
from oceansr.runs.errorfile import ERROR_DIR
from runfactory import make_run
from waiting import PATIENCE_S, returns_within

SECRET = "root:x:0:0:secret-outside-the-runs-root"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the runs root, standing in for /etc/passwd."""
    target = tmp_path / "elsewhere" / "passwd"
    target.parent.mkdir()
    target.write_text(SECRET + "\n")
    return target


def _damaged_reply(reply: dict, *words: str) -> None:
    assert reply["status"] == "error", reply
    summary = reply["error_summary"]
    assert summary["failureType"] == "data_invalid", summary
    assert "the run directory is damaged" in summary["message"]
    for word in words:
        assert word in summary["message"], summary["message"]
    assert SECRET not in json.dumps(reply)


# --------------------------------------------------------------------------- logs


def test_logs_refuses_a_train_log_linked_out_of_the_run(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.train_log.symlink_to(outside)
    reply = control.logs(paths.run_id, runs_root=paths.root)
    _damaged_reply(reply, "train.log is a symbolic link")
    reply = control.logs(paths.run_id, offset=0, runs_root=paths.root)
    _damaged_reply(reply, "train.log")


def test_the_cli_logs_command_refuses_it_too(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="completed")
    paths.train_log.symlink_to(outside)
    command = [sys.executable, "-m", "oceansr", "--runs-root", str(paths.root), "logs"]
    for extra in ([], ["--json"]):
        done = subprocess.run(
            [*command, paths.run_id, *extra],
            capture_output=True,
            text=True,
            env=subprocess_env(),
            timeout=PATIENCE_S,
        )
        assert done.returncode == 1, done
        assert SECRET not in done.stdout + done.stderr
        assert "train.log is a symbolic link" in done.stdout + done.stderr


# --------------------------------------------------------------------------- list


def _link_out(root: Path, tmp_path: Path) -> RunPaths:
    """A run directory in the root that is a link to a real run elsewhere."""
    elsewhere = make_run(tmp_path / "elsewhere-runs", status="completed")
    link = RunPaths(root, elsewhere.run_id)
    link.dir.symlink_to(elsewhere.dir, target_is_directory=True)
    return link


def _with_status(root: Path, value: object) -> RunPaths:
    paths = make_run(root, status="completed")
    doc = json.loads(paths.status_json.read_text())
    doc["status"] = value
    paths.status_json.write_text(json.dumps(doc))
    return paths


def _fifo_in_place_of(root: Path, name: str) -> RunPaths:
    paths = make_run(root, status="running")
    (paths.dir / name).unlink()
    os.mkfifo(paths.dir / name)
    return paths


def test_list_shows_each_hostile_run_as_one_unreadable_row(tmp_path, outside) -> None:
    root = tmp_path / "runs"
    good = make_run(root, status="completed")
    loop = RunPaths(root, new_run_id("train"))
    loop.dir.symlink_to(loop.dir)
    bad = {
        loop.run_id: "link loop",
        _link_out(root, tmp_path).run_id: "outside the runs root",
        _fifo_in_place_of(root, "run.json").run_id: "run.json is not a regular file (a FIFO",
        _fifo_in_place_of(root, "events.jsonl").run_id: "events.jsonl is not a regular file",
        _with_status(root, 5).run_id: "'status' 5",
        _with_status(root, ["completed"]).run_id: "'status' ['completed']",
        _with_status(root, None).run_id: "status",
    }
    linked_log = make_run(root, status="completed")
    linked_log.train_log.symlink_to(outside)
    bad[linked_log.run_id] = "train.log is a symbolic link"

    reply = returns_within(lambda: control.list_runs(runs_root=root), "list_runs")
    assert reply.get("status") != "error", reply
    rows = {row["process_id"]: row for row in reply["runs"]}
    assert rows[good.run_id]["status"] == "completed"
    for run_id, why in bad.items():
        assert rows[run_id]["status"] == "unreadable", rows[run_id]
        assert why in rows[run_id]["error"], rows[run_id]
    assert len(rows) == len(bad) + 1
    assert SECRET not in json.dumps(reply)
    unreadable = control.list_runs(runs_root=root, status="completed")
    assert [row["process_id"] for row in unreadable["runs"]] == [good.run_id]


@pytest.mark.parametrize("value", [5, ["x"], {"a": 1}, True])
def test_an_ill_typed_status_is_a_damaged_run_for_status_and_wait(tmp_path, value) -> None:
    paths = _with_status(tmp_path / "runs", value)
    _damaged_reply(control.status(paths.run_id, runs_root=paths.root), "status.json")
    reply = returns_within(
        lambda: control.wait(paths.run_id, timeout=1, runs_root=paths.root), "wait"
    )
    _damaged_reply(reply, "status.json")


# --------------------------------------------------------------------------- per-run calls


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b""
        for p in sorted(folder.rglob("*"))
    }


def test_per_run_calls_refuse_a_run_directory_linked_out_of_the_root(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    link = _link_out(root, tmp_path)
    target = link.dir.resolve()
    before = _tree(target)
    calls = {
        "status": lambda: control.status(link.run_id, runs_root=root),
        "logs": lambda: control.logs(link.run_id, runs_root=root),
        "wait": lambda: control.wait(link.run_id, timeout=1, runs_root=root),
        "kill": lambda: control.kill(link.run_id, runs_root=root),
        "resume": lambda: control.resume(link.run_id, runs_root=root),
    }
    for name, call in calls.items():
        reply = returns_within(call, name)
        _damaged_reply(reply, "leads outside the runs root")
    assert _tree(target) == before  # no lock, no event, no error.txt written through it


def test_a_run_directory_that_is_a_link_loop_is_damaged_not_unknown(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    loop = RunPaths(root, new_run_id("train"))
    loop.dir.symlink_to(loop.dir)
    _damaged_reply(control.status(loop.run_id, runs_root=root), "link loop")


def test_status_never_names_a_checkpoint_linked_from_elsewhere(tmp_path, outside) -> None:
    paths = make_run(tmp_path / "runs", status="killed")
    paths.checkpoints_dir.mkdir()
    paths.last_ckpt.symlink_to(outside)
    reply = control.status(paths.run_id, runs_root=paths.root)
    _damaged_reply(reply, "last.ckpt is a symbolic link")
    _damaged_reply(control.resume(paths.run_id, runs_root=paths.root), "last.ckpt")


# --------------------------------------------------------------------------- error files


def _shared_tmp_errors() -> set[str]:
    folder = Path(tempfile.gettempdir()) / "oceansr-errors"
    return set(os.listdir(folder)) if folder.is_dir() else set()


def test_a_refused_request_keeps_its_traceback_private_in_the_runs_root(tmp_path) -> None:
    root = tmp_path / "runs"
    root.mkdir()
    shared_before = _shared_tmp_errors()
    reply = control.start_predict("no-such-input.nc", runs_root=root)
    summary = reply["error_summary"]
    assert reply["status"] == "error" and summary["failureType"] == "config_error"
    assert summary.get("traceback_tail") is None
    where = Path(summary["traceback_path"])
    assert where.parent == root / ERROR_DIR
    assert stat.S_IMODE(where.stat().st_mode) == 0o600
    assert stat.S_IMODE((root / ERROR_DIR).stat().st_mode) == 0o700
    assert "Traceback (most recent call last)" in where.read_text()
    assert _shared_tmp_errors() == shared_before
    assert control.list_runs(runs_root=root)["runs"] == []  # .errors is not a run


def test_an_adapters_error_reply_carries_no_traceback_either(tmp_path) -> None:
    """The CLI and the MCP server build the replies of the report and data inspection
    with ``exception_reply`` directly; the traceback goes to the same private folder."""
    root = tmp_path / "runs"
    root.mkdir()
    try:
        raise ConfigError("bad value", field="data.path", fix="data.path=<a file>")
    except ConfigError as exc:
        reply = exception_reply(exc, runs_root=root)
    summary = reply["error_summary"]
    assert summary["traceback_tail"] is None and summary["field"] == "data.path"
    where = Path(summary["traceback_path"])
    assert where.parent == root / ERROR_DIR and stat.S_IMODE(where.stat().st_mode) == 0o600
    assert "ConfigError: bad value" in where.read_text()
