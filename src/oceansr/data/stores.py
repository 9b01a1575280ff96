"""Open one or many NetCDF files / Zarr stores as one lazy (dask-chunked) dataset.

``data.path`` may be a file, a Zarr store (v2 or v3, consolidated or not), a directory
of files, a glob or a list. Many files are combined by their coordinates (a time axis
spread over daily or monthly files becomes one axis), so nothing but metadata is read
when the dataset is opened (docs/architecture.md, data). Chunks default to the store's
own chunking (``chunks={}``), or follow ``data.chunks`` (dim -> size).
"""

from __future__ import annotations

import glob
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from oceansr.core.errors import ConfigError, DataInvalidError, DataNotFoundError

DATA_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf", ".zarr", ".h5")
_ZARR_MARKERS = (".zgroup", ".zarray", ".zmetadata", "zarr.json")
_GLOB_CHARS = set("*?[")


def is_zarr_store(path: Path) -> bool:
    """A directory is a Zarr store when it holds Zarr v2 or v3 metadata (or ends .zarr)."""
    if path.suffix == ".zarr":
        return True
    return path.is_dir() and any((path / marker).exists() for marker in _ZARR_MARKERS)


def expand_paths(source: Any) -> list[Path] | None:
    """The files a multi-file ``data.path`` names, or None for one file or store.

    A list, a glob, or a directory that is not a Zarr store is multi-file; it must match
    at least one NetCDF file or Zarr store (else DataNotFoundError naming data.path).
    """
    if isinstance(source, str | Path) and not _GLOB_CHARS & set(str(source)):
        path = Path(str(source)).expanduser()
        if not path.is_dir() or is_zarr_store(path):
            return None
        found = sorted(p for p in path.iterdir() if p.suffix in DATA_SUFFIXES)
        return _non_empty(found, f"directory {path} holds no NetCDF/Zarr file")
    if isinstance(source, str | Path):
        found = sorted(Path(p) for p in glob.glob(str(Path(str(source)).expanduser())))
        return _non_empty(found, f"glob {source!r} matches no file")
    if isinstance(source, Sequence):
        paths = [Path(str(p)).expanduser() for p in source]
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise DataNotFoundError(
                f"data path(s) do not exist: {missing[:5]}",
                field="data.path",
                fix="list existing NetCDF files or Zarr stores in data.path=[a.nc, b.nc]",
            )
        return _non_empty(paths, "data.path is an empty list")
    return None


def _non_empty(paths: list[Path], message: str) -> list[Path]:
    if not paths:
        raise DataNotFoundError(
            message,
            field="data.path",
            fix="point data.path at a file, a Zarr store, a directory of .nc files, "
            "a glob such as '/data/glorys_*.nc', or a list of files",
        )
    return paths


def check_chunks(chunks: Any) -> dict[str, int] | None:
    """``data.chunks``: null (the store's chunking) or a mapping dim -> positive int / -1."""
    if chunks is None:
        return None
    if not isinstance(chunks, Mapping) or not all(
        isinstance(v, int) and not isinstance(v, bool) and (v > 0 or v == -1)
        for v in chunks.values()
    ):
        raise ConfigError(
            f"data.chunks must map dims to positive chunk sizes, got {chunks!r}",
            field="data.chunks",
            fix="e.g. data.chunks='{time: 1, lat: 512, lon: 512}', or data.chunks=null "
            "for the store's own chunking",
        )
    return {str(k): int(v) for k, v in chunks.items()}


def open_many(
    paths: list[Path], decode_times: bool, chunks: dict[str, int] | None
) -> tuple[xr.Dataset, str]:
    """Open files/stores as one dataset combined by coordinates (metadata only)."""
    engine = "zarr" if all(is_zarr_store(p) for p in paths) else None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            ds = xr.open_mfdataset(
                [str(p) for p in paths],
                combine="by_coords",
                chunks={} if chunks is None else chunks,
                decode_times=decode_times,
                engine=engine,
                data_vars="minimal",
                coords="minimal",
                compat="override",
                join="outer",
            )
    except (ValueError, OSError, KeyError, TypeError, RuntimeError) as exc:
        raise DataInvalidError(
            f"cannot open {len(paths)} files as one dataset combined by coordinates: {exc}",
            field="data.path",
            fix="give files on the same grid that differ along one axis (e.g. daily files "
            "of one time axis); with year-0000 time axes add data.decode_times=false",
        ) from exc
    first = paths[0]
    return ds, f"multi:{len(paths)} files from {first.parent}/{first.name}"
