"""Data sources: xarray (NetCDF / Zarr / in-memory), npy folders, synthetic, bundled sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from oceansr.config.schema import CONF_DIR
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError, ShapeMismatchError
from oceansr.data.fields import FieldData, FieldSplit
from oceansr.data.npy_source import load_npy_folder
from oceansr.data.prepare import load_field_data
from oceansr.data.sample import SAMPLE_SPLIT, SAMPLE_VARIABLES, load_sample, sample_path
from oceansr.data.sources import LOADERS, SOURCES
from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean, crop_to_multiple, fill_land_nearest, ocean_stats
from oceansr.data.xarray_source import load_xarray

FERRET_FILE = Path("/usr/share/ferret-vis/data/ocean_atlas_subset.nc")
INDEX_SPLIT = {
    "dim": "time",
    "by": "index",
    "train": {"start": 0, "stop": 4},
    "valid": {"start": 4, "stop": 5},
    "test": [5],
}


@pytest.fixture(scope="module")
def syn() -> xr.Dataset:
    return make_synthetic_dataset(n_time=6, height=16, width=32, variables=("temp", "salt"))


def _climatology(n_month: int = 4, depths=(0.0, 10.0, 20.0), h: int = 6, w: int = 8):
    """A (month, depth, lat, lon) dataset like the WOA sample, with a land corner."""
    rng = np.random.default_rng(0)
    data = rng.normal(10.0, 2.0, (n_month, len(depths), h, w)).astype(np.float32)
    data[..., :2, :2] = np.nan
    return xr.Dataset(
        {"temp": (("month", "depth", "y_c", "x_c"), data, {"units": "degC"})},
        coords={
            "month": ("month", np.arange(1, n_month + 1)),
            "depth": ("depth", np.asarray(depths)),
            "y_c": ("y_c", np.linspace(-50, 50, h), {"units": "degrees_north"}),
            "x_c": ("x_c", np.linspace(0, 350, w), {"units": "degrees_east"}),
        },
    )


CLIM_SPLIT = {"dim": "month", "by": "label", "train": [1, 2], "valid": [3], "test": [4]}


# --------------------------------------------------------------------------- synthetic


def test_synthetic_dataset_structure(syn):
    assert dict(syn.sizes) == {"time": 6, "lat": 16, "lon": 32}
    assert syn["temp"].dtype == np.float32
    assert syn["temp"].attrs["units"] == "degC" and syn["salt"].attrs["units"] == "psu"
    assert syn["lat"].attrs["standard_name"] == "latitude"
    assert syn["lon"].attrs["units"] == "degrees_east"
    temp = syn["temp"].values
    land = np.isnan(temp)
    assert abs(land[0].mean() - 0.25) < 0.03
    assert (land == land[0]).all()  # static mask by default
    assert np.array_equal(np.isnan(syn["salt"].values), land)
    ocean = temp[~land]
    assert ocean.min() >= -2.0 and ocean.max() < 35.0
    # Warm equator, cold poles.
    alat = np.abs(syn["lat"].values)[None, :, None] * np.ones_like(temp)
    assert np.nanmean(temp[alat < 20]) > np.nanmean(temp[alat > 50]) + 10


def test_synthetic_deterministic_smooth_and_options():
    a = make_synthetic_dataset(n_time=3, height=16, width=32, seed=3)
    b = make_synthetic_dataset(n_time=5, height=16, width=32, seed=3)
    c = make_synthetic_dataset(n_time=3, height=16, width=32, seed=4)
    np.testing.assert_array_equal(a["temp"].values, b["temp"].values[:3])
    assert not np.array_equal(a["temp"].values, c["temp"].values, equal_nan=True)
    step = np.nanstd(b["temp"].values[1] - b["temp"].values[0])
    assert 0 < step < 0.5 * np.nanstd(b["temp"].values[0])  # evolves smoothly
    many = make_synthetic_dataset(
        n_time=24,
        height=16,
        width=32,
        variables=["ssh", "u", "v", "chl"],
        land_fraction=0.1,
        varying_mask=True,
    )
    assert [many[v].attrs["units"] for v in ("ssh", "u", "v", "chl")] == [
        "m",
        "m s-1",
        "m s-1",
        "1",
    ]
    land = np.isnan(many["ssh"].values)
    assert (land != land[0]).any()  # varying mask
    assert abs(land.mean() - 0.1) < 0.03
    assert np.nanmax(np.abs(many["u"].values)) < 5.0
    none = make_synthetic_dataset(n_time=1, height=8, width=16, land_fraction=0.0)
    assert np.isfinite(none["temp"].values).all()
    with pytest.raises(ConfigError) as exc:
        make_synthetic_dataset(land_fraction=1.0)
    assert exc.value.field == "data.synthetic.land_fraction"


# --------------------------------------------------------------------------- xarray source


def test_load_in_memory_split_by_index(syn):
    data = load_xarray(syn, ["temp", "salt"], INDEX_SPLIT)
    assert isinstance(data, FieldData)
    assert [len(s) for s in (data.train, data.valid, data.test)] == [4, 1, 1]
    tr = data.train
    assert isinstance(tr, FieldSplit)
    assert tr.hr.shape == (4, 2, 16, 32) and tr.hr.dtype == np.float32
    assert tr.lr is None
    assert tr.variables == ["temp", "salt"] and tr.units == ["degC", "psu"]
    assert tr.lat.shape == (16,) and tr.lon.shape == (32,)
    assert tr.labels[0] == "time=2000-01-01T00:00:00"
    np.testing.assert_array_equal(data.test.hr[0, 1], syn["salt"].values[5])
    np.testing.assert_array_equal(data.valid.hr[0, 0], syn["temp"].values[4])


def test_netcdf_and_zarr_files_match(syn, tmp_path):
    nc = tmp_path / "fields.nc"
    syn.to_netcdf(nc)
    zarr_path = tmp_path / "fields.zarr"
    syn.to_zarr(zarr_path, consolidated=False)
    plain_dir = tmp_path / "store_without_suffix"
    syn.to_zarr(plain_dir, consolidated=False)
    split = {"dim": "time", "by": "index", "train": [0, 2], "valid": [1], "test": [3, 4]}
    ref = load_xarray(nc, "temp", split)
    for path in (zarr_path, str(plain_dir)):
        got = load_xarray(path, ["temp"], split)
        for name in ("train", "valid", "test"):
            np.testing.assert_array_equal(getattr(got, name).hr, getattr(ref, name).hr)
            assert getattr(got, name).labels == getattr(ref, name).labels
    assert ref.train.hr.shape == (2, 1, 16, 32)
    assert "netcdf:" in ref.source


def test_split_by_label_and_extra_dims_become_samples():
    ds = _climatology()
    data = load_xarray(ds, ["temp"], CLIM_SPLIT)
    assert data.train.hr.shape == (6, 1, 6, 8)  # 2 months x 3 depths
    assert data.train.labels[:4] == [
        "month=1 depth=0.0",
        "month=1 depth=10.0",
        "month=1 depth=20.0",
        "month=2 depth=0.0",
    ]
    np.testing.assert_array_equal(data.train.hr[4, 0], ds["temp"].values[1, 1])
    assert data.test.labels == ["month=4 depth=0.0", "month=4 depth=10.0", "month=4 depth=20.0"]
    # lat/lon found by units although the names are unusual
    np.testing.assert_allclose(data.train.lat, ds["y_c"].values)
    # range by label is inclusive; sel / isel apply first
    rng = {
        "dim": "month",
        "by": "label",
        "train": {"start": 1, "stop": 2},
        "valid": {"start": 3, "stop": 3},
        "test": {"start": 4, "stop": 4},
    }
    sub = load_xarray(
        ds, "temp", rng, sel={"depth": [0, 20]}, isel={"x_c": {"start": 0, "stop": 4}}
    )
    assert sub.train.hr.shape == (4, 1, 6, 4)
    assert sub.train.labels[1] == "month=1 depth=20.0"
    assert sub.train.lon.shape == (4,)
    # by index, with a python slice (stop exclusive), on the depth dim
    by_depth = {
        "dim": "depth",
        "by": "index",
        "train": {"start": 0, "stop": 1},
        "valid": [1],
        "test": [2],
    }
    d = load_xarray(ds, "temp", by_depth)
    assert d.train.labels[:2] == ["month=1 depth=0.0", "month=2 depth=0.0"]
    assert d.train.hr.shape == (4, 1, 6, 8)


def test_curvilinear_coordinates():
    ny, nx = 5, 7
    jj, ii = np.meshgrid(np.arange(ny), np.arange(nx), indexing="ij")
    lat2d = -30.0 + 2.0 * jj + 0.3 * ii
    lon2d = 100.0 + 2.0 * ii - 0.2 * jj
    vals = np.random.default_rng(1).normal(size=(3, ny, nx)).astype(np.float32)
    # NEMO style: nav_lat / nav_lon are data variables without attributes, 1-D y/x coords.
    nemo = xr.Dataset(
        {
            "thetao": (("time_counter", "y", "x"), vals, {"units": "degC"}),
            "nav_lat": (("y", "x"), lat2d),
            "nav_lon": (("y", "x"), lon2d),
        }
    )
    split = {"dim": "time_counter", "by": "index", "train": [0], "valid": [1], "test": [2]}
    data = load_xarray(nemo, ["thetao"], split)
    assert data.train.lat.shape == (ny, nx) and data.train.lon.shape == (ny, nx)
    np.testing.assert_allclose(data.train.lat, lat2d)
    np.testing.assert_allclose(data.train.lon, lon2d)
    # CF style with the variable stored (time, x, y): output is still (H=y, W=x)
    cf = xr.Dataset(
        {"sst": (("time", "nx", "ny"), vals.transpose(0, 2, 1))},
        coords={
            "latitude": (("ny", "nx"), lat2d, {"standard_name": "latitude"}),
            "longitude": (("ny", "nx"), lon2d, {"standard_name": "longitude"}),
        },
    )
    cdata = load_xarray(cf, "sst", {**split, "dim": "time"})
    assert cdata.train.hr.shape == (1, 1, nx, ny)  # spatial order follows the variable
    np.testing.assert_allclose(cdata.train.lat, lat2d.T)
    # names given explicitly
    named = load_xarray(nemo, "thetao", split, lat_name="nav_lat", lon_name="nav_lon")
    np.testing.assert_allclose(named.valid.hr[0, 0], vals[1])


def test_no_coordinates_uses_last_two_dims():
    ds = xr.Dataset({"f": (("t", "a", "b"), np.ones((3, 4, 5), np.float32))})
    data = load_xarray(
        ds, "f", {"dim": "t", "by": "index", "train": [0], "valid": [1], "test": [2]}
    )
    assert data.train.hr.shape == (1, 1, 4, 5)
    assert data.train.lat is None and data.train.lon is None
    assert data.train.labels == ["t=0"] and data.train.units == [""]


def test_omegaconf_split_is_accepted():
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create({"split": CLIM_SPLIT, "sel": {"depth": [0, 10]}})
    data = load_xarray(
        _climatology(), cfg.variables if "variables" in cfg else ["temp"], cfg.split, sel=cfg.sel
    )
    assert data.train.hr.shape == (4, 1, 6, 8)


# --------------------------------------------------------------------------- xarray errors


def test_error_missing_path(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist") as exc:
        load_xarray(tmp_path / "nope.nc", ["temp"], CLIM_SPLIT)
    assert exc.value.field == "data.path" and "data.path=" in exc.value.fix


def test_error_unknown_variable():
    with pytest.raises(
        DataNotFoundError, match=r"\['sst'\].*available data variables.*temp"
    ) as exc:
        load_xarray(_climatology(), ["sst"], CLIM_SPLIT)
    assert exc.value.field == "data.variables"
    assert "data.variables=[temp]" in exc.value.fix


def test_error_unknown_split_dim():
    with pytest.raises(ConfigError, match=r"'time' is not a sample dim.*month, depth") as exc:
        load_xarray(_climatology(), ["temp"], {**CLIM_SPLIT, "dim": "time"})
    assert exc.value.field == "data.split.dim"
    assert "data.split.dim=month" in exc.value.fix


@pytest.mark.parametrize(
    ("name", "spec", "by"),
    [
        ("valid", {"start": 10, "stop": 12}, "label"),
        ("test", [], "label"),
        ("train", {"start": 9}, "index"),
    ],
)
def test_error_empty_split(name, spec, by):
    split = {"dim": "month", "by": by, "train": [0, 1], "valid": [2], "test": [3]}
    if by == "label":
        split.update(train=[1, 2], valid=[3], test=[4])
    split[name] = spec
    with pytest.raises(DataInvalidError, match=f"split '{name}' selects no sample") as exc:
        load_xarray(_climatology(), ["temp"], split)
    assert exc.value.field == f"data.split.{name}"
    assert f"data.split.{name}=" in exc.value.fix


def test_error_unknown_label():
    with pytest.raises(DataInvalidError, match="does not select") as exc:
        load_xarray(_climatology(), ["temp"], {**CLIM_SPLIT, "train": [1, 13]})
    assert exc.value.field == "data.split.train"


def test_error_overlapping_splits():
    with pytest.raises(DataInvalidError, match=r"'train' and 'valid' overlap on.*month=2") as exc:
        load_xarray(_climatology(), ["temp"], {**CLIM_SPLIT, "valid": [2, 3]})
    assert exc.value.field == "data.split.valid"


def test_error_integer_dtype():
    ds = _climatology()
    ds["mask"] = ds["temp"].notnull().astype("int8")
    with pytest.raises(DataInvalidError, match="'mask' has dtype int8") as exc:
        load_xarray(ds, ["temp", "mask"], CLIM_SPLIT)
    assert exc.value.field == "data.variables"
    assert "float" in exc.value.fix and "NaN" in exc.value.fix


def test_error_all_nan_sample():
    ds = _climatology()
    ds["temp"][2, 1] = np.nan  # month 3, depth 10 entirely land
    with pytest.raises(
        DataInvalidError, match=r"'temp' is entirely NaN.*month=3 depth=10.0"
    ) as exc:
        load_xarray(ds, ["temp"], CLIM_SPLIT)
    assert exc.value.field == "data.sel"
    assert "data.isel" in exc.value.fix or "data.sel" in exc.value.fix
    # excluding the level makes it load
    data = load_xarray(ds, ["temp"], CLIM_SPLIT, sel={"depth": [0, 20]})
    assert data.valid.hr.shape[0] == 2


def test_error_variables_with_different_dims():
    ds = _climatology()
    ds["sst"] = ds["temp"].isel(depth=0)
    with pytest.raises(ShapeMismatchError, match="do not share dims") as exc:
        load_xarray(ds, ["temp", "sst"], CLIM_SPLIT)
    assert exc.value.field == "data.variables"


def test_error_bad_sel_dim():
    with pytest.raises(ConfigError, match="'level'") as exc:
        load_xarray(_climatology(), ["temp"], CLIM_SPLIT, sel={"level": [0]})
    assert exc.value.field == "data.sel"


def test_error_undecodable_year_zero_time(tmp_path):
    ds = xr.Dataset(
        {"temp": (("time", "lat", "lon"), np.ones((3, 2, 2), np.float32))},
        coords={
            "time": ("time", [366.0, 1096.0, 1827.0], {"units": "hour since 0000-01-01 00:00:00"}),
            "lat": ("lat", [0.0, 1.0]),
            "lon": ("lon", [0.0, 1.0]),
        },
    )
    path = tmp_path / "levitus.nc"
    ds.to_netcdf(path)
    split = {"dim": "time", "by": "index", "train": [0], "valid": [1], "test": [2]}
    with pytest.raises(DataInvalidError, match="time") as exc:
        load_xarray(path, ["temp"], split)
    assert exc.value.field == "data.decode_times"
    assert "data.decode_times=false" in exc.value.fix
    data = load_xarray(path, ["temp"], split, decode_times=False)
    assert data.train.labels == ["time=366.0"]


# --------------------------------------------------------------------------- npy folders


def _write_npy_tree(root: Path, variables=("temp", "salt"), counts=None, hr=(8, 8), lr=(4, 4)):
    counts = counts or {"train": 3, "valid": 2, "test": 2}
    rng = np.random.default_rng(0)
    for split, n in counts.items():
        for kind, shape in (("hr", hr), ("lr", lr)):
            for var in variables:
                folder = root / split / kind / var
                folder.mkdir(parents=True)
                for i in range(n):
                    np.save(folder / f"{i:04d}.npy", rng.normal(size=shape).astype(np.float64))
    return root


def test_npy_folder_layout(tmp_path):
    root = _write_npy_tree(tmp_path / "ds")
    data = load_npy_folder(root, ["temp", "salt"])
    assert data.train.hr.shape == (3, 2, 8, 8) and data.train.lr.shape == (3, 2, 4, 4)
    assert data.valid.hr.shape == (2, 2, 8, 8) and data.test.lr.shape == (2, 2, 4, 4)
    assert data.train.hr.dtype == np.float32 and data.train.lr.dtype == np.float32
    assert data.train.labels == ["file=0000", "file=0001", "file=0002"]
    assert data.train.lat is None and data.train.variables == ["temp", "salt"]
    expected = np.load(root / "train" / "lr" / "salt" / "0001.npy").astype(np.float32)
    np.testing.assert_array_equal(data.train.lr[1, 1], expected)


def test_npy_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="does not exist") as exc:
        load_npy_folder(tmp_path / "missing", ["temp"])
    assert exc.value.field == "data.path" and "train,valid,test" in exc.value.fix

    root = _write_npy_tree(tmp_path / "a", variables=("temp",))
    for p in (root / "test" / "lr" / "temp").iterdir():
        p.unlink()
    (root / "test" / "lr" / "temp").rmdir()
    (root / "test" / "lr").rmdir()
    with pytest.raises(
        DataNotFoundError, match=r"missing folder .*test/lr.*expected layout"
    ) as exc:
        load_npy_folder(root, ["temp"])
    assert exc.value.field == "data.path"

    root = _write_npy_tree(tmp_path / "b", variables=("temp",))
    with pytest.raises(DataNotFoundError, match=r"\['salt'\] missing") as exc:
        load_npy_folder(root, ["temp", "salt"])
    assert exc.value.field == "data.variables"

    root = _write_npy_tree(tmp_path / "c", variables=("temp",))
    (root / "valid" / "lr" / "temp" / "0001.npy").rename(root / "valid" / "lr" / "temp" / "x.npy")
    with pytest.raises(
        DataInvalidError, match=r"file sets differ in split 'valid'.*0001.npy"
    ) as exc:
        load_npy_folder(root, "temp")
    assert exc.value.field == "data.path"

    root = _write_npy_tree(tmp_path / "d", variables=("temp",))
    np.save(root / "train" / "hr" / "temp" / "0001.npy", np.zeros((2, 8, 8)))
    with pytest.raises(ShapeMismatchError, match=r"shape \(2, 8, 8\).*2-D"):
        load_npy_folder(root, "temp")

    root = _write_npy_tree(tmp_path / "e", variables=("temp",))
    np.save(root / "train" / "hr" / "temp" / "0002.npy", np.zeros((8, 9)))
    with pytest.raises(ShapeMismatchError, match="inconsistent HR shapes in split 'train'"):
        load_npy_folder(root, "temp")

    root = _write_npy_tree(tmp_path / "f", variables=("temp",))
    np.save(root / "test" / "lr" / "temp" / "0000.npy", np.zeros((4, 4), dtype=np.int32))
    with pytest.raises(DataInvalidError, match="dtype int32") as exc:
        load_npy_folder(root, "temp")
    assert "float" in exc.value.fix


# --------------------------------------------------------------------------- registry


def test_every_data_config_names_a_registered_source_and_back():
    """The registry is the one list of sources; ``data=<name>`` files pick from it."""
    named = {
        p.stem: yaml.safe_load(p.read_text())["source"]
        for p in (CONF_DIR / "data").glob("*.yaml")
        if p.stem != "base"
    }
    assert set(named.values()) == set(SOURCES) == set(LOADERS)


def test_unknown_source_names_the_field_and_the_registered_sources():
    with pytest.raises(ConfigError, match="unknown data source 'netcdf'") as exc:
        load_field_data({"source": "netcdf"})
    assert exc.value.field == "data.source"
    assert all(name in exc.value.fix for name in SOURCES)
    with pytest.raises(ConfigError, match=r"unknown data source \['xarray'\]"):
        load_field_data({"source": ["xarray"]})


def test_registry_dispatches_to_the_source(tmp_path):
    root = _write_npy_tree(tmp_path / "ds", variables=("temp",))
    data = load_field_data({"source": "npy", "path": str(root), "variables": "temp"})
    np.testing.assert_array_equal(data.train.hr, load_npy_folder(root, ["temp"]).train.hr)
    with pytest.raises(ConfigError, match=r"data\.path is required") as exc:
        load_field_data({"source": "npy", "variables": ["temp"]})
    assert exc.value.field == "data.path"


# --------------------------------------------------------------------------- transforms


def test_block_mean_hand_example():
    nan = np.nan
    x = np.array(
        [
            [1.0, 3.0, nan, nan],
            [nan, 5.0, nan, nan],
            [2.0, 2.0, 0.0, 4.0],
            [2.0, 2.0, nan, 8.0],
        ],
        dtype=np.float32,
    )
    out = block_mean(x[None, None], 2)
    assert out.shape == (1, 1, 2, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], [[3.0, nan], [2.0, 4.0]])
    np.testing.assert_allclose(block_mean(x, 4), [[29.0 / 10.0]], rtol=1e-6)  # 10 ocean cells
    with pytest.raises(ShapeMismatchError, match="not a multiple") as exc:
        block_mean(np.zeros((5, 4)), 2)
    assert exc.value.field == "data.scale"


def test_crop_to_multiple_is_a_view():
    x = np.arange(2 * 7 * 10, dtype=np.float32).reshape(2, 7, 10)
    y = crop_to_multiple(x, 4)
    assert y.shape == (2, 4, 8) and np.shares_memory(x, y)
    np.testing.assert_array_equal(y, x[:, :4, :8])


def test_fill_land_nearest():
    nan = np.nan
    x = np.array([[[[1.0, nan, nan, 4.0], [nan, nan, nan, nan], [2.0, nan, nan, nan]]]])
    x = np.concatenate([x, x * 10], axis=1).astype(np.float32)  # 2 channels, same mask
    out = fill_land_nearest(x)
    assert np.isfinite(out).all() and np.isnan(x).sum() == 18  # input untouched
    # ties may go either way; check cells with a unique nearest ocean cell
    for (i, j), v in {(0, 1): 1.0, (0, 2): 4.0, (2, 1): 2.0, (1, 3): 4.0, (2, 2): 2.0}.items():
        assert out[0, 0, i, j] == v and out[0, 1, i, j] == 10 * v
    assert set(np.unique(out[0, 0])) <= {1.0, 2.0, 4.0}
    np.testing.assert_array_equal(out[~np.isnan(x)], x[~np.isnan(x)])
    land = np.full((1, 1, 3, 3), np.nan, dtype=np.float32)
    with pytest.raises(DataInvalidError, match="no ocean cell"):
        fill_land_nearest(land)


def test_ocean_stats():
    rng = np.random.default_rng(0)
    hr = rng.normal(size=(3, 2, 5, 6)).astype(np.float32)
    hr[:, :, 0, :] = np.nan
    mean, std, vmin, vmax = ocean_stats(hr)
    assert mean.dtype == np.float64 and mean.shape == (2,)
    for c in range(2):
        v = hr[:, c][np.isfinite(hr[:, c])].astype(np.float64)
        assert mean[c] == pytest.approx(v.mean())
        assert std[c] == pytest.approx(v.std())
        assert vmin[c] == v.min() and vmax[c] == v.max()


# --------------------------------------------------------------------------- bundled sample


def test_bundled_sample_loads():
    path = sample_path()
    assert path.is_file() and path.stat().st_size < 5_000_000
    prov = json.loads((path.parent / "PROVENANCE.json").read_text())
    assert prov["license"].startswith("public domain")
    assert SAMPLE_VARIABLES == ["temp"] and SAMPLE_SPLIT["dim"] == "month"
    data = load_sample()
    assert [len(s) for s in (data.train, data.valid, data.test)] == [152, 38, 38]
    for s in (data.train, data.valid, data.test):
        assert s.hr.shape[1:] == (1, 90, 180) and s.hr.dtype == np.float32
        assert s.units == ["degC"]
        ocean = s.hr[np.isfinite(s.hr)]
        assert ocean.min() >= -3.0 and ocean.max() <= 35.0
    assert data.train.labels[:2] == ["month=1 depth=0.0", "month=1 depth=10.0"]
    assert data.test.labels[-1] == "month=12 depth=1000.0"
    assert data.train.lat.shape == (90,) and data.train.lon.shape == (180,)


@pytest.mark.skipif(not FERRET_FILE.exists(), reason="ferret-datasets not installed")
def test_bundled_sample_matches_ferret_source():
    with xr.open_dataset(FERRET_FILE, decode_times=False) as src:
        ref = src["TEMP"].values.astype(np.float64)  # (12, 19, 90, 180)
    data = load_sample()
    got = np.concatenate([data.train.hr, data.valid.hr, data.test.hr])[:, 0].astype(np.float64)
    got = got.reshape(ref.shape)
    assert np.array_equal(np.isnan(got), np.isnan(ref))
    assert np.nanmax(np.abs(got - ref)) <= 1e-3


@pytest.mark.skipif(not FERRET_FILE.exists(), reason="ferret-datasets not installed")
def test_make_sample_script_round_trip(tmp_path, capsys):
    import importlib.util

    script = Path(__file__).resolve().parents[2] / "scripts" / "make_sample.py"
    spec = importlib.util.spec_from_file_location("make_sample", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "woa.nc"
    assert module.main(["--source", str(FERRET_FILE), "--out", str(out)]) == 0
    assert "max abs difference vs source" in capsys.readouterr().out
    prov = json.loads((tmp_path / "PROVENANCE.json").read_text())
    assert prov["source_package"] == "ferret-datasets"
    assert prov["roundtrip_max_abs_error_degC"] <= 1e-3
    with xr.open_dataset(out) as ds:
        assert ds["temp"].attrs["standard_name"] == "sea_water_temperature"
        assert ds["temp"].encoding["dtype"] == np.int16
        assert ds.attrs["license"] == prov["license"]
        assert ds["month"].values.tolist() == list(range(1, 13))
