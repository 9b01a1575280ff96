"""Datasets that read from disk: random HR patches and whole fields of a lazy split.

Each training sample reads only the chunks under one HR patch; its LR input is the
LR window under it read from ``data.lr_path`` (:mod:`oceansr.data.lazy.given_lr`) or made
from that patch by the ``data.degradation`` operator (:mod:`oceansr.data.degrade`; read
with the operator's halo, so it equals the whole field's LR there) with land filled from
the nearest ocean cell of the patch; the minimum ocean fraction is applied per patch as
in the in-memory path (docs/architecture.md, data). Readers reopen their dataset in each
DataLoader worker.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import Dataset

from oceansr.data.degrade import degrade, halo
from oceansr.data.fields import spans_globe
from oceansr.data.lazy.plan import SplitReader
from oceansr.data.transforms import fill_land_nearest

MAX_PATCH_TRIES = 20
#: Reads tried per item before keeping the most oceanic one (each try is a disk read).
MAX_READ_TRIES = 4
#: HR cells (per variable) above which a read around a patch is not widened to whole
#: storage chunks: 4 Mi cells, 16 MB of float32 (four 1024 x 1024 chunks).
READ_CELLS = 1 << 22
#: DataLoader workers of lazy datasets start from a clean forkserver, not a fork of the
#: trainer: a forked HDF5/netCDF library (or a lock held by a dask thread at fork time)
#: can deadlock the worker's first read. Each worker opens its own handles.
WORKER_CONTEXT = "forkserver"


def fill_patch(lr: np.ndarray, fallback: list[float]) -> np.ndarray:
    """``(C, h, w)`` LR with land filled; an all-land channel takes ``fallback`` (the mean)."""
    out = lr.copy()
    for c in range(lr.shape[0]):
        if not np.isfinite(lr[c]).any():
            out[c] = fallback[c]
        elif not np.isfinite(lr[c]).all():
            out[c] = fill_land_nearest(lr[c][None, None])[0, 0]
    return out.astype(np.float32, copy=False)


def window_lat(lat: np.ndarray | None, rows: slice, cols: slice) -> np.ndarray | None:
    """The latitude of an HR window (1-D: its rows; 2-D: its cells), for ``area_mean``."""
    if lat is None:
        return None
    return lat[rows] if lat.ndim == 1 else lat[rows, cols]


def read_lr(
    reader: SplitReader,
    index: int,
    hr: np.ndarray,
    rows: slice,
    cols: slice,
    offsets: list[tuple[int, int]],
    patch: int,
) -> list[np.ndarray]:
    """LR of the patches at HR ``offsets`` (``patch`` cells) of a read ``hr`` (rows
    ``rows``, cols ``cols``, LR-aligned) of field ``index``, by ``data.degradation``.

    A block-local operator (its :func:`~oceansr.data.degrade.halo` is 0) is run on each
    patch alone, a small fraction of the read; one that reaches beyond the block
    (``gaussian``) on the read widened by its halo (clipped to the field, in whole
    blocks), so each patch's LR is the whole field's LR there.
    """
    plan = reader.plan
    name, scale = plan.cfg.get("degradation"), plan.scale
    pad = halo(name, scale)
    if not pad:
        return [
            degrade(
                hr[:, i : i + patch, j : j + patch],
                scale,
                name,
                lat=window_lat(
                    plan.lat,
                    slice(rows.start + i, rows.start + i + patch),
                    slice(cols.start + j, cols.start + j + patch),
                ),
            )
            for i, j in offsets
        ]
    top, left = max(rows.start - pad, 0), max(cols.start - pad, 0)
    wide_rows = slice(top, min(rows.stop + pad, plan.hr_shape[0]))
    wide_cols = slice(left, min(cols.stop + pad, plan.hr_shape[1]))
    source = reader.read(index, (wide_rows, wide_cols))
    lr = degrade(source, scale, name, lat=window_lat(plan.lat, wide_rows, wide_cols))
    r0, c0, n = (rows.start - top) // scale, (cols.start - left) // scale, patch // scale
    cuts = [(r0 + i // scale, c0 + j // scale) for i, j in offsets]
    return [lr[:, r : r + n, c : c + n] for r, c in cuts]


def patches_per_read(batch_size: int, patches_per_field: int, wanted: int) -> int:
    """Patches cut from one read: ``data.patches_per_read`` at most, and a divisor of the
    batch (a batch is whole reads) and of ``patches_per_field`` (an epoch keeps its size)."""
    return max(1, math.gcd(batch_size, patches_per_field, wanted))


def read_span(start: int, patch: int, chunk: int, total: int, scale: int) -> tuple[int, int]:
    """HR rows (or cols) to read for a patch at ``start``: the storage chunks under
    ``[start - patch, start + 2 * patch)``, which the read fetches anyway, clipped to the
    field and widened to whole LR blocks. Always holds ``[start, start + patch)``."""
    low, high = max(start - patch, 0), min(start + 2 * patch, total)
    low, high = (low // chunk) * chunk, min(-(-high // chunk) * chunk, total)
    return (low // scale) * scale, min(-(-high // scale) * scale, total)


def concat_patches(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Collate reads of several patches each into one batch (concatenated, not stacked)."""
    return {key: torch.cat([item[key] for item in items]) for key in items[0]}


class LazyPatchDataset(Dataset):
    """Random HR patches read from disk, aligned to the LR grid, with min ocean fraction.

    An item is one read: a leading patch drawn uniformly over the field, the storage
    chunks around it read at once (:func:`read_span`, at most :data:`READ_CELLS`), and
    ``per_read`` patches cut from them, each redrawn within the read while too much of
    it is land. One read per ``per_read`` patches instead of one per patch: chunk-aligned
    sampling, as xbatcher and PhysicsNeMo's datapipes do. The cost is that the patches of
    one read are neighbours; a batch still mixes ``batch_size / per_read`` fields.
    Collate with :func:`concat_patches`.
    """

    def __init__(
        self,
        reader: SplitReader,
        patch_size: int,
        patches_per_field: int,
        min_ocean_fraction: float,
        fallback: list[float],
        per_read: int = 1,
    ) -> None:
        if patches_per_field % per_read:
            raise ValueError(f"per_read={per_read} must divide {patches_per_field=}")
        self.reader = reader
        self.scale = reader.plan.scale
        self.patch_size = patch_size
        self.lr_patch = patch_size // self.scale
        self.reads_per_field = patches_per_field // per_read
        self.per_read = per_read
        self.min_ocean_fraction = min_ocean_fraction
        self.fallback = list(fallback)

    def __len__(self) -> int:
        return len(self.reader) * self.reads_per_field

    def _region(self, leader: tuple[int, int]) -> tuple[slice, slice]:
        """The HR window read around a leading patch at HR ``leader``."""
        chunk = self.reader.chunk_shape
        height, width = self.reader.plan.hr_shape
        p, s = self.patch_size, self.scale
        spans = [
            read_span(leader[axis], p, chunk[axis], (height, width)[axis], s) for axis in (0, 1)
        ]
        if (spans[0][1] - spans[0][0]) * (spans[1][1] - spans[1][0]) > READ_CELLS:
            # Chunks too large to read whole (a contiguous NetCDF field): the box alone.
            spans = [read_span(leader[axis], p, s, (height, width)[axis], s) for axis in (0, 1)]
        return slice(*spans[0]), slice(*spans[1])

    def _draw_in(self, ocean: np.ndarray) -> tuple[int, int]:
        """An LR-aligned patch inside a read (``ocean``: its ocean mask), redrawn while
        too much of it is land, else the most oceanic try: its HR offsets in the read."""
        p, s = self.patch_size, self.scale
        best, best_fraction = (0, 0), -1.0
        rows = (ocean.shape[0] - p) // s + 1
        cols = (ocean.shape[1] - p) // s + 1
        for _ in range(MAX_PATCH_TRIES):
            i = int(torch.randint(0, rows, ())) * s
            j = int(torch.randint(0, cols, ())) * s
            fraction = float(ocean[i : i + p, j : j + p].mean())
            if fraction >= self.min_ocean_fraction:
                return i, j
            if fraction > best_fraction:
                best, best_fraction = (i, j), fraction
        return best

    def _read(self, field_index: int) -> tuple[slice, slice, np.ndarray, list[tuple[int, int]]]:
        """One read around a uniformly drawn leading patch, re-read elsewhere (up to
        :data:`MAX_READ_TRIES` times) while it holds no patch with enough ocean; the
        read and the ``per_read`` patch offsets drawn in it."""
        lr_h, lr_w = (n // self.scale for n in self.reader.plan.hr_shape)
        p = self.patch_size
        best: tuple[float, slice, slice, np.ndarray, np.ndarray] | None = None
        for _ in range(MAX_READ_TRIES):
            i = int(torch.randint(0, lr_h - self.lr_patch + 1, ())) * self.scale
            j = int(torch.randint(0, lr_w - self.lr_patch + 1, ())) * self.scale
            rows, cols = self._region((i, j))
            hr = self.reader.read(field_index, (rows, cols))
            ocean = np.isfinite(hr).all(axis=0)
            top, left = i - rows.start, j - cols.start
            lead = float(ocean[top : top + p, left : left + p].mean())
            if best is None or lead > best[0]:
                best = (lead, rows, cols, hr, ocean)
            if lead >= self.min_ocean_fraction:
                break
        assert best is not None
        _, rows, cols, hr, ocean = best
        offsets = [self._draw_in(ocean) for _ in range(self.per_read)]
        return rows, cols, hr, offsets

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        field_index = index // self.reads_per_field
        rows, cols, hr, offsets = self._read(field_index)
        given = self.reader.plan.given_lr
        s, p, lp = self.scale, self.patch_size, self.lr_patch
        if given is None:
            lrs = read_lr(self.reader, field_index, hr, rows, cols, offsets, p)
        else:  # the LR window under the read, from data.lr_path
            lr_rows = slice(rows.start // s, rows.stop // s)
            lr_cols = slice(cols.start // s, cols.stop // s)
            lr = given.read(self.reader.split, field_index, lr_rows, lr_cols)
            lrs = [lr[:, i // s : i // s + lp, j // s : j // s + lp] for i, j in offsets]
        hr_patches = [hr[:, i : i + p, j : j + p] for i, j in offsets]
        lr_patches = [fill_patch(lr, self.fallback) for lr in lrs]
        return {
            "lr": torch.from_numpy(np.stack(lr_patches)),
            "hr": torch.from_numpy(np.ascontiguousarray(np.stack(hr_patches))),
            "index": torch.full((len(offsets),), field_index),
        }


class LazyFieldDataset(Dataset):
    """Whole fields read one at a time (validation, test): LR made and filled per field."""

    def __init__(self, reader: SplitReader) -> None:
        self.reader = reader
        # A globe's land next to the seam is filled from across it (as in evaluation).
        self.periodic = spans_globe(reader.plan.lon)

    def __len__(self) -> int:
        return len(self.reader)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        hr = self.reader.read(index)
        plan = self.reader.plan
        if plan.given_lr is None:
            lr = degrade(hr, plan.scale, plan.cfg.get("degradation"), lat=plan.lat)
        else:
            rows, cols = (slice(0, n) for n in plan.lr_shape)
            lr = plan.given_lr.read(self.reader.split, index, rows, cols)
        lr = fill_land_nearest(lr[None], periodic=self.periodic)[0]
        return {
            "lr": torch.from_numpy(lr.astype(np.float32, copy=False)),
            "hr": torch.from_numpy(hr),
            "index": torch.tensor(index),
        }
