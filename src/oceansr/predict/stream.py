"""Streaming prediction: HR fields computed one at a time while the output is written.

The output Dataset of :func:`oceansr.predict.predict` is built around a dask array whose
blocks are single HR fields, each computed on demand by :meth:`FieldStream.field`
(tiled inference of that field's LR, then its land mask). xarray's NetCDF and Zarr
writers store a dask-backed Dataset block by block, after writing coordinates and
attributes, so the whole HR output is never in memory: the peak is one field (plus
the writer's chunk), whatever the number of fields (docs/architecture.md, predict).
Coordinates, attributes and encodings are those of the eager output, because the
Dataset is built by the same :func:`~oceansr.predict.output.build_output_dataset`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import dask
import dask.array as da
import numpy as np
import torch

from oceansr.inference.tiling import ProgressFn, tiled_predict
from oceansr.predict.masks import apply_lr_mask


class StatsAccumulator:
    """Ocean min / max / sum / count per variable, updated field by field.

    Gives what :func:`oceansr.predict.output.prediction_stats` gives on the whole
    output, without the whole output; a field seen twice (a re-executed dask task)
    counts once.
    """

    def __init__(self, variables: Sequence[str], cells_per_field: int, n_fields: int) -> None:
        self.variables = list(variables)
        self.cells = cells_per_field * n_fields
        channels = len(self.variables)
        self.count = np.zeros(channels, dtype=np.int64)
        self.total = np.zeros(channels, dtype=np.float64)
        self.vmin = np.full(channels, math.inf)
        self.vmax = np.full(channels, -math.inf)
        self.seen: set[int] = set()

    def add(self, index: int, field: np.ndarray) -> None:
        """Account for HR field ``index`` (C, H, W), NaN = land."""
        if index in self.seen:
            return
        self.seen.add(index)
        for c in range(field.shape[0]):
            v = field[c][np.isfinite(field[c])]
            if v.size:
                self.count[c] += v.size
                self.total[c] += float(v.sum(dtype=np.float64))
                self.vmin[c] = min(self.vmin[c], float(v.min()))
                self.vmax[c] = max(self.vmax[c], float(v.max()))

    def result(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for c, name in enumerate(self.variables):
            n = int(self.count[c])
            out[name] = {
                "min": float(self.vmin[c]) if n else None,
                "max": float(self.vmax[c]) if n else None,
                "mean": float(self.total[c]) / n if n else None,
                "ocean_fraction": n / self.cells if self.cells else None,
            }
        return out


def conserved(module: Any, hr: np.ndarray, lr: np.ndarray, ocean: np.ndarray | None) -> np.ndarray:
    """``hr`` with the checkpoint's ``model.constraint`` applied (as is without one).

    The HR ocean is the ``hr_mask`` file's, else each LR ocean cell's block; only LR cells
    with a value are conserved (NaN in the input is land).
    """
    if getattr(module, "constraint", "none") == "none":
        return hr
    scale = int(module.scale)
    given = np.isfinite(lr)
    if ocean is None:
        ocean = given.repeat(scale, axis=-2).repeat(scale, axis=-1)
    out = module.conserve(
        torch.from_numpy(hr),
        torch.from_numpy(np.nan_to_num(lr)),
        torch.from_numpy(np.array(ocean, dtype=bool)),  # a writable copy of a broadcast
        torch.from_numpy(given),
    )
    return out.numpy()


class FieldStream:
    """HR fields of a prediction job, one dask block per field (computed when written).

    ``job`` is a :class:`~oceansr.predict.core.PredictJob` whose module and LR fields
    are loaded. ``progress`` gets ``(done_fields, total_fields, done_tiles, total_tiles)``
    as with :func:`oceansr.inference.tiling.tiled_apply` over the whole series.
    """

    def __init__(self, job: Any, progress: ProgressFn | None = None) -> None:
        self.job = job
        lr = job.lr
        self.shape = (lr.n_fields, lr.data.shape[1], lr.height * job.scale, lr.width * job.scale)
        ys, xs = job.windows()
        self.tiles_per_field = len(ys) * len(xs)
        self.progress = progress
        self.stats = StatsAccumulator(
            job.variables or [], self.shape[2] * self.shape[3], lr.n_fields
        )
        self.seconds = 0.0
        self.done = 0

    def field(self, index: int) -> np.ndarray:
        """HR field ``index`` as a (1, C, H, W) block: tiled inference, then land."""
        job, t0 = self.job, time.perf_counter()
        lr = job.lr.data[index : index + 1]
        x = lr  # and the covariates of this field, after its variables
        if job.covariates is not None:
            x = np.concatenate([lr, job.covariates.build(lr)], axis=1)
        hr = tiled_predict(
            job.module,
            x,
            tile=job.tile,
            overlap=job.overlap,
            batch_size=job.batch_size,
            periodic=job.periodic,
        )
        ocean = None
        if job.ocean is not None:
            ocean = np.broadcast_to(job.ocean, (job.lr.n_fields, *hr.shape[1:]))
            ocean = ocean[index : index + 1]
        hr = conserved(job.module, hr, lr, ocean)
        if ocean is not None:
            hr[~ocean] = np.nan
        else:
            apply_lr_mask(hr, lr, job.scale)
        self.seconds += time.perf_counter() - t0
        self.stats.add(index, hr[0])
        self.done += 1
        if self.progress is not None:
            total = self.shape[0]
            self.progress(
                self.done, total, self.done * self.tiles_per_field, total * self.tiles_per_field
            )
        return hr

    def array(self) -> da.Array:
        """The (N, C, H, W) output as a dask array of one-field blocks."""
        block_shape = (1, *self.shape[1:])
        blocks = [
            da.from_delayed(dask.delayed(self.field)(i), shape=block_shape, dtype=np.float32)
            for i in range(self.shape[0])
        ]
        return da.concatenate(blocks, axis=0)
