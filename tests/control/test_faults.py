"""Issue 8: every fault recorded truthfully, every request checked before it runs.

Each test here failed on the code before the fix it covers. Most use synthetic run
directories (``runfactory.make_run``) or ``python -c`` stand-ins for the trainer so
they run in milliseconds; the few that need a real trainer say so.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest

from conftest import SMOKE, subprocess_env
from oceansr import control
from oceansr.runs import RunPaths
from runfactory import created_in, make_run
from waiting import returns_within

# --------------------------------------------------------------- concurrent starts


def test_eight_concurrent_starts_in_one_process_all_start(tmp_path, script_backend) -> None:
    backend = script_backend("import time; time.sleep(0.5)")
    barrier = threading.Barrier(8)

    def one(_: int) -> dict:
        barrier.wait()
        return control.start(SMOKE, runs_root=tmp_path, backend=backend, wait_for_start=False)

    with ThreadPoolExecutor(8) as pool:
        replies = list(pool.map(one, range(8)))
    assert [r["status"] for r in replies] == ["starting"] * 8, replies
    assert len({r["process_id"] for r in replies}) == 8
    for reply in replies:
        control.wait(reply["process_id"], timeout=30, runs_root=tmp_path)


# --------------------------------------------------------------- unreadable runs


def _healthy_and(root: Path, damage: Callable[[RunPaths], None]) -> tuple[RunPaths, RunPaths]:
    good = make_run(root, status="completed")
    bad = make_run(root, status="completed")
    damage(bad)
    return good, bad


def _status_is_fifo(paths: RunPaths) -> None:
    paths.status_json.unlink()
    os.mkfifo(paths.status_json)


def _status_is_dir(paths: RunPaths) -> None:
    paths.status_json.unlink()
    paths.status_json.mkdir()


def _progress_is_text(paths: RunPaths) -> None:
    doc = paths.status_json.read_text().replace('"progress": {', '"progress": "x", "_p": {', 1)
    paths.status_json.write_text(doc)


@pytest.mark.parametrize("damage", [_status_is_fifo, _status_is_dir, _progress_is_text])
def test_one_damaged_run_is_one_unreadable_row(tmp_path, damage) -> None:
    """Without blocking on a FIFO (how fast, target 1 s: benchmarks/chaos.py,
    ``list_damaged``)."""
    good, bad = _healthy_and(tmp_path, damage)
    reply = returns_within(lambda: control.list_runs(runs_root=tmp_path), "list_runs")
    rows = {row["process_id"]: row for row in reply["runs"]}
    assert rows[good.run_id]["status"] == "completed"
    assert rows[bad.run_id]["status"] == "unreadable" and rows[bad.run_id]["error"]


def test_status_of_a_fifo_status_file_answers_without_blocking(tmp_path) -> None:
    _, bad = _healthy_and(tmp_path, _status_is_fifo)
    reply = returns_within(
        lambda: control.status(bad.run_id, runs_root=tmp_path), "status of a FIFO status.json"
    )
    assert reply["status"] == "error"
    assert "not a regular file" in reply["error_summary"]["message"]
    assert "Traceback (most recent call last)" not in str(reply)


def test_a_run_folder_that_cannot_be_read_is_one_row(tmp_path, monkeypatch) -> None:
    good, bad = _healthy_and(tmp_path, lambda p: None)
    from oceansr.runs import fileio

    real = fileio.open_regular

    def denied(path: os.PathLike[str], **kwargs: object) -> int:
        if bad.run_id in str(path):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fileio, "open_regular", denied)
    rows = {r["process_id"]: r for r in control.list_runs(runs_root=tmp_path)["runs"]}
    assert rows[good.run_id]["status"] == "completed"
    assert rows[bad.run_id]["status"] == "unreadable"
    assert "Permission denied" in rows[bad.run_id]["error"]


def test_list_runs_over_a_file_is_a_classified_error(tmp_path) -> None:
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    reply = control.list_runs(runs_root=afile)
    assert reply["status"] == "error"
    assert reply["error_summary"]["failureType"] == "config_error"
    assert "runs_root" in reply["error_summary"]["message"]


# --------------------------------------------------------------- misclassified exits


def test_a_kill_minus_nine_without_oom_evidence_is_process_lost_naming_sigkill(
    tmp_path, script_backend
) -> None:
    backend = script_backend("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    reply = control.start(SMOKE, runs_root=tmp_path, backend=backend)
    summary = reply["error_summary"]
    assert summary["failureType"] == "process_lost", summary
    assert summary["signal"] == "SIGKILL" and "SIGKILL" in summary["message"]
    status = control.status(reply["process_id"], runs_root=tmp_path)
    assert status["error_summary"]["failureType"] == "process_lost"


def test_sigkill_is_cpu_oom_only_with_evidence() -> None:
    from oceansr.runs.failures import classify_exit
    from oceansr.runs.oom import oom_evidence

    rose = oom_evidence(2, None, now_count=3)
    near = oom_evidence(None, {"rss_mb": 950.0, "limit_mb": 1000.0}, now_count=None)
    assert rose and "oom_kill" in rose and near and "near the limit" in near
    assert oom_evidence(3, {"rss_mb": 100.0, "limit_mb": 1000.0}, now_count=3) is None
    assert classify_exit(-9, "", oom_evidence=rose)["failureType"] == "cpu_oom"
    assert classify_exit(-9, "", oom_evidence=None)["failureType"] == "process_lost"


def test_the_oom_counter_is_recorded_at_launch(tmp_path, script_backend) -> None:
    from oceansr.runs import read_run
    from oceansr.runs.oom import oom_kill_count

    backend = script_backend("pass")
    reply = control.start(SMOKE, runs_root=tmp_path, backend=backend)
    doc = read_run(RunPaths.for_id(reply["process_id"], tmp_path))
    assert doc["oom_kills_at_start"] == oom_kill_count()


def test_an_import_error_before_anything_is_recorded_is_missing_dependency(
    tmp_path, script_backend
) -> None:
    backend = script_backend("import oceansr_no_such_package_xyz")
    reply = control.start(SMOKE, runs_root=tmp_path, backend=backend)
    summary = reply["error_summary"]
    assert summary["failureType"] == "missing_dependency", summary
    assert "oceansr_no_such_package_xyz" in summary["message"]


def test_disk_full_printed_before_the_record_is_disk_full(tmp_path, script_backend) -> None:
    code = "raise OSError(28, 'No space left on device')"
    reply = control.start(SMOKE, runs_root=tmp_path, backend=script_backend(code))
    assert reply["error_summary"]["failureType"] == "disk_full"


# --------------------------------------------------------------- disk full, torn lines, resume


def test_a_torn_last_event_line_is_repaired_on_the_next_append(tmp_path) -> None:
    import json

    from oceansr.runs import append_event, read_events

    paths = make_run(tmp_path, status="running")
    with paths.events_jsonl.open("ab") as handle:
        handle.write(b'{"seq": 99, "ts": "2026-01-01T00:00:00Z", "run_id": "x", "ev')
    before = [e["seq"] for e in read_events(paths)]
    appended = append_event(paths, "epoch_end", epoch=1)
    assert appended["seq"] == before[-1] + 1
    lines = paths.events_jsonl.read_bytes().split(b"\n")
    assert lines[-1] == b"" and all(json.loads(line) for line in lines[:-1])


def test_a_failed_checkpoint_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch) -> None:
    import torch

    from oceansr.engine.checkpoint_io import AtomicCheckpointIO
    from oceansr.runs import store
    from oceansr.runs.checkpoint_file import unreadable_reason

    target = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"state_dict": {"w": torch.ones(3)}, "epoch": 1}, target)
    before = target.read_bytes()
    real_write = store._write_all

    def full_disk(fd: int, data: bytes) -> None:  # half the bytes fit, then ENOSPC
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_write_all", full_disk)
    with pytest.raises(OSError, match="No space"):
        io.save_checkpoint({"state_dict": {"w": torch.zeros(3)}, "epoch": 2}, target)
    assert target.read_bytes() == before and unreadable_reason(target) is None
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temp file left


def test_the_trainer_saves_checkpoints_atomically(tmp_path) -> None:
    from oceansr.config.compose import compose_config
    from oceansr.engine.checkpoint_io import AtomicCheckpointIO
    from oceansr.train.entry import build_trainer

    cfg = compose_config([*SMOKE, f"runs_root={tmp_path}"])
    trainer = build_trainer(cfg, RunPaths.for_id("train-20260101-000000-abcdef", tmp_path), [])
    assert isinstance(trainer.strategy.checkpoint_io, AtomicCheckpointIO)


def _failed_with_checkpoint(root: Path, backend: str, content: bytes | None) -> RunPaths:
    paths = make_run(root, status="failed", backend=backend)
    paths.last_ckpt.parent.mkdir(parents=True, exist_ok=True)
    if content is None:  # a checkpoint of the smoke config (what make_run records)
        import torch

        from oceansr.config.compose import compose_config
        from oceansr.config.schema import to_dict

        cfg = compose_config(list(SMOKE))
        hparams = {"model": to_dict(cfg.model), "variables": ["temp"], "units": ["degC"]}
        hparams |= {"scale": cfg.data.scale, "mean": [0.0], "std": [1.0]}
        torch.save({"state_dict": {}, "epoch": 1, "hyper_parameters": hparams}, paths.last_ckpt)
    else:
        paths.last_ckpt.write_bytes(content)
    return paths


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated"])
def test_resume_is_offered_only_from_a_checkpoint_that_loads(tmp_path, content) -> None:
    paths = _failed_with_checkpoint(tmp_path, "local", content)
    status = control.status(paths.run_id, runs_root=tmp_path)
    assert "resume" not in [c["action"] for c in status["next"]]
    reply = control.resume(paths.run_id, runs_root=tmp_path)
    assert (
        reply["status"] == "error"
        and "last.ckpt does not load" in reply["error_summary"]["message"]
    )
    assert "EOFError" not in str(reply)


def test_resume_takes_overrides(tmp_path, script_backend) -> None:
    from oceansr.control.backends import get_backend
    from oceansr.runs import read_run

    name = script_backend("pass")
    paths = _failed_with_checkpoint(tmp_path, name, None)
    assert "resume" in [
        c["action"] for c in control.status(paths.run_id, runs_root=tmp_path)["next"]
    ]
    reply = control.resume(
        paths.run_id, runs_root=tmp_path, overrides=["trainer.max_epochs=7"], wait_for_start=False
    )
    assert reply["status"] in ("starting", "error"), reply
    command = get_backend(name).submitted[-1]  # type: ignore[attr-defined]
    assert "trainer.max_epochs=7" in command and any(a.startswith("ckpt_path=") for a in command)
    assert "trainer.max_epochs=7" in read_run(paths)["overrides"]
    refused = control.resume(paths.run_id, runs_root=tmp_path, overrides=["ckpt_path=/x"])
    assert refused["status"] == "error"


# --------------------------------------------------------------- no tracebacks in replies


def test_an_unexpected_error_reply_has_no_traceback_but_its_path(tmp_path, monkeypatch) -> None:
    from oceansr.control import queries

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom inside the control plane")

    paths = make_run(tmp_path, status="completed")
    monkeypatch.setattr(queries, "status_reply", broken)
    reply = control.status(paths.run_id, runs_root=tmp_path)
    summary = reply["error_summary"]
    assert summary["failureType"] == "unknown" and "boom" in summary["message"]
    assert "Traceback (most recent call last)" not in str(reply)
    assert summary["traceback_tail"] is None
    assert summary["traceback_path"] == str(paths.dir / "error.txt")
    assert "RuntimeError: boom" in (paths.dir / "error.txt").read_text()


def test_a_failed_trainer_keeps_its_traceback_in_error_txt(tmp_path, script_backend) -> None:
    reply = control.start([*SMOKE, "debug.fail_at=startup"], runs_root=tmp_path)
    assert reply["status"] == "error"
    summary = reply["error_summary"]
    assert summary["traceback_tail"] is None and summary["traceback_path"]
    assert "Traceback" in Path(summary["traceback_path"]).read_text()
    assert "Traceback (most recent call last)" not in str(reply["error_summary"])
    # train.log's end is quoted without the traceback's frames; the cause line stays.
    assert "Traceback (most recent call last)" not in str(reply)
    assert "[traceback: see" in reply["log_tail"] and "fault injected" in reply["log_tail"]


# --------------------------------------------------------------- requests checked first


def _refused_before_spawning(root: Path, overrides: list[str]) -> dict:
    """The controller refuses the request itself: no run directory, no process (how fast,
    target 2 s: benchmarks/control.py, ``refusal_ms``)."""
    children = {p.pid for p in psutil.Process().children(recursive=True)}
    reply = control.start([*SMOKE, *overrides], runs_root=root)
    assert reply["status"] == "error" and reply["process_id"] is None, reply
    assert created_in(root) == []  # nothing created
    assert {p.pid for p in psutil.Process().children(recursive=True)} <= children
    return reply["error_summary"]


@pytest.mark.parametrize(
    ("overrides", "failure", "field"),
    [
        (["ckpt_path=/no/such/last.ckpt"], "data_not_found", "ckpt_path"),
        (["ckpt_path=__TEXT__"], "data_invalid", "ckpt_path"),
        (["model=edsr_baseline", "data.scale=5"], "config_error", "data.scale"),
        (
            ["model=swinir_light", "model.upsampler=pixelshuffle", "data.scale=5"],
            "config_error",
            "data.scale",
        ),
        (["model=swinir_light", "model.embed_dim=50"], "config_error", "model.embed_dim"),
        (["model.kernel_sizes=[9,4,5]"], "config_error", "model.kernel_sizes[1]"),
        (["trainer.max_epochs=0"], "config_error", "trainer.max_epochs"),
        (["mode=test"], "config_error", "ckpt_path"),
        (["hydra.run.dir=__ELSEWHERE__", "hydra.output_subdir=.hydra"], "config_error", None),
    ],
)
def test_a_bad_request_is_refused_before_spawning_with_nothing_created(
    tmp_path, overrides, failure, field
) -> None:
    text = tmp_path / "notes.ckpt"
    text.write_text("not a checkpoint")
    elsewhere = tmp_path / "elsewhere"
    overrides = [
        o.replace("__TEXT__", str(text)).replace("__ELSEWHERE__", str(elsewhere)) for o in overrides
    ]
    summary = _refused_before_spawning(tmp_path / "runs", overrides)
    assert summary["failureType"] == failure, summary
    assert summary.get("field") == (field or "hydra.run.dir"), summary
    assert not elsewhere.exists()


def test_hydra_overrides_over_mcp_style_strings_are_refused(tmp_path) -> None:
    reply = control.start(f"{SMOKE[0]} hydra.job.chdir=true", runs_root=tmp_path)
    assert reply["status"] == "error" and reply["error_summary"]["field"] == "hydra.job.chdir"


def test_a_split_list_is_a_plain_override() -> None:
    from oceansr.data.validation import validate_overrides

    reply = validate_overrides([*SMOKE, "data.split.train=[1,2,3,4,5,6]"])
    assert reply["ok"], reply.get("error_summary")
    assert list(reply["config"].data.split.train) == [1, 2, 3, 4, 5, 6]


def test_model_scales_are_each_architectures_declaration() -> None:
    """One declaration per architecture (oceansr.config.architectures), read torch-free by
    the request checks and by the registry: there is no second table to keep equal."""
    from oceansr.config.architectures import ARCHITECTURES, supported_scales
    from oceansr.models.registry import list_models

    assert set(ARCHITECTURES) == {row["name"] for row in list_models()}
    for row in list_models():
        declared = supported_scales(row["name"])
        assert row["scales"] == (list(declared) if declared else "any integer >= 2")
    # The upsampler decides: swinir_light realises any scale until it is given SwinIR's
    # pixel-shuffle upsampler.
    assert supported_scales("swinir_light", {"upsampler": "pixelshuffle"}) == (2, 3, 4, 8)


@pytest.mark.parametrize("value", ["nan", "-1"])
def test_cli_wait_refuses_a_nan_timeout_in_human_mode(tmp_path, value) -> None:
    import subprocess
    import sys

    from conftest import subprocess_env

    paths = make_run(tmp_path, status="completed")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "oceansr",
            "wait",
            paths.run_id,
            "--timeout",
            value,
            "--runs-root",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(),
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "timeout must be" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("extra", "field", "fix"),
    [
        (["model=edsr_baseline"], "model", "model=srcnn"),
        (
            ["model.hidden_channels=[32,16]"],
            "model.hidden_channels",
            "model.hidden_channels=[64,32]",
        ),
        (["data.scale=2"], "data.scale", "data.scale=4"),
    ],
)
def test_a_checkpoint_of_another_architecture_is_a_config_mismatch_before_spawning(
    tmp_path, smoke_run, extra, field, fix
) -> None:
    """Today's trainer failed 20 s in with `unknown` and a state_dict dump; now the
    request is refused at once, naming the checkpoint's setting and the override."""
    ckpt = smoke_run.run_dir / "checkpoints" / "last.ckpt"
    summary = _refused_before_spawning(tmp_path / "runs", [*SMOKE, *extra, f"ckpt_path={ckpt}"])
    assert summary["failureType"] == "config_error", summary
    assert summary["field"] == field
    said = [*summary["suggestions"], *summary["advice"]]
    assert any(s.startswith(fix) for s in said), said


def test_the_same_architecture_checkpoint_passes_the_request_checks(smoke_run) -> None:
    from oceansr.data.validation import validate_overrides

    ckpt = smoke_run.run_dir / "checkpoints" / "last.ckpt"
    reply = validate_overrides([*SMOKE, f"ckpt_path={ckpt}", "trainer.max_epochs=2"])
    assert reply["ok"], reply.get("error_summary")


def test_checkpoint_hyper_parameters_are_read_without_torch_or_executing_code(
    tmp_path, smoke_run
) -> None:
    """The controller's check reads the pickle with stand-ins for every class: no torch
    import, and a payload (``os.system``) never runs."""
    marker = tmp_path / "pwned"
    best = smoke_run.run_dir / "checkpoints" / "best.ckpt"
    script = tmp_path / "probe.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import os, pickle, sys, zipfile
            from oceansr.runs.checkpoint_file import read_hparams
            from oceansr.core.errors import DataInvalidError

            hp = read_hparams({str(best)!r})
            assert hp["model"]["name"] == "srcnn" and hp["scale"] == 4, hp
            assert "torch" not in sys.modules

            class Payload:
                def __reduce__(self):
                    return (os.system, ("touch " + sys.argv[1],))

            evil = pickle.dumps({{"hyper_parameters": Payload()}})
            with zipfile.ZipFile(sys.argv[2], "w") as archive:
                archive.writestr("archive/data.pkl", evil)
            try:
                read_hparams(sys.argv[2])
            except DataInvalidError as exc:
                print("refused", exc)
            """
        )
    )
    out = subprocess.run(
        [sys.executable, str(script), str(marker), str(tmp_path / "evil.ckpt")],
        capture_output=True,
        text=True,
        timeout=60,
        env=subprocess_env(),
    )
    assert out.returncode == 0, out.stderr
    assert "refused" in out.stdout
    assert not marker.exists()


def test_start_predict_refuses_a_file_that_is_not_an_oceansr_checkpoint(tmp_path) -> None:
    import zipfile

    lr = tmp_path / "lr.nc"
    lr.write_bytes(b"")
    (tmp_path / "notes.ckpt").write_text("hello")
    with zipfile.ZipFile(tmp_path / "other.ckpt", "w") as archive:  # a torch file, not ours
        archive.writestr("archive/data.pkl", b"\x80\x04N.")
    for name in ("notes.ckpt", "other.ckpt"):
        path = tmp_path / name
        reply = control.start_predict(lr, checkpoint=path, runs_root=tmp_path / "runs")
        assert reply["status"] == "error", reply
        assert reply["error_summary"]["failureType"] == "data_invalid"
        assert reply["error_summary"]["field"] == "checkpoint"
        assert not (tmp_path / "runs").exists()


class _Payload:
    """Unpickling this runs a shell command: no checkpoint load may execute it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch '{self.marker}'",))


def test_resume_from_a_checkpoint_carrying_a_payload_is_refused_without_running_it(
    tmp_path, smoke_run
) -> None:
    """A real oceansr checkpoint (its hyper-parameters pass the controller's torch-free
    check) with code hidden in the loop state: the trainer's resume load refuses it."""
    import torch

    from oceansr.runs import read_status
    from oceansr.train.entry import train

    marker = tmp_path / "pwned"
    state = torch.load(smoke_run.run_dir / "checkpoints" / "last.ckpt", weights_only=False)
    state["loops"]["payload"] = _Payload(marker)
    evil = tmp_path / "evil.ckpt"
    torch.save(state, evil)
    runs = tmp_path / "runs"
    with pytest.raises(Exception) as caught:
        train([*SMOKE, f"ckpt_path={evil}", "trainer.max_epochs=2", f"runs_root={runs}"])
    assert not marker.exists(), "the checkpoint's payload ran"
    assert (
        "weights" in str(caught.value).lower() or "unpickl" in type(caught.value).__name__.lower()
    )
    (run_dir,) = [p for p in runs.iterdir() if p.is_dir()]
    status = read_status(RunPaths.for_id(run_dir.name, runs))
    assert status["status"] == "failed"
    assert status["error_summary"]["failureType"] == "data_invalid"
