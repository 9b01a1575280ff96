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
