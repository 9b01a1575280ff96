"""Data paths are judged by ``stat`` before anything opens them, and data that train but
are odd (no coordinates, a constant field) are warned about on both data paths."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

from oceansr.core.errors import DataNotFoundError
from oceansr.data.describe import describe_dataset
from oceansr.data.lazy.source import LazyData, build_plan
from oceansr.data.lr_input import open_lr_fields
from oceansr.data.stores import check_openable, check_source_paths
from oceansr.data.validation import validate_overrides
from oceansr.runs import override
from waiting import returns_within


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.nc"
    os.mkfifo(path)
    yield path


def test_special_files_are_refused_by_kind_and_ordinary_ones_pass(
    tmp_path: Path, fifo: Path
) -> None:
    sock_path = tmp_path / "s.nc"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        cases = {fifo: "a FIFO (named pipe)", sock_path: "a socket"}
        if Path("/dev/null").exists():
            cases[Path("/dev/null")] = "a character device"
        for path, kind in cases.items():
            with pytest.raises(DataNotFoundError) as caught:
                check_openable(path, "input")
            assert caught.value.field == "input" and kind in caught.value.message
    (tmp_path / "f.nc").write_bytes(b"x")
    for fine in (tmp_path / "f.nc", tmp_path, tmp_path / "missing.nc"):
        check_openable(fine)  # a regular file, a directory; a missing one: the opener's error
    check_source_paths([str(tmp_path / "f.nc")])
    with pytest.raises(DataNotFoundError):
        check_source_paths(f"{tmp_path}/*.nc")  # the glob matches the FIFO


def test_describe_and_lr_input_refuse_a_fifo_without_blocking(fifo: Path) -> None:
    def describe() -> DataNotFoundError:
        with pytest.raises(DataNotFoundError) as caught:
            describe_dataset(fifo)
        return caught.value

    error = returns_within(describe, "describe_dataset of a FIFO")
    assert error.field == "path" and "FIFO" in error.message

    def read() -> DataNotFoundError:
        with pytest.raises(DataNotFoundError) as caught:
            open_lr_fields(fifo, ["temp"], path_field="input")
        return caught.value

    assert returns_within(read, "open_lr_fields of a FIFO").field == "input"


def _odd_file(path: Path) -> Path:
    """No coordinate at all; ``flat`` is constant over the ocean, ``temp`` is not."""
    rng = np.random.default_rng(1)
    temp = rng.standard_normal((12, 16, 16)).astype("float32")
    temp[:, :2, :2] = np.nan
    flat = np.where(np.isnan(temp), np.nan, 3.0).astype("float32")
    ds = xr.Dataset({"temp": (("time", "y", "x"), temp), "flat": (("time", "y", "x"), flat)})
    ds.to_netcdf(path)
    return path


def _request(path: Path, cache: str) -> list[str]:
    return [
        *("model=srcnn", "data=xarray", f"data.path={path}", "data.variables=[temp,flat]"),
        *("data.split.by=index", "data.split.train=[0,1,2,3,4,5,6,7]"),
        *("data.split.valid=[8,9]", "data.split.test=[10,11]", "data.patch_size=8"),
        f"data.cache={cache}",
    ]


@pytest.mark.parametrize("cache", ["memory", "lazy"])
def test_no_coordinates_and_a_constant_field_are_warned_before_spawning(
    tmp_path: Path, cache: str
) -> None:
    reply = validate_overrides(_request(_odd_file(tmp_path / "odd.nc"), cache))
    assert reply["ok"], reply.get("error_summary")
    warnings = reply["data"]["warnings"]
    assert any("no latitude/longitude coordinates" in w for w in warnings), warnings
    assert any("'flat' is constant" in w for w in warnings), warnings
    assert not any("'temp'" in w for w in warnings)


def test_the_lazy_statistics_name_the_constant_field_and_split_labels_are_positions(
    tmp_path: Path,
) -> None:
    """The trainer's own pass (lazy path) finds the constant field over the whole
    training split; a sample dim with no coordinate is labelled by position."""
    reply = validate_overrides(_request(_odd_file(tmp_path / "odd.nc"), "lazy"))
    plan = build_plan(dict(reply["config"].data), 4)
    assert plan.splits["valid"].labels == ["time=8", "time=9"]
    summary = LazyData(plan).summary()
    assert summary["std"][1] == 1.0  # replaced, so nothing divides by zero
    assert any("'flat' is constant over the training split" in w for w in summary["warnings"])


def _daily_files(folder: Path, count: int) -> list[Path]:
    """``count`` NetCDF files of one (time, lat, lon) field each, consecutive in time."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    paths = []
    for day in range(count):
        ds = xr.Dataset(
            {"temp": (("time", "lat", "lon"), rng.normal(size=(1, 8, 16)).astype("float32"))},
            coords={
                "time": [day],
                "lat": np.linspace(-10, 10, 8),
                "lon": np.linspace(0, 30, 16),
            },
        )
        paths.append(folder / f"day{day}.nc")
        ds.to_netcdf(paths[-1])
    return paths


def test_describe_of_several_files_reports_the_source_as_given(tmp_path: Path) -> None:
    """A glob (or a list) is reported as given, with the number of files it matched, and
    the suggested ``data.path`` is that glob: it was ``null`` / ``<path>`` before."""
    files = _daily_files(tmp_path / "daily", 3)
    pattern = str(tmp_path / "daily" / "day*.nc")
    info = describe_dataset(pattern)
    assert (info["path"], info["n_files"], info["dims"]["time"]) == (pattern, 3, 3)
    assert override("data.path", pattern) in info["suggested_overrides"]
    listed = describe_dataset([str(p) for p in files[:2]])
    assert (listed["path"], listed["n_files"]) == ([str(p) for p in files[:2]], 2)
    one = describe_dataset(files[0])
    assert one["path"] == str(files[0]) and "n_files" not in one
