"""Open one or many NetCDF files / Zarr stores as one lazy (dask-chunked) dataset.

``data.path`` may be a file, a Zarr store (v2 or v3, consolidated or not), a directory
of files, a glob or a list. Many files are combined by their coordinates (a time axis
spread over daily or monthly files becomes one axis), so nothing but metadata is read
when the dataset is opened (docs/architecture.md, data). Chunks default to the store's
own chunking (``chunks={}``), or follow ``data.chunks`` (dim -> size).
"""

from __future__ import annotations

import contextlib
import glob
import os
import stat
import threading
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from oceansr.core.errors import BusyError, ConfigError, DataInvalidError, DataNotFoundError

DATA_SUFFIXES = (".nc", ".nc4", ".cdf", ".netcdf", ".zarr", ".h5")
_ZARR_MARKERS = (".zgroup", ".zarray", ".zmetadata", "zarr.json")
_GLOB_CHARS = set("*?[")
#: The files predict writes, by suffix (:func:`output_format`).
NETCDF_SUFFIXES: tuple[str, ...] = (".nc", ".nc4", ".netcdf", ".cdf")
ZARR_SUFFIXES: tuple[str, ...] = (".zarr",)


def output_format(output: str | os.PathLike[str]) -> str:
    """``"netcdf"`` for .nc/.nc4/.netcdf/.cdf, ``"zarr"`` for .zarr, else ConfigError.

    Here, below the control plane, so ``control.start_predict`` refuses an output it
    cannot write before a predict run exists, by the rule predict itself applies."""
    suffix = Path(output).suffix.lower()
    if suffix in NETCDF_SUFFIXES:
        return "netcdf"
    if suffix in ZARR_SUFFIXES:
        return "zarr"
    raise ConfigError(
        f"output {output} has an unknown extension {suffix!r}",
        field="output",
        fix="name the output *.nc (NetCDF) or *.zarr (Zarr store)",
    )


#: What :func:`check_openable` calls each kind of file that is neither a regular file
#: nor a directory (``stat.S_IS*`` test, name).
_SPECIAL_KINDS: tuple[tuple[Any, str], ...] = (
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def check_openable(path: str | os.PathLike[str], field: str = "data.path") -> None:
    """Refuse a path that is neither a regular file nor a directory, before anything
    opens it.

    ``open()`` of a FIFO blocks until a writer appears (forever, for a path an agent
    made up) and a device may never answer, so a data path, a predict input or mask is
    stat-ed first (``os.stat`` never blocks on them); a missing path is left to the
    caller's own "does not exist" error (docs/architecture.md, control plane).
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise DataNotFoundError(
            f"{field} {path} cannot be examined: {exc.strerror or exc}",
            field=field,
            fix=f"point {field} at a readable NetCDF file or Zarr store",
        ) from exc
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")
    raise DataNotFoundError(
        f"{field} {path} is {kind}, not a NetCDF file or Zarr store; it is not opened",
        field=field,
        fix=f"point {field} at a regular NetCDF file (.nc) or a Zarr store (.zarr directory)",
    )


#: The HDF5/netCDF C libraries are not thread-safe: eight threads opening data at once
#: (concurrent ``control.start`` calls, MCP tools in worker threads) crash the process,
#: so the control plane's reads of data files take turns (:func:`reading`).
_READ_LOCK = threading.Lock()
#: How long a request waits for another one's data read before it is answered "busy".
READ_WAIT_S = 120.0


@contextlib.contextmanager
def reading(what: str, wait_s: float | None = None) -> Iterator[None]:
    """Hold the process-wide data-read lock, or raise :class:`BusyError` after ``wait_s``.

    Only the reads of files already known to be regular files or directories
    (:func:`check_openable`) run under it, so no request can hold it across an open
    that never returns; the deadline turns a long queue into a classified "busy,
    retry" answer instead of an endless wait.
    """
    wait = READ_WAIT_S if wait_s is None else wait_s
    if not _READ_LOCK.acquire(timeout=wait):
        raise BusyError(
            f"{what}: another request has been reading data for more than {wait:g} s",
            fix="retry in a moment (one data check runs at a time per process)",
        )
    try:
        yield
    finally:
        _READ_LOCK.release()


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
        return _openable(_non_empty(found, f"directory {path} holds no NetCDF/Zarr file"))
    if isinstance(source, str | Path):
        found = sorted(Path(p) for p in glob.glob(str(Path(str(source)).expanduser())))
        return _openable(_non_empty(found, f"glob {source!r} matches no file"))
    if isinstance(source, Sequence):
        paths = _openable([Path(str(p)).expanduser() for p in source])
        missing = [str(p) for p in paths if not p.exists()]
        if missing:
            raise DataNotFoundError(
                f"data path(s) do not exist: {missing[:5]}",
                field="data.path",
                fix="list existing NetCDF files or Zarr stores in data.path=[a.nc, b.nc]",
            )
        return _non_empty(paths, "data.path is an empty list")
    return None


def check_source_paths(source: Any, field: str = "data.path") -> None:
    """:func:`check_openable` for every path a ``data.path``-like value names (a file or
    store, each match of a glob, each item of a list, each data file of a directory),
    by ``stat`` alone, so a caller can refuse a FIFO before taking :func:`reading`.
    Missing or unmatched paths are left to the opener's own errors."""
    if source is None:
        return
    if isinstance(source, Sequence) and not isinstance(source, str | bytes):
        for item in source:
            check_openable(Path(str(item)).expanduser(), field)
        return
    text = str(source)
    if _GLOB_CHARS & set(text):
        for match in sorted(glob.glob(str(Path(text).expanduser()))):
            check_openable(match, field)
        return
    path = Path(text).expanduser()
    check_openable(path, field)
    if path.is_dir() and not is_zarr_store(path):
        for child in sorted(path.iterdir()):
            if child.suffix in DATA_SUFFIXES:
                check_openable(child, field)


def _openable(paths: list[Path]) -> list[Path]:
    """``paths``, once each is known to be a regular file or directory (no FIFO)."""
    for path in paths:
        check_openable(path)
    return paths


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
