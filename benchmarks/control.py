"""Control-plane latency and throughput. Prints JSON.

    python benchmarks/control.py [--sizes 10 100 1000] [--log-mb 100] [--wait-trials 30]
                                 [--start-repeats 2] [--timeout-repeats 5] [--skip-start]
                                 [--skip-recorder] [--smoke]

Measured, all through the public API (``oceansr.control``) on real files:

- ``status_ms`` / ``list_runs_ms``: median latency with 10, 100 and 1,000 synthetic
  run directories (created with ``create_run`` and given a terminal status; no trainer);
- ``wait_wakeup_ms``: p50/p95 of the delay between another thread's status change and
  ``wait`` returning (contract: under 500 ms);
- ``timeouts``: ``wait`` on a finished run (target under 500 ms), how long ``wait`` with
  ``timeout=0.3`` on an unchanged run and ``run_lock(timeout=0.2)`` on a lock another
  process holds take in all (targets under 1 s and under 2 s);
- ``refusal_ms``: requests the controller refuses itself (bad overrides, a missing or
  foreign checkpoint, an existing predict output), nothing created: the first call of the
  process apart (it imports Hydra), then the median per case (targets: under 1 s once
  warm, under 2 s each);
- ``import_runs_ms``: ``import oceansr.runs`` in a fresh interpreter (target under 1 s);
- ``logs_offset_read``: MB/s when reading a 100 MB ``train.log`` by chained offset reads
  (default 64 KiB replies, and 1 MiB replies);
- ``start``: seconds from ``start(["experiment=smoke"])`` to its ``training_start``, next
  to the bare cost of ``python -c "import lightning"`` measured in the same run;
- ``sweep_cli``: seconds of ``oceansr start -m experiment=smoke model=srcnn,edsr_baseline
  --json`` until it has printed both run ids (it does not wait for ``training_start``;
  target under 6 s on 2 idle cores); the runs are killed afterwards;
- ``recorder``: the RunRecorder's cost as the ratio of training throughput with and
  without it (``benchmarks/overhead.py``, interleaved in one process; target >= 0.98).

``--smoke`` uses 3 runs, a 1 MB log, 2 wake-ups and one start, and skips ``recorder``
(``overhead.py --smoke`` is smoke-tested on its own, with the keys read here).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from oceansr import control
from oceansr.control.queries import DEFAULT_POLL_S
from oceansr.runs import (
    RunLockTimeoutError,
    RunPaths,
    create_run,
    new_run_id,
    run_lock,
    transition,
    update_run,
    update_status,
)
from smoke import emit, parse_args

SMOKE = {
    "sizes": [3],
    "log_mb": 1,
    "wait_trials": 2,
    "start_repeats": 1,
    "import_repeats": 1,
    "timeout_repeats": 1,
    "skip_recorder": True,
}


def _median_ms(func: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        func()
        times.append(time.perf_counter() - began)
    return round(1000 * statistics.median(times), 3)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def _fake_finished_run(root: Path) -> str:
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(
        paths,
        kind="train",
        overrides=["experiment=smoke", f"seed={random.randint(0, 999)}"],
        command=None,
        backend="local",
        on_exit="keep",
        extra={"model": "srcnn"},
    )
    transition(paths, "running", event="process_started")
    transition(
        paths,
        "completed",
        event="training_end",
        changes={
            "progress": {"epoch": 5, "total_epochs": 5, "step": 100, "percent": 100.0},
            "metrics": {
                "best": {"val/rmse": 0.71, "val/rmse_bicubic": 0.75, "epoch": 5},
                "test": {"test/rmse": 0.7, "test/rmse_bicubic": 0.74},
            },
        },
    )
    return paths.run_id


def _fake_finished_runs(root: Path, count: int) -> list[str]:
    """``count`` finished runs: a few made with ``create_run``, the rest copied from them
    with their ids rewritten (``create_run`` fsyncs every file, which only slows set-up)."""
    templates = [_fake_finished_run(root) for _ in range(min(count, 10))]
    ids = list(templates)
    while len(ids) < count:
        source = templates[len(ids) % len(templates)]
        run_id = new_run_id("train")
        target = root / run_id
        if target.exists():
            continue
        target.mkdir()
        for item in (root / source).iterdir():
            if item.is_file():
                text = item.read_text(encoding="utf-8").replace(source, run_id)
                (target / item.name).write_text(text, encoding="utf-8")
        ids.append(run_id)
    return ids


def bench_status_and_list(base: Path, sizes: list[int]) -> dict[str, Any]:
    status_ms, list_ms, create_s = {}, {}, {}
    for size in sizes:
        root = base / f"runs-{size}"
        began = time.perf_counter()
        ids = _fake_finished_runs(root, size)
        create_s[str(size)] = round(time.perf_counter() - began, 2)
        probe = ids[len(ids) // 2]
        status_ms[str(size)] = _median_ms(
            lambda probe=probe, root=root: control.status(probe, runs_root=root), 50
        )
        list_repeats = 5 if size >= 1000 else 20
        list_ms[str(size)] = _median_ms(
            lambda root=root: control.list_runs(runs_root=root), list_repeats
        )
        reply = control.list_runs(runs_root=root)
        assert reply["count"] == size, reply.get("error_summary")
    return {"status_ms": status_ms, "list_runs_ms": list_ms, "create_runs_s": create_s}


def bench_wait(base: Path, trials: int) -> dict[str, Any]:
    root = base / "wait"
    latencies = []
    for _ in range(trials):
        paths = RunPaths.for_id(new_run_id("train"), root)
        create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
        update_run(paths, pid=os.getpid())  # a live process: liveness keeps it pending
        changed_at: list[float] = []

        def change(paths: RunPaths = paths, changed_at: list[float] = changed_at) -> None:
            time.sleep(random.uniform(0.05, 0.3))
            update_status(paths, {"status": "running"})
            changed_at.append(time.perf_counter())

        thread = threading.Thread(target=change)
        thread.start()
        reply = control.wait(paths.run_id, timeout=10, runs_root=root)
        woke = time.perf_counter()
        thread.join()
        assert reply.get("changed"), reply
        latencies.append(1000 * (woke - changed_at[0]))
    return {
        "trials": trials,
        "poll_s": DEFAULT_POLL_S,
        "p50": round(_percentile(latencies, 0.5), 2),
        "p95": round(_percentile(latencies, 0.95), 2),
        "max": round(max(latencies), 2),
    }


_LOCK_HOLDER = """
import sys
from oceansr.runs import RunPaths, run_lock
with run_lock(RunPaths.from_dir(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.readline()
"""


def bench_timeouts(base: Path, repeats: int) -> dict[str, Any]:
    """Answers that must not wait: ``wait`` on a finished run, and how far ``wait`` and
    ``run_lock`` overshoot their timeouts (the tests only check that they answer)."""
    root = base / "timeouts"
    done = _fake_finished_run(root)
    terminal_ms = _median_ms(lambda: control.wait(done, timeout=30, runs_root=root), repeats)
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    update_run(paths, pid=os.getpid())  # alive: the run stays pending
    waited = []
    for _ in range(repeats):
        reply = control.wait(paths.run_id, timeout=0.3, runs_root=root)
        assert reply["timed_out"], reply
        waited.append(reply["waited_s"])
    holder = subprocess.Popen(
        [sys.executable, "-c", _LOCK_HOLDER, str(paths.dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    locked = []
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        for _ in range(repeats):
            began = time.perf_counter()
            try:
                with run_lock(paths, timeout=0.2):
                    raise AssertionError("the lock is held by another process")
            except RunLockTimeoutError:
                locked.append(time.perf_counter() - began)
    finally:
        holder.communicate("\n", timeout=60)
    return {
        "repeats": repeats,
        "wait_terminal_ms": terminal_ms,
        "wait_timeout_0_3_s": round(statistics.median(waited), 3),
        "lock_timeout_0_2_s": round(statistics.median(locked), 3),
        "targets": {"wait_terminal_ms": 500, "wait_timeout_0_3_s": 1.0, "lock_timeout_0_2_s": 2.0},
    }


def bench_refusal(base: Path, repeats: int) -> dict[str, Any]:
    """Requests refused by the controller itself, before any run directory or process."""
    root = base / "refused"
    base.mkdir(parents=True, exist_ok=True)
    foreign = base / "notes.ckpt"
    foreign.write_text("not a checkpoint")
    lr = base / "lr.nc"
    lr.write_bytes(b"not read before the request is checked")
    taken = base / "taken.nc"
    taken.write_bytes(b"precious")
    cases = {
        "unknown_model": lambda: control.start(["model=nope"], runs_root=root),
        "bad_patch_size": lambda: control.start(
            ["experiment=smoke", "data.patch_size=7"], runs_root=root
        ),
        "missing_checkpoint": lambda: control.start(
            ["experiment=smoke", "ckpt_path=/no/such/last.ckpt"], runs_root=root
        ),
        "predict_foreign_checkpoint": lambda: control.start_predict(
            lr, checkpoint=foreign, runs_root=root
        ),
        "predict_output_exists": lambda: control.start_predict(
            lr, checkpoint=foreign, output=taken, runs_root=root
        ),
    }
    began = time.perf_counter()
    first = cases["unknown_model"]()
    first_ms = round(1000 * (time.perf_counter() - began), 1)
    assert first["status"] == "error", first
    per_case = {}
    for name, call in cases.items():
        reply = call()
        assert reply["status"] == "error" and reply["process_id"] is None, (name, reply)
        per_case[name] = _median_ms(call, repeats)
    assert not root.exists() or not any(root.iterdir()), "a refused request created a run"
    return {
        "repeats": repeats,
        "first_call_ms": first_ms,
        "median_ms": per_case,
        "targets": {"warm_ms": 1000, "each_ms": 2000},
    }


def bench_import_runs(repeats: int) -> dict[str, Any]:
    """``import oceansr.runs`` (the torch-free protocol) in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter(); import oceansr.runs; print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        times.append(1000 * float(out.stdout))
    return {
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "target_ms": 1000,
    }


def bench_logs(base: Path, megabytes: int) -> dict[str, Any]:
    root = base / "logs"
    run_id = _fake_finished_run(root)
    path = RunPaths.for_id(run_id, root).train_log
    line = "epoch 3 step 1200 loss 0.0123 ✓ 🌊 temp RMSE 0.68 °C bicubic 0.71 °C\n".encode()
    block = line * ((1 << 20) // len(line) + 1)
    with open(path, "wb") as handle:
        written = 0
        while written < megabytes * 1_000_000:
            handle.write(block)
            written += len(block)
    size = path.stat().st_size
    result: dict[str, Any] = {"log_mb": round(size / 1e6, 1)}
    for label, cap in (("64KiB", control.DEFAULT_MAX_BYTES), ("1MiB", 1 << 20)):
        offset, calls = 0, 0
        began = time.perf_counter()
        while True:
            reply = control.logs(run_id, offset=offset, max_bytes=cap, runs_root=root)
            calls += 1
            offset = reply["next_offset"]
            if reply["eof"]:
                break
        elapsed = time.perf_counter() - began
        assert offset == size
        result[f"mb_per_s_{label}"] = round(size / 1e6 / elapsed, 1)
        result[f"calls_{label}"] = calls
    tail_ms = _median_ms(lambda: control.logs(run_id, tail=50, runs_root=root), 20)
    result["tail50_ms"] = tail_ms
    return result


def bench_start(base: Path, repeats: int, import_repeats: int) -> dict[str, Any]:
    root = base / "start"
    imports = []
    for _ in range(import_repeats):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import lightning"], check=True)
        imports.append(time.perf_counter() - began)
    to_start, spawn_to_start = [], []
    for _ in range(repeats):
        began = time.perf_counter()
        reply = control.start(["experiment=smoke"], runs_root=root)
        to_start.append(time.perf_counter() - began)
        assert reply["status"] == "started", reply
        spawn_to_start.append(reply["startup_s"])
        # Let it finish so it does not compete with the next measurement.
        control.wait(reply["process_id"], timeout=120, until="terminal", runs_root=root)
    lightning_s = statistics.median(imports)
    median_start = statistics.median(to_start)
    return {
        "repeats": repeats,
        "start_to_training_start_s": round(median_start, 2),
        "spawn_to_training_start_s": round(statistics.median(spawn_to_start), 2),
        "python_import_lightning_s": round(lightning_s, 2),
        "ratio_to_import_lightning": round(median_start / lightning_s, 2),
    }


def bench_sweep_cli(base: Path) -> dict[str, Any]:
    """``oceansr start -m`` of two runs: seconds until both ids are printed."""
    root = base / "sweep"
    command = [
        sys.executable,
        "-m",
        "oceansr",
        "start",
        "-m",
        "experiment=smoke",
        "model=srcnn,edsr_baseline",
        "--json",
        "--runs-root",
        str(root),
    ]
    began = time.perf_counter()
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - began
    reply = json.loads(out.stdout)
    for run_id in reply.get("process_ids", []):
        control.kill(run_id, grace=30, runs_root=root)
    return {
        "seconds": round(seconds, 2),
        "count": reply.get("count"),
        "run_statuses": [run.get("status") for run in reply.get("runs", [])],
        "target_s": 6.0,
    }


def bench_recorder(steps: int, repeats: int) -> dict[str, Any]:
    """The RunRecorder's cost: training throughput with and without it, interleaved in one
    process by ``benchmarks/overhead.py`` (which also compares with a plain PyTorch loop)."""
    script = Path(__file__).with_name("overhead.py")
    out = subprocess.run(
        [sys.executable, str(script), "--steps", str(steps), "--repeats", str(repeats)],
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(out.stdout)
    return {
        "recorder_ratio": measured["recorder_ratio"],
        "steps_per_s": measured["steps_per_s"],
        "model": measured["model"],
        "target": ">= 0.98",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--log-mb", type=int, default=100)
    parser.add_argument("--wait-trials", type=int, default=30)
    parser.add_argument("--start-repeats", type=int, default=2)
    parser.add_argument("--import-repeats", type=int, default=3)
    parser.add_argument("--timeout-repeats", type=int, default=5)
    parser.add_argument("--skip-start", action="store_true")
    parser.add_argument("--skip-recorder", action="store_true")
    parser.add_argument("--recorder-steps", type=int, default=40)
    parser.add_argument("--recorder-repeats", type=int, default=3)
    args = parse_args(parser, SMOKE)
    base = Path(tempfile.mkdtemp(prefix="oceansr-bench-control-"))
    try:
        result: dict[str, Any] = {
            "benchmark": "control",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        }
        result.update(bench_status_and_list(base, args.sizes))
        result["wait_wakeup_ms"] = bench_wait(base, args.wait_trials)
        result["timeouts"] = bench_timeouts(base, args.timeout_repeats)
        result["refusal_ms"] = bench_refusal(base, args.timeout_repeats)
        result["import_runs_ms"] = bench_import_runs(args.timeout_repeats)
        result["logs_offset_read"] = bench_logs(base, args.log_mb)
        if not args.skip_start:
            result["start"] = bench_start(base, args.start_repeats, args.import_repeats)
            result["sweep_cli"] = bench_sweep_cli(base)
        if not args.skip_recorder:
            result["recorder"] = bench_recorder(args.recorder_steps, args.recorder_repeats)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    emit(result, args)


if __name__ == "__main__":
    main()
