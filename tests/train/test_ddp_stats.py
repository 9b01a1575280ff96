"""Under DDP the normalisation statistics are computed by global rank 0 alone and read
by the other rank from the run directory's data_stats.json (docs/architecture.md, data).

Ranks started from outside, as ``srun`` and torchrun do (each process knows its global
rank from ``RANK``): rank 1 may start first and must wait for rank 0's file. Lightning's
own launcher (rank 1 spawned by rank 0 at ``fit``) is checked on the DDP run that
tests/train/test_train.py makes anyway (``assert_statistics_computed_once``).
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, SMOKE, subprocess_env
from oceansr.data.shared_stats import STATS_FILE, WAIT_ENV
from oceansr.runs import read_status
from oceansr.runs.paths import RunPaths
from waiting import RUN_PATIENCE_S, wait_until


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_an_externally_started_rank_waits_for_rank_0s_file(tmp_path: Path) -> None:
    """Ranks started from outside (the torchrun form of srun's tasks): rank 1 starts
    first, says it waits, and trains only once rank 0, started after that, wrote the file."""
    run_id = "train-20260101-000000-stats1"
    port = free_port()
    command = [
        PYTHON,
        "-m",
        "oceansr.train",
        *SMOKE,
        f"runs_root={tmp_path}",
        f"run_id={run_id}",
        "trainer.accelerator=cpu",
        "trainer.devices=2",
        "trainer.strategy=ddp",
    ]

    def start(rank: int) -> tuple[subprocess.Popen[bytes], Path]:
        log = tmp_path / f"rank{rank}.log"
        env = subprocess_env(
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            GROUP_RANK="0",
            WORLD_SIZE="2",
            LOCAL_WORLD_SIZE="2",
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=str(port),
            **{WAIT_ENV: str(RUN_PATIENCE_S)},  # a lost hand-over fails the test, not hangs
        )
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                command, cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        return proc, log

    procs: list[subprocess.Popen[bytes]] = []
    try:
        rank1, log1 = start(1)
        procs.append(rank1)
        wait_until(
            lambda: "waits for global rank 0" in log1.read_text() or rank1.poll() is not None,
            "rank 1 waiting for the statistics",
            timeout=RUN_PATIENCE_S,
        )
        assert rank1.poll() is None, log1.read_text()[-3000:]
        rank0, log0 = start(0)
        procs.append(rank0)
        for proc, log in ((rank0, log0), (rank1, log1)):
            assert proc.wait(timeout=2 * RUN_PATIENCE_S) == 0, log.read_text()[-3000:]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stats_path = tmp_path / run_id / STATS_FILE
    data0 = [ln for ln in log0.read_text().splitlines() if ln.startswith("[data] ")]
    data1 = [ln for ln in log1.read_text().splitlines() if ln.startswith("[data] ")]
    assert data0 == [
        f"[data] normalisation statistics computed by global rank 0, written to {stats_path}"
    ]
    assert len(data1) == 2 and data1[0].startswith("[data] global rank 1 waits for"), data1
    assert data1[1].startswith(
        f"[data] global rank 1 read the normalisation statistics from {stats_path}"
    )
    assert json.loads(stats_path.read_text())["computed_by"]["rank"] == 0
    assert read_status(RunPaths.for_id(run_id, root=tmp_path))["status"] == "completed"
