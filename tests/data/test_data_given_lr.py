"""A given LR source (``data.lr_path``): the lazy path reads the LR window under each
HR patch and equals the in-memory given-LR path; misaligned grids are classified errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
import xarray as xr

from oceansr.core.errors import ConfigError, DataInvalidError
from oceansr.data.lazy.datasets import LazyFieldDataset, LazyPatchDataset, fill_patch
from oceansr.data.lazy.plan import SplitReader
from oceansr.data.lazy.source import build_plan
from oceansr.data.prepare import prepare_data
from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean

SCALE = 4
SPLIT = {"dim": "time", "by": "index", "train": {"start": 0, "stop": 4}, "valid": [4], "test": [5]}


def coarse(hr: xr.Dataset, scale: int, pad: int = 1) -> xr.Dataset:
    """An LR product of ``hr``: block mean plus a smooth offset (so it is not the block
    mean the lazy path would make), on a domain ``pad`` LR cells larger at the start."""
    values = block_mean(hr["temp"].values[:, None], scale)[:, 0]
    values = values + np.float32(0.5) + np.linspace(0, 1, values.shape[-1], dtype=np.float32)
    lat = hr["lat"].values.reshape(-1, scale).mean(axis=1)
    lon = hr["lon"].values.reshape(-1, scale).mean(axis=1)
    dlat = lat[1] - lat[0]
    lat = np.concatenate([lat[0] - dlat * np.arange(pad, 0, -1), lat])
    values = np.concatenate([np.full((values.shape[0], pad, values.shape[2]), 3.0), values], 1)
    return xr.Dataset(
        {"temp": (("time", "lat", "lon"), values.astype(np.float32))},
        coords={"time": hr["time"], "lat": lat, "lon": lon},
    )


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, xr.Dataset]:
    root = tmp_path_factory.mktemp("given")
    hr = make_synthetic_dataset(n_time=6, height=64, width=96)
    lr = coarse(hr, SCALE)
    hr.to_zarr(root / "hr.zarr", zarr_format=2, consolidated=True)
    lr.to_netcdf(root / "lr.nc")
    return root / "hr.zarr", root / "lr.nc", lr


def cfg(hr: Path, lr: Any, **extra: Any) -> dict[str, Any]:
    base = {
        "source": "xarray",
        "path": str(hr),
        "lr_path": str(lr),
        "variables": ["temp"],
        "split": SPLIT,
        "scale": SCALE,
        "crop_to_scale": True,
        "cache": "lazy",
        "chunks": None,
    }
    return base | extra


def test_lazy_given_lr_equals_the_in_memory_path(stores: tuple[Path, Path, xr.Dataset]) -> None:
    hr, lr, product = stores
    memory = prepare_data(cfg(hr, lr, cache="memory"))
    assert memory.degradation == "given"  # recorded: oceansr did not make this LR
    plan = build_plan(cfg(hr, lr), SCALE)
    assert plan.given_lr is not None and plan.given_lr.offset == (1, 0)
    for split in ("train", "test"):
        lazy = LazyFieldDataset(SplitReader(plan, split))
        for i in range(len(lazy)):
            item = lazy[i]
            np.testing.assert_array_equal(item["lr"].numpy(), memory.splits[split].lr[i])
            np.testing.assert_array_equal(item["hr"].numpy(), memory.splits[split].hr[i])
    # The given LR, not the block mean of HR: the product's values over the HR domain.
    raw = product["temp"].values[:, 1:]
    ocean = memory.splits["train"].lr_mask[:, 0]
    np.testing.assert_array_equal(memory.splits["train"].lr[:, 0][ocean], raw[:4][ocean])


def test_patches_read_the_lr_window_under_the_hr_patch(
    stores: tuple[Path, Path, xr.Dataset],
) -> None:
    hr, lr, product = stores
    plan = build_plan(cfg(hr, lr), SCALE)
    dataset = LazyPatchDataset(
        SplitReader(plan, "train"),
        patch_size=32,
        patches_per_field=2,
        min_ocean_fraction=0.3,
        fallback=[15.0],
    )
    raw = product["temp"].values[:, 1:]  # LR over the HR domain
    reader = SplitReader(plan, "train")
    torch.manual_seed(0)
    for index in range(len(dataset)):
        item = dataset[index]
        field = index // 2
        whole = reader.read(field)
        for hr_patch, lr_patch in zip(item["hr"].numpy(), item["lr"].numpy(), strict=True):
            (i, j), *others = [
                (i, j)
                for i in range(0, whole.shape[1] - 31, SCALE)
                for j in range(0, whole.shape[2] - 31, SCALE)
                if np.array_equal(whole[:, i : i + 32, j : j + 32], hr_patch, equal_nan=True)
            ]
            assert not others  # synthetic eddies: the patch is found in one place
            li, lj = i // SCALE, j // SCALE
            want = fill_patch(raw[field, None, li : li + 8, lj : lj + 8], [15.0])
            np.testing.assert_array_equal(lr_patch, want)
            made = block_mean(hr_patch, SCALE)
            assert not np.allclose(lr_patch[np.isfinite(made)], made[np.isfinite(made)])


def test_misaligned_lr_grid_names_the_field(
    stores: tuple[Path, Path, xr.Dataset], tmp_path: Path
) -> None:
    hr, _, product = stores
    shifted = product.assign_coords(lat=product["lat"] + 0.3 * float(product["lat"].diff("lat")[0]))
    shifted.to_netcdf(tmp_path / "shifted.nc")
    with pytest.raises(DataInvalidError) as info:
        build_plan(cfg(hr, tmp_path / "shifted.nc"), SCALE)
    assert info.value.field == "data.lr_path"
    hr_ds = xr.open_zarr(hr)
    coarse(hr_ds.load(), 2).to_netcdf(tmp_path / "x2.nc")  # a x2 product with scale=4
    with pytest.raises(DataInvalidError) as scale:
        build_plan(cfg(hr, tmp_path / "x2.nc"), SCALE)
    assert scale.value.field == "data.scale" and "data.scale=2" in scale.value.fix


def test_lr_path_needs_the_xarray_source(stores: tuple[Path, Path, xr.Dataset]) -> None:
    from oceansr.core.errors import ConfigError

    hr, lr, _ = stores
    with pytest.raises(ConfigError) as info:
        prepare_data(cfg(hr, lr, source="synthetic", cache="memory"))
    assert info.value.field == "data.lr_path"


@pytest.mark.parametrize("cache", ["memory", "lazy"])
def test_an_operator_with_given_lr_is_refused(
    stores: tuple[Path, Path, xr.Dataset], cache: str
) -> None:
    """data.degradation does not apply to a given LR: asking for one is an error that
    names the field, on both paths (the default stays accepted and records "given")."""
    hr, lr, _ = stores
    with pytest.raises(ConfigError) as err:
        prepare_data(cfg(hr, lr, cache=cache, degradation="strict_mean"))
    assert err.value.field == "data.degradation"
    assert "data.lr_path" in str(err.value)
