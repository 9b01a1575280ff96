"""Slurm backend latencies on a live cluster (scripts/slurm-local.sh up). Prints JSON.

    python benchmarks/slurm.py [--repeats 2] [--runs 200] [--drills 2] [--smoke]

Measured through the public API (``oceansr.control``):

- ``start_s``: seconds from ``start(["experiment=smoke"])`` to its ``training_start``
  reply, for ``backend="slurm"`` next to ``backend="local"`` (median of ``--repeats``);
- ``list``: ``list_runs`` over ``--runs`` Slurm run directories (synthetic: created with
  ``create_run`` and pointing at one real running job, so every row needs a job state),
  with the number of ``squeue`` calls it made (the contract: one per round);
- ``kill_s``: ``kill`` of a training job until its reply says ``killed`` (checkpoint
  written by the trainer), and of a job still waiting in the queue (cancelled at once:
  target 15 s).

- ``faults``: the fault drills of tests/slurm_drills.py, ``--drills`` times each: a node
  set down, ``scontrol requeue`` and the warning signal, at start-up and mid-training.
  ``"node_down/training": "2/2"`` counts the drills whose run completed in the same
  directory with one ``requeued`` event per extra attempt and no trained step lost;
  ``fault_runs`` has what each one observed.

Without a cluster of two usable nodes (the rule of tests/slurm_support.py) it prints
only ``{"skipped": reason}``. ``--smoke``: one start per backend, a list of 5 runs,
one drill (``scontrol requeue`` mid-training).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from oceansr import control
from oceansr.control.backends import find_backend
from oceansr.control.backends.slurm import SlurmBackend
from oceansr.runs import RunPaths, create_run, new_run_id, read_events, update_run
from smoke import emit, parse_args

# One rule for "a cluster answers", shared with the Slurm tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from slurm_drills import FAULTS, PHASES, drill
from slurm_support import START_HINT, cluster_available

SMOKE = ["experiment=smoke"]
LONG = ["experiment=smoke", "trainer.max_epochs=1000"]
SMOKE_SIZES = {"repeats": 1, "runs": 5, "drills": 1, "faults": "scontrol_requeue/training"}
ALL_FAULTS = ",".join(f"{fault}/{phase}" for fault in FAULTS for phase in PHASES)


def _sbatch(*args: str) -> str:
    out = subprocess.run(
        ["sbatch", "--parsable", "-o", "/dev/null", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return out.stdout.strip().split(";")[0]


def _scancel(*jobs: str) -> None:
    subprocess.run(["scancel", *jobs], capture_output=True, check=False, timeout=30)


def _wait_state(job_id: str, state: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["squeue", "-h", "-j", job_id, "-o", "%T"], capture_output=True, text=True, check=False
        )
        if out.stdout.strip() == state:
            return
        time.sleep(0.2)
    raise RuntimeError(f"job {job_id} not {state} after {timeout:g} s")


def _wait_idle(timeout: float = 60.0) -> None:
    """No job of ours left in the queue (each measurement gets the whole cluster)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = subprocess.run(["squeue", "-h", "-o", "%i"], capture_output=True, text=True)
        if not out.stdout.strip():
            return
        time.sleep(0.3)


def bench_start(root: Path, repeats: int) -> dict[str, Any]:
    """Submit (or spawn) to training_start, slurm next to local."""
    result: dict[str, Any] = {}
    for backend in ("local", "slurm"):
        times = []
        for _ in range(repeats):
            _wait_idle()
            began = time.monotonic()
            reply = control.start(SMOKE, backend=backend, runs_root=root, startup_timeout=300)
            if reply["status"] != "started":
                raise RuntimeError(f"{backend} start failed: {reply}")
            times.append(time.monotonic() - began)
            control.wait(reply["process_id"], until="terminal", timeout=300, runs_root=root)
        result[backend] = {"median_s": round(statistics.median(times), 2), "runs_s": times}
    result["slurm_minus_local_s"] = round(
        result["slurm"]["median_s"] - result["local"]["median_s"], 2
    )
    return result


def bench_list(root: Path, count: int) -> dict[str, Any]:
    """``list_runs`` over ``count`` Slurm runs whose job is running."""
    job = _sbatch("--wrap", "sleep 300")
    try:
        _wait_state(job, "RUNNING")
        for _ in range(count):
            paths = RunPaths.for_id(new_run_id("train"), root)
            create_run(
                paths, kind="train", overrides=SMOKE, command=["x"], backend="slurm", on_exit="keep"
            )
            update_run(paths, job_id=job)
        backend = find_backend("slurm")
        assert isinstance(backend, SlurmBackend)
        times, calls = [], []
        for _ in range(5):
            backend.jobs.forget()
            before = backend.jobs.calls
            began = time.perf_counter()
            reply = control.list_runs(runs_root=root)
            times.append(time.perf_counter() - began)
            calls.append(backend.jobs.calls - before)
            assert reply["count"] == count
        return {
            "runs": count,
            "median_ms": round(1000 * statistics.median(times), 1),
            "squeue_calls_per_list": max(calls),
        }
    finally:
        _scancel(job)


def _kill_running(root: Path) -> dict[str, Any]:
    reply = control.start(LONG, backend="slurm", runs_root=root, startup_timeout=300)
    paths = RunPaths.for_id(reply["process_id"], root)
    deadline = time.monotonic() + 120
    while not read_events(paths, names="epoch_end") and time.monotonic() < deadline:
        time.sleep(0.2)
    began = time.monotonic()
    killed = control.kill(reply["process_id"], runs_root=root)
    return {
        "kill_to_killed_s": round(time.monotonic() - began, 2),
        "status": killed["status"],
        "signal": killed["kill"]["signal"],
        "escalated": killed["kill"]["escalated"],
        "exit_code": killed.get("exit_code"),
        "checkpoint_written": bool(killed.get("last_checkpoint")),
    }


def _kill_queued(root: Path) -> dict[str, Any]:
    blocker = _sbatch("-N2", "--wrap", "sleep 300")
    try:
        _wait_state(blocker, "RUNNING")
        reply = control.start(SMOKE, backend="slurm", runs_root=root, startup_timeout=1)
        began = time.monotonic()
        killed = control.kill(reply["process_id"], runs_root=root)
        return {
            "start_reply": reply["status"],
            "kill_to_killed_s": round(time.monotonic() - began, 2),
            "target_s": 15.0,
            "status": killed["status"],
            "signal": killed["kill"]["signal"],
        }
    finally:
        _scancel(blocker)


def bench_faults(root: Path, repeats: int, which: str) -> tuple[dict[str, str], list[Any]]:
    """Each drill ``repeats`` times: ``{"fault/phase": "ok/total"}`` and every observation."""
    counts: dict[str, str] = {}
    runs: list[Any] = []
    for name in which.split(","):
        fault, phase = name.split("/")
        ok = 0
        for _ in range(repeats):
            _wait_idle()
            try:
                observed = drill(fault, phase, root).as_dict()
            except Exception as exc:  # a stuck drill counts as a failed one, with its reason
                observed = {"fault": fault, "phase": phase, "ok": False, "error": repr(exc)}
            ok += bool(observed["ok"])
            runs.append(observed)
        counts[name] = f"{ok}/{repeats}"
    return counts, runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--drills", type=int, default=2, help="repeats of each fault drill")
    parser.add_argument("--faults", default=ALL_FAULTS, help="fault/phase,... to drill")
    args = parse_args(parser, SMOKE_SIZES)
    ready, why = cluster_available()
    if not ready:
        emit({"skipped": f"no Slurm cluster answers: {why}; {START_HINT}"}, args)
        return
    result: dict[str, Any] = {"host": platform.node(), "cpus": __import__("os").cpu_count()}
    with tempfile.TemporaryDirectory(prefix="oceansr-slurm-bench-") as tmp:
        root = Path(tmp)
        result["start"] = bench_start(root / "start", args.repeats)
        result["list"] = bench_list(root / "list", args.runs)
        _wait_idle()
        result["kill_running"] = _kill_running(root / "kill")
        _wait_idle()
        result["kill_queued"] = _kill_queued(root / "kill")
        result["faults"], result["fault_runs"] = bench_faults(
            root / "faults", args.drills, args.faults
        )
    emit(result, args)


if __name__ == "__main__":
    main()
