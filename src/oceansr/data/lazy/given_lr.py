"""A given low-resolution source (``data.lr_path``) for the ``xarray`` data source.

Some products come as pairs: the HR field and an LR field made by the producer (a
coarser model run, an L4 analysis), not a block mean of the HR one. ``data.lr_path``
names that LR file, store, directory, glob or list; it holds the same variables and
sample dims as ``data.path``, on a grid ``data.scale`` times coarser that may cover a
larger domain. :func:`plan_given_lr` checks from metadata only that the two line up:

- the same ``sel``/``isel``/``split`` select the same number of samples per split;
- the LR grid step is ``data.scale`` times the HR step (else a DataInvalidError naming
  ``data.scale`` with the measured ratio);
- each LR cell centre is the centre of its HR block, after an offset found from the
  coordinates (else a DataInvalidError naming ``data.lr_path``).

Reading goes through :class:`oceansr.data.lazy.plan.SplitReader` on an LR copy of the plan,
so an LR patch reads only the chunks under it, as HR patches do (docs/architecture.md,
data). The in-memory path reads whole LR fields through the same reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from oceansr.core.errors import DataInvalidError, ShapeMismatchError
from oceansr.data.degrade import refuse_with_given_lr
from oceansr.data.grid import coord_degrees, split_positions
from oceansr.data.lazy.plan import DataPlan, SplitPlan, SplitReader, open_grid
from oceansr.runs.protocol import SPLITS

#: Misalignment tolerated between an LR cell centre and its HR block centre, as a
#: fraction of the LR grid step (coordinates stored as float32 round at ~1e-7 deg).
ALIGN_TOLERANCE = 0.05


@dataclass
class GivenLR:
    """The LR copy of a data plan and where the HR grid's first block sits in it."""

    plan: DataPlan
    offset: tuple[int, int]
    #: One reader per split, kept so that a training patch does not reopen the store
    #: (each reader reopens its own handle in a new process).
    readers: dict[str, SplitReader] = field(default_factory=dict, compare=False, repr=False)

    def read(self, split: str, index: int, rows: slice, cols: slice) -> np.ndarray:
        """LR window ``(rows, cols)`` of sample ``index`` (HR-aligned LR indices)."""
        oy, ox = self.offset
        window = (slice(rows.start + oy, rows.stop + oy), slice(cols.start + ox, cols.stop + ox))
        reader = self.readers.setdefault(split, SplitReader(self.plan, split))
        return reader.read(index, window)

    def read_split(self, split: str, lr_shape: tuple[int, int]) -> np.ndarray:
        """Every LR field of ``split`` over the HR domain, ``(N, C, h, w)`` (in-memory path)."""
        reader = SplitReader(self.plan, split)
        oy, ox = self.offset
        window = (slice(oy, oy + lr_shape[0]), slice(ox, ox + lr_shape[1]))
        return np.stack([reader.read(i, window) for i in range(len(reader))])


def _axis(coord: np.ndarray | None, axis: int) -> np.ndarray | None:
    """A 1-D lat (axis 0) or lon (axis 1) from a 1-D or 2-D coordinate."""
    if coord is None:
        return None
    return coord if coord.ndim == 1 else (coord[:, 0] if axis == 0 else coord[0, :])


def _step(values: np.ndarray) -> float:
    steps = np.abs(np.diff(values))
    return float(np.median(steps)) if steps.size else 0.0


def _offset(hr: np.ndarray | None, lr: np.ndarray | None, n_lr: int, scale: int, name: str) -> int:
    """LR index of the first HR block along one axis (0 without coordinates)."""
    if hr is None or lr is None or lr.size < 2 or hr.size < 2 * scale:
        return 0
    ratio = _step(lr) / max(_step(hr), 1e-300)
    if abs(ratio - scale) > ALIGN_TOLERANCE * scale:
        raise DataInvalidError(
            f"the LR {name} step is {ratio:.3g} times the HR step, not data.scale={scale}",
            field="data.scale",
            fix=f"set data.scale={round(ratio)} (the HR/LR grid ratio), or give in "
            "data.lr_path an LR grid data.scale times coarser than data.path",
        )
    centres = hr[: n_lr * scale].reshape(n_lr, scale).mean(axis=1)
    start = int(np.argmin(np.abs(lr - centres[0])))
    tolerance = ALIGN_TOLERANCE * _step(lr)
    window = lr[start : start + n_lr]
    if window.size != n_lr or np.abs(window - centres).max() > tolerance:
        raise DataInvalidError(
            f"the LR {name} grid of data.lr_path does not line up with HR blocks of "
            f"{scale} cells (LR {name} {lr[start]:.5g} vs HR block centre {centres[0]:.5g})",
            field="data.lr_path",
            fix=f"give an LR grid whose cell centres are the centres of {scale}x{scale} "
            "HR blocks and that covers the HR domain (e.g. a block mean of the HR grid)",
        )
    return start


def _check_samples(plan: DataPlan, positions: dict[str, np.ndarray]) -> None:
    for name in SPLITS:
        want, got = len(plan.splits[name].positions), len(positions[name])
        if want != got:
            raise ShapeMismatchError(
                f"data.split.{name} selects {got} LR samples in data.lr_path but {want} "
                "HR samples in data.path",
                field="data.lr_path",
                fix="give LR fields for the same samples (times, depths) as the HR ones",
            )


def plan_given_lr(plan: DataPlan) -> GivenLR | None:
    """The checked LR source of ``plan`` (metadata only), or None without ``lr_path``."""
    cfg = plan.cfg
    lr_path = cfg.get("lr_path")
    if not lr_path:
        return None
    refuse_with_given_lr(cfg.get("degradation"), "data.lr_path gives the LR fields")
    _, grid, description = open_grid(lr_path, cfg, plan.variables)
    spatial = (grid.ydim, grid.xdim)
    split_dim, _by, positions = split_positions(
        grid.ds, cfg.get("split"), grid.sample_dims, spatial
    )
    _check_samples(plan, positions)
    lr_h, lr_w = plan.lr_shape
    size = (int(grid.ds.sizes[grid.ydim]), int(grid.ds.sizes[grid.xdim]))
    lat = _axis(coord_degrees(grid.ds, grid.lat_var, *spatial), 0)
    lon = _axis(coord_degrees(grid.ds, grid.lon_var, *spatial), 1)
    offset = (
        _offset(_axis(plan.lat, 0), lat, lr_h, plan.scale, "latitude"),
        _offset(_axis(plan.lon, 1), lon, lr_w, plan.scale, "longitude"),
    )
    if offset[0] + lr_h > size[0] or offset[1] + lr_w > size[1]:
        raise ShapeMismatchError(
            f"data.lr_path grid {size[0]}x{size[1]} does not cover the LR grid {lr_h}x{lr_w} "
            f"of the HR data at scale {plan.scale}",
            field="data.lr_path",
            fix=f"give LR fields of at least {lr_h}x{lr_w} cells over the HR domain",
        )
    splits = {
        name: SplitPlan(positions[name], plan.splits[name].labels, plan.splits[name].sample_shape)
        for name in SPLITS
    }
    lr_plan = replace(
        plan,
        cfg={**cfg, "path": lr_path, "lr_path": None},
        hr_shape=size,
        ydim=grid.ydim,
        xdim=grid.xdim,
        sample_dims=list(grid.sample_dims),
        split_dim=split_dim,
        splits=splits,
        source=description,
    )
    return GivenLR(lr_plan, offset)
