"""A warning signal (SIGUSR1) that arrives while the trainer is still setting up.

Before Lightning installs its handler (inside ``trainer.fit``), Python's default action
for SIGUSR1 would terminate the process. ``oceansr.engine.early_signals`` catches it at the top
of the entry point; ``RequeueWatch`` replays it into Lightning's Slurm handler once
training starts. ``debug.startup_sleep`` holds the process in set-up (after
``process_started``, before the data loads) so the signal lands there every time.

Outside Slurm a USR1 has no requeue meaning: the run must ignore it (and log it), not die.
Under Slurm the job must checkpoint, requeue and continue the same run as attempt 2.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from oceansr import control
from oceansr.engine import early_signals
from oceansr.runs import RunPaths, read_events
from slurm_support import (  # fixtures imported so pytest finds them here
    release_until_started,
    requires_slurm,  # noqa: F401
    slurm,
    slurm_jobs_fixture,  # noqa: F401
)
from waiting import wait_until

#: Set-up lasts >= 6 s: the signal is sent right after ``process_started``.
SLOW_START = ["experiment=smoke", "debug.startup_sleep=6"]


def test_install_catches_only_default_handlers_and_hands_over() -> None:
    """In a child interpreter (this one's handlers belong to pytest): a caught USR1 is
    remembered instead of killing; ``hand_over`` restores the default for Lightning."""
    code = (
        "import os, signal\n"
        "from oceansr.engine import early_signals as e\n"
        "signal.signal(signal.SIGUSR2, lambda *a: None)\n"
        "print(e.install())\n"
        "os.kill(os.getpid(), signal.SIGUSR1)\n"
        "print(e.take_pending(), e.take_pending())\n"
        "print(e.hand_over(signal.SIGUSR1), signal.getsignal(signal.SIGUSR1) is signal.SIG_DFL)\n"
        "print(e.hand_over(signal.SIGUSR2))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.splitlines() == [
        "['SIGUSR1']",  # SIGUSR2 already had a handler: left alone
        f"[{int(signal.SIGUSR1)}] []",
        "True True",
        "False",  # not ours: never replaced
    ]
    assert "SIGUSR1 received" in out.stderr
    assert not early_signals.is_early_handler(signal.getsignal(signal.SIGUSR1))


def test_usr1_during_local_startup_is_logged_and_ignored(tmp_path: Path) -> None:
    reply = control.start(SLOW_START, runs_root=tmp_path, wait_for_start=False)
    assert reply["process_id"], reply
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    wait_until(lambda: read_events(paths, names="process_started"), "a process_started event")
    pid = control.status(reply["process_id"], runs_root=tmp_path)["pid"]
    os.kill(pid, signal.SIGUSR1)
    assert not read_events(paths, names="training_start"), "signal must land in set-up"
    done = control.wait(reply["process_id"], until="terminal", timeout=180, runs_root=tmp_path)
    assert done["status"] == "completed", done.get("error_summary")
    assert done["test_metrics"]["test/rmse"] > 0
    log = paths.train_log.read_text()
    assert "SIGUSR1 received" in log and "replaying" not in log
    assert not read_events(paths, names="requeued")


@pytest.mark.usefixtures("requires_slurm")
def test_usr1_during_slurm_startup_requeues_and_continues(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    reply = control.start(SLOW_START, backend="slurm", runs_root=tmp_path, wait_for_start=False)
    job_id = reply.get("job_id")
    assert isinstance(job_id, str), reply
    slurm_jobs.append(job_id)
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    wait_until(lambda: read_events(paths, names="process_started"), "a process_started event")
    slurm(["scancel", "--signal=USR1", job_id])
    assert not read_events(paths, names="training_start"), "signal must land in set-up"
    queued = control.wait(reply["process_id"], timeout=90, runs_root=tmp_path)
    assert queued["status"] == "queued", queued
    (requeued,) = read_events(paths, names="requeued")
    assert requeued["signal"] == "SIGUSR1" and requeued["step"] == 0
    release_until_started(reply["process_id"], job_id, tmp_path)
    done = control.wait(reply["process_id"], until="terminal", timeout=180, runs_root=tmp_path)
    assert done["status"] == "completed", done.get("error_summary")
    assert done["attempt"] == 2
    assert "replaying SIGUSR1" in paths.train_log.read_text()
