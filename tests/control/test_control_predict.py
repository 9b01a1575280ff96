"""control.start_predict refuses bad requests before anything is created or spawned: the
checkpoint, the input (a NetCDF file or Zarr store that opens with the checkpoint's
variables, never a FIFO), the mask, the output's format and the tiling."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from oceansr import control
from oceansr.runs import RunPaths, create_run, new_run_id
from waiting import returns_within


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


# --------------------------------------------------------------------------- inputs and outputs


@pytest.fixture(scope="module")
def ckpt(smoke_run) -> str:
    """A real checkpoint (the shared smoke training), so only the input is at fault."""
    return smoke_run.best_checkpoint


def _lr_input(path: Path) -> Path:
    """An LR temperature field the smoke checkpoint (``temp``, x4) accepts."""
    lat, lon = np.linspace(-60, 60, 16), np.linspace(0, 350, 36)
    temp = np.cos(np.deg2rad(lat))[:, None] * np.ones((16, 36), "float32")
    coords = {"lat": ("lat", lat, {"units": "degrees_north"}), "lon": ("lon", lon)}
    coords["lon"] = ("lon", lon, {"units": "degrees_east"})
    xr.Dataset({"temp": (("lat", "lon"), temp)}, coords=coords).to_netcdf(path)
    return path


def _refused_predict(root: Path, input: Path, ckpt: str, **kwargs) -> dict:
    reply = returns_within(
        lambda: control.start_predict(input, checkpoint=ckpt, runs_root=root, **kwargs),
        "start_predict's checks",
    )
    assert reply["status"] == "error" and reply["process_id"] is None, reply
    assert not root.exists() or _nothing_created(root)
    return reply["error_summary"]


@pytest.mark.parametrize(
    ("case", "failure", "field"),
    [
        ("directory", "config_error", "input"),
        ("corrupt", "data_invalid", "input"),
        ("text", "data_invalid", "input"),
        ("fifo", "data_not_found", "input"),
        ("variables", "data_not_found", "variables"),
    ],
)
def test_a_bad_input_is_refused_before_a_predict_run_exists(
    tmp_path: Path, ckpt: str, case: str, failure: str, field: str
) -> None:
    path = tmp_path / "in.nc"
    kwargs: dict = {}
    if case == "directory":
        path = tmp_path / "folder"
        path.mkdir()
        _lr_input(path / "a.nc")
    elif case == "corrupt":
        path.write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(200))
    elif case == "text":
        path = tmp_path / "notes.txt"
        path.write_text("temperature,12.5\n")
    elif case == "fifo":
        os.mkfifo(path)
    else:
        _lr_input(path)
        kwargs["variables"] = ["salt"]
    summary = _refused_predict(tmp_path / "runs", path, ckpt, **kwargs)
    assert summary["failureType"] == failure, summary
    assert summary["field"] == field, summary


def test_a_fifo_hr_mask_is_refused_without_opening_it(tmp_path: Path, ckpt: str) -> None:
    os.mkfifo(tmp_path / "mask.nc")
    lr = _lr_input(tmp_path / "lr.nc")
    summary = _refused_predict(tmp_path / "runs", lr, ckpt, hr_mask=tmp_path / "mask.nc")
    assert summary["failureType"] == "data_not_found" and summary["field"] == "hr_mask"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"output": "__DIR__/out.txt"}, "output"),
        ({"tile": 0}, "tile"),
        ({"tile": -8}, "tile"),
        ({"tile": 2.5}, "tile"),
        ({"overlap": -1}, "overlap"),
    ],
)
def test_a_bad_output_or_tiling_is_refused_before_a_predict_run_exists(
    tmp_path: Path, ckpt: str, kwargs: dict, field: str
) -> None:
    lr = _lr_input(tmp_path / "lr.nc")
    kwargs = {
        k: v.replace("__DIR__", str(tmp_path)) if isinstance(v, str) else v
        for k, v in kwargs.items()
    }
    summary = _refused_predict(tmp_path / "runs", lr, ckpt, **kwargs)
    assert summary["failureType"] == "config_error" and summary["field"] == field, summary
    assert summary["suggestions"] or summary["advice"]


def test_tile_none_means_whole_fields_and_reaches_predict_as_null() -> None:
    """``tile="none"``/``"null"`` (the CLI's ``--tile null``) is predict's ``tile=null``;
    left None, predict.yaml's tile stays in force."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from oceansr.control.launch import _tiling_overrides

    assert _tiling_overrides("none", None) == ["tile=null"]
    assert _tiling_overrides("NULL", 4) == ["tile=null", "overlap=4"]
    assert _tiling_overrides(None, None) == []
    assert _tiling_overrides(32, 0) == ["tile=32", "overlap=0"]
    parsed = OverridesParser.create().parse_overrides(["tile=null"])
    assert parsed[0].value() is None
