"""The local two-node Slurm cluster does what the Slurm backend will rely on.

Real jobs on the cluster from scripts/slurm-local.sh (n1 and n2, one CPU each): submit and
follow a batch job, place one task per node, hold a job that cannot start yet, cancel it,
and deliver USR1 to a running batch script (how a job is asked to checkpoint and requeue).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from slurm_support import (  # the fixtures are imported so that pytest finds them here
    cluster_available,
    require_cluster,
    requires_slurm,  # noqa: F401
    sbatch,
    slurm,
    slurm_jobs_fixture,  # noqa: F401
    squeue_line,
    wait_for,
)
from waiting import PATIENCE_S, wait_until

RUNNING = frozenset({"RUNNING"})
COMPLETED = frozenset({"COMPLETED"})


def wait_for_file(path: Path, timeout: float = PATIENCE_S) -> str:
    """The file's text once it exists and is not empty; fails the test on timeout."""
    wait_until(lambda: path.exists() and path.stat().st_size > 0, f"{path} written", timeout)
    return path.read_text()


@pytest.mark.usefixtures("requires_slurm")
def test_batch_job_is_listed_then_completes_and_writes_output(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    out = tmp_path / "job.out"
    # Held at submission, so squeue must show it (a free cluster would start it at once);
    # --mem must be accepted (memory is not a consumable resource on this cluster).
    job = sbatch(
        ["--hold", "--mem=256M", "-o", str(out), "--wrap", 'echo "ran on $SLURMD_NODENAME"']
    )
    slurm_jobs.append(job)
    assert squeue_line(job) == "PENDING JobHeldUser"
    slurm(["scontrol", "release", job])
    fields = wait_for(job, COMPLETED)
    assert fields["ExitCode"] == "0:0"
    assert wait_for_file(out).strip() in {"ran on n1", "ran on n2"}
    assert squeue_line(job) == ""  # finished jobs leave the queue; scontrol still knows them


@pytest.mark.usefixtures("requires_slurm")
def test_srun_places_one_task_on_each_node() -> None:
    script = 'echo "$SLURM_PROCID $SLURMD_NODENAME $SLURM_NTASKS"'
    out = slurm(
        ["srun", "-N2", "-n2", "--ntasks-per-node=1", "--time=1", "bash", "-c", script],
        timeout=PATIENCE_S,
    )
    assert sorted(out.split("\n")[:-1]) == ["0 n1 2", "1 n2 2"]


@pytest.mark.usefixtures("requires_slurm")
def test_job_waiting_for_resources_is_pending_with_a_reason_and_can_be_cancelled(
    slurm_jobs: list[str],
) -> None:
    blocker = sbatch(["-N2", "--exclusive", "-o", "/dev/null", "--wrap", "sleep 60"])
    slurm_jobs.append(blocker)
    assert wait_for(blocker, RUNNING)["NodeList"] == "n[1-2]"

    queued = sbatch(["-o", "/dev/null", "--wrap", "true"])
    slurm_jobs.append(queued)

    def with_reason() -> str | None:  # set once the scheduler has looked at the job
        line = squeue_line(queued)
        return line if line != "PENDING None" else None

    line = wait_until(with_reason, "the queued job has a pending reason", interval=0.2)
    assert line in {"PENDING Resources", "PENDING Priority"}

    slurm(["scancel", queued])
    assert wait_for(queued, frozenset({"CANCELLED"}))["NodeList"] in {"", "(null)"}
    assert squeue_line(blocker, "%T") == "RUNNING"  # cancelling one job left the other alone


@pytest.mark.usefixtures("requires_slurm")
def test_scancel_signal_usr1_reaches_a_trap_in_the_batch_script(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    ready, got = tmp_path / "ready", tmp_path / "got"
    script = tmp_path / "job.sh"
    script.write_text(
        "#!/bin/bash\n"
        f"trap 'echo USR1 > {got}; exit 0' USR1\n"
        f"echo ready > {ready}\n"
        "while :; do sleep 0.1; done\n"
    )
    job = sbatch(["-o", str(tmp_path / "job.out"), str(script)])
    slurm_jobs.append(job)
    wait_for_file(ready)

    slurm(["scancel", "--signal=USR1", "--full", job])
    assert wait_for_file(got).strip() == "USR1"
    assert wait_for(job, COMPLETED)["ExitCode"] == "0:0"  # the trap ended the job cleanly


def test_cluster_available_names_missing_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    ok, why = cluster_available()
    assert not ok
    assert why.startswith("Slurm commands not on PATH: sinfo, squeue, sbatch")


@pytest.mark.parametrize(("ci", "outcome"), [("true", "fail"), ("", "skip")])
def test_missing_cluster_skips_locally_and_fails_in_ci(
    ci: str, outcome: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", ci)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match=r"no Slurm cluster answers: .*slurm-local\.sh up"):
        require_cluster()
