"""Covariates (data.covariates): values on tiny grids, errors, and a real training whose
checkpoint records them and whose predict rebuilds them (docs/architecture.md, covariates)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from oceansr.config.schema import rules
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError
from oceansr.data import covariates as cov
from oceansr.data.geodesy import EARTH_RADIUS_KM
from oceansr.data.sample import sample_path
from oceansr.data.transforms import block_mean

ETOPO = Path("/usr/share/ferret-vis/data/etopo60.cdf")
KM_PER_DEG = np.pi * EARTH_RADIUS_KM / 180.0
SCALE = 4


def _grid(lat, lon, scale: int = 2) -> cov.CovariateGrid:
    lat = None if lat is None else np.asarray(lat, dtype=float)
    lon = None if lon is None else np.asarray(lon, dtype=float)
    return cov.CovariateGrid.from_hr(lat, lon, scale)


def _global_file(path: Path, step: float = 10.0) -> Path:
    """A global field linear in latitude and smooth in longitude: ``lat + 10 sin(lon)``."""
    lat = np.arange(-90.0, 90.0 + step, step)
    lon = np.arange(0.0, 360.0, step)
    values = lat[:, None] + 10.0 * np.sin(np.deg2rad(lon))[None, :]
    ds = xr.Dataset(
        {"depth_m": (("y", "x"), values.astype(np.float32))},
        coords={
            "y": ("y", lat, {"units": "degrees_north", "standard_name": "latitude"}),
            "x": ("x", lon, {"units": "degrees_east", "standard_name": "longitude"}),
        },
    )
    ds.to_netcdf(path)
    return path


def test_land_mask_lat_and_distance_values() -> None:
    """Equator row of 1-degree LR cells, land in the first column of the second variable."""
    hr_lat = np.array([-0.5, 0.5, 29.5, 30.5])  # LR centres 0 and 30 degrees
    hr_lon = np.arange(8) - 0.5  # LR centres 0, 2, 4, 6 (x2)
    grid = _grid(hr_lat, hr_lon)
    np.testing.assert_allclose(grid.lat, [0.0, 30.0])
    np.testing.assert_allclose(grid.lon, [0.0, 2.0, 4.0, 6.0])
    specs = cov.resolve(cov.parse_covariates(["land_mask", "coast_distance", "lat"]), grid, "f")
    assert specs[1].units == "km"
    lr = np.ones((2, 2, 4), dtype=np.float32)
    lr[1, :, 0] = np.nan  # land where any variable is land
    out = cov.CovariateBuilder(specs, grid).field_covariates(lr)
    assert out.shape == (4, 2, 4)
    np.testing.assert_array_equal(out[0], [[0, 1, 1, 1], [0, 1, 1, 1]])
    equator = out[1, 0]
    np.testing.assert_allclose(equator, [0, 2 * KM_PER_DEG, 4 * KM_PER_DEG, 6 * KM_PER_DEG], 1e-4)
    at30 = 2 * KM_PER_DEG * np.cos(np.deg2rad(30.0))  # a small circle ~ great circle here
    assert out[1, 1, 1] == pytest.approx(at30, rel=1e-3)
    np.testing.assert_allclose(out[2], [[0, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]], atol=1e-6)
    np.testing.assert_allclose(out[3, 1], np.cos(np.deg2rad(30.0)), atol=1e-6)


def test_distance_is_clipped_and_in_cells_without_geography() -> None:
    grid = _grid(None, None)
    specs = cov.resolve([cov.Covariate("coast_distance")], grid, "f")
    assert specs[0].units == "cells"
    builder = cov.CovariateBuilder(specs, grid)
    lr = np.ones((1, 3, 40), dtype=np.float32)
    lr[0, :, 0] = np.nan
    out = builder.field_covariates(lr)[0]
    np.testing.assert_allclose(out[0, :5], [0, 1, 2, 3, 4])
    assert out.max() == cov.COAST_CLIP_CELLS
    no_land = builder.field_covariates(np.ones((1, 3, 4), dtype=np.float32))
    assert (no_land == cov.COAST_CLIP_CELLS).all()
    far = _grid(np.arange(-40.0, 40.0, 10.0), np.arange(0.0, 80.0, 10.0))
    km = cov.CovariateBuilder([cov.Covariate("coast_distance", units="km")], far)
    only_corner = np.ones((1, 4, 4), dtype=np.float32)
    only_corner[0, 0, 0] = np.nan
    assert km.field_covariates(only_corner).max() == cov.COAST_CLIP_KM


def test_file_field_interpolated_by_coordinates(tmp_path: Path) -> None:
    """A field linear in latitude is reproduced exactly (block means of a linear field)
    on a grid crossing the file's longitude seam (0/360 there, -180..180 here)."""
    path = _global_file(tmp_path / "bathy.nc")
    hr_lat = -19.75 + 0.5 * np.arange(80)
    hr_lon = -9.75 + 0.5 * np.arange(40)  # across 0 degrees
    grid = _grid(hr_lat, hr_lon, scale=4)
    out = cov.CovariateBuilder([cov.Covariate("file", str(path), "depth_m")], grid)
    field = out.field_covariates(np.ones((1, 20, 10), dtype=np.float32))[0]
    lat2, lon2 = np.meshgrid(hr_lat, hr_lon, indexing="ij")
    # Linear interpolation of sin between 10-degree nodes: compare with the same rule.
    nodes = np.arange(-180.0, 190.0, 10.0)
    expect_hr = lat2 + 10.0 * np.interp(lon2, nodes, np.sin(np.deg2rad(nodes)))
    np.testing.assert_allclose(field, block_mean(expect_hr, 4), atol=1e-4)


@pytest.mark.skipif(not ETOPO.exists(), reason="ferret-datasets' ETOPO60 is not installed")
def test_etopo_bathymetry_from_ferret_datasets() -> None:
    """ETOPO60 (lon 20.5..379.5): a grid across Greenwich reads across its seam."""
    hr_lat = np.arange(-9.5, 10.0, 1.0)  # 20 rows
    hr_lon = np.arange(-9.5, 10.0, 1.0)  # 20 columns, half of them west of 20.5 - 360
    grid = _grid(hr_lat, hr_lon, scale=2)
    out = cov.CovariateBuilder([cov.Covariate("file", str(ETOPO), "ROSE")], grid)
    field = out.field_covariates(np.ones((1, 10, 10), dtype=np.float32))[0]
    with xr.open_dataset(ETOPO) as ds:
        branch = (hr_lon - 20.5) % 360 + 20.5  # the file's longitudes, 20.5..379.5
        rose = ds["ROSE"].sel(ETOPO60Y=hr_lat, ETOPO60X=branch)
        expect = block_mean(rose.values.astype(np.float64), 2)
    np.testing.assert_allclose(field, expect, rtol=1e-5)  # cell centres: nodes exactly
    assert field.min() < -1000 and field.max() > 0  # Gulf of Guinea and West Africa


def test_errors_name_the_item_and_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as exc:
        cov.parse_covariates(["land_mask", "bathymetry"])
    assert exc.value.field == "data.covariates[1]" and "land_mask" in str(exc.value)
    with pytest.raises(ConfigError) as exc:
        rules()["data.covariates"].require("data.covariates", ["lat", {"file": "x.nc"}])
    assert exc.value.field == "data.covariates[1]"
    with pytest.raises(DataInvalidError) as exc:
        cov.resolve([cov.Covariate("land_mask"), cov.Covariate("lat")], _grid(None, None), "f")
    assert exc.value.field == "f[1]" and "latitude" in str(exc.value)
    missing = cov.parse_covariates([{"file": str(tmp_path / "gone.nc"), "variable": "z"}])
    grid = _grid(np.arange(4.0), np.arange(4.0))
    with pytest.raises(DataNotFoundError) as exc:
        cov.CovariateBuilder(missing, grid)
    assert exc.value.field == "data.covariates[0].file"
    with pytest.raises(DataNotFoundError) as exc:
        cov.check_request([{"file": str(tmp_path / "gone.nc"), "variable": "z"}], lazy=False)
    assert exc.value.field == "data.covariates[0].file"
    regional = xr.Dataset(
        {"z": (("lat", "lon"), np.zeros((3, 3), dtype=np.float32))},
        coords={
            "lat": ("lat", [0.0, 1.0, 2.0], {"units": "degrees_north"}),
            "lon": ("lon", [0.0, 1.0, 2.0], {"units": "degrees_east"}),
        },
    )
    regional.to_netcdf(tmp_path / "regional.nc")
    spec = cov.Covariate("file", str(tmp_path / "regional.nc"), "z")
    with pytest.raises(DataInvalidError) as exc:
        cov.CovariateBuilder([spec], _grid(np.arange(0.25, 6.0, 0.5), np.arange(0.25, 2.0, 0.5)))
    assert exc.value.field == "data.covariates[0]" and "does not cover" in str(exc.value)
    with pytest.raises(DataNotFoundError) as exc:
        cov.CovariateBuilder([cov.Covariate("file", spec.file, "nope")], grid)
    assert exc.value.field == "data.covariates[0].variable"


# --------------------------------------------------------------------------- training


@pytest.fixture(scope="module")
def covariate_run(tmp_path_factory):
    """A real smoke training with land_mask, lat and a file covariate."""
    from oceansr.train.entry import train

    root = tmp_path_factory.mktemp("cov")
    bathy = _global_file(root / "bathy.nc")
    items = f"[land_mask,lat,{{file:'{bathy}',variable:depth_m}}]"
    result = train(["experiment=smoke", f"data.covariates={items}", f"runs_root={root / 'runs'}"])
    return result, bathy


def _lr_input() -> xr.Dataset:
    with xr.open_dataset(sample_path(), decode_times=False) as sample:
        hr = sample[["temp"]].isel(month=[0], depth=[0, 5], lat=slice(0, 88)).load()
    lr = hr.coarsen(lat=SCALE, lon=SCALE).mean()
    for name in ("temp", "lat", "lon"):
        lr[name].attrs = hr[name].attrs
    lr["temp"].values = block_mean(hr["temp"].values, SCALE)
    return lr


def test_training_records_covariates_and_predict_rebuilds_them(covariate_run, tmp_path):
    from oceansr.inference.tiling import tiled_predict
    from oceansr.predict import load_module, predict

    result, bathy = covariate_run
    module = load_module(result.best_checkpoint)
    recorded = module.hparams["covariates"]
    assert [item["channels"] for item in recorded] == [
        ["land_mask"],
        ["lat_sin", "lat_cos"],
        ["file:depth_m"],
    ]
    assert recorded[2]["file"] == str(bathy) and module.in_channels == 1 + 4
    assert 0.0 < recorded[0]["mean"][0] < 1.0  # the training LR's ocean fraction
    lr = _lr_input()
    summary = predict(result.best_checkpoint, lr, tmp_path / "sr.nc", tile=8, overlap=2)
    # The same fields by hand: variables, then the covariates as written in the docs.
    fields = lr["temp"].values[0][:, None]  # (depth, 1, h, w)
    lat = np.deg2rad(lr["lat"].values)[None, :, None] * np.ones(fields.shape[-2:])
    x = np.concatenate(
        [
            fields,
            np.isfinite(fields).astype(np.float32),
            np.broadcast_to(np.sin(lat), fields.shape).astype(np.float32),
            np.broadcast_to(np.cos(lat), fields.shape).astype(np.float32),
            module_bathy(module, lr, fields.shape),
        ],
        axis=1,
    )
    sr = tiled_predict(module, x, tile=8, overlap=2, periodic=True)
    with xr.open_dataset(tmp_path / "sr.nc") as out:
        written = out["temp"].values[0]
    ocean = np.isfinite(written)
    assert ocean.any() and summary["n_fields"] == 2
    np.testing.assert_allclose(written[ocean], sr[:, 0][ocean], rtol=1e-5, atol=1e-5)


def module_bathy(module, lr: xr.Dataset, shape: tuple[int, ...]) -> np.ndarray:
    """The file covariate on the LR grid, independently: the file's linear field at HR
    centres (``lat + 10 sin(lon)`` interpolated between 10-degree nodes), block-averaged."""
    from oceansr.predict.grid import refine_1d

    hr_lat = refine_1d(lr["lat"].values, SCALE, limits=(-90.0, 90.0))
    hr_lon = refine_1d(lr["lon"].values, SCALE, circular=True) % 360.0
    nodes = np.arange(0.0, 370.0, 10.0)
    lon_part = 10.0 * np.interp(hr_lon, nodes, np.sin(np.deg2rad(nodes)))
    hr = hr_lat[:, None] + lon_part[None, :]
    return np.broadcast_to(block_mean(hr, SCALE), (shape[0], 1, *shape[-2:])).astype(np.float32)


def test_predict_refuses_a_missing_covariate_file_and_takes_an_override(covariate_run, tmp_path):
    from oceansr.predict import predict

    result, bathy = covariate_run
    moved = tmp_path / "moved.nc"
    bathy.rename(moved)
    try:
        with pytest.raises(DataNotFoundError) as exc:
            predict(result.best_checkpoint, _lr_input(), tmp_path / "a.nc")
        assert exc.value.field == "covariates[2].file" and "covariates=" in exc.value.fix
        assert not (tmp_path / "a.nc").exists()
        predict(result.best_checkpoint, _lr_input(), tmp_path / "b.nc", covariates=str(moved))
        with pytest.raises(ConfigError) as exc:
            predict(result.best_checkpoint, _lr_input(), tmp_path / "c.nc", covariates={"x": "y"})
        assert exc.value.field == "covariates"
    finally:
        moved.rename(bathy)
    assert (tmp_path / "b.nc").exists()
