"""control.start_predict refuses bad requests before anything is created or spawned."""

from __future__ import annotations

from pathlib import Path

import pytest

from oceansr import control
from oceansr.runs import RunPaths, create_run, new_run_id


def _nothing_created(root: Path) -> bool:
    return not any(p.name.startswith("predict-") for p in root.iterdir())


@pytest.fixture
def lr_file(tmp_path: Path) -> Path:
    path = tmp_path / "lr.nc"
    path.write_bytes(b"not read before the checkpoint is found")
    return path


def test_needs_a_checkpoint_or_a_training_run(tmp_path: Path, lr_file: Path) -> None:
    reply = control.start_predict(lr_file, runs_root=tmp_path)
    assert reply["status"] == "error"
    assert reply["error_summary"]["failureType"] == "config_error"
    assert "process_id" in reply["error_summary"]["message"]
    assert reply["error_summary"]["field"] == "run"
    assert _nothing_created(tmp_path)


def test_missing_checkpoint_file(tmp_path: Path, lr_file: Path) -> None:
    reply = control.start_predict(lr_file, checkpoint=tmp_path / "nope.ckpt", runs_root=tmp_path)
    assert reply["error_summary"]["failureType"] == "data_not_found"
    assert reply["error_summary"]["field"] == "checkpoint"
    assert _nothing_created(tmp_path)


def test_training_run_without_checkpoint_is_the_wrong_state(tmp_path: Path, lr_file: Path) -> None:
    paths = RunPaths.for_id(new_run_id("train"), tmp_path)
    create_run(paths, kind="train", overrides=[], command=None, backend="local", on_exit="keep")
    reply = control.start_predict(lr_file, run=paths.run_id, runs_root=tmp_path)
    assert reply["status"] == "error"
    assert "no checkpoint" in reply["error_summary"]["message"]
    assert _nothing_created(tmp_path)


def test_missing_input_and_bad_ids(tmp_path: Path) -> None:
    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"x")
    reply = control.start_predict(tmp_path / "missing.nc", checkpoint=ckpt, runs_root=tmp_path)
    assert reply["error_summary"]["failureType"] == "data_not_found"
    assert reply["error_summary"]["field"] == "input"
    junk = control.start_predict(tmp_path / "x.nc", run="../../etc", runs_root=tmp_path)
    assert junk["error_summary"]["failureType"] == "config_error"
    assert _nothing_created(tmp_path)


def test_predict_overrides_round_trip_through_hydra(tmp_path: Path) -> None:
    """What start_predict passes to `python -m oceansr.predict` parses back to the values."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from oceansr.runs.overrides import predict_overrides

    odd = tmp_path / "a dir" / "it's été, [x]=1.nc"
    options = {"checkpoint": odd, "input": "plain/path.nc", "variables": ["temp", "s a"]}
    options |= {"tile": 16, "output": None, "sel": {"depth": [0, 10]}, "overwrite": True}
    overrides = predict_overrides(options)
    assert not any(o.startswith("output=") for o in overrides)
    parsed = OverridesParser.create().parse_overrides(overrides)
    values = {o.key_or_group: o.value() for o in parsed}
    assert values["checkpoint"] == str(odd) and values["input"] == "plain/path.nc"
    assert values["variables"] == ["temp", "s a"] and values["tile"] == 16
    assert values["sel"] == {"depth": [0, 10]} and values["overwrite"] is True
