"""Every benchmark's ``--smoke`` runs end to end and prints the JSON it promises.

Nobody runs the benchmarks at their real sizes in ``make test`` (minutes each), so a
refactor that moves a module or renames a key used to break them silently, until the
next ``make bench``. Here each script runs as users run it, as a subprocess, with
``--smoke`` (benchmarks/smoke.py: smallest sizes, one repeat); the test parses its stdout
as JSON and checks the keys the script's docstring promises. It asserts no figure:
speed is measured by the benchmarks, never asserted by the tests.

Each run gets its own temporary directory (``TMPDIR``, working directory), so nothing
is shared between them; the timeout only bounds a hang, it is not a speed target.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import PYTHON, REPO, subprocess_env
from slurm_support import requires_slurm  # noqa: F401  (fixture, used by name)

BENCHMARKS = REPO / "benchmarks"
HELPERS = frozenset({"smoke.py"})  # imported by the benchmarks, not one of them
TIMEOUT_S = 600.0

# Script (and its options besides --smoke) -> dotted key paths its JSON must have; an
# integer part indexes a list ("models.0.params").
SCALE_TRAIN = (
    "scale.py",
    "--skip-predict",
    "--start-scaling",
    "--extra",
    "data.min_ocean_fraction=0.25",
)
# Script -> dotted key paths and the values they must have: outcomes, not figures (a
# benchmark whose runs fail still prints its keys).
OUTCOMES: dict[tuple[str, ...], dict[str, Any]] = {
    SCALE_TRAIN: {
        "train_lazy.status": "completed",
        "train_lazy.warm.stopped_at_training_start": True,
        "train_lazy.warm.status": "killed",
        "train_subset_memory.status": "completed",
        "train_subset_lazy.status": "completed",
        "start_scaling.long.stopped_at_training_start": True,
        "store.reused": False,
    },
}

PROMISES: dict[tuple[str, ...], tuple[str, ...]] = {
    ("quality.py",): (
        "benchmark",
        "budget_s_per_model",
        "models.0.params",
        "models.0.fit_time_s",
        "models.0.train_samples_per_s",
        "models.0.test_rmse_degC",
        "models.0.bicubic_rmse_degC",
        "models.0.rmse_gain_pct",
        "models.0.spline_rmse_degC",
        "models.0.rmse_gain_spline_pct",
        "models.0.seam_ratio",
        "models.0.gain_ci95_pct",
        "models.0.verdict",
    ),
    ("quality.py", "--options", "--transfer"): (
        "benchmark",
        "options.0.option",
        "options.0.ratio_to_spline",
        "options.1.conservation_rms",
        "options.4.ratio_to_spline",
        "transfer.levitus_scratch.ratio_to_spline",
        "transfer.levitus_init_from.init_from.tensors_loaded",
    ),
    ("overhead.py",): (
        "model",  # this key and the next two are read by control.py's recorder part
        "recorder_ratio",
        "steps_per_s.plain",
        "steps_per_s.lightning",
        "steps_per_s.lightning_recorder",
        "steps_per_s_all.plain.0",
        "lightning_vs_plain",
        "product_vs_plain",
        "targets",
    ),
    ("control.py",): (
        "status_ms.3",
        "list_runs_ms.3",
        "create_runs_s.3",
        "wait_wakeup_ms.p50",
        "wait_wakeup_ms.p95",
        "logs_offset_read.mb_per_s_64KiB",
        "logs_offset_read.mb_per_s_1MiB",
        "logs_offset_read.tail50_ms",
        "start.start_to_training_start_s",
        "start.spawn_to_training_start_s",
        "start.ratio_to_import_lightning",
    ),
    ("predict.py",): (
        "settings.tile",
        "results.0.large.seconds",
        "results.0.large.hr_megapixels_per_s",
        "results.0.large.peak_rss_mb",
        "results.0.tiled_vs_whole.max_abs_diff_degC",
        "results.1.large.seconds",
        "process_peak_rss_mb",
    ),
    ("predict_speed.py",): (
        "runs.0.median_s",
        "runs.0.hr_px_per_s",
        "runs.1.max_abs_diff_vs_contiguous",
        "profile_tile_128.conv2d_share",
    ),
    ("eval_memory.py",): (
        "hr_shape",
        "runs.0.peak_above_baseline_mb",
        "runs.0.peak_in_hr_fields",
        "runs.0.one_window_forward_mb",
        "runs.0.rmse",
    ),
    ("mcp_wait.py",): (
        "wakeup_ms.p95",
        "terminal_wait_ms.p95",
        "reply_bytes.running",
        "reply_bytes.completed",
        "reply_bytes.failed",
        "reply_bytes.list_row_max",
        "targets",
    ),
    ("chaos.py",): (
        "sigkill_terminal_5s.ok",
        "concurrent_starts.started",
        "list_damaged.unreadable",
        "torn_reads.invalid",
        "disk_full_at_start",  # measured as root, else {"measured": false, "why": ...}
        "not_run.kill_last_ckpt",  # --smoke leaves the real-trainer drills out, visibly
    ),
    # The real trainer (cold and warm start, memory vs lazy), the 4x store's start and an
    # extra override passed through; predict's slope separately (each run < 2 min).
    SCALE_TRAIN: (
        "settings.extra.0",
        "store.n_time",
        "store.reused",
        "validation.seconds",
        "validation.peak_rss_mb",
        "train_lazy.peak_pss_tree_mb",
        "train_lazy.rss_at_peak_mb",
        "train_lazy.processes_at_peak",
        "train_lazy.peak_rss_tree_mb",
        "train_lazy.peak_breakdown.main",
        "train_lazy.sampler.cpu_share",
        "train_lazy.time_to_training_start_s",
        "train_lazy.phases_s.training",
        "train_lazy.steps_per_s",
        "train_lazy.eviction.resident_mb_after",
        "train_lazy.warm.time_to_training_start_s",
        "train_subset_memory.steps_per_s",
        "train_subset_lazy.steps_per_s",
        "lazy_over_memory_speed",
        "start_scaling.short_cold_s",
        "start_scaling.long_cold_s",
        "start_scaling.long_over_short",
        "start_scaling.long.store.n_time",
        "goals.peak_pss_tree_mb.met",
    ),
    ("scale.py", "--predict-only"): (
        "predict_slope.runs.0.lr_store.n_time",
        "predict_slope.runs.1.predict_zarr.seconds",
        "predict_slope.runs.1.predict_zarr.peak_pss_tree_mb",
        "predict_slope.runs.1.predict_zarr.peak_rss_tree_mb",
        "predict_slope.pss_mb_per_field",
        "predict_slope.rss_mb_per_field",
        "predict_slope.projected_seconds_2gb_lr",
    ),
    ("gpu.py",): (
        "throughput.srcnn.gpu_fp32_samples_s",
        "throughput.srcnn.gpu_bf16_vs_fp32",
        "e2e.status",
        "peak_cuda_mb",
    ),
    ("slurm.py",): (
        "start.local.median_s",
        "start.slurm.median_s",
        "start.slurm_minus_local_s",
        "list.median_ms",
        "list.squeue_calls_per_list",
        "kill_running.status",
        "kill_queued.status",
        "faults.scontrol_requeue/training",
        "fault_runs.0.ok",
    ),
}


def lookup(doc: Any, path: str) -> Any:
    """The value at a dotted path (integers index lists); KeyError naming the path."""
    value = doc
    for part in path.split("."):
        try:
            value = value[int(part)] if isinstance(value, list) else value[part]
        except (KeyError, IndexError, TypeError, ValueError):
            raise KeyError(path) from None
    return value


def run_smoke(command: tuple[str, ...], tmp_path: Path) -> dict[str, Any]:
    """Run one benchmark with ``--smoke`` in its own directory; its stdout as JSON."""
    script, *options = command
    argv = [PYTHON, str(BENCHMARKS / script), "--smoke", *options]
    proc = subprocess.run(
        argv,
        cwd=tmp_path,
        env=subprocess_env(TMPDIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    shown = " ".join(argv[1:])
    assert proc.returncode == 0, f"{shown} exited {proc.returncode}:\n{proc.stderr[-4000:]}"
    try:
        doc: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError as exc:
        pytest.fail(f"{shown} printed no JSON ({exc}):\n{proc.stdout[-2000:]}")
    return doc


def check_promises(command: tuple[str, ...], doc: dict[str, Any]) -> None:
    assert doc.get("smoke") is True, "the JSON of a smoke run says so"
    missing = []
    for path in PROMISES[command]:
        try:
            lookup(doc, path)
        except KeyError:
            missing.append(path)
    assert not missing, f"{' '.join(command)}: keys missing {missing} in\n{json.dumps(doc)}"
    wrong = {
        path: lookup(doc, path)
        for path, value in OUTCOMES.get(command, {}).items()
        if lookup(doc, path) != value
    }
    assert not wrong, f"{' '.join(command)}: unexpected {wrong} in\n{json.dumps(doc)[-4000:]}"


def test_every_benchmark_has_a_smoke_test() -> None:
    """A new benchmark joins PROMISES, so that it cannot rot unnoticed either."""
    scripts = {path.name for path in BENCHMARKS.glob("*.py")} - HELPERS
    assert scripts == {command[0] for command in PROMISES}


def test_smoke_sizes_are_defaults_that_explicit_options_override() -> None:
    sys.path.insert(0, str(BENCHMARKS))
    try:
        from smoke import parse_args
    finally:
        sys.path.remove(str(BENCHMARKS))
    import argparse

    def parser() -> argparse.ArgumentParser:
        made = argparse.ArgumentParser()
        made.add_argument("--steps", type=int, default=40)
        made.add_argument("--repeats", type=int, default=3)
        return made

    sizes = {"steps": 2, "repeats": 1}
    assert vars(parse_args(parser(), sizes, [])) == {"steps": 40, "repeats": 3, "smoke": False}
    smoke = parse_args(parser(), sizes, ["--smoke", "--steps", "5"])
    assert (smoke.steps, smoke.repeats, smoke.smoke) == (5, 1, True)


SERVICE_FREE = [c for c in PROMISES if c[0] not in {"gpu.py", "slurm.py"}]


@pytest.mark.slow
@pytest.mark.parametrize("command", SERVICE_FREE, ids=" ".join)
def test_benchmark_smoke(command: tuple[str, ...], tmp_path: Path) -> None:
    check_promises(command, run_smoke(command, tmp_path))


@pytest.mark.slow
def test_gpu_benchmark_smoke(tmp_path: Path) -> None:
    """Without CUDA the script still starts (its imports are checked) and says why it
    skips; CI has no GPU either, so that is a skip there too, not a failure."""
    doc = run_smoke(("gpu.py",), tmp_path)
    if "skipped" in doc:
        pytest.skip(f"benchmarks/gpu.py: {doc['skipped']}")
    check_promises(("gpu.py",), doc)


@pytest.mark.slow
@pytest.mark.usefixtures("requires_slurm")
def test_slurm_benchmark_smoke(tmp_path: Path) -> None:
    """Skips without a cluster, fails under CI=true (tests/slurm_support.py)."""
    check_promises(("slurm.py",), run_smoke(("slurm.py",), tmp_path))
