"""`oceansr start --follow` — what `make demo` runs — end to end in a real subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import subprocess_env


@pytest.mark.slow
def test_start_follow_prints_test_metrics_next_to_bicubic_with_units(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr.cli",
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
