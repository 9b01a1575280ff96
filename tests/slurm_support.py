"""Helpers for tests that need a real Slurm cluster (scripts/slurm-local.sh up).

Without a cluster those tests skip with the reason, so a laptop without Slurm stays green;
with ``CI=true`` they fail instead, because CI brings the cluster up and a silent skip would
hide a broken cluster (or a broken Slurm backend) behind a green run.

Job state comes from ``squeue`` / ``scontrol show job``: the local cluster has no
accounting daemon, so ``sacct`` has nothing to say.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from waiting import PATIENCE_S, wait_until

COMMANDS = ("sinfo", "squeue", "sbatch", "srun", "scancel", "scontrol")
READY_STATES = frozenset({"idle", "mix"})
MIN_NODES = 2
#: How long sinfo/scontrol may take to answer (a loaded controller is slow, not down).
ANSWER_TIMEOUT_S = 30.0
START_HINT = "start one with scripts/slurm-local.sh up"
FINISHED_STATES = frozenset(
    {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"}
)


def cluster_available() -> tuple[bool, str]:
    """Whether a cluster answers with at least two usable nodes, and if not, why."""
    missing = [name for name in COMMANDS if shutil.which(name) is None]
    if missing:
        return False, f"Slurm commands not on PATH: {', '.join(missing)}"
    try:
        proc = subprocess.run(
            ["sinfo", "-N", "-h", "-o", "%N %t"],
            capture_output=True,
            text=True,
            timeout=ANSWER_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return False, f"sinfo did not answer within {ANSWER_TIMEOUT_S:g} s"
    if proc.returncode != 0:
        return False, f"sinfo failed: {proc.stderr.strip() or proc.returncode}"
    states = dict(line.split(maxsplit=1) for line in proc.stdout.splitlines() if " " in line)
    ready = sorted(node for node, state in states.items() if state.strip() in READY_STATES)
    if len(ready) < MIN_NODES:
        shown = ", ".join(f"{n}={s.strip()}" for n, s in sorted(states.items())) or "none"
        return False, f"{len(ready)} idle/mixed node(s), need {MIN_NODES} (nodes: {shown})"
    return True, f"nodes ready: {', '.join(ready)}"


def in_ci() -> bool:
    """CI sets CI=true; there a missing cluster is an error, not a reason to skip."""
    return os.environ.get("CI", "").strip().lower() == "true"


def require_cluster() -> None:
    """Skip the calling test without a cluster (fail it instead under CI=true)."""
    ok, why = cluster_available()
    if ok:
        return
    message = f"no Slurm cluster answers: {why}; {START_HINT}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: the Slurm tests must run)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def requires_slurm() -> None:
    """Mark tests with ``@pytest.mark.usefixtures("requires_slurm")`` (import it too).

    Session-scoped: a controller that is down makes ``sinfo`` wait the whole answer
    timeout, which should be paid once per run, not once per test.
    """
    require_cluster()


def slurm(args: Sequence[str], timeout: float = 60.0) -> str:
    """Runs a Slurm command, returns its stdout; raises with its stderr when it fails."""
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


def sbatch(args: Sequence[str]) -> str:
    """Submits a batch job and returns its id (``--parsable`` prints ``id[;cluster]``)."""
    return slurm(["sbatch", "--parsable", *args]).strip().split(";")[0]


def job_fields(job_id: str) -> dict[str, str] | None:
    """JobState, Reason, ExitCode, NodeList of a job, or None once Slurm forgot it."""
    proc = subprocess.run(
        ["scontrol", "show", "job", "-o", job_id],
        capture_output=True,
        text=True,
        timeout=ANSWER_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        return None
    fields = {}
    for key in ("JobState", "Reason", "ExitCode", "NodeList"):
        match = re.search(rf"(?:^|\s){key}=(\S*)", proc.stdout)
        fields[key] = match.group(1) if match else ""
    return fields


def squeue_line(job_id: str, fmt: str = "%T %r") -> str:
    """What squeue shows for a job ('' once it left the queue)."""
    return slurm(["squeue", "-h", "-j", job_id, "-o", fmt]).strip()


def wait_for(job_id: str, states: frozenset[str], timeout: float = PATIENCE_S) -> dict[str, str]:
    """Polls until the job's state is one of ``states``; fails the test on timeout."""

    def in_state() -> dict[str, str] | None:
        fields = job_fields(job_id)
        return fields if fields is not None and fields["JobState"] in states else None

    return wait_until(in_state, f"job {job_id} in {sorted(states)}", timeout, interval=0.2)


@pytest.fixture(name="slurm_jobs")
def slurm_jobs_fixture() -> Iterator[list[str]]:
    """Job ids a test appends here are cancelled afterwards, so none blocks the next test."""
    jobs: list[str] = []
    yield jobs
    if not jobs:
        return
    subprocess.run(["scancel", *jobs], capture_output=True, timeout=60, check=False)
    # squeue lists a job until its processes are gone (state CG), so this also waits for
    # the nodes to be free again.
    wait_until(
        lambda: not set(jobs) & set(slurm(["squeue", "-h", "-o", "%i"]).split()),
        f"jobs {jobs} gone from squeue after scancel",
        interval=0.2,
    )


def release_held_job(job_id: str) -> None:
    """Slurm holds a requeued job back (reason BeginTime, about 150 s here); start it now.

    Best effort: the job may already be running, which is what the caller waits for.
    """
    subprocess.run(
        ["scontrol", "update", f"JobId={job_id}", "StartTime=now"],
        capture_output=True,
        timeout=60,
        check=False,
    )


def release_until_started(
    process_id: str, job_id: str, root: Path, timeout: float = PATIENCE_S
) -> None:
    """Release a requeued run's job until it leaves ``queued`` (its next attempt began)."""
    from oceansr import control

    def started() -> bool:
        if control.status(process_id, runs_root=root)["status"] != "queued":
            return True
        release_held_job(job_id)
        return False

    wait_until(started, f"requeued job {job_id} started again", timeout, interval=1.0)
