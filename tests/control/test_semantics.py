"""Run semantics users tripped on (issue 8): running time, max_time stops, resume overrides,
path bases, overwrite refusals and suggestions that fit the call that failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oceansr import control
from oceansr.report.history import load_history
from oceansr.runs import RunPaths
from runfactory import dead_pid, make_run


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _killed_then_resumed_an_hour_later(root: Path) -> RunPaths:
    """A run that ran 600 s, was killed, waited 3600 s, was resumed and ran 300 s more."""
    pid, created = dead_pid()
    paths = make_run(root, status="completed", pid=pid, create_time=created)
    t0 = datetime.now(UTC) - timedelta(hours=3)
    killed, resumed, ended = (t0 + timedelta(seconds=s) for s in (600, 4200, 4500))
    status = json.loads(paths.status_json.read_text())
    status.update(created_at=_iso(t0), started_at=_iso(t0), ended_at=_iso(ended))
    paths.status_json.write_text(json.dumps(status))
    run_doc = json.loads(paths.run_json.read_text())
    run_doc["created_at"] = _iso(t0)
    run_doc["attempts"] = [
        {"attempt": 1, "started_at": _iso(t0)},
        {"attempt": 2, "started_at": _iso(resumed), "previous_ended_at": _iso(killed)},
    ]
    paths.run_json.write_text(json.dumps(run_doc))
    return paths


def test_duration_excludes_the_wait_for_a_resume_in_status_list_and_report(
    tmp_path: Path,
) -> None:
    paths = _killed_then_resumed_an_hour_later(tmp_path)
    reply = control.status(paths.run_id, runs_root=tmp_path)
    assert reply["duration_s"] == 900.0
    rows = control.list_runs(runs_root=tmp_path)["runs"]
    assert [row["duration_s"] for row in rows] == [900.0]
    assert load_history(paths).duration_s == 900.0


def test_a_run_stopped_by_max_time_says_so_and_was_warned_at_start(tmp_path: Path) -> None:
    from oceansr.runs import read_events, read_status
    from oceansr.train.entry import train

    result = train(
        [
            "experiment=smoke",
            f"runs_root={tmp_path}",
            "trainer.max_epochs=500",
            "trainer.max_time=00:00:00:02",
            "scheduler=cosine",
        ]
    )
    paths = RunPaths.from_dir(result.run_dir)
    status = read_status(paths)
    assert status["status"] == "completed" and status["stopped_by"] == "max_time"
    progress = status["progress"]
    assert progress["eta_s"] is None and progress["planned_epochs"] == 500
    assert progress["total_epochs"] == progress["epoch"] < 500
    (end,) = read_events(paths, names="training_end")
    assert end["stopped_by"] == "max_time"
    (start,) = read_events(paths, names="training_start")
    assert any("trainer.max_time" in w and "cosine" in w for w in start["warnings"])


def _killed_smoke_run(root: Path) -> RunPaths:
    """A real one-epoch run with a loadable last.ckpt, recorded as killed."""
    from oceansr.train.entry import train

    result = train(["experiment=smoke", f"runs_root={root}"])
    paths = RunPaths.from_dir(result.run_dir)
    status = json.loads(paths.status_json.read_text())
    status["status"] = "killed"  # stands in for a kill after the last epoch
    paths.status_json.write_text(json.dumps(status))
    run_doc = json.loads(paths.run_json.read_text())
    # as control.start records it, its process gone (it trained in this process here)
    run_doc.update(backend="local", pid=None, pgid=None, process_create_time=None)
    paths.run_json.write_text(json.dumps(run_doc))
    return paths


def test_resume_takes_overrides_over_mcp_and_the_cli(tmp_path: Path, capsys) -> None:
    import anyio

    from oceansr.adapters import cli
    from oceansr.adapters.mcp.server import build_server
    from oceansr.runs import read_run

    paths = _killed_smoke_run(tmp_path)
    server = build_server(runs_root=str(tmp_path), keep_runs=True, lang="en")

    async def calls() -> list[dict]:
        args = {"process_id": paths.run_id, "overrides": ["trainer.max_epochs=2"]}
        wrong_action = await server.call_tool("ocean_sr_train_status", args)
        fixed_key = await server.call_tool(
            "ocean_sr_train_status",
            {**args, "action": "resume", "overrides": ["ckpt_path=/elsewhere.ckpt"]},
        )
        return [json.loads(r.content[0].text) for r in (wrong_action, fixed_key)]

    wrong_action, fixed_key = anyio.run(calls)
    assert wrong_action["error_summary"]["failureType"] == "config_error"
    assert "action='resume' only" in wrong_action["error_summary"]["message"]
    assert "resume sets ckpt_path itself" in fixed_key["error_summary"]["message"]

    code = cli.main(["--runs-root", str(tmp_path), "resume", paths.run_id, "trainer.max_epochs=2"])
    assert code == 0, capsys.readouterr().out
    done = control.wait(paths.run_id, timeout=240, runs_root=tmp_path)
    assert done["status"] == "completed", done
    assert "trainer.max_epochs=2" in read_run(paths)["overrides"]
    assert done["progress"]["epoch"] == 2 and done["progress"]["step"] == 4


def _no_predict_run(root: Path) -> bool:
    return not any(p.name.startswith("predict-") for p in root.iterdir())


def test_an_existing_output_is_refused_at_once_unless_overwrite(tmp_path: Path, smoke_run) -> None:
    """Refused before the input is read or a run created (how fast, target 2 s:
    benchmarks/control.py, ``refusal_ms``)."""
    lr = tmp_path / "lr.nc"
    lr.write_bytes(b"not read before the output is checked")
    out = tmp_path / "out.nc"
    out.write_bytes(b"precious")
    reply = control.start_predict(
        lr, checkpoint=smoke_run.best_checkpoint, output=out, runs_root=tmp_path
    )
    summary = reply["error_summary"]
    assert summary["failureType"] == "config_error" and summary["field"] == "output"
    assert "overwrite" in " ".join(summary["suggestions"]) or "overwrite" in str(summary)
    assert out.read_bytes() == b"precious" and _no_predict_run(tmp_path)


def test_relative_paths_resolve_against_the_base_directory(tmp_path: Path, monkeypatch) -> None:
    base = tmp_path / "base"
    base.mkdir()
    (base / "out.nc").write_bytes(b"x")
    for kwargs in ({"base_dir": base}, {}):
        if not kwargs:
            monkeypatch.setenv("OCEANSR_BASE_DIR", str(base))
        reply = control.start_predict(
            "lr.nc", checkpoint="m.ckpt", output="out.nc", runs_root=tmp_path, **kwargs
        )
        assert reply["error_summary"]["field"] == "output"
        assert str(base / "out.nc") in reply["error_summary"]["message"]
    monkeypatch.delenv("OCEANSR_BASE_DIR")
    reply = control.start_predict("lr.nc", checkpoint="m.ckpt", runs_root=tmp_path, base_dir=base)
    assert reply["error_summary"]["field"] == "checkpoint"
    assert str(base / "m.ckpt") in reply["error_summary"]["message"]
    bad = control.start_predict("lr.nc", runs_root=tmp_path, base_dir=tmp_path / "missing")
    assert bad["error_summary"]["failureType"] == "config_error"
    assert bad["error_summary"]["field"] == "base_dir" and _no_predict_run(tmp_path)


def test_mcp_paths_resolve_against_the_servers_base_dir(tmp_path: Path) -> None:
    import shutil

    import anyio

    from oceansr.adapters.mcp.server import build_server
    from oceansr.data.sample import sample_path

    shutil.copy(sample_path(), tmp_path / "mine.nc")
    (tmp_path / "taken.nc").write_bytes(b"x")
    server = build_server(runs_root=str(tmp_path / "runs"), base_dir=str(tmp_path), lang="en")

    async def calls() -> list[dict]:
        data = await server.call_tool("ocean_sr_check_data", {"path": "mine.nc"})
        predict = await server.call_tool(
            "ocean_sr_predict", {"input": "mine.nc", "checkpoint": "m.ckpt", "output": "taken.nc"}
        )
        return [json.loads(r.content[0].text) for r in (data, predict)]

    data, predict = anyio.run(calls)
    assert data["status"] == "ok", data
    assert predict["error_summary"]["field"] == "output"
    assert str(tmp_path / "taken.nc") in predict["error_summary"]["message"]


def test_suggestions_fit_the_call_that_failed(tmp_path: Path) -> None:
    paths = make_run(tmp_path, status="completed")
    bad = {
        "offset": control.logs(paths.run_id, offset=-1, runs_root=tmp_path),
        "tail": control.logs(paths.run_id, tail="x", runs_root=tmp_path),
        "timeout": control.wait(paths.run_id, timeout=float("nan"), runs_root=tmp_path),
        "grace": control.kill(paths.run_id, grace=-1, runs_root=tmp_path),
        "status": control.list_runs(status="bogus", runs_root=tmp_path),
        "limit": control.list_runs(limit=-2, runs_root=tmp_path),
        "on_exit": control.resume(paths.run_id, runs_root=tmp_path, on_exit="x"),
    }
    for field, reply in bad.items():
        summary = reply["error_summary"]
        assert summary["failureType"] == "config_error" and summary["field"] == field, reply
        advice = " ".join([*summary["suggestions"], *summary["advice"]])
        assert "override" not in advice and field in advice, (field, advice)
    assert "logs()" in " ".join(bad["offset"]["error_summary"]["advice"])


def test_cli_predict_takes_base_dir_and_overwrite(tmp_path: Path, capsys) -> None:
    from oceansr.adapters import cli

    (tmp_path / "out.nc").write_bytes(b"x")
    argv = ["--runs-root", str(tmp_path), "predict", "lr.nc", "--checkpoint", "m.ckpt"]
    argv += ["--output", "out.nc", "--base-dir", str(tmp_path), "--json"]
    assert cli.main(argv) != 0
    reply = json.loads(capsys.readouterr().out)
    assert reply["error_summary"]["field"] == "output"
    assert str(tmp_path / "out.nc") in reply["error_summary"]["message"]
    assert cli.main([*argv, "--overwrite"]) != 0  # now the missing checkpoint is the error
    reply = json.loads(capsys.readouterr().out)
    assert reply["error_summary"]["field"] == "checkpoint"
    assert str(tmp_path / "m.ckpt") in reply["error_summary"]["message"]
