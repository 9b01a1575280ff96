"""Fault drills for issue 8, repeated and counted. Prints JSON.

    python benchmarks/chaos.py [--repeats 5] [--skip-disk-full] [--skip-real] [--smoke]

Every drill goes through the public API (``oceansr.control``) on real files:

- ``sigkill_terminal_5s``: a background process (the local backend running a sleeper in
  place of the trainer) is SIGKILLed from outside; the run must be terminal (``failed``,
  ``process_lost`` naming SIGKILL) within 5 s (``max_s``: the slowest);
- ``startup_timeout_reply``: ``start(startup_timeout=0.5)`` of a process that never
  reaches ``training_start`` answers ``starting``: seconds to that answer (target < 3 s);
- ``kill_last_ckpt``: a real smoke trainer killed with ``control.kill`` ends ``killed``
  with a ``last.ckpt`` that loads and no surviving process (``--skip-real`` skips);
- ``concurrent_starts``: 8 threads call ``control.start`` at once in one process;
- ``list_damaged``: ``list_runs`` over 50 healthy runs plus a FIFO ``status.json``, a
  directory ``status.json`` and an ill-typed ``progress``: seconds, rows unreadable, and
  ``status`` of the FIFO run (each target < 1 s);
- ``torn_reads``: a writer thread rewrites ``status.json`` and appends events while a
  reader reads both for 3 s: invalid reads counted;
- ``disk_full_at_start`` / ``disk_full_mid_run`` (root only: a 3-16 MiB tmpfs): a start
  on a full disk, and a real trainer whose disk fills up mid-run: ``disk_full``
  recorded, and the previous checkpoint (if any) still loads.

- ``controller_sigkill_terminate`` / ``controller_sigkill_keep``: a controller process
  starts a real trainer with ``on_exit=terminate`` (resp. ``keep``) and is SIGKILLed
  (no atexit, no cleanup): with ``terminate`` the run must end ``killed`` with a
  ``last.ckpt`` that loads and no process of its group left (per repeat: ``killed_after_s``
  from the controller's death, target 10 s, then ``group_gone_after_s``, target 5 s); with
  ``keep`` it must go on and end ``completed`` (``--skip-real`` skips both).

Drills left out are named in ``not_run`` with the reason. ``--smoke`` runs each drill
without a real trainer once (1 s of torn reads, 5 healthy runs), and skips the real
trainer drills: they take minutes, and tests/control/test_control.py covers their behaviour.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from oceansr import control
from oceansr.control.backends import LocalBackend, register_backend
from oceansr.runs import RunPaths, append_event, read_events, read_status, update_status
from oceansr.runs.checkpoint_file import unreadable_reason
from smoke import emit, parse_args

SMOKE = ["experiment=smoke"]
SMOKE_SIZES = {"repeats": 1, "skip_real": True, "torn_seconds": 1.0, "healthy_runs": 5}
REAL_DRILLS = (
    "kill_last_ckpt",
    "controller_sigkill_terminate",
    "controller_sigkill_keep",
    "disk_full_mid_run",
)
DISK_DRILLS = ("disk_full_at_start", "disk_full_mid_run")


class _Sleeper(LocalBackend):
    """The local backend running ``python -c code`` in place of the trainer."""

    def __init__(self, name: str, code: str) -> None:
        self.name = name  # type: ignore[misc]
        self.code = code

    def submit(self, run_id: str, command: Any, **kwargs: Any) -> Any:
        return super().submit(run_id, [sys.executable, "-c", self.code], **kwargs)


def drill_sigkill(root: Path, repeats: int) -> dict[str, Any]:
    backend = register_backend(_Sleeper("chaos-sleep", "import time; time.sleep(60)")).name
    ok, seconds = 0, []
    for _ in range(repeats):
        reply = control.start(SMOKE, runs_root=root, backend=backend, wait_for_start=False)
        os.kill(reply["pid"], signal.SIGKILL)
        t0 = time.monotonic()
        done = control.wait(reply["process_id"], 5.0, runs_root=root)
        seconds.append(time.monotonic() - t0)
        summary = done.get("error_summary") or {}
        ok += int(
            seconds[-1] <= 5.0
            and done.get("status") == "failed"
            and summary.get("failureType") == "process_lost"
            and summary.get("signal") == "SIGKILL"
        )
    return {"ok": ok, "of": repeats, "max_s": round(max(seconds), 2)}


def drill_startup_timeout(root: Path) -> dict[str, Any]:
    backend = register_backend(_Sleeper("chaos-never", "import time; time.sleep(60)")).name
    t0 = time.monotonic()
    reply = control.start(SMOKE, runs_root=root, backend=backend, startup_timeout=0.5)
    seconds = time.monotonic() - t0
    if reply.get("process_id"):
        control.kill(reply["process_id"], grace=5, runs_root=root)
    return {
        "status": reply.get("status"),
        "seconds": round(seconds, 2),
        "ok": reply.get("status") == "starting" and seconds < 3.0,
    }


def drill_concurrent(root: Path) -> dict[str, Any]:
    backend = register_backend(_Sleeper("chaos-quick", "import time; time.sleep(0.5)")).name
    barrier = threading.Barrier(8)

    def one(_: int) -> dict[str, Any]:
        barrier.wait()
        return control.start(SMOKE, runs_root=root, backend=backend, wait_for_start=False)

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(one, range(8)))
    ids = {r.get("process_id") for r in replies if r.get("status") == "starting"}
    return {"started": len(ids), "of": 8}


def drill_list_damaged(root: Path, healthy: int) -> dict[str, Any]:
    from oceansr.runs import create_run, new_run_id, transition

    made = []
    for _ in range(healthy + 3):
        paths = RunPaths.for_id(new_run_id("train"), root)
        create_run(
            paths, kind="train", overrides=SMOKE, command=None, backend="local", on_exit="keep"
        )
        transition(paths, "running", event="process_started")
        transition(paths, "completed", event="training_end")
        made.append(paths)
    fifo, folder, typed = made[:3]
    fifo.status_json.unlink()
    os.mkfifo(fifo.status_json)
    folder.status_json.unlink()
    folder.status_json.mkdir()
    typed.status_json.write_text(
        typed.status_json.read_text().replace('"progress": {', '"progress": "x", "_p": {', 1)
    )
    t0 = time.monotonic()
    reply = control.list_runs(runs_root=root)
    seconds = time.monotonic() - t0
    rows = reply.get("runs", [])
    unreadable = sum(r.get("status") == "unreadable" for r in rows)
    t0 = time.monotonic()
    control.status(fifo.run_id, runs_root=root)
    status_s = time.monotonic() - t0
    return {
        "seconds": round(seconds, 3),
        "rows": len(rows),
        "unreadable": unreadable,
        "under_1s": seconds < 1.0,
        "status_fifo_s": round(status_s, 3),
    }


def drill_torn_reads(root: Path, seconds: float = 3.0) -> dict[str, Any]:
    from oceansr.runs import create_run, new_run_id

    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=SMOKE, command=None, backend="local", on_exit="keep")
    stop = threading.Event()

    def writer() -> None:
        i = 0
        while not stop.is_set():
            i += 1
            update_status(paths, {"progress": {"step": i, "note": "x" * (i % 500)}})
            append_event(paths, "epoch_end", epoch=i)

    thread = threading.Thread(target=writer)
    thread.start()
    reads = invalid = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            read_status(paths)
            read_events(paths)
        except Exception:  # any failed read of a file being written counts
            invalid += 1
        reads += 1
    stop.set()
    thread.join()
    return {"reads": reads, "invalid": invalid}


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return done.returncode == 0


def _fill(where: Path) -> None:
    """Fill the file system at ``where`` up to the last byte (big writes, then small)."""
    for name, chunk in (("filler", 65536), ("filler2", 1)):
        try:
            with open(where / name, "wb") as handle:
                while True:
                    handle.write(b"\0" * chunk)
                    handle.flush()
        except OSError:
            continue


def drill_disk_full_at_start(base: Path) -> dict[str, Any]:
    mnt = base / "full-at-start"
    if not _mount_tmpfs(mnt, "3m"):
        return {"measured": False, "why": "mount -t tmpfs not permitted here"}
    try:
        _fill(mnt)
        reply = control.start(SMOKE, runs_root=mnt / "runs")
        summary = reply.get("error_summary") or {}
        return {
            "measured": True,
            "failureType": summary.get("failureType"),
            "ok": summary.get("failureType") == "disk_full",
        }
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def drill_disk_full_mid_run(base: Path) -> dict[str, Any]:
    mnt = base / "full-mid-run"
    if not _mount_tmpfs(mnt, "16m"):
        return {"measured": False, "why": "mount -t tmpfs not permitted here"}
    root = mnt / "runs"
    overrides = [
        *SMOKE,
        "trainer.max_epochs=50",
        "trainer.limit_train_batches=4",
        "debug.sleep_per_step=0.1",
    ]
    try:
        reply = control.start(overrides, runs_root=root, startup_timeout=120)
        if reply.get("status") != "started":
            return {"measured": True, "ok": False, "start": reply.get("status")}
        paths = RunPaths.for_id(reply["process_id"], root)
        deadline = time.monotonic() + 60
        while not paths.last_ckpt.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        _fill(mnt)
        done = control.wait(reply["process_id"], 120, runs_root=root)
        summary = done.get("error_summary") or {}
        loads = paths.last_ckpt.is_file() and unreadable_reason(paths.last_ckpt) is None
        return {
            "measured": True,
            "status": done.get("status"),
            "failureType": summary.get("failureType"),
            "last_ckpt_loads": loads,
            "ok": summary.get("failureType") == "disk_full" and loads,
        }
    finally:
        for row in control.list_runs("pending,running", runs_root=root).get("runs", []):
            control.kill(row["process_id"], grace=5, runs_root=root)
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def drill_kill_last_ckpt(root: Path, repeats: int) -> dict[str, Any]:
    import psutil

    overrides = [*SMOKE, "trainer.limit_train_batches=200", "debug.sleep_per_step=0.2"]
    ok = 0
    for _ in range(repeats):
        reply = control.start(overrides, runs_root=root, startup_timeout=120)
        if reply.get("status") != "started":
            continue
        time.sleep(1.0)
        killed = control.kill(reply["process_id"], grace=10, runs_root=root)
        paths = RunPaths.for_id(reply["process_id"], root)
        alive = (
            psutil.pid_exists(reply["pid"]) and psutil.Process(reply["pid"]).status() != "zombie"
        )
        ok += int(
            killed.get("status") == "killed"
            and unreadable_reason(paths.last_ckpt) is None
            and not alive
        )
    return {"ok": ok, "of": repeats}


_CONTROLLER = """
import json, sys, time
from oceansr import control
reply = control.start({overrides!r}, runs_root={root!r}, on_exit={on_exit!r})
print(json.dumps(reply), flush=True)
time.sleep(600)
"""


def _group_left(pgid: int | None) -> list[int]:
    """Live (non-zombie) processes of the process group ``pgid``."""
    import psutil

    left = []
    for proc in psutil.process_iter(["pid", "status"]):
        try:
            if pgid and os.getpgid(proc.pid) == pgid and proc.status() != "zombie":
                left.append(proc.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return left


def _group_gone(pgid: int | None, *, within: float) -> bool:
    """Whether the run's process group is empty within ``within`` seconds: the trainer
    records ``killed`` and then still tears its interpreter down (about 1-3 s here)."""
    deadline = time.monotonic() + within
    while _group_left(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def _controller_then_sigkill(root: Path, overrides: list[str], on_exit: str) -> dict[str, Any]:
    """Start a run from a controller process, SIGKILL the controller; the start reply."""
    code = _CONTROLLER.format(overrides=overrides, root=str(root), on_exit=on_exit)
    controller = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert controller.stdout is not None
        reply: dict[str, Any] = json.loads(controller.stdout.readline() or "{}")
    finally:
        controller.kill()  # SIGKILL: no atexit, no cleanup in the controller
        controller.wait()
    return reply


def drill_controller_sigkill(root: Path, on_exit: str, repeats: int) -> dict[str, Any]:
    """``terminate``: killed, last.ckpt loads, no process of the group left within 10 s
    (as in tests/control/test_control.py); ``keep``: the run completes."""
    long = [*SMOKE, "trainer.limit_train_batches=200", "debug.sleep_per_step=0.2"]
    short = [*SMOKE, "trainer.limit_train_batches=10", "debug.sleep_per_step=0.3"]
    ok, outcomes, killed_s, gone_s = 0, [], [], []
    for _ in range(repeats):
        reply = _controller_then_sigkill(root, long if on_exit == "terminate" else short, on_exit)
        if reply.get("status") != "started":
            outcomes.append("not started")
            continue
        pid, limit = reply["process_id"], 30 if on_exit == "terminate" else 180
        t0 = time.monotonic()
        final = control.wait(pid, timeout=limit, until="terminal", runs_root=root)
        paths = RunPaths.for_id(pid, root)
        if on_exit == "terminate":
            killed_s.append(round(time.monotonic() - t0, 2))
            t1 = time.monotonic()
            gone = _group_gone(reply.get("pgid"), within=10.0)
            gone_s.append(round(time.monotonic() - t1, 2))
            good = (
                final.get("status") == "killed"
                and unreadable_reason(paths.last_ckpt) is None
                and gone
            )
        else:
            good = final.get("status") == "completed"
        ok += int(good)
        outcomes.append(str(final.get("status")))
    result: dict[str, Any] = {"ok": ok, "of": repeats, "outcomes": outcomes}
    if on_exit == "terminate":
        result.update(killed_after_s=killed_s, group_gone_after_s=gone_s)
    return result


def left_out(skip_real: bool, skip_disk_full: bool) -> dict[str, str]:
    """The drills this run leaves out, each with the option that left it out, so the
    JSON says what was not drilled instead of leaving it to be noticed."""
    not_run: dict[str, str] = {}
    if skip_real:
        not_run.update(dict.fromkeys(REAL_DRILLS, "--skip-real"))
    if skip_disk_full:
        not_run.update(dict.fromkeys(DISK_DRILLS, "--skip-disk-full"))
    return not_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-disk-full", action="store_true")
    parser.add_argument("--skip-real", action="store_true", help="no real trainer drills")
    parser.add_argument("--torn-seconds", type=float, default=3.0)
    parser.add_argument("--healthy-runs", type=int, default=50, help="list_damaged's sound runs")
    args = parse_args(parser, SMOKE_SIZES)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    base = Path(tempfile.mkdtemp(prefix="oceansr-chaos-"))
    not_run = left_out(args.skip_real, args.skip_disk_full)
    result: dict[str, Any] = {
        "sigkill_terminal_5s": drill_sigkill(base / "sigkill", args.repeats),
        "startup_timeout_reply": drill_startup_timeout(base / "startup-timeout"),
        "concurrent_starts": drill_concurrent(base / "concurrent"),
        "list_damaged": drill_list_damaged(base / "damaged", args.healthy_runs),
        "torn_reads": drill_torn_reads(base / "torn", args.torn_seconds),
    }
    if "kill_last_ckpt" not in not_run:
        result["kill_last_ckpt"] = drill_kill_last_ckpt(base / "kill", min(args.repeats, 3))
        for policy in ("terminate", "keep"):
            result[f"controller_sigkill_{policy}"] = drill_controller_sigkill(
                base / f"controller-{policy}", policy, min(args.repeats, 3)
            )
    if "disk_full_at_start" not in not_run:
        result["disk_full_at_start"] = drill_disk_full_at_start(base)
    if "disk_full_mid_run" not in not_run:
        result["disk_full_mid_run"] = drill_disk_full_mid_run(base)
    result["not_run"] = not_run
    emit(result, args)


if __name__ == "__main__":
    main()
