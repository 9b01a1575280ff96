"""Control plane (oceansr.control + the oceansr CLI) against real background trainings.

Trainer processes are expensive (≈ 6–8 s each on 2 cores), so each scenario runs one
real process in a module-scoped fixture and many tests assert on it; everything that
needs no trainer (liveness rules, log slicing, kill escalation, id validation) uses
synthetic run directories and plain ``python -c`` processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import psutil
import pytest

from conftest import SMOKE, subprocess_env
from oceansr import control
from oceansr.control.backends import local
from oceansr.runs import (
    RunPaths,
    append_event,
    is_valid_run_id,
    process_identity,
    read_events,
    read_run,
    read_status,
    transition,
    update_status,
)
from runfactory import created_in, dead_pid, make_run
from waiting import PATIENCE_S, RUN_PATIENCE_S, returns_within, wait_until

#: A run that trains for a while (200 slow steps, ~40 s) so kill/wait tests have time.
LONG = [*SMOKE, "trainer.limit_train_batches=200", "debug.sleep_per_step=0.2"]


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module", autouse=True)
def _quiet_threads() -> Iterator[None]:
    """Child trainers use one thread each: two of them share 2 cores without thrashing."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")
        mp.delenv("OCEANSR_RUNS", raising=False)
        yield


_ROOTS: list[Path] = []


@pytest.fixture(scope="module", autouse=True)
def _stop_leftover_runs() -> Iterator[None]:
    """Whatever a failed assertion left running is killed at the end of the module."""
    yield
    for root in _ROOTS:
        for row in control.list_runs("pending,running", runs_root=root).get("runs", []):
            control.kill(row["process_id"], grace=5, runs_root=root)


def _root(factory: pytest.TempPathFactory, name: str) -> Path:
    root = factory.mktemp(name)
    _ROOTS.append(root)
    return root


def _cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oceansr", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(),
        check=False,
    )


def _group_alive(pgid: int) -> list[int]:
    return local.group_members(pgid)


def _event_names(root: Path, run_id: str) -> list[str]:
    return [e["event"] for e in read_events(RunPaths.for_id(run_id, root))]


# --------------------------------------------------------------------------- happy path


@pytest.fixture(scope="module")
def happy(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = _root(tmp_path_factory, "happy")
    started = control.start(SMOKE, runs_root=root)
    assert started["status"] == "started", started
    waited = control.wait(
        started["process_id"], timeout=RUN_PATIENCE_S, until="terminal", runs_root=root
    )
    exited = local.wait_gone(started["pid"], None, PATIENCE_S)  # its last log lines are written
    return SimpleNamespace(
        root=root, id=started["process_id"], start=started, wait=waited, exited=exited
    )


@pytest.mark.slow
def test_start_returns_started_after_training_start(happy) -> None:
    reply = happy.start
    assert is_valid_run_id(reply["process_id"])
    assert Path(reply["run_dir"]) == happy.root / happy.id
    assert Path(reply["log_path"]).name == "train.log"
    assert reply["training_start"]["model"] == "srcnn"
    assert reply["training_start"]["total_steps"] == 2
    assert reply["attempt"] == 1 and reply["on_exit"] == "keep"
    assert {call["action"] for call in reply["next"]} >= {"wait", "logs", "kill"}
    assert "training_start" in _event_names(happy.root, happy.id)


@pytest.mark.slow
def test_run_json_records_the_process_and_command(happy) -> None:
    run = read_run(RunPaths.for_id(happy.id, happy.root))
    assert run["pid"] == happy.start["pid"] and run["pgid"] == run["pid"]  # own group
    assert run["process_create_time"] and run["parent_pid"] == os.getpid()
    assert run["command"][1:3] == ["-m", "oceansr.train"]
    assert f"run_id={happy.id}" in run["command"] and run["overrides"] == SMOKE
    assert run["backend"] == "local" and run["on_exit"] == "keep" and run["model"] == "srcnn"
    assert [a["attempt"] for a in run["attempts"]] == [1]
    assert run["attempts"][0]["pid"] == run["pid"]


@pytest.mark.slow
def test_wait_until_completed_has_test_metrics_with_bicubic(happy) -> None:
    reply = happy.wait
    assert reply["status"] == "completed", reply.get("error_summary")
    assert reply["changed"] is True and reply["timed_out"] is False
    test = reply["metrics"]["test"]
    assert {"test/rmse", "test/rmse_bicubic", "test/temp/rmse_bicubic"} <= set(test)
    assert reply["test_metrics"] == test
    assert reply["exit_code"] == 0 and reply["duration_s"] > 0
    # The trainer records `completed`, then exits; the reaper leaves no zombie behind.
    assert happy.exited
    assert local.exit_code(happy.id, happy.start["pid"], wait_s=PATIENCE_S) == 0


@pytest.mark.slow
def test_status_and_wait_on_a_finished_run_answer_at_once(happy) -> None:
    status = control.status(happy.id, runs_root=happy.root)
    assert status["status"] == "completed" and status["phase"] == "done"
    assert status["process_id"] == happy.id and status["test_metrics"]["test/rmse"] > 0
    assert [call["action"] for call in status["next"]] == ["logs"]
    # Far shorter than the wait's own timeout: missing it means wait blocked (the speed
    # of this answer is benchmarks/mcp_wait.py's terminal_wait_ms).
    waited = returns_within(
        lambda: control.wait(happy.id, timeout=3600, runs_root=happy.root),
        "wait on a completed run",
    )
    assert waited["status"] == "completed"
    assert waited["changed"] is False and waited["timed_out"] is False


@pytest.mark.slow
def test_logs_tail_returns_the_last_lines(happy) -> None:
    data = (happy.root / happy.id / "train.log").read_bytes()
    reply = control.logs(happy.id, tail=3, runs_root=happy.root)
    assert reply["content"] == "".join(data.decode().splitlines(keepends=True)[-3:])
    assert reply["eof"] is True and reply["truncated"] is False
    assert reply["next_offset"] == reply["size"] == len(data)
    assert reply["offset"] == len(data) - len(reply["content"].encode())
    default = control.logs(happy.id, runs_root=happy.root)
    assert len(default["content"].splitlines()) == min(50, len(data.splitlines()))


@pytest.mark.slow
def test_logs_offset_chain_rebuilds_train_log_byte_for_byte(happy) -> None:
    path = happy.root / happy.id / "train.log"
    # 4-byte characters in a row: a 97-byte cap (not a multiple of 4) must cut early.
    with open(path, "ab") as handle:
        handle.write(("waves " + "🌊" * 100 + " °C\n").encode())
    data = path.read_bytes()
    chunks, offset, shortened = [], 0, 0
    while True:
        reply = control.logs(happy.id, offset=offset, max_bytes=97, runs_root=happy.root)
        raw = reply["content"].encode("utf-8")
        assert reply["offset"] == offset and reply["next_offset"] == offset + len(raw)
        assert len(raw) <= 97
        chunks.append(raw)
        if reply["eof"]:
            break
        shortened += len(raw) < 97
        assert reply["truncated"] is True
        offset = reply["next_offset"]
    assert b"".join(chunks) == data
    assert shortened > 0  # some chunk ended early rather than split a character


@pytest.mark.slow
def test_list_shows_the_run_with_model_and_metrics(happy) -> None:
    reply = control.list_runs(runs_root=happy.root)
    assert reply["count"] == 1
    row = reply["runs"][0]
    assert row["process_id"] == happy.id and row["status"] == "completed"
    assert row["model"] == "srcnn" and row["epoch"] == 1 and row["total_epochs"] == 1
    assert row["test_rmse"] == happy.wait["metrics"]["test"]["test/rmse"]
    assert row["test_rmse_bicubic"] is not None and row["best_val_rmse"] is not None
    assert control.list_runs("failed", runs_root=happy.root)["runs"] == []


@pytest.mark.slow
def test_cli_json_equals_the_api_dicts(happy) -> None:
    root = str(happy.root)
    out = _cli("status", happy.id, "--json", "--runs-root", root)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == control.status(happy.id, runs_root=root)
    out = _cli("--runs-root", root, "list", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == control.list_runs(runs_root=root)
    out = _cli("logs", happy.id, "--tail", "5", "--json", "--runs-root", root)
    assert json.loads(out.stdout) == control.logs(happy.id, tail=5, runs_root=root)
    human = _cli("list", "--runs-root", root)
    assert human.returncode == 0 and happy.id in human.stdout and "completed" in human.stdout
    missing = _cli("status", "train-20000101-000000-zzzzzz", "--json", "--runs-root", root)
    assert missing.returncode == 1
    assert json.loads(missing.stdout)["error_summary"]["failureType"] == "config_error"


# --------------------------------------------------------------------------- failures at start


@pytest.mark.slow
def test_startup_crash_returns_error_with_summary_and_log_tail(tmp_path_factory) -> None:
    root = _root(tmp_path_factory, "crash")
    reply = control.start([*SMOKE, "debug.fail_at=startup"], runs_root=root)
    assert reply["status"] == "error", reply
    assert is_valid_run_id(reply["process_id"])
    summary = reply["error_summary"]
    assert summary["failureType"] and summary["message"]
    assert summary["suggestions"] or summary["advice"]
    assert "debug.fail_at=startup" in summary["message"] or "fault" in summary["message"]
    assert "fault injected" in reply["log_tail"]
    assert reply["exit_code"] == 1
    status = control.status(reply["process_id"], runs_root=root)
    assert status["status"] == "failed" and status["ended_at"]


@pytest.mark.parametrize(
    ("overrides", "failure"),
    [
        (["model=nope"], "config_error"),
        (["data=xarray", "data.path=/nope", "data.variables=[temp]"], "data_not_found"),
        (["experiment=smoke", "data.patch_size=7"], "config_error"),
        (["run_id=train-20261128-064243-abcdef"], "config_error"),
    ],
)
def test_bad_overrides_fail_fast_without_creating_anything(
    tmp_path: Path, overrides: list[str], failure: str | None
) -> None:
    """Refused in the controller, before any run directory or process exists (how fast:
    benchmarks/control.py, ``refusal_ms``)."""
    root = tmp_path / "runs"
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    reply = control.start(overrides, runs_root=root)
    assert reply["status"] == "error" and reply["process_id"] is None
    if failure:
        assert reply["error_summary"]["failureType"] == failure
    summary = reply["error_summary"]
    assert summary["message"] and (summary["suggestions"] or summary["advice"])
    assert created_in(root) == []
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= children


def test_a_process_that_dies_without_a_record_is_classified(tmp_path, script_backend) -> None:
    backend = script_backend("import sys; print('boom: 💥', flush=True); sys.exit(3)")
    reply = control.start(SMOKE, runs_root=tmp_path, backend=backend)
    assert reply["status"] == "error" and reply["exit_code"] == 3
    assert reply["error_summary"]["failureType"] == "process_lost"
    assert "exit code 3" in reply["error_summary"]["message"]
    assert "boom: 💥" in reply["log_tail"]
    status = control.status(reply["process_id"], runs_root=tmp_path)
    assert status["status"] == "failed" and status["exit_code"] == 3
    assert _event_names(tmp_path, reply["process_id"]).count("process_lost") == 1


def test_start_timeout_while_alive_answers_starting(tmp_path, script_backend) -> None:
    backend = script_backend("import time; time.sleep(600)")  # never starts training
    began = time.monotonic()
    reply = control.start(SMOKE, runs_root=tmp_path, startup_timeout=0.5, backend=backend)
    assert reply["status"] == "starting" and time.monotonic() - began >= 0.5, reply
    assert "no training_start within 0.5 s" in reply["message"]
    assert local.alive(reply["pid"], None)
    final = control.kill(reply["process_id"], grace=5, runs_root=tmp_path)
    assert final["status"] == "killed" and final["kill"]["escalated"] is False
    assert final["exit_code"] == -signal.SIGTERM


@pytest.mark.parametrize(
    "kwargs",
    [{"on_exit": "sometimes"}, {"backend": "pbs"}, {"kind": "predict"}, {"startup_timeout": -1}],
)
def test_start_rejects_bad_arguments(tmp_path: Path, kwargs: dict) -> None:
    reply = control.start(SMOKE, runs_root=tmp_path, **kwargs)
    assert reply["status"] == "error" and reply["process_id"] is None
    assert reply["error_summary"]["failureType"] == "config_error"
    assert created_in(tmp_path) == []


@pytest.mark.slow
def test_nan_at_a_chosen_step_fails_with_nan_loss_and_step(tmp_path_factory) -> None:
    root = _root(tmp_path_factory, "nan")
    reply = control.start([*SMOKE, "debug.nan_step=1"], runs_root=root)
    run_id = reply["process_id"]
    if reply["status"] == "started":
        reply = control.wait(run_id, timeout=RUN_PATIENCE_S, until="terminal", runs_root=root)
    else:
        reply = control.status(run_id, runs_root=root)
    assert reply["status"] == "failed", reply
    summary = reply["error_summary"]
    assert summary["failureType"] == "nan_loss" and summary["step"] == 1
    assert any("lr" in s for s in summary["suggestions"])
    assert any(call["action"] == "start" for call in reply["next"])
    assert "training_error" in _event_names(root, run_id)


# --------------------------------------------------------------------------- kill, resume, SIGKILL


@pytest.fixture(scope="module")
def killed(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    root = _root(tmp_path_factory, "kill")
    started = control.start(LONG, runs_root=root)
    assert started["status"] == "started", started
    run_id = started["process_id"]
    paths = RunPaths.for_id(run_id, root)
    wait_until(lambda: (read_status(paths)["progress"]["step"] or 0) >= 2, "two steps done")
    pgid = read_run(paths)["pgid"]
    # A clean stop (no SIGKILL) takes seconds; the grace is only the deadline for it.
    reply = control.kill(run_id, grace=PATIENCE_S, runs_root=root)
    return SimpleNamespace(root=root, id=run_id, paths=paths, pgid=pgid, start=started, reply=reply)


@pytest.mark.slow
def test_kill_stops_cleanly_with_last_checkpoint_and_no_process_left(killed) -> None:
    reply = killed.reply
    assert reply["status"] == "killed", reply
    assert reply["kill"]["signal"] == "SIGTERM" and reply["kill"]["escalated"] is False
    assert reply["kill"]["survivors"] == []
    assert killed.paths.last_ckpt.is_file()
    assert _group_alive(killed.pgid) == []
    assert not local.alive(killed.start["pid"], None)
    names = _event_names(killed.root, killed.id)
    assert names.index("kill_requested") < names.index("killed")
    assert names.count("killed") == 1
    assert {c["action"] for c in reply["next"]} >= {"resume", "logs"}


@pytest.mark.slow
def test_kill_of_a_terminal_run_is_refused(killed) -> None:
    reply = control.kill(killed.id, runs_root=killed.root)
    assert reply["status"] == "error" and "already killed" in reply["error_summary"]["message"]


@pytest.fixture(scope="module")
def resumed(killed) -> SimpleNamespace:
    import torch

    ckpt = torch.load(killed.paths.last_ckpt, map_location="cpu", weights_only=False)
    step = int(ckpt["global_step"])
    reply = control.resume(killed.id, runs_root=killed.root)
    return SimpleNamespace(**vars(killed), ckpt_step=step, resume=reply)


@pytest.mark.slow
def test_resume_continues_the_global_step_in_the_same_run(resumed) -> None:
    reply = resumed.resume
    assert reply["status"] == "started", reply
    assert reply["process_id"] == resumed.id and reply["attempt"] == 2
    assert resumed.ckpt_step >= 2
    assert reply["training_start"]["start_step"] == resumed.ckpt_step
    run = read_run(resumed.paths)
    assert [a["attempt"] for a in run["attempts"]] == [1, 2]
    assert run["attempts"][1]["resumed_from"] == str(resumed.paths.last_ckpt)
    assert run["pid"] == reply["pid"] != resumed.start["pid"]
    assert any(f"ckpt_path={resumed.paths.last_ckpt}" == a for a in run["attempts"][1]["command"])
    names = _event_names(resumed.root, resumed.id)
    assert names.count("resumed") == 1 and names.index("resumed") > names.index("killed")
    status = control.status(resumed.id, runs_root=resumed.root)
    assert status["status"] == "running" and status["error_summary"] is None
    assert control.resume(resumed.id, runs_root=resumed.root)["status"] == "error"  # running


@pytest.mark.slow
def test_sigkilled_trainer_turns_terminal_as_process_lost(resumed) -> None:
    """Noticed by the next wait (how fast, target 5 s: benchmarks/chaos.py,
    ``sigkill_terminal_5s``)."""
    pid = resumed.resume["pid"]
    os.kill(pid, signal.SIGKILL)
    reply = control.wait(resumed.id, timeout=PATIENCE_S, until="terminal", runs_root=resumed.root)
    assert reply["status"] == "failed", reply
    assert reply["error_summary"]["failureType"] in ("process_lost", "cpu_oom")
    assert reply["error_summary"]["signal"] == "SIGKILL"
    assert "process_lost" in _event_names(resumed.root, resumed.id)
    wait_until(lambda: not _group_alive(resumed.pgid), "the killed trainer's group is empty")
    assert _group_alive(read_run(resumed.paths)["pgid"]) == []


# --------------------------------------------------------------------------- controller exit


_CONTROLLER = textwrap.dedent(
    """
    import json, sys, time
    from oceansr import control
    reply = control.start({overrides!r}, runs_root={root!r}, on_exit={on_exit!r})
    print(json.dumps(reply), flush=True)
    time.sleep({sleep})
    """
)


@pytest.mark.slow
def test_on_exit_terminate_stops_the_run_when_the_controller_is_sigkilled(
    tmp_path_factory,
) -> None:
    root = _root(tmp_path_factory, "terminate")
    code = _CONTROLLER.format(overrides=LONG, root=str(root), on_exit="terminate", sleep=600)
    controller = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=subprocess_env()
    )
    try:
        reply = json.loads(controller.stdout.readline())
        assert reply["status"] == "started", reply
        assert reply["on_exit"] == "terminate"
    finally:
        controller.kill()  # SIGKILL: no atexit, no cleanup in the controller
        controller.wait()
        controller.stdout.close()
    # How fast (target: killed within 10 s): benchmarks/chaos.py, controller_sigkill_terminate.
    final = control.wait(
        reply["process_id"], timeout=RUN_PATIENCE_S, until="terminal", runs_root=root
    )
    assert final["status"] == "killed", final
    killed_event = read_events(RunPaths.for_id(reply["process_id"], root), names="killed")[-1]
    assert "controller" in killed_event["reason"]
    assert killed_event["killed_by"]["kind"] == final["kill_reason"]["by"] == "controller_exit"
    wait_until(lambda: not _group_alive(reply["pgid"]), "the run's process group is empty")


@pytest.mark.slow
def test_on_exit_keep_run_outlives_the_cli_and_a_new_controller_sees_it_finish(
    tmp_path_factory,
) -> None:
    root = _root(tmp_path_factory, "keep")
    out = _cli("start", *SMOKE, "--json", "--runs-root", str(root))
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert reply["status"] == "started" and reply["on_exit"] == "keep"
    final = control.wait(
        reply["process_id"], timeout=RUN_PATIENCE_S, until="terminal", runs_root=root
    )
    assert final["status"] == "completed", final.get("error_summary")
    assert final["test_metrics"]["test/rmse_bicubic"] > 0


# --------------------------------------------------------------------------- sweep


def test_expand_sweep_follows_hydra_basic_sweeper() -> None:
    combos = control.expand_sweep(
        ["model=srcnn,edsr_baseline", "seed=1,2", "data.variables=[temp,salt]"]
    )
    assert combos == [
        ["model=srcnn", "seed=1", "data.variables=[temp,salt]"],
        ["model=srcnn", "seed=2", "data.variables=[temp,salt]"],
        ["model=edsr_baseline", "seed=1", "data.variables=[temp,salt]"],
        ["model=edsr_baseline", "seed=2", "data.variables=[temp,salt]"],
    ]
    assert control.expand_sweep(["seed=range(0,3)"]) == [["seed=0"], ["seed=1"], ["seed=2"]]


def test_sweep_with_an_invalid_combination_starts_nothing(tmp_path: Path) -> None:
    reply = control.sweep(["experiment=smoke", "model=srcnn,nope"], runs_root=tmp_path)
    assert reply["status"] == "error" and reply["process_ids"] == []
    assert [item["overrides"] for item in reply["invalid"]] == [["experiment=smoke", "model=nope"]]
    assert created_in(tmp_path) == []


@pytest.mark.slow
def test_cli_sweep_returns_every_run_id_at_once(tmp_path_factory) -> None:
    """One reply with every id, given before any run reached training_start (how fast:
    benchmarks/control.py, ``sweep_cli_s``). Long runs, so none can finish first."""
    root = _root(tmp_path_factory, "sweep")
    sweep = ["start", "-m", *LONG, "model=srcnn,edsr_baseline"]
    out = _cli(*sweep, "--json", "--runs-root", str(root))
    assert out.returncode == 0, out.stderr
    reply = json.loads(out.stdout)
    assert reply["status"] == "started" and reply["count"] == 2
    ids = reply["process_ids"]
    assert len(ids) == 2 and all(is_valid_run_id(i) for i in ids)
    assert [run["process_id"] for run in reply["runs"]] == ids
    for run in reply["runs"]:  # did not wait for either training_start
        assert run["status"] == "starting" and "training_start" not in run, run
    models = [read_run(RunPaths.for_id(i, root))["overrides"][-1] for i in ids]
    assert models == ["model=srcnn", "model=edsr_baseline"]
    for run_id in ids:
        final = control.kill(run_id, grace=PATIENCE_S, runs_root=root)
        assert final["status"] == "killed", final
        assert _group_alive(read_run(RunPaths.for_id(run_id, root))["pgid"]) == []


# --------------------------------------------------------------------------- ids


BAD_IDS = [
    "../etc",
    "train-20261128-064243-abcdef/..",
    "train-20261128-064243-abcdef\n",
    "TRAIN-20261128-064243-abcdef",
    "/tmp/train-20261128-064243-abcdef",
    "",
    "junk",
    None,
    42,
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_invalid_ids_are_rejected_before_touching_the_file_system(tmp_path, bad) -> None:
    root = tmp_path / "never-created"
    calls = [
        lambda: control.status(bad, runs_root=root),
        lambda: control.logs(bad, runs_root=root),
        lambda: control.wait(bad, timeout=1, runs_root=root),
        lambda: control.kill(bad, runs_root=root),
        lambda: control.resume(bad, runs_root=root),
    ]
    for call in calls:
        reply = call()
        assert reply["status"] == "error"
        assert reply["error_summary"]["failureType"] == "config_error"
        assert repr(bad) in reply["error_summary"]["message"]
        json.dumps(reply)
    assert not root.exists()


def test_unknown_id_names_the_id(tmp_path: Path) -> None:
    run_id = "train-20000101-000000-zzzzzz"
    for reply in (
        control.status(run_id, runs_root=tmp_path),
        control.logs(run_id, offset=0, runs_root=tmp_path),
        control.kill(run_id, runs_root=tmp_path),
    ):
        assert reply["status"] == "error" and reply["process_id"] == run_id
        assert run_id in reply["error_summary"]["message"]
    assert created_in(tmp_path) == []


# --------------------------------------------------------------------------- liveness (no trainer)


def test_dead_pid_is_marked_process_lost_once(tmp_path: Path) -> None:
    pid, created = dead_pid()
    paths = make_run(tmp_path, pid=pid, create_time=created)
    first = control.status(paths.run_id, runs_root=tmp_path)
    assert first["status"] == "failed"
    assert first["error_summary"]["failureType"] == "process_lost"
    again = control.status(paths.run_id, runs_root=tmp_path)
    assert again["status"] == "failed"
    assert _event_names(tmp_path, paths.run_id).count("process_lost") == 1
    row = control.list_runs(runs_root=tmp_path)["runs"][0]
    assert row["status"] == "failed" and row["failure_type"] == "process_lost"


def test_reused_pid_counts_as_lost(tmp_path: Path) -> None:
    paths = make_run(tmp_path, pid=os.getpid(), create_time=12345.0)  # alive, wrong identity
    assert control.status(paths.run_id, runs_root=tmp_path)["status"] == "failed"


def test_stale_heartbeat_counts_as_lost(tmp_path: Path) -> None:
    paths = make_run(tmp_path, pid=os.getpid())
    stamp = (datetime.now(UTC) - timedelta(seconds=120)).isoformat().replace("+00:00", "Z")
    update_status(paths, {"heartbeat_at": stamp})
    assert (
        control.status(paths.run_id, runs_root=tmp_path, heartbeat_timeout=300)["status"]
        == "running"
    )
    reply = control.status(paths.run_id, runs_root=tmp_path)  # default: 60 s
    assert reply["status"] == "failed"
    assert "heartbeat" in reply["error_summary"]["message"]


def test_kill_requested_then_gone_is_recorded_as_killed(tmp_path: Path) -> None:
    pid, created = dead_pid()
    paths = make_run(tmp_path, pid=pid, create_time=created)
    append_event(paths, "kill_requested", reason="test")
    reply = control.status(paths.run_id, runs_root=tmp_path)
    assert reply["status"] == "killed"
    assert read_events(paths, names="killed")[-1]["reason"] == "test"


def test_wait_notices_a_change_while_it_waits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The change lands once wait has read the run (not after a fixed sleep, which a
    loaded machine can outlast); how fast wait wakes up (contract: within 0.5 s) is
    benchmarks/control.py's ``wait_wakeup_ms``."""
    from oceansr.control import queries

    paths = make_run(tmp_path, pid=os.getpid())
    update_status(paths, {"heartbeat_at": datetime.now(UTC).isoformat()})
    first_read = threading.Event()
    real_live = queries.live

    def spy(*args, **kwargs):
        doc = real_live(*args, **kwargs)
        first_read.set()
        return doc

    monkeypatch.setattr(queries, "live", spy)

    def finish() -> None:
        if first_read.wait(PATIENCE_S):
            transition(paths, "completed", event="training_end")

    thread = threading.Thread(target=finish)
    thread.start()
    reply = control.wait(paths.run_id, timeout=PATIENCE_S, runs_root=tmp_path)
    thread.join()
    assert reply["status"] == "completed" and reply["previous_status"] == "running"
    assert reply["changed"] is True and reply["timed_out"] is False


def test_wait_times_out_on_an_unchanged_run(tmp_path: Path) -> None:
    paths = make_run(tmp_path, pid=os.getpid())
    # The default timeout is 120 s: an answer before PATIENCE_S / 2 means 0.3 was obeyed.
    reply = returns_within(
        lambda: control.wait(paths.run_id, timeout=0.3, runs_root=tmp_path),
        "wait with timeout=0.3",
        timeout=PATIENCE_S / 2,
    )
    assert reply["status"] == "running" and reply["timed_out"] is True
    assert reply["changed"] is False and reply["waited_s"] >= 0.3


def test_kill_escalates_to_sigkill_and_empties_the_group(tmp_path: Path) -> None:
    # A "trainer" that ignores SIGTERM and has a child in its group (a DataLoader worker).
    code = (
        "import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print('ready', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout.readline().strip() == "ready"
        identity = process_identity(proc.pid)
        created = identity["create_time"]
        paths = make_run(tmp_path, pid=proc.pid, pgid=proc.pid, create_time=created)
        assert len(_group_alive(proc.pid)) == 2
        reply = control.kill(paths.run_id, grace=0.5, runs_root=tmp_path)
        assert reply["status"] == "killed", reply
        assert reply["kill"]["escalated"] is True and reply["kill"]["signal"] == "SIGKILL"
        assert _group_alive(proc.pid) == []
        assert read_events(paths, names="killed")[-1]["recorded_by"] == "control"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        proc.stdout.close()


def test_resume_refuses_runs_that_cannot_resume(tmp_path: Path) -> None:
    done = make_run(tmp_path, status="completed")
    reply = control.resume(done.run_id, runs_root=tmp_path)
    assert reply["status"] == "error" and "completed" in reply["error_summary"]["message"]
    no_ckpt = make_run(tmp_path, status="killed")
    reply = control.resume(no_ckpt.run_id, runs_root=tmp_path)
    assert reply["status"] == "error" and "last.ckpt" in reply["error_summary"]["message"]


# --------------------------------------------------------------------------- logs (no trainer)


def _log_run(root: Path, data: bytes) -> RunPaths:
    paths = make_run(root, status="completed")
    paths.train_log.write_bytes(data)
    return paths


def test_logs_never_split_a_utf8_character_at_a_chunk_boundary(tmp_path: Path) -> None:
    data = "abcdef🌊é\nline 2 ✓\n".encode()  # the wave's 4 bytes straddle byte 8
    paths = _log_run(tmp_path, data)
    first = control.logs(paths.run_id, offset=0, max_bytes=8, runs_root=tmp_path)
    assert first["content"] == "abcdef" and first["next_offset"] == 6 and first["truncated"]
    chunks, offset = [], 0
    while True:
        reply = control.logs(paths.run_id, offset=offset, max_bytes=5, runs_root=tmp_path)
        chunks.append(reply["content"])
        offset = reply["next_offset"]
        if reply["eof"]:
            break
    assert "".join(chunks).encode() == data
    # An offset inside a character starts at the next whole character.
    inside = control.logs(paths.run_id, offset=7, max_bytes=64, runs_root=tmp_path)
    assert inside["offset"] == 10 and inside["content"].startswith("é")


def test_logs_tail_edge_cases(tmp_path: Path) -> None:
    paths = _log_run(tmp_path, b"one\ntwo\nthree")  # no final newline
    assert control.logs(paths.run_id, tail=1, runs_root=tmp_path)["content"] == "three"
    assert control.logs(paths.run_id, tail=2, runs_root=tmp_path)["content"] == "two\nthree"
    assert control.logs(paths.run_id, tail=9, runs_root=tmp_path)["content"] == "one\ntwo\nthree"
    empty = control.logs(paths.run_id, tail=0, runs_root=tmp_path)
    assert empty["content"] == "" and empty["next_offset"] == empty["size"] == 13
    capped = control.logs(paths.run_id, tail=3, max_bytes=6, runs_root=tmp_path)
    assert capped["content"] == "\nthree" and capped["truncated"] is True
    big = _log_run(tmp_path, b"".join(b"line %d\n" % i for i in range(100_000)))
    reply = control.logs(big.run_id, tail=100_000, runs_root=tmp_path)
    assert len(reply["content"].encode()) <= control.DEFAULT_MAX_BYTES and reply["truncated"]
    assert reply["content"].endswith("line 99999\n")


def test_logs_bad_arguments_and_missing_log(tmp_path: Path) -> None:
    paths = _log_run(tmp_path, b"hello\n")
    for kwargs in ({"offset": 7}, {"offset": -1}, {"tail": 5, "offset": 0}, {"tail": -2}):
        reply = control.logs(paths.run_id, runs_root=tmp_path, **kwargs)
        assert reply["status"] == "error", kwargs
        assert reply["error_summary"]["failureType"] == "config_error"
    paths.train_log.unlink()
    reply = control.logs(paths.run_id, runs_root=tmp_path)
    assert reply["content"] == "" and reply["size"] == 0 and reply["eof"] is True


def test_list_filters_and_limits(tmp_path: Path) -> None:
    ids = [make_run(tmp_path, status=s).run_id for s in ("completed", "failed", "killed")]
    everything = control.list_runs(runs_root=tmp_path)
    assert everything["count"] == 3
    assert [r["process_id"] for r in everything["runs"]] == sorted(ids, reverse=True)
    assert control.list_runs("failed,killed", runs_root=tmp_path)["count"] == 2
    assert control.list_runs(["completed"], runs_root=tmp_path)["count"] == 1
    capped = control.list_runs(runs_root=tmp_path, limit=1)
    assert capped["count"] == 1 and capped["total"] == 3
    assert control.list_runs("failed,killed", runs_root=tmp_path, limit=1)["total"] == 2
    assert control.list_runs("done", runs_root=tmp_path)["status"] == "error"
    assert control.list_runs(runs_root=tmp_path / "nothing-here") == {
        "runs": [],
        "count": 0,
        "total": 0,
        "runs_root": str(tmp_path / "nothing-here"),
    }


def test_cli_import_is_light() -> None:
    code = (
        "import sys, oceansr.adapters.cli; "
        "heavy = [m for m in ('torch', 'lightning', 'hydra', 'rich') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- backends (no trainer)


def test_start_goes_through_the_registered_backend_and_records_its_name(
    tmp_path: Path, script_backend
) -> None:
    name = script_backend("import time; time.sleep(60)")
    reply = control.start(SMOKE, runs_root=tmp_path, backend=name, wait_for_start=False)
    assert reply["status"] == "starting", reply
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    run = read_run(paths)
    assert run["backend"] == name and run["attempts"][-1]["backend"] == name
    assert run["pid"] == reply["pid"] and run["process_create_time"] is not None
    assert control.status(reply["process_id"], runs_root=tmp_path)["status"] == "pending"  # alive
    final = control.kill(reply["process_id"], grace=5, runs_root=tmp_path)
    assert final["status"] == "killed" and not local.alive(reply["pid"], None)


def test_unknown_backend_name_lists_the_registered_ones(tmp_path: Path, script_backend) -> None:
    name = script_backend("pass")
    reply = control.start(SMOKE, runs_root=tmp_path, backend="pbs")
    assert reply["error_summary"]["failureType"] == "config_error"
    assert (
        "'local'" in reply["error_summary"]["message"] and name in reply["error_summary"]["message"]
    )


def test_a_run_trained_by_hand_is_judged_by_the_local_rules(tmp_path: Path) -> None:
    """``python -m oceansr.train`` records its own pid on its own host (backend
    ``foreground``): the local backend's rules fit it, so its death is still seen."""
    pid, created = dead_pid()
    paths = make_run(tmp_path, backend="foreground", pid=pid, create_time=created)
    doc = control.status(paths.run_id, runs_root=tmp_path)
    assert doc["status"] == "failed", doc
    assert f"process {pid} is gone" in doc["error_summary"]["detail"]


def test_a_run_of_an_unknown_backend_is_read_as_recorded_never_judged(tmp_path: Path) -> None:
    """Only a run's own backend knows what its pid (or its lack of one) means: a pid may
    live on a compute node, a queued job has none. A false ``failed`` would be final."""
    pid, created = dead_pid()
    gone = make_run(tmp_path, backend="elsewhere", pid=pid, create_time=created)
    before = gone.status_json.read_bytes()
    assert control.status(gone.run_id, runs_root=tmp_path)["status"] == "running"
    assert gone.status_json.read_bytes() == before
    alive = make_run(tmp_path, backend="elsewhere", pid=os.getpid())
    reply = control.kill(alive.run_id, grace=1, runs_root=tmp_path)
    assert reply["status"] == "error" and "elsewhere" in reply["error_summary"]["message"]
    assert read_status(alive)["status"] == "running"  # nothing was signalled or recorded
