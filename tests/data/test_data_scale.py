"""Data larger than memory, at small size: lazy multi-file sources, metadata-only
validation, streaming statistics, patches read from disk, DataLoader workers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import dask
import numpy as np
import pytest
import torch
import xarray as xr
import yaml
from torch.utils.data import DataLoader

from lazy_data import lazy_data_cfg
from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError
from oceansr.data import shared_stats
from oceansr.data.degrade import degrade
from oceansr.data.lazy import stats as streaming
from oceansr.data.lazy.datasets import (
    WORKER_CONTEXT,
    LazyFieldDataset,
    LazyPatchDataset,
    concat_patches,
    patches_per_read,
    read_lr,
    read_span,
)
from oceansr.data.lazy.plan import SplitReader
from oceansr.data.lazy.source import LazyData, build_plan, lazy_plan, validate_metadata
from oceansr.data.prepare import prepare_data
from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean
from waiting import PATIENCE_S

SPLIT = {
    "dim": "time",
    "by": "index",
    "train": {"start": 0, "stop": 8},
    "valid": [8, 9],
    "test": [10, 11],
}


@pytest.fixture(scope="module")
def field() -> xr.Dataset:
    return make_synthetic_dataset(n_time=12, height=64, width=96, variables=("temp", "salt"))


@pytest.fixture(scope="module")
def monthly(tmp_path_factory: pytest.TempPathFactory, field: xr.Dataset) -> Path:
    """Four NetCDF-4 files of three time steps each: one time axis spread over files."""
    root = tmp_path_factory.mktemp("monthly")
    for k in range(4):
        field.isel(time=slice(3 * k, 3 * k + 3)).to_netcdf(root / f"part_{k}.nc")
    return root


def data_cfg(path: Any, **extra: Any) -> dict[str, Any]:
    return lazy_data_cfg(path, SPLIT, **extra)


class CountingScheduler:
    """A dask scheduler that counts the graphs it computes (any data read goes here)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, dsk: Any, keys: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return dask.get(dsk, keys, **kwargs)


def _reads(fn: Any) -> tuple[Any, int]:
    counter = CountingScheduler()
    with dask.config.set(scheduler=counter):
        result = fn()
    return result, counter.calls


def _read_all(plan_cfg: dict[str, Any], split: str = "train") -> np.ndarray:
    reader = SplitReader(build_plan(plan_cfg, 4), split)
    return reader.read_block(0, len(reader))


@pytest.mark.parametrize("form", ["directory", "glob", "list"])
def test_multi_file_sources_open_as_one_time_axis(monthly: Path, field: xr.Dataset, form) -> None:
    files = sorted(monthly.glob("*.nc"))
    path = {"directory": str(monthly), "glob": str(monthly / "part_*.nc"), "list": files}[form]
    plan = build_plan(data_cfg([str(f) for f in files] if form == "list" else path), 4)
    assert {k: len(s) for k, s in plan.splits.items()} == {"train": 8, "valid": 2, "test": 2}
    assert plan.source.startswith("multi:4 files")
    got = SplitReader(plan, "valid").read_block(0, 2)
    want = np.stack([field[v].values[8:10] for v in ("temp", "salt")], axis=1)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("fmt", ["zarr2", "zarr3", "zarr3-unconsolidated", "netcdf3"])
def test_store_formats_read_the_same_fields(tmp_path: Path, field: xr.Dataset, fmt: str) -> None:
    if fmt.startswith("zarr"):
        path = tmp_path / "store.zarr"
        field.to_zarr(path, zarr_format=2 if fmt == "zarr2" else 3, consolidated=fmt == "zarr2")
    else:
        path = tmp_path / "field.nc"
        field.to_netcdf(path, format="NETCDF3_64BIT")
    got = _read_all(data_cfg(str(path)), "test")
    want = np.stack([field[v].values[10:12] for v in ("temp", "salt")], axis=1)
    np.testing.assert_array_equal(got, want)


def test_plan_and_datamodule_read_no_data(monthly: Path) -> None:
    plan, calls = _reads(lambda: build_plan(data_cfg(str(monthly)), 4))
    assert calls == 0, "building the plan computed data"
    _, calls = _reads(lambda: LazyData(plan))
    assert calls == 0
    # The check can fail: reading one field does go through the scheduler.
    _, calls = _reads(lambda: SplitReader(plan, "train").read(0))
    assert calls >= 1


def test_controller_validation_reads_a_bounded_sample(monthly: Path, monkeypatch) -> None:
    read: list[int] = []
    original = SplitReader.read

    def counting(self: SplitReader, index: int, window: Any = None) -> np.ndarray:
        read.append(index)
        return original(self, index, window)

    monkeypatch.setattr(SplitReader, "read", counting)
    summary = validate_metadata(data_cfg(str(monthly)), 4)
    assert summary is not None and len(read) == 12  # small data: every field is checked
    assert summary["hr_shape"] == [64, 96] and summary["mean"] is None
    read.clear()
    monkeypatch.setattr(streaming, "SAMPLE_CELLS", 3 * 64 * 96 * 2)  # one field per split
    validate_metadata(data_cfg(str(monthly)), 4)
    assert len(read) == 3


def _broken(tmp_path: Path, field: xr.Dataset, value: float, index: int) -> str:
    bad = field.copy(deep=True)
    bad["temp"][index] = value if np.isnan(value) else bad["temp"][index].fillna(0) + value
    path = tmp_path / "bad.nc"
    bad.to_netcdf(path)
    return str(path)


def test_validation_errors_name_the_field(tmp_path: Path, field: xr.Dataset) -> None:
    with pytest.raises(DataInvalidError, match="entirely NaN") as err:
        validate_metadata(data_cfg(_broken(tmp_path, field, np.nan, 9)), 4)
    assert err.value.field == "data.sel" and "valid" in str(err.value)
    with pytest.raises(DataInvalidError, match="infinite") as err:
        validate_metadata(data_cfg(_broken(tmp_path, field, np.inf, 2)), 4)
    assert err.value.field == "data.variables"
    with pytest.raises(DataNotFoundError) as missing:
        validate_metadata(data_cfg(str(tmp_path / "none_*.nc")), 4)
    assert missing.value.field == "data.path"
    with pytest.raises(ConfigError) as chunks:
        validate_metadata(data_cfg(str(tmp_path / "bad.nc"), chunks={"time": 0}), 4)
    assert chunks.value.field == "data.chunks"
    with pytest.raises(ConfigError) as cache:
        lazy_plan(data_cfg(str(tmp_path / "bad.nc"), cache="disk"), 4)
    assert cache.value.field == "data.cache"


def test_streaming_stats_equal_in_memory_and_are_cached(
    monthly: Path, tmp_path: Path, monkeypatch
) -> None:
    memory = prepare_data(data_cfg(str(monthly), cache="memory"))
    cache = tmp_path / "run" / streaming.STATS_FILE
    exact = data_cfg(str(monthly), stats="exact", stats_threads=3)  # parallel, in order
    lazy = LazyData(build_plan(exact, 4), stats_cache=cache)
    for key in ("mean", "std", "data_range"):
        np.testing.assert_allclose(getattr(lazy, key), getattr(memory, key), rtol=1e-6)
    assert json.loads(cache.read_text())["mean"] == lazy.mean
    assert (
        lazy.stats["sampling"]
        == memory.stats_sampling
        == {
            "method": "exact",
            "fields_read": 8,
            "fields_total": 8,
            "seed": None,
        }
    )

    def no_pass(*args: Any) -> None:
        raise AssertionError("statistics recomputed despite the cache")

    monkeypatch.setattr(streaming, "streaming_stats", no_pass)
    again = LazyData(build_plan({**exact, "stats_threads": 1}, 4), stats_cache=cache)
    assert again.std == lazy.std  # the threads are not in the key
    monkeypatch.setenv(shared_stats.WAIT_ENV, str(PATIENCE_S))  # a hang fails, not stalls
    rank1 = LazyData(build_plan(exact, 4), stats_cache=cache, rank=1)
    assert (rank1.mean, rank1.std) == (lazy.mean, lazy.std)  # rank 0's file, no pass
    other = LazyData(build_plan({**exact, "variables": ["temp"]}, 4), stats_cache=cache)
    with pytest.raises(AssertionError, match="recomputed"):
        other.mean  # noqa: B018 - a different config must not reuse the cache
    sampled = LazyData(build_plan(data_cfg(str(monthly), stats_fields=4), 4), stats_cache=cache)
    with pytest.raises(AssertionError, match="recomputed"):
        sampled.mean  # noqa: B018 - nor a different statistics choice


def test_patches_read_from_disk_with_workers(monthly: Path) -> None:
    plan = build_plan(data_cfg(str(monthly)), 4)
    dataset = LazyPatchDataset(
        SplitReader(plan, "train"),
        patch_size=32,
        patches_per_field=2,
        min_ocean_fraction=0.5,
        fallback=[15.0, 35.0],
        per_read=2,
    )
    assert len(dataset) == 8  # one read of two patches per field
    torch.manual_seed(0)
    loader = DataLoader(
        dataset,
        batch_size=2,
        num_workers=2,
        multiprocessing_context=WORKER_CONTEXT,
        collate_fn=concat_patches,
    )
    batches = list(loader)
    assert len(batches) == 4
    for batch in batches:
        hr, lr = batch["hr"], batch["lr"]
        assert hr.shape == (4, 2, 32, 32) and lr.shape == (4, 2, 8, 8)
        assert batch["index"].shape == (4,)
        assert batch["index"][0] == batch["index"][1]  # two patches of one read
        assert torch.isfinite(lr).all()
        ocean = torch.isfinite(hr).all(dim=1).float().mean(dim=(1, 2))
        assert (ocean >= 0.5).all()
        expected = torch.from_numpy(block_mean(hr.numpy(), 4))
        finite = torch.isfinite(expected)
        torch.testing.assert_close(lr[finite], expected[finite])


def test_one_read_per_item_of_several_patches(tmp_path: Path, field: xr.Dataset) -> None:
    """A single store is read without dask, one window of storage chunks per item, and
    the item's patches lie in it: reads per patch fall by ``per_read``."""
    store = tmp_path / "chunked.zarr"
    field.chunk({"time": 1, "lat": 16, "lon": 32}).to_zarr(store, zarr_format=2, consolidated=True)
    plan = build_plan(data_cfg(str(store)), 4)
    reader = SplitReader(plan, "train")
    assert reader.chunk_shape == (16, 32)
    assert all(not isinstance(a.variable._data, dask.array.Array) for a in reader._open())
    dataset = LazyPatchDataset(
        reader,
        patch_size=8,
        patches_per_field=4,
        min_ocean_fraction=0.0,
        fallback=[0, 0],
        per_read=4,
    )
    windows: list[tuple[slice, slice]] = []
    original = reader.read

    def counted(index: int, window: tuple[slice, slice] | None = None) -> np.ndarray:
        assert window is not None
        windows.append(window)
        return original(index, window)

    reader.read = counted  # type: ignore[method-assign]
    torch.manual_seed(3)
    for index in range(len(dataset)):
        item = dataset[index]
        assert item["hr"].shape == (4, 2, 8, 8) and (item["index"] == index).all()
        rows, cols = windows[-1]
        whole = original(index)[:, rows, cols]
        for patch in item["hr"].numpy():  # each patch is somewhere in the window read
            assert any(
                np.array_equal(patch, whole[:, i : i + 8, j : j + 8], equal_nan=True)
                for i in range(0, whole.shape[1] - 7, 4)
                for j in range(0, whole.shape[2] - 7, 4)
            )
    assert len(windows) == len(dataset)  # all ocean-enough: one read per item


@pytest.mark.parametrize(
    ("start", "patch", "chunk", "total", "scale"),
    [(0, 8, 16, 64, 4), (28, 8, 16, 64, 4), (56, 8, 16, 64, 4), (12, 24, 10, 60, 3)],
)
def test_read_span_holds_the_patch_on_chunks_and_blocks(
    start: int, patch: int, chunk: int, total: int, scale: int
) -> None:
    low, high = read_span(start, patch, chunk, total, scale)
    assert low <= start and start + patch <= high <= total
    assert low % scale == 0 and (high % scale == 0 or high == total)
    assert low <= max(start - patch, 0) and high >= min(start + 2 * patch, total)


def test_patches_per_read_divides_the_batch_and_the_epoch() -> None:
    assert patches_per_read(16, 4, 4) == 4
    assert patches_per_read(10, 4, 4) == 2
    assert patches_per_read(16, 1, 4) == 1
    assert patches_per_read(16, 8, 1) == 1


@pytest.mark.parametrize("degradation", [None, "area_mean", "gaussian"])
def test_field_dataset_matches_in_memory_path(monthly: Path, degradation: str | None) -> None:
    extra = {} if degradation is None else {"degradation": degradation}
    memory = prepare_data(data_cfg(str(monthly), cache="memory", **extra))
    assert memory.summary()["degradation"] == (degradation or "nanmean")
    plan = build_plan(data_cfg(str(monthly), **extra), 4)
    lazy = LazyFieldDataset(SplitReader(plan, "test"))
    for i in range(len(lazy)):
        item = lazy[i]
        np.testing.assert_array_equal(item["hr"].numpy(), memory.splits["test"].hr[i])
        np.testing.assert_allclose(item["lr"].numpy(), memory.splits["test"].lr[i], rtol=1e-6)


def test_auto_cache_keeps_small_data_in_memory(monthly: Path, monkeypatch) -> None:
    assert lazy_plan(data_cfg(str(monthly), cache="auto"), 4) is None
    from oceansr.data.lazy import source as lazy_data

    monkeypatch.setattr(lazy_data, "MEMORY_BYTES", 1024)
    assert lazy_plan(data_cfg(str(monthly), cache="auto"), 4) is not None


def test_training_reads_lazily_with_workers(monthly: Path, tmp_path: Path, monkeypatch) -> None:
    """A real (tiny) fit + test from a multi-file directory, two DataLoader workers; while
    the statistics are read, status.json says so; afterwards no progress is left."""
    from oceansr.engine.callbacks.preparing import DataPreparation
    from oceansr.runs import read_status
    from oceansr.runs.checkpoint_file import read_hparams
    from oceansr.train.entry import train

    seen: list[tuple[Any, Any]] = []
    report = DataPreparation.__call__

    def watched(self: DataPreparation, done: int, total: int) -> None:
        report(self, done, total)
        self.session.flush()  # what the heartbeat thread writes within a second
        doc = read_status(self.session.paths)
        seen.append((doc["phase"], doc["data_progress"]))

    monkeypatch.setattr(DataPreparation, "__call__", watched)
    result = train(
        [
            "experiment=smoke",
            "data=xarray",
            f"data.path={monthly}",
            "data.variables=[temp,salt]",
            "data.cache=lazy",
            "data.num_workers=2",
            f"runs_root={tmp_path}",
        ]
    )
    stats = json.loads((Path(result.run_dir) / streaming.STATS_FILE).read_text())
    assert len(stats["mean"]) == 2
    sampling = {"method": "sample", "fields_read": 8, "fields_total": 8, "seed": 0}
    assert stats["sampling"] == sampling  # auto on the lazy path; 16 > 8 fields
    assert seen[0] == (
        "preparing_data",
        {"stage": "statistics", "fields_read": 0, "fields_total": 8},
    )
    assert seen[-1][1]["fields_read"] == 8 and len(seen) == 9
    final = json.loads((Path(result.run_dir) / "status.json").read_text())
    assert final["status"] == "completed" and final["data_progress"] is None
    assert result.best_checkpoint is not None
    assert read_hparams(result.best_checkpoint)["stats_sampling"] == sampling
    text = (Path(result.run_dir) / "events.jsonl").read_text()
    events = [json.loads(line) for line in text.splitlines()]
    start = next(e for e in events if e["event"] == "training_start")
    assert start["data"]["stats_sampling"] == sampling
    metrics = result.test_metrics
    assert np.isfinite(metrics["test/temp/rmse"]) and np.isfinite(metrics["test/salt/ssim"])


def test_mode_test_takes_statistics_from_the_checkpoint(
    monthly: Path, tmp_path: Path, monkeypatch
) -> None:
    """mode=test in a new run directory: the checkpoint's statistics, no pass over data."""
    from oceansr.runs.checkpoint_file import read_hparams
    from oceansr.train.entry import train

    common = [
        "experiment=smoke",
        "data=xarray",
        f"data.path={monthly}",
        "data.variables=[temp,salt]",
        "data.cache=lazy",
    ]
    trained = train([*common, f"runs_root={tmp_path / 'train'}"])
    assert trained.best_checkpoint is not None
    hparams = read_hparams(trained.best_checkpoint)

    def no_pass(*args: Any) -> None:
        raise AssertionError("statistics recomputed although the checkpoint has them")

    monkeypatch.setattr(streaming, "streaming_stats", no_pass)
    tested = train(
        [
            *common,
            "mode=test",
            f"ckpt_path={trained.best_checkpoint}",
            f"runs_root={tmp_path / 'test'}",
        ]
    )
    assert not (Path(tested.run_dir) / streaming.STATS_FILE).exists()
    for key, value in trained.test_metrics.items():
        assert tested.test_metrics[key] == pytest.approx(value, rel=1e-6), key
    derived = yaml.safe_load((Path(tested.run_dir) / "config.yaml").read_text())["derived"]
    assert derived["mean"] == hparams["mean"] and derived["data_range"] == hparams["data_range"]
    # Nothing was read: the record says the checkpoint gave them, and how it made them.
    assert derived["stats_sampling"]["method"] == "checkpoint"
    assert derived["stats_sampling"]["fields_read"] == 0
    assert derived["stats_sampling"]["trained_with"] == hparams["stats_sampling"]
    assert hparams["stats_sampling"]["method"] == "sample"


@pytest.mark.parametrize("degradation", ["gaussian", "area_mean", "strict_mean"])
def test_patch_lr_is_the_whole_fields_lr_under_it(monthly: Path, degradation: str) -> None:
    """A lazy patch's LR equals the whole field's LR under it, at the field's edges and
    inside it: the Gaussian is read with its halo, area_mean with the patch's latitude."""
    plan = build_plan(data_cfg(str(monthly), degradation=degradation), 4)
    reader = SplitReader(plan, "train")
    whole = reader.read(1)
    assert plan.lat is not None and not np.allclose(plan.lat, plan.lat[0])
    full = degrade(whole, 4, degradation, lat=plan.lat)
    assert not np.array_equal(full, block_mean(whole, 4), equal_nan=True)  # not nanmean
    for top, left in [(0, 0), (16, 24), (32, 40)]:  # reads at a corner, inside, bottom
        rows, cols = slice(top, top + 32), slice(left, left + 56)
        hr = reader.read(1, (rows, cols))
        offsets = [(0, 0), (0, 24), (16, 8)]  # patches at the read's corners and inside
        got = read_lr(reader, 1, hr, rows, cols, offsets, 16)
        for (i, j), lr in zip(offsets, got, strict=True):
            r, c = (top + i) // 4, (left + j) // 4
            np.testing.assert_allclose(lr, full[:, r : r + 4, c : c + 4], rtol=1e-6, atol=1e-6)


def test_validation_samples_fields_and_its_workers_do_not_persist(monthly: Path) -> None:
    """data.val_fields: the same spread fields at every validation (their own indices),
    the test stays whole; evaluation workers come and go, training workers persist."""
    from oceansr.config.compose import compose_config, normalise_config
    from oceansr.data.datamodule import OceanDataModule

    cfg = compose_config(
        [
            "data=xarray",
            f"data.path={monthly}",
            "data.variables=[temp,salt]",
            "data.split.train={start: 0, stop: 6}",
            "data.split.valid={start: 6, stop: 11}",
            "data.split.test=[11]",
            "data.cache=lazy",
            "data.val_fields=3",
            "data.num_workers=1",
            "data.eval_workers=1",
            "data.batch_size=4",
            "data.patch_size=16",
        ]
    )
    normalise_config(cfg)
    module = OceanDataModule(cfg.data)
    val, test, train = (
        module.val_dataloader(),
        module.test_dataloader(),
        module.train_dataloader(),
    )
    assert [int(i) for b in val for i in b["index"]] == [0, 2, 4]
    assert len(test.dataset) == 1
    assert not val.persistent_workers and not test.persistent_workers
    assert val.num_workers == 1 and train.num_workers == 1 and train.persistent_workers
    assert train.batch_size == 1  # one read of the four patches of a batch
    assert len(next(iter(train))["hr"]) == 4
