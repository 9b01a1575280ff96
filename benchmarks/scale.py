"""Data larger than memory, measured as users run it: the real trainer on a large Zarr store.

Every training figure comes from ``python -m oceansr.train`` run as a subprocess with
overrides (``data=xarray data.path=<store> data.cache=lazy|memory data.num_workers=2
model=srcnn trainer=cpu trainer.max_steps=N``, SRCNN x4 as in issue 17), so the trainer,
its forkserver, its training *and* validation DataLoader workers and the sanity check all
count. Nothing is timed by a hand-written loop: speed and start-up come from the run's own
files (docs/architecture.md, run directory).

The store: ``--size-gb`` of (time, lat, lon) float32 fields of ``--height`` x ``--width``
(2048 x 4096: 32 MiB a field, so ``--size-gb 8`` is 256 fields, 8 GiB = 8.6 GB), chunks
1 x ``--chunk`` x ``--chunk`` (512), uncompressed, consolidated metadata; synthetic eddies
with coastlines, tiled and shifted so generation is fast. Stores are built in ``--root``
under a name that says their shape and reused when one exists whose consolidated metadata
matches the requested shape, chunks and dtype (``store.reused``; ``generation_s`` when
built); ``--keep-stores`` keeps what was generated for the next invocation, else it is
deleted at the end (a reused store is never deleted). The split: all fields but the last
two train, one validates, one tests. ``data.patches_per_field`` is raised when needed so
that one epoch holds the ``--steps`` steps, and ``trainer.max_epochs=1
trainer.limit_train_batches=N`` ends that epoch at step N: every run trains N steps, then
validates once (one field), then tests (one field).

Figures (one JSON document on stdout):

- ``validation``: the controller's metadata check of a ``start`` on the store (seconds,
  peak RSS of that child).
- ``train_lazy``: the real trainer, ``data.cache=lazy``, ``--workers`` workers, on the
  large store with a COLD page cache: before the run every file of the store is flushed
  (``fdatasync``) and evicted with ``posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)`` (no
  root needed); ``eviction`` says how many files and the bytes resident before and after,
  measured with util-linux ``fincore`` (null when it is missing).
  * ``peak_pss_tree_mb``: peak of the summed PSS of the process tree (trainer, forkserver,
    DataLoader workers), read from ``/proc/PID/smaps_rollup`` every ``--sample-ms`` (50)
    ms; ``rss_at_peak_mb``, ``processes_at_peak``, ``phase_at_peak`` and
    ``peak_breakdown`` (MB per role) describe that moment; ``peak_rss_tree_mb`` is the peak
    of the summed RSS (shared pages counted once per process). ``sampler`` gives the
    sampler's own CPU cost: reading smaps_rollup makes the kernel walk the process's page
    tables, about 15 ms for a trainer of 800 MB RSS on the 2-core machine, so seven
    processes every 50 ms can take most of a core (``cpu_share``: the fraction of one
    core it used; ``ms_per_tick``; the period stretches when a tick outlasts it). Only
    this run samples that often; the runs that time start-up or speed sample every
    ``--light-sample-ms`` (1000), and every run reports its own ``sampler``.
  * ``time_to_training_start_s``: from spawning the trainer to the ``training_start``
    event's own timestamp in ``events.jsonl``; ``phases_s`` gives when each phase of
    ``status.json`` was first seen (``starting``, ``sanity_check``, ``training``, ...).
  * ``steps_per_s``: the steady rate, from the ``progress`` the trainer writes to
    ``status.json`` (``step`` and ``elapsed_s``, both measured by the trainer's recorder at
    the end of a step): first progress at or after step ``--warmup-steps`` (default
    ``steps // 5``, at least 1) to the last one before validation; ``steady`` gives the
    steps and seconds it spans. ``samples_per_s_trainer`` is the recorder's own average
    over all steps (its last progress in the training phase).
  * ``warm``: time to ``training_start`` again after reading every file of the store
    once (``resident_mb`` says how much of it the page cache then held); that run is
    stopped as soon as ``training_start`` appears (SIGTERM to the trainer, as ``kill``
    does; its group is killed 60 s later if still alive), so it ends ``killed``.
- ``train_subset_memory`` / ``train_subset_lazy``: the same trainer, model, patch, batch,
  workers and steps on the first ``--subset`` fields (``data.isel``), which fit in memory,
  ``data.cache=memory`` then ``data.cache=lazy`` back to back, ``--speed-pairs`` times
  (``speed_pairs``: each pair's steps/s and ratio); ``lazy_over_memory_speed``
  is the median of the pairs' ratios of steady steps/s (goal >= 0.8).
- ``start_scaling`` (``--start-scaling``, on by default, off in ``--smoke``): time to
  ``training_start`` with a cold page cache (evicted as above; each run stopped there) on
  the store above and on a store four times longer (same grid and chunks, 4x the fields;
  built once, reused), both timed alike; ``long_over_short`` (goal <= 1.25) and both
  cold times (goal <= 120 s).
- ``predict_slope``: streaming predict (docs/architecture.md, predict) of an LR Zarr store
  of each ``--predict-lr-gb`` (fields of ``--lr-height`` x ``--lr-width``, one chunk a
  field) x4 by an SRCNN checkpoint into Zarr, in a child: peak PSS and RSS of the child
  (sampled as above), seconds, fields; ``pss_mb_per_field`` / ``rss_mb_per_field`` are the
  slopes of the peak against the number of fields between the two sizes (the claim: predict
  memory does not depend on it, slope ~ 0).

``--extra key=value ...`` is appended to every trainer run and the validation (e.g.
``data.chunk_cache_mb=256``, ``data.val_fields=1``, ``data.stats=sample``), so new knobs
can be tried without editing this script. ``goals`` compares the figures with issue 17's.

    python benchmarks/scale.py [--size-gb 8] [--steps 30] [--subset 8] [--root /work/tmp]
    python benchmarks/scale.py --size-gb 0.5 --steps 30 --subset 4 --no-start-scaling
    python benchmarks/scale.py --predict-only [--predict-lr-gb 0.0625 0.25]

``--smoke`` shrinks everything: twelve 128 x 256 fields (chunks 64 x 64), 3 steps of batch
2 on 32-cell patches without DataLoader workers, no 4x store, LR stores of 2 and 4 fields
of 32 x 64 predicted with 16-cell windows. Its figures mean nothing.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from oceansr.runs import RunPaths, new_run_id, override, read_events, read_status
from smoke import emit, parse_args

HEIGHT, WIDTH, CHUNK = 2048, 4096, 512
LR_H, LR_W = 512, 1024
MB = 2**20
#: How often the run's files are read (status.json progress is written at most once a
#: second, so this only bounds how late a phase or training_start is seen).
POLL_S = 0.05
#: Seconds a run stopped at training_start gets to end before its group is killed.
STOP_GRACE_S = 60.0
SMOKE_LR = (32, 64)
SMOKE = {
    "size_gb": 0.0,
    "height": 128,
    "width": 256,
    "chunk": 64,
    "steps": 3,
    "subset": 6,
    "patch_size": 32,
    "batch_size": 2,
    "workers": 0,
    "start_scaling": False,
    "speed_pairs": 1,
    # Two and four LR fields: the smallest pair that still gives a slope.
    "predict_lr_gb": [n * SMOKE_LR[0] * SMOKE_LR[1] * 4 / 2**30 for n in (2, 4)],
    "lr_height": SMOKE_LR[0],
    "lr_width": SMOKE_LR[1],
    "predict_tile": 16,
}
#: Issue 17's targets, compared in ``goals``.
GOAL_PEAK_PSS_MB = 2.0e9 / 2**20  # 2.0 GB (1907 MiB; the figures are MiB)
GOAL_LAZY_OVER_MEMORY = 0.8
GOAL_COLD_START_S = 120.0
GOAL_LONG_OVER_SHORT = 1.25


# -- stores ----------------------------------------------------------------------------


def generate(
    path: Path,
    size_gb: float,
    grid: tuple[int, int] = (HEIGHT, WIDTH),
    chunk: int = CHUNK,
    n_time: int | None = None,
) -> dict[str, Any]:
    """A (time, lat, lon) float32 store of about ``size_gb`` (at least 12 fields of
    ``grid``) or of ``n_time`` fields, written one field at a time."""

    from oceansr.data.synthetic import make_synthetic_dataset

    height, width = grid
    n_time = n_time or fields_for(size_gb, grid)
    base = make_synthetic_dataset(n_time=4, height=height // 4, width=width // 4)["temp"].values
    start = time.perf_counter()

    def field(t: int) -> np.ndarray:
        tile = np.roll(base[t % 4], shift=(7 * t, 13 * t), axis=(0, 1))
        return np.tile(tile, (4, 4)) + np.float32(0.01 * t)

    nbytes = write_store(path, n_time, grid, (chunk, chunk), field)
    return {"n_time": n_time, "bytes": nbytes, "seconds": time.perf_counter() - start}


def fields_for(size_gb: float, grid: tuple[int, int]) -> int:
    """Fields of ``grid`` in ``size_gb`` GiB of float32, at least 12 (the split needs some)."""
    return max(12, math.ceil(size_gb * 2**30 / (grid[0] * grid[1] * 4)))


def write_store(
    path: Path,
    n_time: int,
    shape: tuple[int, int],
    chunks: tuple[int, int],
    field: Any,
) -> int:
    """A consolidated Zarr v3 (time, lat, lon) float32 store, written one field at a time
    (``field(t)``), so no more than one field is ever in memory; its size in bytes."""
    import zarr

    height, width = shape
    store = zarr.open_group(str(path), mode="w", zarr_format=3)
    store.create_array("lat", data=np.linspace(-80, 80, height), dimension_names=["lat"])
    lon = np.linspace(-180, 180, width, endpoint=False)
    store.create_array("lon", data=lon, dimension_names=["lon"])
    store.create_array("time", data=np.arange(n_time), dimension_names=["time"])
    arr = store.create_array(
        "temp",
        shape=(n_time, height, width),
        chunks=(1, *chunks),
        dtype="float32",
        fill_value=np.nan,
        compressors=None,
        dimension_names=["time", "lat", "lon"],
        attributes={"units": "degC"},
    )
    for t in range(n_time):
        arr[t] = field(t)
    zarr.consolidate_metadata(str(path))
    return store_bytes(path)


def store_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in store_files(path))


def store_files(path: Path) -> list[Path]:
    return [f for f in path.rglob("*") if f.is_file()]


def store_matches(path: Path, n_time: int, grid: tuple[int, int], chunk: int) -> bool:
    """Whether ``path`` is a finished store of this shape: consolidated metadata (written
    last, so an interrupted generation has none) with ``temp`` of the requested shape,
    chunks and dtype, uncompressed."""
    import warnings

    import zarr

    if not (path / "zarr.json").is_file():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # consolidated metadata is not in the v3 spec
            arr = zarr.open_consolidated(str(path), mode="r")["temp"]
    except (ValueError, KeyError, OSError):
        return False
    return (
        tuple(arr.shape) == (n_time, *grid)
        and tuple(arr.chunks) == (1, chunk, chunk)
        and arr.dtype == np.float32
        and not arr.compressors
    )


def ensure_store(
    root: Path, n_time: int, grid: tuple[int, int], chunk: int, made: list[Path]
) -> tuple[Path, dict[str, Any]]:
    """The store of ``n_time`` fields in ``root``: reused when it matches, else generated
    (and added to ``made``, the stores this invocation may delete)."""
    path = root / f"oceansr-scale-{n_time}x{grid[0]}x{grid[1]}-c{chunk}.zarr"
    info: dict[str, Any] = {"path": str(path), "n_time": n_time}
    if store_matches(path, n_time, grid, chunk):
        info.update(reused=True, generation_s=None, bytes=store_bytes(path))
    else:
        shutil.rmtree(path, ignore_errors=True)
        made.append(path)
        gen = generate(path, 0.0, grid, chunk, n_time=n_time)
        info.update(reused=False, generation_s=round(gen["seconds"], 1), bytes=gen["bytes"])
    info["gb"] = round(info["bytes"] / 1e9, 2)
    return path, info


# -- page cache ------------------------------------------------------------------------


def resident_bytes(files: Sequence[Path]) -> int | None:
    """Bytes of ``files`` in the page cache (util-linux ``fincore``), None without it."""
    fincore = shutil.which("fincore")
    if fincore is None:
        return None
    total = 0
    for start in range(0, len(files), 500):  # bounded command lines
        batch = [str(f) for f in files[start : start + 500]]
        out = subprocess.run(
            [fincore, "--bytes", "--noheadings", "--raw", "--output", "RES", *batch],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        total += sum(int(line) for line in out.split() if line.isdigit())
    return total


def evict(store: Path) -> dict[str, Any]:
    """Cold page cache for ``store``: flush and drop every file's pages (no root needed:
    ``POSIX_FADV_DONTNEED`` drops clean pages; ``fdatasync`` first makes a freshly written
    store's pages clean). Resident bytes before/after say whether it worked."""
    files = store_files(store)
    before = resident_bytes(files)
    start = time.perf_counter()
    for path in files:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    seconds = time.perf_counter() - start
    after = resident_bytes(files)
    return {
        "method": "fdatasync + posix_fadvise(POSIX_FADV_DONTNEED) on every file",
        "files": len(files),
        "seconds": round(seconds, 2),
        "resident_mb_before": None if before is None else round(before / MB, 1),
        "resident_mb_after": None if after is None else round(after / MB, 1),
        "verified_by": "fincore" if after is not None else None,
    }


def warm(store: Path) -> dict[str, Any]:
    """Read every file of ``store`` once, so the page cache holds what fits of it."""
    files = store_files(store)
    start = time.perf_counter()
    for path in files:
        with path.open("rb") as handle:
            while handle.read(16 * MB):
                pass
    resident = resident_bytes(files)
    return {
        "read_s": round(time.perf_counter() - start, 1),
        "resident_mb": None if resident is None else round(resident / MB, 1),
    }


# -- the process tree's memory ---------------------------------------------------------


def rollup(pid: int) -> tuple[int, int] | None:
    """(PSS, RSS) bytes of one process from ``/proc/PID/smaps_rollup``, None if gone."""
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    values = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("Pss", "Rss"):
            values[key] = int(rest.split()[0]) * 1024
    return values.get("Pss", 0), values.get("Rss", 0)


def role(proc: psutil.Process, root_pid: int) -> str:
    """What a process of the tree is: the trainer, the forkserver or a worker."""
    if proc.pid == root_pid:
        return "main"
    try:
        cmdline = " ".join(proc.cmdline())
    except psutil.Error:
        return "gone"
    if "forkserver" in cmdline:
        # The forkserver's children are forked, not executed: they keep its command
        # line, so the DataLoader workers are told apart by their parent.
        try:
            parent = proc.ppid()
        except psutil.Error:
            return "gone"
        return "forkserver" if parent == root_pid else "worker"
    if "resource_tracker" in cmdline:
        return "resource_tracker"
    return "worker"


@dataclass
class TreeSampler:
    """Peak summed PSS/RSS of a process and all its descendants, sampled on demand."""

    root_pid: int
    peak_pss: int = 0
    peak_rss: int = 0
    rss_at_peak: int = 0
    processes_at_peak: int = 0
    max_processes: int = 0
    phase_at_peak: str | None = None
    breakdown_at_peak: dict[str, float] = dataclasses.field(default_factory=dict)
    cpu_s: float = 0.0
    ticks: int = 0

    def sample(self, phase: str | None = None) -> None:
        start = time.process_time()
        try:
            root = psutil.Process(self.root_pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            return
        readings = [(proc, rollup(proc.pid)) for proc in procs]
        alive = [(proc, r) for proc, r in readings if r is not None]
        pss = sum(r[0] for _, r in alive)
        rss = sum(r[1] for _, r in alive)
        self.peak_rss = max(self.peak_rss, rss)
        self.max_processes = max(self.max_processes, len(alive))
        if pss > self.peak_pss:
            self.peak_pss, self.rss_at_peak, self.processes_at_peak = pss, rss, len(alive)
            self.phase_at_peak = phase
            roles: dict[str, float] = {}
            for proc, r in alive:
                name = role(proc, self.root_pid)
                roles[name] = roles.get(name, 0.0) + r[0] / MB
            self.breakdown_at_peak = {k: round(v, 1) for k, v in sorted(roles.items())}
        self.cpu_s += time.process_time() - start
        self.ticks += 1

    def report(self, wall_s: float) -> dict[str, Any]:
        return {
            "peak_pss_tree_mb": round(self.peak_pss / MB, 1),
            "rss_at_peak_mb": round(self.rss_at_peak / MB, 1),
            "processes_at_peak": self.processes_at_peak,
            "phase_at_peak": self.phase_at_peak,
            "peak_breakdown": self.breakdown_at_peak,
            "peak_rss_tree_mb": round(self.peak_rss / MB, 1),
            "max_processes": self.max_processes,
            "sampler": {
                "ticks": self.ticks,
                "ms_per_tick": round(1e3 * self.cpu_s / max(self.ticks, 1), 3),
                "cpu_s": round(self.cpu_s, 2),
                "cpu_share": round(self.cpu_s / wall_s, 4) if wall_s > 0 else None,
            },
        }


# -- the real trainer ------------------------------------------------------------------


def trainer_overrides(
    store: Path, n_time: int, args: argparse.Namespace, cache: str, subset: int | None = None
) -> list[str]:
    """``python -m oceansr.train`` overrides: N steps in one epoch, one validation field
    and one test field at the end of ``n_time`` (or of the first ``subset``) fields."""
    n = subset or n_time
    n_train = n - 2
    # A multiple of 4, so that data.patches_per_read=4 divides it (datasets.patches_per_read).
    patches = 4 * max(1, math.ceil(args.steps * args.batch_size / n_train / 4))
    chosen = [
        "data=xarray",
        override("data.path", str(store)),
        "data.variables=[temp]",
        "data.split.by=index",
        f"data.split.train={{start: 0, stop: {n_train}}}",
        f"data.split.valid={{start: {n_train}, stop: {n - 1}}}",
        f"data.split.test={{start: {n - 1}, stop: {n}}}",
        f"data.patch_size={args.patch_size}",
        f"data.batch_size={args.batch_size}",
        f"data.patches_per_field={patches}",
        f"data.cache={cache}",
        f"data.num_workers={args.workers}",
        "model=srcnn",
        "trainer=cpu",
        f"trainer.max_steps={args.steps}",
        "trainer.max_epochs=1",
        f"trainer.limit_train_batches={args.steps}",
    ]
    if subset:
        chosen.append(f"data.isel={{time: {{start: 0, stop: {subset}}}}}")
    return [*chosen, *args.extra]


@dataclass
class RunWatch:
    """What the benchmark sees of one trainer run, from its process tree and run files."""

    paths: RunPaths
    spawned_at: float
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    #: step -> the trainer's elapsed_s when that step's progress was first seen
    progress: dict[int, float] = dataclasses.field(default_factory=dict)
    last_progress: dict[str, Any] = dataclasses.field(default_factory=dict)
    status: dict[str, Any] = dataclasses.field(default_factory=dict)
    started_at: float | None = None
    _status_mtime: float = 0.0

    @property
    def phase(self) -> str | None:
        return self.status.get("phase")

    def poll(self) -> None:
        """Read ``status.json`` when it changed, and look for ``training_start``."""
        try:
            mtime = self.paths.status_json.stat().st_mtime
        except OSError:
            return
        if mtime != self._status_mtime:
            self._status_mtime = mtime
            try:
                self.status = read_status(self.paths)
            except (OSError, ValueError):  # RunNotFoundError, CorruptRunFileError
                return  # replaced atomically, so only a race with the first write
            self.phases.setdefault(str(self.phase), time.time() - self.spawned_at)
            progress = self.status.get("progress") or {}
            if self.phase == "training" and progress.get("elapsed_s") is not None:
                self.progress.setdefault(int(progress["step"]), float(progress["elapsed_s"]))
                # Later phases rewrite progress with a growing elapsed_s: training's only.
                self.last_progress = progress
        if self.started_at is None:
            events = read_events(self.paths, names="training_start")
            if events:
                stamp = datetime.fromisoformat(events[0]["ts"].replace("Z", "+00:00"))
                self.started_at = stamp.timestamp() - self.spawned_at


def steady_rate(progress: dict[int, float], warmup: int) -> dict[str, Any]:
    """Steps/s between the first progress at or after step ``warmup`` and the last one."""
    later = sorted((s, e) for s, e in progress.items() if s >= warmup)
    if len(later) < 2 or later[-1][1] <= later[0][1]:
        return {
            "steps_per_s": None,
            "why": f"fewer than two progress records at or after step {warmup}",
        }
    (s0, e0), (s1, e1) = later[0], later[-1]
    return {
        "steps_per_s": round((s1 - s0) / (e1 - e0), 3),
        "from_step": s0,
        "to_step": s1,
        "seconds": round(e1 - e0, 2),
        "records": len(later),
    }


def run_trainer(
    overrides: Sequence[str],
    tmp: Path,
    args: argparse.Namespace,
    *,
    sample_ms: float,
    stop_at_start: bool = False,
) -> dict[str, Any]:
    """One ``python -m oceansr.train`` run, watched every ``sample_ms``: memory of its
    tree, phases, progress; stopped at ``training_start`` when ``stop_at_start``."""
    root = tmp / "runs"
    run_id = new_run_id("train")
    paths = RunPaths.for_id(run_id, root=root)
    command = [
        sys.executable,
        "-m",
        "oceansr.train",
        *overrides,
        override("runs_root", str(root)),
        f"run_id={run_id}",
    ]
    log_path = tmp / f"{run_id}.log"
    interval = sample_ms / 1e3
    with log_path.open("wb") as log:
        spawned = time.time()
        proc = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        watch = RunWatch(paths, spawned)
        sampler = TreeSampler(proc.pid)
        stopped = timed_out = False
        stopped_at = math.inf
        sampled = -math.inf
        while proc.poll() is None:
            # The run files every POLL_S (cheap: a stat, and a read when status.json
            # changed); the memory of the tree every ``sample_ms`` (a page-table walk).
            tick = time.monotonic()
            watch.poll()
            if tick - sampled >= interval:
                sampler.sample(watch.phase)
                sampled = tick
            if stop_at_start and watch.started_at is not None and not stopped:
                # As `kill` does: SIGTERM to the trainer alone (it stops its workers); to
                # the whole group, the workers die first and the run ends `failed`.
                proc.send_signal(signal.SIGTERM)
                stopped, stopped_at = True, time.time()
            if stopped and time.time() - stopped_at > STOP_GRACE_S and not timed_out:
                os.killpg(proc.pid, signal.SIGKILL)
                timed_out = True
            if time.time() - spawned > args.run_timeout_s and not timed_out:
                os.killpg(proc.pid, signal.SIGKILL)
                timed_out = True
            time.sleep(max(0.0, min(interval, POLL_S) - (time.monotonic() - tick)))
        wall = time.time() - spawned
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # no worker of this run outlives it
    watch.poll()
    result: dict[str, Any] = {
        "run_id": run_id,
        "exit_code": proc.returncode,
        "status": watch.status.get("status"),
        "stopped_at_training_start": stopped,
        "timed_out": timed_out,
        "wall_s": round(wall, 1),
        "sample_ms": sample_ms,
        "time_to_training_start_s": None
        if watch.started_at is None
        else round(watch.started_at, 2),
        "phases_s": {k: round(v, 2) for k, v in watch.phases.items()},
        **sampler.report(wall),
    }
    if not stop_at_start:
        warmup = args.warmup_steps if args.warmup_steps is not None else max(1, args.steps // 5)
        steady = steady_rate(watch.progress, warmup)
        result["steps_per_s"] = steady.pop("steps_per_s")
        result["steady"] = steady
        result["samples_per_s_trainer"] = watch.last_progress.get("samples_per_s")
        result["steps_done"] = watch.last_progress.get("step")
    if not stopped and (proc.returncode != 0 or watch.status.get("status") != "completed"):
        result["error_summary"] = watch.status.get("error_summary")
        result["log_tail"] = log_path.read_text(errors="replace")[-3000:]
    return result


# -- controller validation and predict -------------------------------------------------

CHILD_VALIDATE = """
import json, resource, sys, time
from oceansr.data.validation import validate_overrides
t = time.perf_counter()
reply = validate_overrides(sys.argv[1:])
print(json.dumps({"ok": reply["ok"], "seconds": time.perf_counter() - t,
                  "error": None if reply["ok"] else reply["error_summary"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_PREDICT = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from oceansr.predict import predict
t = time.perf_counter()
s = predict(sys.argv[1], sys.argv[2], sys.argv[3], tile=int(sys.argv[4]), overlap=16,
            batch_size=1, device=sys.argv[5])
print(json.dumps({"seconds": time.perf_counter() - t, "n_fields": s["n_fields"],
                  "hr_shape": s["hr_shape"], "fields_per_s": s["fields_per_s"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, args: list[str], sample_ms: float = 50.0) -> dict[str, Any]:
    """Run ``code`` in a child; its JSON reply plus the peak PSS/RSS of its tree."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    sampler = TreeSampler(proc.pid)
    start = time.time()
    # Drain the pipes in the background: a chatty child must not block on a full pipe.
    chunks: dict[str, bytes] = {}

    def drain(name: str, stream: Any) -> None:
        chunks[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=(name, stream), daemon=True)
        for name, stream in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for reader in readers:
        reader.start()
    while proc.poll() is None:
        sampler.sample()
        time.sleep(sample_ms / 1e3)
    for reader in readers:
        reader.join()
    lines = chunks.get("out", b"").decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": chunks.get("err", b"").decode()[-2000:]}
    reply: dict[str, Any] = json.loads(lines[-1])
    memory = sampler.report(time.time() - start)
    reply["peak_pss_tree_mb"] = memory["peak_pss_tree_mb"]
    reply["peak_rss_tree_mb"] = memory["peak_rss_tree_mb"]
    return reply


def make_checkpoint(path: Path) -> None:
    """An SRCNN x4 checkpoint (untrained weights: speed and memory do not depend on them)."""
    import lightning as L
    import torch

    from oceansr.engine.module import SRModule

    module = SRModule(
        model={"name": "srcnn"},
        variables=["temp"],
        units=["degC"],
        scale=4,
        mean=[15.0],
        std=[8.0],
        data_range=[35.0],
        optim={"name": "adam", "lr": 1e-4, "weight_decay": 0.0, "betas": [0.9, 0.999]},
        loss={"name": "l1", "charbonnier_eps": 1e-3},
        residual_learning=True,
        max_epochs=1,
    )
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": L.__version__,
        },
        path,
    )


def generate_lr(path: Path, size_gb: float, grid: tuple[int, int] = (LR_H, LR_W)) -> dict[str, Any]:
    """A (time, lat, lon) LR store of about ``size_gb`` (at least 2 fields of ``grid``),
    one field per chunk."""

    from oceansr.data.synthetic import make_synthetic_dataset

    height, width = grid
    n_time = max(2, round(size_gb * 2**30 / (height * width * 4)))
    base = make_synthetic_dataset(n_time=4, height=height, width=width)["temp"].values
    nbytes = write_store(path, n_time, grid, grid, lambda t: base[t % 4] + np.float32(0.01 * t))
    return {"n_time": n_time, "bytes": nbytes}


def predict_benchmark(
    tmp: Path,
    lr_gb: float,
    tile: int = 256,
    device: str = "cpu",
    grid: tuple[int, int] = (LR_H, LR_W),
    sample_ms: float = 50.0,
) -> dict[str, Any]:
    """Streaming predict of an LR store of ``lr_gb`` to Zarr: time and peak PSS/RSS, and
    the time a 2 GB LR input would take at the measured rate (fields are independent, so
    the time is linear in their number; the peak is not)."""
    ckpt, lr, out = tmp / "srcnn.ckpt", tmp / "lr.zarr", tmp / "sr.zarr"
    if not ckpt.exists():
        make_checkpoint(ckpt)
    result: dict[str, Any] = {"lr_gb_requested": lr_gb, "lr_store": generate_lr(lr, lr_gb, grid)}
    result["tile"] = tile
    result["device"] = device
    reply = run_child(CHILD_PREDICT, [str(ckpt), str(lr), str(out), str(tile), device], sample_ms)
    result["predict_zarr"] = reply
    if reply.get("fields_per_s"):
        fields_2gb = math.ceil(2 * 2**30 / (grid[0] * grid[1] * 4))
        result["hr_px_per_s"] = reply["fields_per_s"] * grid[0] * grid[1] * 16
        result["projected_seconds_2gb_lr"] = fields_2gb / reply["fields_per_s"]
    result["output_bytes"] = store_bytes(out) if out.exists() else 0
    shutil.rmtree(lr, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return result


def predict_slope(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Predict at each ``--predict-lr-gb``: peak memory against the number of fields."""
    grid = (args.lr_height, args.lr_width)
    runs = [
        predict_benchmark(tmp, gb, args.predict_tile, args.device, grid, args.sample_ms)
        for gb in args.predict_lr_gb
    ]
    result: dict[str, Any] = {"lr_grid": list(grid), "runs": runs}
    ok = [r for r in runs if "error" not in r["predict_zarr"]]
    if len(ok) >= 2 and ok[-1]["lr_store"]["n_time"] != ok[0]["lr_store"]["n_time"]:
        fields = ok[-1]["lr_store"]["n_time"] - ok[0]["lr_store"]["n_time"]
        for key in ("pss", "rss"):
            rise = ok[-1]["predict_zarr"][f"peak_{key}_tree_mb"]
            rise -= ok[0]["predict_zarr"][f"peak_{key}_tree_mb"]
            result[f"{key}_mb_per_field"] = round(rise / fields, 3)
        result["projected_seconds_2gb_lr"] = ok[-1].get("projected_seconds_2gb_lr")
    return result


# -- the whole benchmark ---------------------------------------------------------------


def data_benchmark(
    tmp: Path, root: Path, args: argparse.Namespace, made: list[Path]
) -> dict[str, Any]:
    """Validation, the real trainer (lazy cold/warm, memory vs lazy), start scaling."""
    grid = (args.height, args.width)
    n_time = fields_for(args.size_gb, grid)
    store, info = ensure_store(root, n_time, grid, args.chunk, made)
    result: dict[str, Any] = {"store": info}
    if args.speed_only:
        return result | speed_pairs(store, n_time, tmp, args)
    lazy = trainer_overrides(store, n_time, args, "lazy")
    result["validation"] = run_child(CHILD_VALIDATE, lazy, args.sample_ms)
    eviction = evict(store)
    cold = run_trainer(lazy, tmp, args, sample_ms=args.sample_ms)
    result["train_lazy"] = {**cold, "eviction": eviction}
    warmed = warm(store)
    again = run_trainer(lazy, tmp, args, sample_ms=args.light_sample_ms, stop_at_start=True)
    result["train_lazy"]["warm"] = {**again, **warmed}
    result.update(speed_pairs(store, n_time, tmp, args))
    if args.start_scaling:
        result["start_scaling"] = start_scaling(tmp, root, args, made)
    return result


def speed_pairs(store: Path, n_time: int, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """``--speed-pairs`` pairs of runs on the subset, memory then lazy, back to back: the
    ratio of each pair's steady steps/s, and their median as ``lazy_over_memory_speed``
    (pairs, not a pooled mean: this machine's load drifts between minutes, and a pair
    shares its minute)."""
    runs: dict[str, list[dict[str, Any]]] = {"memory": [], "lazy": []}
    ratios: list[float] = []
    for _ in range(args.speed_pairs):
        for mode in ("memory", "lazy"):
            subset = trainer_overrides(store, n_time, args, mode, subset=args.subset)
            runs[mode].append(run_trainer(subset, tmp, args, sample_ms=args.light_sample_ms))
        memory, lazy = runs["memory"][-1].get("steps_per_s"), runs["lazy"][-1].get("steps_per_s")
        if memory and lazy:
            ratios.append(round(lazy / memory, 3))
    return {
        "train_subset_memory": runs["memory"][0],
        "train_subset_lazy": runs["lazy"][0],
        "speed_pairs": {
            "memory_steps_per_s": [r.get("steps_per_s") for r in runs["memory"]],
            "lazy_steps_per_s": [r.get("steps_per_s") for r in runs["lazy"]],
            "ratios": ratios,
        },
        "lazy_over_memory_speed": round(float(np.median(ratios)), 3) if ratios else None,
    }


def cold_start(store: Path, n_time: int, tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Time to ``training_start`` with the store evicted from the page cache (the run is
    stopped there), sampled at the light period so both stores are timed alike."""
    eviction = evict(store)
    overrides = trainer_overrides(store, n_time, args, "lazy")
    run = run_trainer(overrides, tmp, args, sample_ms=args.light_sample_ms, stop_at_start=True)
    return {**run, "eviction": eviction}


def start_scaling(
    tmp: Path, root: Path, args: argparse.Namespace, made: list[Path]
) -> dict[str, Any]:
    """Cold time to ``training_start`` on the default store and on one 4x longer."""
    grid = (args.height, args.width)
    n_short = fields_for(args.size_gb, grid)
    short_store, short_info = ensure_store(root, n_short, grid, args.chunk, made)
    short = cold_start(short_store, n_short, tmp, args)
    long_store, long_info = ensure_store(root, 4 * n_short, grid, args.chunk, made)
    long = cold_start(long_store, 4 * n_short, tmp, args)
    short_s, long_s = short["time_to_training_start_s"], long["time_to_training_start_s"]
    return {
        "short_cold_s": short_s,
        "long_cold_s": long_s,
        "long_over_short": round(long_s / short_s, 3) if short_s and long_s else None,
        "short": {"store": short_info, **short},
        "long": {"store": long_info, **long},
    }


def goals(result: dict[str, Any]) -> dict[str, Any]:
    """Issue 17's targets next to the measured figures (None: not measured this run)."""
    lazy = result.get("train_lazy", {})
    scaling = result.get("start_scaling", {})
    measured = {
        "peak_pss_tree_mb": (lazy.get("peak_pss_tree_mb"), GOAL_PEAK_PSS_MB, "max"),
        "lazy_over_memory_speed": (
            result.get("lazy_over_memory_speed"),
            GOAL_LAZY_OVER_MEMORY,
            "min",
        ),
        "cold_time_to_training_start_s": (
            scaling.get("short_cold_s", lazy.get("time_to_training_start_s")),
            GOAL_COLD_START_S,
            "max",
        ),
        "long_cold_time_to_training_start_s": (
            scaling.get("long_cold_s"),
            GOAL_COLD_START_S,
            "max",
        ),
        "long_over_short_start": (scaling.get("long_over_short"), GOAL_LONG_OVER_SHORT, "max"),
    }
    out = {}
    for name, (value, target, kind) in measured.items():
        met = None if value is None else (value <= target if kind == "max" else value >= target)
        out[name] = {"value": value, kind: target, "met": met}
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gb", type=float, default=8.0, help="GiB of the large store")
    parser.add_argument("--height", type=int, default=HEIGHT, help="grid of the large store")
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="chunk side of the large store")
    parser.add_argument("--steps", type=int, default=30, help="training steps of every run")
    parser.add_argument(
        "--warmup-steps", type=int, default=None, help="steps left out of steps/s (steps // 5)"
    )
    parser.add_argument("--subset", type=int, default=8, help="fields of the in-memory run")
    parser.add_argument(
        "--speed-pairs", type=int, default=2, help="memory/lazy pairs timed back to back"
    )
    parser.add_argument("--patch-size", type=int, default=128, help="HR training patch side")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers in training")
    parser.add_argument("--root", default=None, help="where stores and runs are written")
    parser.add_argument("--keep-stores", action="store_true", help="keep generated stores")
    parser.add_argument(
        "--start-scaling",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time the start on a store 4x longer (built once in --root, reused)",
    )
    parser.add_argument(
        "--extra", nargs="*", default=[], help="key=value overrides for every trainer run"
    )
    parser.add_argument(
        "--sample-ms", type=float, default=50.0, help="PSS sampling period of train_lazy"
    )
    parser.add_argument(
        "--light-sample-ms",
        type=float,
        default=1000.0,
        help="PSS sampling period of the runs that time start-up or speed (cheaper)",
    )
    parser.add_argument("--run-timeout-s", type=float, default=7200.0, help="kill a hung run")
    parser.add_argument("--predict-only", action="store_true", help="only the predict slope")
    parser.add_argument("--skip-predict", action="store_true", help="no predict slope")
    parser.add_argument(
        "--speed-only", action="store_true", help="only the memory/lazy speed pairs"
    )
    parser.add_argument("--predict-lr-gb", type=float, nargs=2, default=[0.0625, 0.25])
    parser.add_argument("--lr-height", type=int, default=LR_H, help="predict's LR field")
    parser.add_argument("--lr-width", type=int, default=LR_W)
    parser.add_argument("--predict-tile", type=int, default=256, help="LR window core side")
    parser.add_argument("--device", default="cpu", help="predict's device: cpu, cuda, auto")
    return parser


def settings(args: argparse.Namespace) -> dict[str, Any]:
    keys = (
        "size_gb",
        "height",
        "width",
        "chunk",
        "steps",
        "subset",
        "patch_size",
        "batch_size",
        "workers",
        "extra",
        "sample_ms",
        "light_sample_ms",
    )
    return {"model": "srcnn", **{key: getattr(args, key) for key in keys}, "cpus": os.cpu_count()}


def main() -> None:
    args = parse_args(build_parser(), SMOKE)
    root = Path(args.root or tempfile.gettempdir())
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix="oceansr-scale-"))
    made: list[Path] = []
    result: dict[str, Any] = {"settings": settings(args)}
    try:
        if not args.predict_only:
            result.update(data_benchmark(tmp, root, args, made))
            result["goals"] = goals(result)
        if not args.skip_predict:
            result["predict_slope"] = predict_slope(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if not args.keep_stores:
            for path in made:
                shutil.rmtree(path, ignore_errors=True)
    emit(result, args, indent=1)


if __name__ == "__main__":
    main()
