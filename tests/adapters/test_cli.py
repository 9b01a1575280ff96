"""`oceansr start --follow` — what `make demo` runs — end to end in a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import subprocess_env
from oceansr.runs import KilledBy, KillKind, record_killed, update_status
from runfactory import make_run


@pytest.mark.slow
def test_start_follow_prints_test_metrics_next_to_bicubic_with_units(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "--runs-root",
            str(tmp_path),
            "start",
            "experiment=smoke",
            "--follow",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=subprocess_env(),
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    out = proc.stdout
    assert "started" in out and "completed" in out
    rmse_line = next(line for line in out.splitlines() if "test temp RMSE" in line)
    assert rmse_line.count("degC") == 2 and "bicubic" in rmse_line and "%" in rmse_line
    run_dirs = [p for p in tmp_path.iterdir() if p.name.startswith("train-")]
    assert len(run_dirs) == 1 and str(run_dirs[0]) in out


def test_status_says_the_eta_comes_after_the_first_step(tmp_path: Path) -> None:
    """Before any step there is no measured rate: the CLI says so instead of a bare dash
    (the same ``eta_pending`` the MCP reply explains)."""
    paths = make_run(tmp_path, pid=os.getpid())
    update_status(paths, {"progress": {"eta_s": None, "eta_pending": "first_step"}})
    pending = _cli_status(tmp_path, paths.dir.name)
    assert "eta after the first step" in pending, pending
    update_status(paths, {"progress": {"eta_s": 3725.0, "eta_pending": None}})
    measured = _cli_status(tmp_path, paths.dir.name)
    assert "eta 1:02:05" in measured and "first step" not in measured, measured


def test_status_of_a_killed_run_says_who_stopped_it(tmp_path: Path) -> None:
    paths = make_run(tmp_path)
    record_killed(paths, KilledBy(KillKind.SCHEDULER, "SIGTERM from Slurm for job 42"))
    out = _cli_status(tmp_path, paths.dir.name)
    assert "killed by" in out and "scheduler: SIGTERM from Slurm for job 42" in out, out


def _cli_status(root: Path, process_id: str) -> str:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "--runs-root",
            str(root),
            "status",
            process_id,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**subprocess_env(), "COLUMNS": "200"},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _cli_predict(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oceansr", "--runs-root", str(tmp_path / "runs"), "predict", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=subprocess_env(),
        cwd=tmp_path,
        check=False,
    )


@pytest.mark.parametrize("tile", ["0", "-4"])
def test_predict_tile_zero_or_negative_is_refused_before_a_run_exists(
    tmp_path: Path, tile: str
) -> None:
    proc = _cli_predict(tmp_path, "lr.nc", "--checkpoint", "m.ckpt", "--tile", tile, "--json")
    assert proc.returncode != 0
    summary = json.loads(proc.stdout)["error_summary"]
    assert summary["failureType"] == "config_error" and summary["field"] == "tile", summary
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_predict_tile_null_means_whole_fields_and_nonsense_is_an_argparse_error(
    tmp_path: Path,
) -> None:
    # null passes the argument parser: the next thing refused is the missing checkpoint
    whole = _cli_predict(tmp_path, "lr.nc", "--checkpoint", "m.ckpt", "--tile", "null", "--json")
    assert json.loads(whole.stdout)["error_summary"]["field"] == "checkpoint", whole.stdout
    bad = _cli_predict(tmp_path, "lr.nc", "--checkpoint", "m.ckpt", "--tile", "big")
    assert bad.returncode == 2
    assert "or null for whole fields" in bad.stderr and "'big'" in bad.stderr
