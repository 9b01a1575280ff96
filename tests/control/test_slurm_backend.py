"""The Slurm backend of the control plane.

Two halves: unit tests that feed the backend canned ``squeue`` output (state mapping,
batching, settings checks, backend selection; they run everywhere), and tests against
the local two-node cluster (scripts/slurm-local.sh up) that start, watch, kill and list
real jobs (skipped with the reason on a machine without a cluster, failing under CI).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from oceansr import control
from oceansr.control.backend_choice import select_backend
from oceansr.control.backends import find_backend
from oceansr.control.backends.slurm import SlurmBackend
from oceansr.control.backends.slurm_script import render_script, settings_from
from oceansr.control.backends.slurm_state import JobStateCache, parse_squeue
from oceansr.control.replies import RequestError
from oceansr.core.errors import ConfigError
from oceansr.runs import RunPaths, create_run, new_run_id, read_events, update_run
from slurm_support import (  # fixtures imported so pytest finds them here
    release_until_started,
    requires_slurm,  # noqa: F401
    sbatch,
    slurm,
    slurm_jobs_fixture,  # noqa: F401
    wait_for,
)
from waiting import PATIENCE_S, returns_within, wait_until

SMOKE = ["experiment=smoke"]
#: A smoke run that keeps training until it is stopped (2 steps per epoch).
LONG = ["experiment=smoke", "trainer.max_epochs=1000"]


# --------------------------------------------------------------------------- fakes


class FakeSqueue:
    """Stands in for ``squeue``: canned lines, and a count of how often it was asked."""

    def __init__(self) -> None:
        self.lines: dict[str, str] = {}
        self.calls = 0

    def set(self, job_id: str, state: str, reason: str = "None", code: int = 0) -> None:
        self.lines[job_id] = f"{job_id}|{state}|{reason}|n1|{code}|0|"

    def __call__(self, args: Sequence[str]) -> str:
        self.calls += 1
        assert args[0] == "squeue" and "--states=all" in args
        return "\n".join(self.lines.values()) + "\n"


@pytest.fixture
def fake_squeue(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSqueue]:
    """The registered slurm backend reads job state from a :class:`FakeSqueue`."""
    fake = FakeSqueue()
    backend = find_backend("slurm")
    assert isinstance(backend, SlurmBackend)
    monkeypatch.setattr(backend, "jobs", JobStateCache(ttl_s=60.0, runner=fake))
    yield fake


def slurm_run(root: Path, job_id: str, **status: object) -> RunPaths:
    """A run directory as the slurm backend leaves it after ``sbatch``."""
    paths = RunPaths.for_id(new_run_id("train"), root)
    create_run(paths, kind="train", overrides=SMOKE, command=["x"], backend="slurm", on_exit="keep")
    update_run(paths, job_id=job_id)
    paths.train_log.write_text("epoch 1\n")
    return paths


# --------------------------------------------------------------------------- unit


def test_parse_squeue_reads_state_reason_and_exit_status() -> None:
    jobs = parse_squeue("7|PENDING|Resources||0|0|\n8|FAILED|NonZeroExitCode|n1|768|1|\nbad\n")
    assert set(jobs) == {"7", "8"}
    assert jobs["7"].queued and jobs["7"].reason == "Resources" and jobs["7"].exit_code is None
    assert not jobs["8"].active and jobs["8"].exit_code == 3 and jobs["8"].restarts == 1
    assert parse_squeue("9|CANCELLED|None|n2|15|0|\n")["9"].exit_code == 128 + 15


def test_one_squeue_answers_a_whole_list_round(fake_squeue: FakeSqueue, tmp_path: Path) -> None:
    for index in range(20):
        job = str(1000 + index)
        fake_squeue.set(job, "RUNNING")
        slurm_run(tmp_path, job)
    reply = control.list_runs(runs_root=tmp_path)
    assert reply["count"] == 20
    assert fake_squeue.calls == 1, "one squeue per list round, not one per run"


@pytest.mark.parametrize(
    ("state", "failure", "advice"),
    [
        ("OUT_OF_MEMORY", "cpu_oom", "data.batch_size=4"),
        ("TIMEOUT", "time_limit", "resume the run"),
        ("NODE_FAIL", "node_failure", "launcher.requeue=true"),
    ],
)
def test_job_gone_without_status_gets_its_slurm_failure(
    fake_squeue: FakeSqueue, tmp_path: Path, state: str, failure: str, advice: str
) -> None:
    paths = slurm_run(tmp_path, "41")
    fake_squeue.set("41", state, code=9)
    doc = control.status(paths.run_id, runs_root=tmp_path)
    assert doc["status"] == "failed"
    summary = doc["error_summary"]
    assert summary["failureType"] == failure and summary["slurm_state"] == state
    said = [*summary["suggestions"], *summary["advice"]]
    assert any(advice in item for item in said), said
    assert "epoch 1" in summary["log_tail"]
    if state == "NODE_FAIL":  # the node is named
        assert "n1" in summary["message"] and summary["nodes"] == "n1"


def test_job_cancelled_behind_our_back_is_killed_with_that_reason(
    fake_squeue: FakeSqueue, tmp_path: Path
) -> None:
    paths = slurm_run(tmp_path, "42")
    fake_squeue.set("42", "CANCELLED", code=15)
    doc = control.status(paths.run_id, runs_root=tmp_path)
    assert doc["status"] == "killed"
    (event,) = read_events(paths, names="killed")
    assert "cancelled outside oceansr" in event["reason"] and event["slurm_state"] == "CANCELLED"
    assert event["killed_by"] == doc["killed_by"] and doc["killed_by"]["kind"] == "scheduler"
    assert doc["kill_reason"] == {"by": "scheduler", "detail": event["reason"]}


def test_pending_job_is_queued_with_slurms_reason(fake_squeue: FakeSqueue, tmp_path: Path) -> None:
    paths = slurm_run(tmp_path, "43")
    fake_squeue.set("43", "PENDING", "Priority")
    doc = control.status(paths.run_id, runs_root=tmp_path)
    assert doc["status"] == "queued" and doc["queue_reason"] == "Priority"
    fake_squeue.set("43", "PENDING", "Resources")
    find_backend("slurm").jobs.forget()  # type: ignore[union-attr]
    assert control.status(paths.run_id, runs_root=tmp_path)["queue_reason"] == "Resources"


def test_unknown_job_state_is_not_a_death(fake_squeue: FakeSqueue, tmp_path: Path) -> None:
    """squeue failing (controller down) must not turn live runs into lost ones."""
    paths = slurm_run(tmp_path, "44")

    def broken(args: Sequence[str]) -> str:
        raise OSError("slurm_load_jobs error: Unable to contact slurm controller")

    find_backend("slurm").jobs.runner = broken  # type: ignore[union-attr]
    assert control.status(paths.run_id, runs_root=tmp_path)["status"] == "pending"


@pytest.mark.parametrize(
    ("env", "rank"),
    [
        ({}, 0),
        ({"SLURM_STEP_ID": "0", "SLURM_PROCID": "1", "LOCAL_RANK": "0", "NODE_RANK": "0"}, 1),
        ({"SLURM_STEP_ID": "0", "SLURM_PROCID": "0"}, 0),
        ({"SLURM_PROCID": "0", "LOCAL_RANK": "1"}, 1),  # batch script, Lightning-spawned
        ({"RANK": "3", "SLURM_STEP_ID": "0", "SLURM_PROCID": "0"}, 3),
        ({"NODE_RANK": "1"}, 1),
    ],
)
def test_global_rank_decides_the_run_directory_writer(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], rank: int
) -> None:
    from oceansr.engine import cluster
    from oceansr.train.entry import is_rank_zero

    for name in ("RANK", "SLURM_STEP_ID", "SLURM_PROCID", "LOCAL_RANK", "NODE_RANK"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert cluster.global_rank() == rank
    assert is_rank_zero() is (rank == 0)


def test_settings_errors_name_the_launcher_field() -> None:
    for bad, field in (
        ({"time": "two hours"}, "launcher.time"),
        ({"nodes": 0}, "launcher.nodes"),
        ({"signal": "USR1"}, "launcher.signal"),
        ({"partition": "gpu a100"}, "launcher.partition"),
        ({"setup": "module load cuda"}, "launcher.setup"),
    ):
        with pytest.raises(ConfigError) as caught:
            settings_from(bad)
        assert caught.value.field == field and caught.value.fix


def test_start_with_bad_launcher_value_is_a_config_error_and_creates_nothing(
    tmp_path: Path,
) -> None:
    reply = control.start([*SMOKE, "launcher.time=soon"], backend="slurm", runs_root=tmp_path)
    assert reply["status"] == "error"
    assert reply["error_summary"]["failureType"] == "config_error"
    assert reply["error_summary"]["field"] == "launcher.time"
    assert not list(tmp_path.glob("train-*"))


def test_script_runs_the_trainer_under_srun_with_the_settings(tmp_path: Path) -> None:
    settings = settings_from(
        {
            "nodes": 2,
            "ntasks_per_node": 4,
            "partition": "gpu",
            "gres": "gpu:4",
            "time": "01:00:00",
            "extra_sbatch": ["exclusive"],
            "setup": ["module load cuda"],
        }
    )
    script = render_script(
        settings,
        run_id="train-x",
        command=["python", "-m", "oceansr.train", "a=b c"],
        log_path=tmp_path / "train.log",
        cwd=tmp_path,
    )
    for line in (
        "#SBATCH --nodes=2",
        "#SBATCH --ntasks-per-node=4",
        "#SBATCH --gres=gpu:4",
        "#SBATCH --partition=gpu",
        "#SBATCH --time=01:00:00",
        "#SBATCH --signal=USR1@90",
        "#SBATCH --requeue",
        "#SBATCH --exclusive",
        f"#SBATCH --output={tmp_path / 'train.log'}",
        "module load cuda",
        "exec srun --kill-on-bad-exit=1 python -m oceansr.train 'a=b c'",
    ):
        assert line in script.splitlines(), line


def test_backend_and_launcher_override_agree() -> None:
    assert select_backend(["model=srcnn"], "slurm", "keep") == (
        ["model=srcnn", "launcher=slurm"],
        "slurm",
    )
    assert select_backend(["launcher=slurm"], "local", "keep") == (["launcher=slurm"], "slurm")
    assert select_backend(["model=srcnn"], "local", "keep") == (["model=srcnn"], "local")
    with pytest.raises(RequestError):
        select_backend(["launcher=local"], "slurm", "keep")


def test_on_exit_terminate_is_refused_for_slurm(tmp_path: Path) -> None:
    reply = control.start(SMOKE, backend="slurm", on_exit="terminate", runs_root=tmp_path)
    assert reply["status"] == "error"
    assert reply["error_summary"]["failureType"] == "config_error"
    assert reply["error_summary"]["field"] == "on_exit"
    summary = reply["error_summary"]
    assert "on_exit='keep'" in " ".join([*summary["suggestions"], *summary["advice"]])


# --------------------------------------------------------------------------- cluster


def _job_of(reply: dict) -> str:
    job_id = reply.get("job_id")
    assert isinstance(job_id, str) and job_id.isdigit(), reply
    return job_id


def _fresh_status(process_id: str, root: Path) -> dict:
    """``oceansr status --json`` from a new process (nothing cached in this one)."""
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "status",
            process_id,
            "--runs-root",
            str(root),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return json.loads(out.stdout)


@pytest.mark.usefixtures("requires_slurm")
def test_start_to_completed_with_metrics_logs_and_fresh_readers(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    reply = control.start(SMOKE, backend="slurm", runs_root=tmp_path, startup_timeout=120)
    job_id = _job_of(reply)
    slurm_jobs.append(job_id)
    assert reply["status"] == "started", reply
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    done = control.wait(reply["process_id"], until="terminal", timeout=120, runs_root=tmp_path)
    assert done["status"] == "completed", done.get("error_summary")
    metrics = done["test_metrics"]
    assert metrics["test/rmse"] > 0 and metrics["test/rmse_bicubic"] > 0
    run_doc = json.loads(paths.run_json.read_text())
    assert run_doc["job_id"] == job_id and run_doc["backend"] == "slurm"
    assert "srun" in (paths.dir / "submit.sbatch").read_text()
    assert read_events(paths, names="job_submitted")[0]["job_id"] == job_id
    # logs: offsets reproduce train.log byte for byte
    first = control.logs(reply["process_id"], offset=0, max_bytes=200, runs_root=tmp_path)
    rest = control.logs(
        reply["process_id"], offset=first["next_offset"], runs_root=tmp_path, max_bytes=10**7
    )
    assert (first["content"] + rest["content"]).encode() == paths.train_log.read_bytes()
    assert "test RMSE" in rest["content"]
    fresh = _fresh_status(reply["process_id"], tmp_path)
    assert fresh["status"] == "completed" and fresh["test_metrics"]["test/rmse"] > 0
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "list",
            "--runs-root",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(listed.stdout)["runs"][0]["status"] == "completed"


@pytest.mark.usefixtures("requires_slurm")
def test_kill_running_job_checkpoints_then_killed(tmp_path: Path, slurm_jobs: list[str]) -> None:
    reply = control.start(LONG, backend="slurm", runs_root=tmp_path, startup_timeout=120)
    slurm_jobs.append(_job_of(reply))
    assert reply["status"] == "started", reply
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    wait_until(lambda: read_events(paths, names="epoch_end"), "an epoch_end event", interval=0.2)
    killed = control.kill(reply["process_id"], grace=PATIENCE_S, runs_root=tmp_path)
    assert killed["status"] == "killed" and killed["kill_reason"]["by"] == "user"
    assert killed["kill"]["signal"] == "SIGTERM" and not killed["kill"]["escalated"]
    assert killed["exit_code"] == 143  # the trainer stopped itself (not SIGKILLed)
    assert killed["last_checkpoint"] and Path(killed["last_checkpoint"]).is_file()
    assert wait_for(_job_of(reply), frozenset({"FAILED", "COMPLETED", "CANCELLED"}))
    # resume: same run, a new job continuing from last.ckpt
    again = control.resume(reply["process_id"], runs_root=tmp_path, startup_timeout=120)
    slurm_jobs.append(_job_of(again))
    assert again["status"] == "started" and again["job_id"] != reply["job_id"], again
    assert again["attempt"] == 2 and again["training_start"]["start_step"] > 0
    assert control.kill(reply["process_id"], runs_root=tmp_path)["status"] == "killed"


@pytest.mark.usefixtures("requires_slurm")
def test_queued_start_returns_queued_and_kill_cancels_at_once(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    blocker = sbatch(["-N2", "-o", "/dev/null", "--wrap", "sleep 120"])
    slurm_jobs.append(blocker)
    wait_for(blocker, frozenset({"RUNNING"}))
    reply = control.start(SMOKE, backend="slurm", runs_root=tmp_path, startup_timeout=2)
    slurm_jobs.append(_job_of(reply))
    assert reply["status"] == "queued", reply
    assert isinstance(reply["reason"], str), reply  # "None" until the scheduler looked

    def with_reason() -> dict | None:
        doc = control.status(reply["process_id"], runs_root=tmp_path)
        return doc if doc["queue_reason"] != "None" else None

    status = wait_until(with_reason, "the queued run has a queue reason", interval=0.5)
    assert status["status"] == "queued" and status["queue_reason"] in ("Resources", "Priority")
    # At once: a grace of an hour is never waited out for a job that never ran.
    killed = returns_within(
        lambda: control.kill(reply["process_id"], grace=3600, runs_root=tmp_path),
        "kill of a queued run",
    )
    assert killed["status"] == "killed" and killed["kill"]["signal"] == "scancel"
    assert killed["kill"]["escalated"] is False
    assert killed["exit_code"] is None and killed["duration_s"] is None  # it never ran
    assert killed["last_checkpoint"] is None
    assert not RunPaths.for_id(reply["process_id"], tmp_path).last_ckpt.exists()


@pytest.mark.usefixtures("requires_slurm")
def test_job_scancelled_by_hand_is_recorded_truthfully(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    reply = control.start(LONG, backend="slurm", runs_root=tmp_path, startup_timeout=120)
    job_id = _job_of(reply)
    slurm_jobs.append(job_id)
    assert reply["status"] == "started", reply
    slurm(["scancel", job_id])
    done = control.wait(reply["process_id"], until="terminal", timeout=90, runs_root=tmp_path)
    assert done["status"] == "killed", done
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    assert not read_events(paths, names="kill_requested")  # nobody asked us to kill it
    (event,) = read_events(paths, names="killed")
    assert event["reason"], event
    # The trainer's SIGTERM came from Slurm (or the job was found cancelled): the scheduler.
    assert done["kill_reason"]["by"] == event["killed_by"]["kind"] == "scheduler", done
    # ... named as Slurm's doing, with the job and Slurm's state, never a bare "SIGTERM
    # received" (inside the job the state reads COMPLETING until the task exits; a
    # reader that records the end finds CANCELLED)
    detail = event["killed_by"]["detail"]
    assert "scancel" in detail and "Slurm" in detail and job_id in detail, event
    assert event["slurm_state"] in ("COMPLETING", "CANCELLED"), event
    assert done["exit_code"] is not None  # it ran: its own exit status


#: The DDP-vs-single-process comparison: one epoch of 150 optimisation steps of the smoke
#: SRCNN (enough to beat bicubic), the whole validation and test split (38 fields each,
#: evenly split between 2 ranks, so the DistributedSampler pads nothing and the bicubic
#: baseline sees the same fields).
STEPS = 150
COMPARE = [
    "experiment=smoke",
    "seed=0",
    f"trainer.limit_train_batches={STEPS}",
    "trainer.limit_val_batches=1.0",
    "trainer.limit_test_batches=1.0",
]
#: Global batch 8: one process with 8, or two ranks with 4 each (Lightning's
#: DistributedSampler gives each rank half of the shuffled patches, one batch each step).
GLOBAL_BATCH = 8
#: "Within noise", relative to the single-process test RMSE (see the test's docstring).
RELATIVE_NOISE = 0.03


def _single_process_metrics(root: Path) -> dict[str, float]:
    """Test metrics of the single-process run (local backend, batch = the global batch)."""
    reply = control.start(
        [*COMPARE, f"data.batch_size={GLOBAL_BATCH}"], runs_root=root, wait_for_start=False
    )
    done = control.wait(reply["process_id"], until="terminal", timeout=400, runs_root=root)
    assert done["status"] == "completed", done.get("error_summary")
    assert done["progress"]["step"] == STEPS
    return done["test_metrics"]


@pytest.mark.usefixtures("requires_slurm")
def test_two_node_ddp_run_writes_one_run_directory_and_matches_one_process(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    """One 2-node run serves both the run-directory checks and the issue's "test metrics
    within noise of a single-process run with the same global batch".

    Same seed (so the same initial weights), data, steps and global batch; the runs
    differ in the order in which patches are drawn (DistributedSampler vs RandomSampler)
    and in where the gradient is summed. The noise that data order brings was measured
    with single-process runs of this config: test RMSE 0.5052, 0.5099, 0.5090 for seeds
    0, 1, 2 (bicubic 0.5234), a standard deviation of 0.0024 (0.5 %); a difference of two
    such runs has a standard deviation of about 0.7 %, so 3 % is ~4 of them (the 2-node
    run measured 0.5118: 1.3 % from seed 0's 0.5052). At 20 steps the seed-to-seed spread
    was 8 %, too coarse to see anything: hence 150 steps. 3 % is still tighter than the
    gain over bicubic (+3.5 %), and both runs must beat bicubic; the bicubic baseline,
    which involves no training, must agree to float64 summation order.
    """
    runs = tmp_path / "ddp"
    ddp = [
        *COMPARE,
        f"data.batch_size={GLOBAL_BATCH // 2}",
        "trainer.num_nodes=2",
        "trainer.devices=1",
        "trainer.strategy=ddp",
    ]
    reply = control.start(ddp, backend="slurm", runs_root=runs, startup_timeout=180)
    slurm_jobs.append(_job_of(reply))
    assert reply["status"] == "started", reply
    one = _single_process_metrics(tmp_path / "single")  # while the DDP job trains
    start = reply["training_start"]
    assert start["world_size"] == 2 and sorted(start["nodes"]) == ["n1", "n2"]
    assert "#SBATCH --nodes=2" in (runs / reply["process_id"] / "submit.sbatch").read_text()
    done = control.wait(reply["process_id"], until="terminal", timeout=400, runs_root=runs)
    assert done["status"] == "completed", done.get("error_summary")
    assert done["test_metrics"]["test/rmse"] > 0
    assert [p.name for p in runs.iterdir()] == [reply["process_id"]]
    paths = RunPaths.for_id(reply["process_id"], runs)
    assert len(read_events(paths, names="training_start")) == 1  # rank 1 wrote nothing
    assert len(read_events(paths, names="process_started")) == 1
    assert done["progress"]["step"] == STEPS  # the same number of optimisation steps
    ddp_m = done["test_metrics"]
    assert ddp_m["test/rmse_bicubic"] == pytest.approx(one["test/rmse_bicubic"], rel=1e-9)
    assert ddp_m["test/rmse"] < ddp_m["test/rmse_bicubic"], ddp_m
    assert one["test/rmse"] < one["test/rmse_bicubic"], one
    assert ddp_m["test/rmse"] == pytest.approx(one["test/rmse"], rel=RELATIVE_NOISE), (
        ddp_m["test/rmse"],
        one["test/rmse"],
    )


@pytest.mark.usefixtures("requires_slurm")
def test_usr1_checkpoints_requeues_and_continues_the_same_run(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    epochs = 12
    reply = control.start(
        [*SMOKE, f"trainer.max_epochs={epochs}"],
        backend="slurm",
        runs_root=tmp_path,
        startup_timeout=120,
    )
    job_id = _job_of(reply)
    slurm_jobs.append(job_id)
    assert reply["status"] == "started", reply
    paths = RunPaths.for_id(reply["process_id"], tmp_path)
    wait_until(lambda: read_events(paths, names="epoch_end"), "an epoch_end event", interval=0.2)
    slurm(["scancel", "--signal=USR1", job_id])
    queued = control.wait(reply["process_id"], timeout=PATIENCE_S, runs_root=tmp_path)
    assert queued["status"] == "queued", queued
    (requeued,) = read_events(paths, names="requeued")
    assert requeued["signal"] == "SIGUSR1" and Path(requeued["checkpoint"]).is_file()
    release_until_started(reply["process_id"], job_id, tmp_path)
    done = control.wait(reply["process_id"], until="terminal", timeout=180, runs_root=tmp_path)
    assert done["status"] == "completed", done.get("error_summary")
    assert done["attempt"] == 2 and done["queue_reason"] is None
    starts = read_events(paths, names="training_start")
    assert [s["start_step"] for s in starts] == [0, requeued["checkpoint_step"]]  # continuous
    assert requeued["checkpoint_step"] >= requeued["step"]
    assert starts[1]["slurm_restart_count"] == 1
    assert done["progress"]["step"] == epochs * 2
    assert len(json.loads(paths.run_json.read_text())["attempts"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == [reply["process_id"]]


@pytest.mark.usefixtures("requires_slurm")
def test_cli_sweep_submits_one_job_per_combination_and_returns_all_ids(
    tmp_path: Path, slurm_jobs: list[str]
) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "start",
            "-m",
            "--backend",
            "slurm",
            "experiment=smoke",
            "seed=1,2",
            "--runs-root",
            str(tmp_path),
            "--json",
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    reply = json.loads(out.stdout)
    assert reply["status"] == "started" and reply["count"] == 2, reply
    jobs = [run["job_id"] for run in reply["runs"]]
    slurm_jobs.extend(jobs)
    assert len(set(jobs)) == 2 and len(reply["process_ids"]) == 2
    for process_id in reply["process_ids"]:
        done = control.wait(process_id, until="terminal", timeout=180, runs_root=tmp_path)
        assert done["status"] == "completed", done.get("error_summary")
        assert any(o == "launcher=slurm" for o in done_overrides(tmp_path, process_id))


def done_overrides(root: Path, process_id: str) -> list[str]:
    return json.loads((root / process_id / "run.json").read_text())["overrides"]
