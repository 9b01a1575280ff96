"""Streaming predict: the output is written field by field, never held whole."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean
from oceansr.predict import predict
from oceansr.predict.stream import FieldStream, StatsAccumulator

SCALE = 4  # the smoke checkpoint's
N_FIELDS, HR_H, HR_W = 24, 256, 512


@pytest.fixture(scope="module")
def lr_file(tmp_path_factory) -> Path:
    hr = make_synthetic_dataset(
        n_time=N_FIELDS, height=HR_H, width=HR_W, variables=("temp",), seed=5
    )
    lr = hr.coarsen(lat=SCALE, lon=SCALE).mean()
    for name in ("temp", "lat", "lon"):
        lr[name].attrs = hr[name].attrs
    lr["temp"].values = block_mean(hr["temp"].values, SCALE)
    path = tmp_path_factory.mktemp("stream") / "lr.nc"
    lr.to_netcdf(path)
    return path


def _peak_predict(ckpt: str, lr_file: Path, output: Path, **kwargs) -> tuple[int, dict]:
    tracemalloc.start()
    try:
        summary = predict(ckpt, lr_file, output, tile=32, device="cpu", **kwargs)
        return tracemalloc.get_traced_memory()[1], summary
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("suffix", [".zarr", ".nc"])
def test_predict_of_many_fields_never_holds_the_whole_output(
    smoke_run, lr_file: Path, tmp_path: Path, monkeypatch, suffix: str
) -> None:
    calls: list[int] = []
    real_field = FieldStream.field

    def counting(self: FieldStream, index: int) -> np.ndarray:
        calls.append(index)
        return real_field(self, index)

    monkeypatch.setattr(FieldStream, "field", counting)
    ckpt = smoke_run.best_checkpoint
    few = {"time": {"start": 0, "stop": 4}}
    peak_few, _ = _peak_predict(ckpt, lr_file, tmp_path / f"few{suffix}", isel=few)
    calls.clear()
    output = tmp_path / f"sr{suffix}"
    peak, summary = _peak_predict(ckpt, lr_file, output)
    whole_output = N_FIELDS * HR_H * HR_W * 4
    # Six times the fields, about the same peak; far below the output held whole.
    assert peak < 1.5 * peak_few, f"peak {peak} B for {N_FIELDS} fields, {peak_few} B for 4"
    assert peak < whole_output / 2, f"peak {peak} B vs whole output {whole_output} B"
    assert sorted(calls) == list(range(N_FIELDS))  # each field inferred exactly once
    opts = {"engine": "zarr", "consolidated": False} if suffix == ".zarr" else {}
    with xr.open_dataset(output, **opts) as ds:
        temp = ds["temp"].values
    assert temp.shape == (N_FIELDS, HR_H, HR_W)
    ocean = np.isfinite(temp)
    assert summary["stats"]["temp"]["mean"] == pytest.approx(float(temp[ocean].mean()), rel=1e-6)
    assert summary["stats"]["temp"]["ocean_fraction"] == pytest.approx(ocean.mean())


def test_stats_accumulator_equals_whole_array_stats_and_counts_a_field_once() -> None:
    from oceansr.predict.output import prediction_stats

    rng = np.random.default_rng(0)
    hr = rng.normal(size=(5, 2, 8, 8)).astype(np.float32)
    hr[:, 0, :3] = np.nan
    hr[2, 1] = np.nan
    acc = StatsAccumulator(["a", "b"], 64, 5)
    for i in range(5):
        acc.add(i, hr[i])
    acc.add(3, hr[3])  # a re-executed block is not counted twice
    want = prediction_stats(hr, ["a", "b"])
    for name in ("a", "b"):
        for key, value in want[name].items():
            assert acc.result()[name][key] == pytest.approx(value, rel=1e-9), (name, key)


def test_lazy_lr_fields_equal_the_eager_read_over_two_sample_dims(tmp_path: Path) -> None:
    from oceansr.data.lr_input import open_lr_fields

    rng = np.random.default_rng(1)
    values = rng.normal(size=(3, 4, 2, 6, 8)).astype(np.float32)
    values[..., :2, :3] = np.nan
    ds = xr.Dataset(
        {
            "t": (("time", "depth", "lat", "lon"), values[:, :, 0]),
            "s": (("time", "depth", "lat", "lon"), values[:, :, 1]),
        },
        coords={"time": np.arange(3), "depth": [0.0, 5.0, 10.0, 20.0]},
    )
    path = tmp_path / "lr.zarr"
    ds.to_zarr(path, consolidated=False)
    eager = open_lr_fields(path, ["s", "t"])
    lazy = open_lr_fields(path, ["s", "t"], lazy=True)
    try:
        assert lazy.data.shape == eager.data.shape == (12, 2, 6, 8)
        np.testing.assert_array_equal(lazy.data[5:9], eager.data[5:9])
        np.testing.assert_array_equal(np.asarray(lazy.data), eager.data)
        with pytest.raises(ValueError, match="step 1"):
            lazy.data[::2]
    finally:
        lazy.close()
    assert lazy.handle is None and eager.handle is None
