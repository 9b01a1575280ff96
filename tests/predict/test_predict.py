"""Full-field prediction: tiling, output files, land masks, recorded runs, describe_dataset."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from conftest import PYTHON, REPO, subprocess_env
from oceansr.core.errors import ConfigError, DataNotFoundError, ShapeMismatchError
from oceansr.data.describe import describe_dataset
from oceansr.data.lr_input import open_lr_fields
from oceansr.data.sample import sample_path
from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean
from oceansr.predict import (
    load_module,
    predict,
    run_predict_recorded,
    tile_windows,
    tiled_predict,
)
from oceansr.runs import RunPaths, create_run, new_run_id, read_events, read_run, read_status

SCALE = 4  # the smoke checkpoint's


@pytest.fixture(scope="module")
def ckpt(smoke_run) -> str:
    """The shared smoke training (SRCNN x4 on the bundled sample, 2 steps)."""
    return smoke_run.best_checkpoint


@pytest.fixture(scope="module")
def module(ckpt):
    return load_module(ckpt, device="cpu")


@pytest.fixture(scope="module")
def lr_ds() -> xr.Dataset:
    """LR synthetic temperature: 2 times x 32 x 64 (block means of a 128 x 256 HR field)."""
    hr = make_synthetic_dataset(n_time=2, height=128, width=256, variables=("temp",), seed=3)
    lr = hr.coarsen(lat=SCALE, lon=SCALE).mean()
    for name in ("temp", "lat", "lon"):
        lr[name].attrs = hr[name].attrs
    lr["temp"].values = block_mean(hr["temp"].values, SCALE)  # NaN only where all land
    lr.attrs = {"title": "LR test field", "history": "made by test_predict"}
    return lr


@pytest.fixture(scope="module")
def lr_file(lr_ds, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("lr") / "lr.nc"
    lr_ds.to_netcdf(path)
    return path


def _edge_zones(n: int, tile: int, overlap: int) -> np.ndarray:
    """HR cells covered by more than one window along an axis (the blend zones)."""
    cover = np.zeros(n * SCALE, dtype=int)
    for a, b in tile_windows(n, tile, overlap):
        cover[a * SCALE : b * SCALE] += 1
    return cover > 1


# --------------------------------------------------------------------------- tiling


def test_tiled_matches_whole_field(module, lr_ds):
    lr = lr_ds["temp"].values[:, None]
    assert len(tile_windows(32, 16, 4)) == 2 and len(tile_windows(64, 16, 4)) == 4
    whole = tiled_predict(module, lr, tile=None)
    assert whole.shape == (2, 1, 128, 256) and whole.dtype == np.float32
    assert np.isfinite(whole).all()  # no mask applied; land filled before the model
    np.testing.assert_array_equal(tiled_predict(module, lr, tile=64, overlap=16), whole)
    std = float(np.nanstd(lr))
    assert std > 5.0  # degC: the tolerances below are tiny relative to the field
    # Overlap 8 LR cells: the raised-cosine blend gives no weight to the outer
    # overlap/2 = 4 LR cells of each window, beyond SRCNN's reach (~3 LR cells incl. the
    # bicubic pre-upsampling), so tiles reproduce whole-field inference up to float32
    # rounding (measured 1.9e-6 degC).
    fine = tiled_predict(module, lr, tile=16, overlap=8, batch_size=5)
    assert np.abs(fine - whole).max() < 1e-4
    # Overlap 4: the zero-weight margin (2 LR cells) is inside the model's reach, so a
    # little padding error leaks in through the ramp (measured 5.1e-4 degC, i.e. 5e-5 of
    # the field's std); 10x margin for other checkpoints/BLAS.
    coarse = tiled_predict(module, lr, tile=16, overlap=4, batch_size=3)
    assert np.abs(coarse - whole).max() < 5e-3


def test_no_seams_at_tile_borders(module, lr_ds):
    lr = lr_ds["temp"].values[:, None]
    whole = tiled_predict(module, lr, tile=None)
    border = _edge_zones(32, 16, 8)[:, None] | _edge_zones(64, 16, 8)[None, :]
    err = np.abs(tiled_predict(module, lr, tile=16, overlap=8) - whole)[:, 0]
    assert border.any() and (~border).any()
    # Blend zones are no worse than tile interiors (float32 rounding of the blend).
    assert err[:, border].max() <= err[:, ~border].max() + 1e-5
    # Without overlap, hard tile edges show (the check above can see seams).
    hard = np.abs(tiled_predict(module, lr, tile=16, overlap=0) - whole)[:, 0]
    cut = np.zeros((128, 256), dtype=bool)
    cut[60:68, :] = True  # rows around the LR tile edge at 16 (HR 64)
    assert hard[:, cut].max() > 0.1


def test_tiled_progress_and_empty_fields(module, lr_ds):
    lr = lr_ds["temp"].values[:, None].copy()
    lr[1] = np.nan  # an all-land field (e.g. a level below the sea floor)
    calls = []
    out = tiled_predict(module, lr, tile=16, overlap=4, progress=lambda *a: calls.append(a))
    assert calls[-1] == (2, 2, 16, 16) and calls[0][2] == 8  # 8 windows per field
    assert [c[2] for c in calls] == sorted(c[2] for c in calls)
    assert np.isfinite(out[0]).all() and np.isnan(out[1]).all()
    with pytest.raises(ShapeMismatchError):
        tiled_predict(module, np.zeros((1, 2, 8, 8), np.float32))
    with pytest.raises(ConfigError, match="overlap"):
        tiled_predict(module, lr, overlap=-1)


def test_python_defaults_are_the_predict_yaml_values() -> None:
    """predict() and tiled_predict() take their defaults from conf/predict.yaml, the file
    `python -m oceansr.predict` composes: one place for the values."""
    import inspect

    import yaml

    from oceansr.config.schema import CONF_DIR
    from oceansr.predict import predict as predict_fn

    shipped = yaml.safe_load((CONF_DIR / "predict.yaml").read_text())
    for fn in (predict_fn, tiled_predict):
        for name, param in inspect.signature(fn).parameters.items():
            if name in shipped and param.default is not param.empty:
                assert param.default == shipped[name], (fn.__name__, name)


# --------------------------------------------------------------------------- files


def _check_output(out: xr.Dataset, lr: xr.Dataset, ckpt: str) -> None:
    assert dict(out.sizes) == {"time": 2, "lat": 128, "lon": 256}
    assert out["temp"].dims == ("time", "lat", "lon")
    np.testing.assert_array_equal(out["time"].values, lr["time"].values)
    # HR cell centres are consistent with block means: their means are the LR centres.
    np.testing.assert_allclose(out["lat"].values.reshape(-1, SCALE).mean(1), lr["lat"].values)
    np.testing.assert_allclose(out["lon"].values.reshape(-1, SCALE).mean(1), lr["lon"].values)
    assert out["lat"].attrs["units"] == "degrees_north"
    assert out["lon"].attrs["standard_name"] == "longitude"
    assert out["temp"].attrs["units"] == "degC"
    assert out["temp"].attrs["standard_name"] == "sea_surface_temperature"
    attrs = out.attrs
    assert attrs["oceansr_checkpoint_sha256"] == hashlib.sha256(Path(ckpt).read_bytes()).hexdigest()
    assert attrs["oceansr_model"] == "srcnn" and int(attrs["oceansr_scale"]) == SCALE
    assert attrs["oceansr_version"] and attrs["oceansr_source_file"].endswith("lr.nc")
    assert "oceansr" in attrs["history"] and attrs["history"].endswith("made by test_predict")
    assert attrs["Conventions"].startswith("CF")
    # LR land -> HR land; LR ocean -> finite HR values.
    lr_land = ~np.isfinite(lr["temp"].values)
    hr_land = np.repeat(np.repeat(lr_land, SCALE, 1), SCALE, 2)
    values = out["temp"].values
    assert lr_land.any() and np.isnan(values[hr_land]).all()
    assert np.isfinite(values[~hr_land]).all()


def test_predict_writes_netcdf_and_zarr(ckpt, lr_file, lr_ds, tmp_path):
    nc = predict(ckpt, lr_file, tmp_path / "out.nc", tile=16, overlap=4)
    assert nc["format"] == "netcdf" and nc["hr_shape"] == [2, 128, 256]
    # The synthetic grid spans the globe: 8 LR columns of the other side are wrapped on
    # each side (64 + 16), so 5 windows along longitude instead of 4 (issue 19).
    assert nc["periodic_lon"] is True
    assert nc["sample_dims"] == {"time": 2} and nc["tiles"]["per_field"] == 10
    stats = nc["stats"]["temp"]
    assert stats["min"] < stats["mean"] < stats["max"] and 0.5 < stats["ocean_fraction"] < 1
    with xr.open_dataset(tmp_path / "out.nc") as out:
        _check_output(out, lr_ds, ckpt)
        nc_values = out["temp"].values
    zr = predict(ckpt, lr_file, tmp_path / "out.zarr", tile=16, overlap=4, variables=["temp"])
    assert zr["format"] == "zarr"
    with xr.open_zarr(tmp_path / "out.zarr", consolidated=False) as out:
        _check_output(out, lr_ds, ckpt)
        np.testing.assert_array_equal(out["temp"].values, nc_values)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc", "out.zarr"]  # no temp files


def test_hr_mask_file_is_honoured(ckpt, lr_file, lr_ds, tmp_path):
    ocean = np.ones((128, 256), dtype=np.int8)
    ocean[:40] = 0  # land on the HR grid, unrelated to the LR mask
    ocean[100:, 200:] = 0
    xr.Dataset({"mask": (("lat", "lon"), ocean)}).to_netcdf(tmp_path / "mask.nc")
    summary = predict(ckpt, lr_file, tmp_path / "a.nc", hr_mask=tmp_path / "mask.nc")
    assert summary["mask"].startswith("hr_mask:")
    with xr.open_dataset(tmp_path / "a.nc") as out:
        values = out["temp"].values
        assert "hr_mask" in out.attrs["oceansr_land_mask"]
    assert np.isnan(values[:, ocean == 0]).all()
    assert np.isfinite(values[:, ocean == 1]).all()  # also where the LR parent was land
    # A float field with NaN over land and a time dim: per-time masks.
    field = np.where(np.broadcast_to(ocean == 1, (2, 128, 256)), 1.0, np.nan)
    field[1, 60:70] = np.nan
    nan_mask = xr.Dataset({"sst": (("time", "lat", "lon"), field)})
    nan_mask.to_netcdf(tmp_path / "nan_mask.nc")
    predict(ckpt, lr_file, tmp_path / "b.nc", hr_mask=tmp_path / "nan_mask.nc")
    with xr.open_dataset(tmp_path / "b.nc") as out:
        np.testing.assert_array_equal(np.isnan(out["temp"].values), np.isnan(field))


def test_the_input_operator_is_compared_with_the_checkpoints(ckpt, lr_file, lr_ds, tmp_path):
    """With an hr_mask, the input's land is compared with what the checkpoint's operator
    (the smoke run's nanmean) makes of the mask: a strict block mean input fits
    strict_mean better and is warned about by name; without a mask it is not checked."""
    from oceansr.data.degrade import degrade

    hr = make_synthetic_dataset(n_time=2, height=128, width=256, variables=("temp",), seed=3)
    ocean = np.isfinite(hr["temp"].values[0])
    xr.Dataset({"mask": (("lat", "lon"), ocean.astype(np.int8))}).to_netcdf(tmp_path / "m.nc")
    strict = lr_ds.copy(deep=True)
    strict["temp"].values = degrade(hr["temp"].values, SCALE, "strict_mean")
    assert np.isnan(strict["temp"].values).sum() > np.isnan(lr_ds["temp"].values).sum()
    strict.to_netcdf(tmp_path / "strict.nc")

    same = predict(ckpt, lr_file, tmp_path / "a.nc", hr_mask=tmp_path / "m.nc")
    facts = same["degradation"]
    assert facts["operator"] == "nanmean" and facts["checked"] is True
    assert "nanmean" in facts["matches"] and facts["mismatches"]["nanmean"] == 0
    assert not any("operator" in w for w in same["warnings"]), same["warnings"]

    other = predict(ckpt, tmp_path / "strict.nc", tmp_path / "b.nc", hr_mask=tmp_path / "m.nc")
    facts = other["degradation"]
    assert facts["matches"] == ["strict_mean"] and facts["mismatches"]["strict_mean"] == 0
    (warning,) = [w for w in other["warnings"] if "operator" in w]
    assert warning.startswith(
        "the input's land fits the strict_mean operator better than the checkpoint's nanmean"
    ), warning
    assert "data.degradation=strict_mean" in warning

    unmasked = predict(ckpt, tmp_path / "strict.nc", tmp_path / "c.nc")
    assert unmasked["degradation"]["checked"] is False
    assert "hr_mask" in unmasked["degradation"]["why"]


def test_predict_errors(ckpt, lr_file, tmp_path):
    out = tmp_path / "out.nc"
    with pytest.raises(DataNotFoundError) as exc:
        predict(tmp_path / "missing.ckpt", lr_file, out)
    assert exc.value.field == "checkpoint"
    with pytest.raises(DataNotFoundError) as exc:
        predict(ckpt, tmp_path / "missing.nc", out)
    assert exc.value.field == "input"
    with pytest.raises(ConfigError) as exc:
        predict(ckpt, lr_file, out, variables=["salt"])
    assert exc.value.field == "variables" and "temp" in exc.value.fix
    with pytest.raises(DataNotFoundError) as exc:
        open_lr_fields(lr_file, ["salt"])
    assert exc.value.field == "variables" and "temp" in str(exc.value)
    xr.Dataset({"mask": (("lat", "lon"), np.ones((64, 128), np.int8))}).to_netcdf(
        tmp_path / "small_mask.nc"
    )
    with pytest.raises(ShapeMismatchError) as exc:
        predict(ckpt, lr_file, out, hr_mask=tmp_path / "small_mask.nc")
    assert exc.value.field == "hr_mask" and "128x256" in str(exc.value)
    assert not out.exists()
    predict(ckpt, lr_file, out, tile=None)
    with pytest.raises(ConfigError) as exc:
        predict(ckpt, lr_file, out)
    assert exc.value.field == "output" and "overwrite" in exc.value.fix
    before = out.stat().st_mtime_ns
    predict(ckpt, lr_file, out, overwrite=True, tile=None)
    assert out.stat().st_mtime_ns != before
    with pytest.raises(ConfigError, match="extension"):
        predict(ckpt, lr_file, tmp_path / "out.txt")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.nc", "small_mask.nc"]


def test_curvilinear_input(ckpt, tmp_path):
    ny, nx = 12, 16
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    lat2d = -20.0 + 2.0 * jj + 0.3 * ii
    lon2d = (170.0 + 2.0 * ii - 0.2 * jj + 180.0) % 360.0 - 180.0  # crosses the dateline
    vals = (15.0 + np.random.default_rng(1).normal(size=(2, ny, nx))).astype(np.float32)
    vals[:, :3, :4] = np.nan
    nemo = xr.Dataset(
        {
            "temp": (("time_counter", "y", "x"), vals, {"units": "degC"}),
            "nav_lat": (("y", "x"), lat2d),
            "nav_lon": (("y", "x"), lon2d),
        }
    )
    nemo.to_netcdf(tmp_path / "nemo.nc")
    summary = predict(ckpt, tmp_path / "nemo.nc", tmp_path / "nemo_sr.nc", tile=8, overlap=2)
    assert summary["grid"] == "curvilinear" and summary["hr_shape"] == [2, 48, 64]
    with xr.open_dataset(tmp_path / "nemo_sr.nc") as out:
        hr_lat, hr_lon = out["nav_lat"].values, out["nav_lon"].values
        values = out["temp"].values
    assert hr_lat.shape == hr_lon.shape == (48, 64)
    # Bilinear coordinates: the mean of each 4x4 block is its LR cell's coordinate;
    # longitudes stay in [-180, 180) and average correctly across the dateline
    # (interpolated on the unit circle: chord vs arc costs < 1e-4 degree at 2 degrees).
    np.testing.assert_allclose(hr_lat.reshape(ny, 4, nx, 4).mean((1, 3)), lat2d, atol=1e-9)
    z = np.exp(1j * np.deg2rad(hr_lon)).reshape(ny, 4, nx, 4).mean((1, 3))
    dlon = (np.rad2deg(np.angle(z)) - lon2d + 180.0) % 360.0 - 180.0
    assert np.abs(dlon).max() < 1e-3 and hr_lon.min() >= -180 and hr_lon.max() < 180
    assert np.abs(np.diff(np.unwrap(hr_lon, period=360.0, axis=1), axis=1) - 0.5).max() < 1e-3
    assert np.isnan(values[:, :12, :16]).all() and np.isfinite(values[:, 12:]).all()


# --------------------------------------------------------------------------- recorded runs


def test_recorded_run_subprocess(ckpt, lr_file, tmp_path):
    """The Hydra entry point from a real process, with Hydra-quoted paths that hold a
    space, quotes and non-ASCII characters (as the control plane passes them)."""
    from oceansr.runs.overrides import predict_overrides

    root = tmp_path / "runs été"
    odd = tmp_path / "in put ü" / "l'r ø.nc"
    odd.parent.mkdir()
    odd.write_bytes(lr_file.read_bytes())
    options = {"checkpoint": ckpt, "input": odd, "tile": 16, "overlap": 4, "runs_root": root}
    cmd = [PYTHON, "-m", "oceansr.predict", *predict_overrides(options)]
    assert any(arg.startswith("input='") for arg in cmd)  # quoted, one argv item each
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, cwd=REPO, env=subprocess_env()
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("oceansr predict: completed predict-")
    (run_dir,) = root.iterdir()
    paths = RunPaths.from_dir(run_dir)
    assert read_run(paths)["kind"] == "predict"
    status = read_status(paths)
    assert status["status"] == "completed" and status["exit_code"] == 0
    assert status["progress"]["percent"] == 100.0
    assert status["progress"]["step"] == status["progress"]["total_steps"] == 2
    assert set(status["metrics"]["predict"]["temp"]) >= {"min", "max", "mean"}
    events = read_events(paths)
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))
    names = [e["event"] for e in events if e["event"].startswith("predict_")]
    assert names[0] == "predict_start" and names[-1] == "predict_end"
    assert "predict_progress" in names[1:-1]
    start = next(e for e in events if e["event"] == "predict_start")
    assert start["lr_shape"] == [2, 32, 64] and start["tiles"]["per_field"] == 10
    end = events[-1]
    assert end["event"] == "predict_end" and end["stats"]["temp"]["max"] > 0
    assert Path(end["output_path"]) == run_dir / "predictions" / "l'r ø_sr.nc"
    assert start["inputs"]["input_path"] == str(odd)
    assert Path(end["output_path"]).is_file()


def test_recorded_run_attaches_to_pending_and_records_failures(ckpt, lr_file, tmp_path):
    root = tmp_path / "runs"
    paths = RunPaths.for_id(new_run_id("predict"), root)
    create_run(paths, kind="predict", overrides=[], command=None, backend="local", on_exit="keep")
    summary = run_predict_recorded(paths.run_id, root, checkpoint=ckpt, input=lr_file, tile=None)
    assert summary["run_id"] == paths.run_id and read_status(paths)["status"] == "completed"
    with pytest.raises(DataNotFoundError):
        run_predict_recorded(None, root, checkpoint=ckpt, input=tmp_path / "nope.nc")
    (failed,) = [p for p in root.iterdir() if p.name != paths.run_id]
    doc = read_status(RunPaths.from_dir(failed))
    assert doc["status"] == "failed" and doc["exit_code"] == 1
    assert doc["error_summary"]["failureType"] == "data_not_found"
    assert doc["error_summary"]["field"] == "input"


# --------------------------------------------------------------------------- describe


def test_describe_bundled_sample():
    info = describe_dataset(sample_path(), decode_times=False)
    json.dumps(info, allow_nan=False)  # strict JSON for agents
    assert info["format"] == "netcdf" and info["dims"] == {
        "month": 12,
        "depth": 19,
        "lat": 90,
        "lon": 180,
    }
    (temp,) = info["variables"]
    assert temp["name"] == "temp" and temp["units"] == "degC" and temp["dtype"] == "float32"
    assert temp["stored_dtype"] == "int16" and temp["sample_dims"] == ["month", "depth"]
    assert 0.3 < temp["land_fraction"] < 0.5 and temp["all_nan_samples"] == 0
    scales = {o["scale"]: o for o in temp["suitable_scales"]}
    assert scales[2]["divides"] and not scales[4]["divides"]
    four = scales[4]
    assert (four["crop_rows"], four["crop_cols"], four["lr_shape"]) == (2, 0, [22, 45])
    grid = info["grids"][temp["grid"]]
    assert grid["kind"] == "rectilinear" and grid["lat_name"] == "lat"
    assert grid["lat"]["spacing"] == 2.0 and grid["lon"]["regular"]
    assert info["warnings"] == [] and "data.scale=4" in info["suggested_overrides"]
    # The sample's month axis is plain numbers 1..12 (units "1"), so it also decodes with
    # decode_times=True; the year-0000 case is covered by the next test.
    assert describe_dataset(sample_path())["warnings"] == []


def test_describe_year_zero_time_axis(tmp_path):
    ds = xr.Dataset(
        {"temp": (("time", "lat", "lon"), np.ones((3, 4, 8), np.float32), {"units": "degC"})},
        coords={
            "time": ("time", [0.0, 744.0, 1416.0], {"units": "hours since 0000-01-01"}),
            "lat": ("lat", np.linspace(-60.0, 60.0, 4), {"units": "degrees_north"}),
            "lon": ("lon", np.arange(8) * 45.0, {"units": "degrees_east"}),
        },
    )
    ds.to_netcdf(tmp_path / "clim.nc")
    info = describe_dataset(tmp_path / "clim.nc")
    assert info["decode_times"] is False and info["decode_times_requested"] is True
    assert any("decode_times=False" in w for w in info["warnings"])
    raw = describe_dataset(tmp_path / "clim.nc", decode_times=False)
    assert raw["warnings"] == [] and any("year 0000" in n for n in raw["notes"])
    with pytest.raises(DataNotFoundError) as exc:
        describe_dataset(tmp_path / "missing.nc")
    assert exc.value.field == "path"


def test_describe_curvilinear_file(tmp_path):
    ny, nx = 6, 10
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    vals = np.random.default_rng(0).normal(size=(2, ny, nx)).astype(np.float32)
    vals[1] = np.nan  # an all-NaN sample
    ds = xr.Dataset(
        {
            "thetao": (("time_counter", "y", "x"), vals, {"units": "degC"}),
            "flag": (("time_counter", "y", "x"), np.zeros((2, ny, nx), np.int32)),
            "nav_lat": (("y", "x"), -10.0 + 1.0 * jj + 0.1 * ii),
            "nav_lon": (("y", "x"), 100.0 + 1.0 * ii),
        }
    )
    ds.to_zarr(tmp_path / "nemo.zarr", consolidated=False)
    info = describe_dataset(tmp_path / "nemo.zarr")
    assert info["format"] == "zarr"
    variables = {v["name"]: v for v in info["variables"]}
    assert sorted(variables) == ["flag", "thetao"]  # nav_lat/nav_lon are the grid
    grid = info["grids"]["y/x"]
    assert grid["kind"] == "curvilinear" and (grid["lat_name"], grid["lon_name"]) == (
        "nav_lat",
        "nav_lon",
    )
    assert grid["lon"]["spacing"] == 1.0 and grid["extent"]["lat"][0] == -10.0
    thetao = variables["thetao"]
    assert thetao["all_nan_samples"] == 1 and thetao["sample_dims"] == ["time_counter"]
    scales = {o["scale"]: o for o in thetao["suitable_scales"]}
    assert scales[2]["divides"] and scales[4]["crop_rows"] == 2 and scales[4]["crop_cols"] == 2
    text = " ".join(info["warnings"])
    assert "entirely NaN" in text and "'flag' has dtype int32" in text


def test_hr_latitudes_reproduce_a_regular_source_grid_near_the_poles() -> None:
    """WOA's 2° grid starts at -89.5: its block-mean LR grid must refine back to it exactly."""
    from oceansr.predict import refine_1d

    hr = np.arange(-89.5, 90.0, 2.0)[:88]
    lr = hr.reshape(22, 4).mean(axis=1)
    np.testing.assert_allclose(refine_1d(lr, 4, limits=(-90.0, 90.0)), hr, atol=1e-12)
    assert refine_1d(np.array([-88.0, -80.0]), 8, limits=(-90.0, 90.0)).min() >= -90.0


# --------------------------------------------------------------------------- checkpoints


class _Payload:
    """Unpickling this runs a shell command: a checkpoint must never execute it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os

        return (os.system, (f"touch '{self.marker}'",))


def _bad_checkpoints(tmp_path: Path) -> dict[str, Path]:
    import torch

    text = tmp_path / "notes.ckpt"
    text.write_text("this is a text file, not a checkpoint\n")
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "hyper_parameters": _Payload(tmp_path / "pwned")}, evil)
    return {"text": text, "pickle": evil}


@pytest.mark.parametrize("kind", ["text", "pickle"])
def test_loader_refuses_text_and_pickle_payload(kind, lr_file, tmp_path):
    from oceansr.core.errors import DataInvalidError

    bad = _bad_checkpoints(tmp_path)[kind]
    with pytest.raises(DataInvalidError) as exc:
        load_module(bad)
    assert exc.value.field == "checkpoint" and "checkpoint=" in exc.value.fix
    with pytest.raises(DataInvalidError) as exc:
        predict(bad, lr_file, tmp_path / "out.nc")
    assert exc.value.field == "checkpoint"
    assert not (tmp_path / "pwned").exists() and not (tmp_path / "out.nc").exists()


def test_mode_test_refuses_text_and_pickle_payload(tmp_path):
    from oceansr.core.errors import DataInvalidError
    from oceansr.train.entry import train

    for kind, bad in _bad_checkpoints(tmp_path).items():
        overrides = ["experiment=smoke", "mode=test", f"ckpt_path={bad}"]
        with pytest.raises(DataInvalidError) as exc:
            train([*overrides, f"runs_root={tmp_path / 'runs'}"])
        assert exc.value.field == "ckpt_path", kind
    assert not (tmp_path / "pwned").exists()


def test_checkpoint_of_a_training_run_and_scale_check(smoke_run, module):
    from oceansr.engine.checkpoint import match_scale, match_variables
    from oceansr.runs.checkpoint_file import run_checkpoint

    best = run_checkpoint(smoke_run.run_id, smoke_run.run_dir.parent)
    assert best == smoke_run.run_dir / "checkpoints" / "best.ckpt"
    assert match_variables(module, ["temp"]) == ["temp"]
    with pytest.raises(ConfigError) as exc:
        match_scale(module, 2, field="data.scale")
    assert exc.value.field == "data.scale" and exc.value.fix == f"data.scale={SCALE}"


def test_entry_point_options_have_one_name_each(smoke_run, tmp_path):
    from omegaconf import OmegaConf

    from oceansr.predict import predict_options

    cfg = OmegaConf.load(REPO / "src" / "oceansr" / "conf" / "predict.yaml")
    cfg.runs_root = str(smoke_run.run_dir.parent)
    cfg.run, cfg.input, cfg.variables = smoke_run.run_id, 2024, "temp"
    options = predict_options(cfg)
    assert options["checkpoint"].endswith("best.ckpt") and options["input"] == "2024"
    assert options["variables"] == ["temp"] and options["tile"] == 64
    cfg.checkpoint = "x.ckpt"
    with pytest.raises(ConfigError) as exc:
        predict_options(cfg)
    assert exc.value.field == "run"


def test_an_hr_file_given_as_lr_input_is_warned_about(ckpt, tmp_path):
    """The checkpoint records its HR grid step (2 deg for the WOA sample): an input on
    that grid gets a warning in the summary; its x4 block mean does not."""
    with xr.open_dataset(sample_path(), decode_times=False) as sample:
        hr = sample[["temp"]].isel(month=[0], depth=[0], lat=slice(0, 88)).load()
    lr = hr.coarsen(lat=SCALE, lon=SCALE).mean()
    for name in ("temp", "lat", "lon"):
        lr[name].attrs = hr[name].attrs
    fine = predict(ckpt, hr, tmp_path / "fine.nc")
    coarse = predict(ckpt, lr, tmp_path / "coarse.nc")
    assert any("looks like an HR file" in w for w in fine["warnings"]), fine["warnings"]
    assert not any("looks like an HR file" in w for w in coarse["warnings"])


@pytest.mark.parametrize(
    ("coarsen", "said"),
    [
        # The issue-20 case: the WOA-sample model (8 -> 2 deg) given a 4 deg input.
        (
            2,
            "the input's grid step (4 deg) is not the training LR step (8 deg): the output's "
            "step will be 1 deg, x2 finer than the training HR grid (2 deg)",
        ),
        (
            1,
            "the input's grid step (2 deg) is the training HR step, not the training LR step "
            "(8 deg): this looks like an HR file given as LR input; the output's step will "
            "be 0.5 deg, x4 finer than the training HR grid (2 deg)",
        ),
    ],
)
def test_start_predict_warns_about_the_input_step_before_spawning(ckpt, tmp_path, coarsen, said):
    """The reply of start_predict carries the warning, from the checks made before the
    predict process is spawned (control's _input_warnings), with the steps right."""
    from oceansr import control

    with xr.open_dataset(sample_path(), decode_times=False) as sample:
        hr = sample[["temp"]].isel(month=[0], depth=[0], lat=slice(0, 88)).load()
    given = hr.coarsen(lat=coarsen, lon=coarsen).mean() if coarsen > 1 else hr
    for name in ("temp", "lat", "lon"):
        given[name].attrs = hr[name].attrs
    given.to_netcdf(tmp_path / "input.nc")
    runs = tmp_path / "runs"
    reply = control.start_predict(
        tmp_path / "input.nc", checkpoint=ckpt, runs_root=runs, wait_for_start=False
    )
    assert reply["status"] == "starting", reply
    (warning,) = [w for w in reply["warnings"] if "grid step" in w]
    assert warning.startswith(said), warning
    done = control.wait(reply["process_id"], timeout=120, until="terminal", runs_root=runs)
    assert done["status"] == "completed", done.get("error_summary")


def test_output_carries_the_training_cf_names_and_warns_without_any(ckpt, lr_ds, tmp_path):
    """An input without CF names gets the training data's (long_name, standard_name,
    units from the checkpoint); a variable neither names is warned about."""
    bare = lr_ds.copy()
    bare["temp"].attrs = {}
    bare.to_netcdf(tmp_path / "bare.nc")
    reply = predict(ckpt, tmp_path / "bare.nc", tmp_path / "out.nc", tile=16, overlap=4)
    with xr.open_dataset(tmp_path / "out.nc") as out:
        attrs = dict(out["temp"].attrs)
    assert attrs["long_name"].startswith("Sea water temperature")  # the bundled sample's
    assert attrs["standard_name"] == "sea_water_temperature" and attrs["units"] == "degC"
    assert not any("no long_name" in w for w in reply["warnings"]), reply["warnings"]

    from oceansr.predict.output import build_output_dataset

    module = load_module(ckpt, device="cpu")
    from oceansr.data.lr_input import open_lr_fields

    job_fields = open_lr_fields(tmp_path / "bare.nc", ["temp"])
    hr = np.zeros((2, 1, 128, 256), np.float32)
    kwargs = {"ckpt_units": [], "global_attrs": {}, "method": "m"}
    ds, notes = build_output_dataset(hr, job_fields, SCALE, **kwargs)
    assert "long_name" not in ds["temp"].attrs and "units" not in ds["temp"].attrs
    (note,) = [n for n in notes if "'temp'" in n]
    assert "no units and no long_name or standard_name" in note
    trained = module.hparams["variable_attrs"]
    ds, notes = build_output_dataset(hr, job_fields, SCALE, ckpt_attrs=trained, **kwargs)
    assert ds["temp"].attrs["standard_name"] == "sea_water_temperature" and not notes
