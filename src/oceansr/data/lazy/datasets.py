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

import numpy as np
import torch
from torch.utils.data import Dataset

from oceansr.data.degrade import degrade, halo
from oceansr.data.fields import spans_globe
from oceansr.data.lazy.plan import SplitReader
from oceansr.data.transforms import fill_land_nearest

MAX_PATCH_TRIES = 20
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


def patch_lr(reader: SplitReader, index: int, hr: np.ndarray, hi: int, hj: int) -> np.ndarray:
    """LR ``(C, p/scale, p/scale)`` of the HR patch ``hr`` at ``(hi, hj)`` of field
    ``index``, by the plan's ``data.degradation``: an operator that reaches beyond the
    block (``gaussian``) is run on the patch widened by its halo (clipped to the field,
    in whole blocks), so the patch's LR is the whole field's LR under it."""
    plan = reader.plan
    name, scale = plan.cfg.get("degradation"), plan.scale
    pad, size = halo(name, scale), hr.shape[-1]
    top, left = max(hi - pad, 0), max(hj - pad, 0)
    rows = slice(top, min(hi + size + pad, plan.hr_shape[0]))
    cols = slice(left, min(hj + size + pad, plan.hr_shape[1]))
    source = reader.read(index, (rows, cols)) if pad else hr
    lr = degrade(source, scale, name, lat=window_lat(plan.lat, rows, cols))
    r0, c0, n = (hi - top) // scale, (hj - left) // scale, size // scale
    return lr[:, r0 : r0 + n, c0 : c0 + n]


class LazyPatchDataset(Dataset):
    """Random HR patches read from disk, aligned to the LR grid, with min ocean fraction."""

    def __init__(
        self,
        reader: SplitReader,
        patch_size: int,
        patches_per_field: int,
        min_ocean_fraction: float,
        fallback: list[float],
    ) -> None:
        self.reader = reader
        self.scale = reader.plan.scale
        self.patch_size = patch_size
        self.lr_patch = patch_size // self.scale
        self.patches_per_field = patches_per_field
        self.min_ocean_fraction = min_ocean_fraction
        self.fallback = list(fallback)

    def __len__(self) -> int:
        return len(self.reader) * self.patches_per_field

    def _draw(self, field_index: int) -> tuple[int, int, np.ndarray]:
        """An LR-aligned offset and its HR patch, redrawn while too much of it is land."""
        lr_h, lr_w = (n // self.scale for n in self.reader.plan.hr_shape)
        best: tuple[int, int, np.ndarray] | None = None
        best_fraction = -1.0
        for _ in range(MAX_PATCH_TRIES):
            i = int(torch.randint(0, lr_h - self.lr_patch + 1, ()))
            j = int(torch.randint(0, lr_w - self.lr_patch + 1, ()))
            hi, hj, p = i * self.scale, j * self.scale, self.patch_size
            hr = self.reader.read(field_index, (slice(hi, hi + p), slice(hj, hj + p)))
            fraction = float(np.isfinite(hr).all(axis=0).mean())
            if fraction >= self.min_ocean_fraction:
                return i, j, hr
            if fraction > best_fraction:
                best, best_fraction = (i, j, hr), fraction
        assert best is not None
        return best

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        field_index = index // self.patches_per_field
        i, j, hr = self._draw(field_index)
        given = self.reader.plan.given_lr
        if given is None:
            hi, hj = i * self.scale, j * self.scale
            lr = fill_patch(patch_lr(self.reader, field_index, hr, hi, hj), self.fallback)
        else:  # the LR window under the HR patch, read from data.lr_path
            lp = self.lr_patch
            rows, cols = slice(i, i + lp), slice(j, j + lp)
            lr = fill_patch(given.read(self.reader.split, field_index, rows, cols), self.fallback)
        return {
            "lr": torch.from_numpy(lr),
            "hr": torch.from_numpy(hr),
            "index": torch.tensor(field_index),
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
