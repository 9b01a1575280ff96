"""A data config resolved from metadata only: what to read, never the values.

:func:`build_hr_plan` opens the source lazily (:mod:`oceansr.data.stores`), checks the
variables, dims, coordinates, split selections and the scale against the grid, and
records per split where its samples are. Nothing is loaded beyond coordinates; the
fields themselves are read later, patch by patch or field by field, by
:class:`SplitReader` (one handle per process, so DataLoader workers open their own).
See docs/architecture.md, data.
"""

from __future__ import annotations

import functools
import logging
import math
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr

from oceansr.core.errors import ConfigError
from oceansr.data.fields import cf_attrs
from oceansr.data.grid import (
    GridSelection,
    check_variables,
    coord_degrees,
    open_source,
    select_grid,
    split_positions,
)
from oceansr.data.labels import sample_labels
from oceansr.data.stores import check_chunks
from oceansr.data.transforms import crop_coord, crop_shape
from oceansr.runs.protocol import SPLITS

log = logging.getLogger(__name__)


@dataclass
class SplitPlan:
    """Where one split's samples are: positions along the split dim and sample labels."""

    positions: np.ndarray
    labels: list[str]
    sample_shape: tuple[int, ...]

    def __len__(self) -> int:
        return math.prod(self.sample_shape)


@dataclass
class DataPlan:
    """Everything the trainer needs to know about the data, without its values."""

    cfg: dict[str, Any]
    variables: list[str]
    units: list[str]
    scale: int
    hr_shape: tuple[int, int]
    ydim: Hashable
    xdim: Hashable
    sample_dims: list[Hashable]
    split_dim: Hashable
    splits: dict[str, SplitPlan]
    lat: np.ndarray | None
    lon: np.ndarray | None
    source: str
    itemsize: int
    notes: list[str] = field(default_factory=list)
    #: CF long_name / standard_name / units per variable (fields.cf_attrs).
    attrs: list[dict[str, str]] = field(default_factory=list)
    #: The checked ``data.lr_path`` source (:class:`oceansr.data.lazy.given_lr.GivenLR`), or
    #: None: LR is then the block mean of HR. Typed Any: given_lr builds on this module,
    #: which must not import it back (the lazy package's layers, pyproject.toml).
    given_lr: Any = None

    @property
    def lr_shape(self) -> tuple[int, int]:
        return self.hr_shape[0] // self.scale, self.hr_shape[1] // self.scale

    def nbytes(self) -> int:
        """Bytes of all selected HR fields as float32 (decides the in-memory path)."""
        cells = sum(len(s) for s in self.splits.values()) * math.prod(self.hr_shape)
        return cells * len(self.variables) * 4


def _split_plans(
    ds: xr.Dataset, split: Any, sample_dims: list[Hashable], spatial: tuple
) -> tuple[Hashable, dict[str, SplitPlan]]:
    """Positions, labels and sample shape of each split; splits must be disjoint."""
    split_dim, _by, positions = split_positions(ds, split, sample_dims, spatial)
    plans: dict[str, SplitPlan] = {}
    # Only the coordinates are touched here (labels), never the data variables; a sample
    # dim with no coordinate (a file with none at all) is labelled by its positions, as
    # grid.dim_values does, else it would vanish with the data variables.
    index = {d: np.arange(ds.sizes[d]) for d in sample_dims if d not in ds.coords}
    only_coords = ds.drop_vars(list(ds.data_vars)).assign_coords(index)
    for name in SPLITS:
        coords = only_coords.isel({split_dim: positions[name]})
        shape = tuple(int(coords.sizes[d]) for d in sample_dims)
        plans[name] = SplitPlan(positions[name], sample_labels(coords, sample_dims), shape)
    return split_dim, plans


def open_grid(
    path: Any, cfg: Mapping[str, Any], variables: list[str], use_dask: bool = True
) -> tuple[xr.Dataset, GridSelection, str]:
    """Open ``path`` as the ``data`` config says (CF decoding, chunks) and select its
    grid (variables, ``sel``/``isel``, lat/lon names), from metadata only: the one way
    the plan, its split readers and a given LR source see a store. Returns the dataset,
    the grid and the source's description. ``use_dask=False``: see
    :func:`oceansr.data.grid.open_source` (what the split readers ask for)."""
    chunks = check_chunks(cfg.get("chunks"))
    decode = bool(cfg.get("decode_times", True))
    ds, description, _ = open_source(path, decode, chunks, use_dask=use_dask)
    check_variables(ds, variables)
    grid = select_grid(
        ds, variables, cfg.get("sel"), cfg.get("isel"), cfg.get("lat_name"), cfg.get("lon_name")
    )
    return ds, grid, description


def build_hr_plan(cfg: Mapping[str, Any], scale: int) -> DataPlan:
    """Resolve the HR side of an ``xarray`` data config from metadata; classified errors
    on bad input. ``given_lr`` stays None: a given LR source is aligned on this plan by
    :func:`oceansr.data.lazy.given_lr.plan_given_lr`, which builds on this module (the
    two compose in :func:`oceansr.data.lazy.source.build_plan`)."""
    path = cfg.get("path")
    variables = cfg.get("variables")
    if isinstance(variables, str):
        variables = [variables]
    if not variables or variables == "???":
        raise ConfigError(
            "data.variables is required for this source",
            field="data.variables",
            fix="data.variables=[thetao] (names of data variables)",
        )
    variables = [str(v) for v in variables]
    ds, grid, description = open_grid(path, cfg, variables)
    ydim, xdim = grid.ydim, grid.xdim
    split_dim, splits = _split_plans(grid.ds, cfg.get("split"), grid.sample_dims, (ydim, xdim))
    notes: list[str] = []
    height, width = int(grid.ds.sizes[ydim]), int(grid.ds.sizes[xdim])
    hr_shape = crop_shape(height, width, scale, bool(cfg.get("crop_to_scale", True)), notes)
    lat = coord_degrees(grid.ds, grid.lat_var, ydim, xdim)
    lon = coord_degrees(grid.ds, grid.lon_var, ydim, xdim)
    return DataPlan(
        cfg=dict(cfg),
        variables=variables,
        units=[str(ds[v].attrs.get("units", "")) for v in variables],
        attrs=[cf_attrs(ds[v].attrs) for v in variables],
        scale=scale,
        hr_shape=hr_shape,
        ydim=ydim,
        xdim=xdim,
        sample_dims=list(grid.sample_dims),
        split_dim=split_dim,
        splits=splits,
        lat=crop_coord(lat, hr_shape, "lat"),
        lon=crop_coord(lon, hr_shape, "lon"),
        source=f"{description} variables={variables} split={split_dim} (lazy)",
        itemsize=int(ds[variables[0]].dtype.itemsize),
        notes=notes,
    )


def storage_chunks(array: xr.DataArray, ydim: Hashable, xdim: Hashable) -> tuple[int, int]:
    """The ``(rows, cols)`` of one storage chunk of ``array`` (its ``preferred_chunks``,
    else its dask chunks), or the whole field when it is stored contiguously: a read of
    any window fetches whole chunks, so the patch sampler cuts several patches from the
    chunks one read brings (:class:`oceansr.data.lazy.datasets.LazyPatchDataset`)."""
    preferred = array.encoding.get("preferred_chunks") or {}
    sides: list[int] = []
    for dim in (ydim, xdim):
        size = int(array.sizes[dim])
        side = preferred.get(dim)
        if side is None and array.chunks is not None:
            side = array.chunks[array.get_axis_num(dim)][0]
        sides.append(min(int(side), size) if side else size)
    return sides[0], sides[1]


class SplitReader:
    """Reads windows of one split's HR fields as float32 ``(C, h, w)``, NaN = land.

    The dataset handle is opened on first use in each process and dropped when the
    object is pickled, so every DataLoader worker opens its own (file handles and
    dask state are not shared across fork). One file or store is read without dask
    (:func:`oceansr.data.grid.open_source`, ``use_dask=False``).
    """

    def __init__(self, plan: DataPlan, split: str) -> None:
        self.plan = plan
        self.split = split
        self._arrays: list[xr.DataArray] | None = None
        self._pid = -1

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_arrays"], state["_pid"] = None, -1
        return state

    def __len__(self) -> int:
        return len(self.plan.splits[self.split])

    def _open(self) -> list[xr.DataArray]:
        if self._arrays is not None and self._pid == os.getpid():
            return self._arrays
        plan = self.plan
        _, grid, _ = open_grid(plan.cfg.get("path"), plan.cfg, plan.variables, use_dask=False)
        sub = grid.ds.isel({plan.split_dim: plan.splits[self.split].positions})
        order = [*plan.sample_dims, plan.ydim, plan.xdim]
        self._arrays = [sub[v].transpose(*order) for v in plan.variables]
        self._pid = os.getpid()
        return self._arrays

    @functools.cached_property
    def chunk_shape(self) -> tuple[int, int]:
        """The storage chunk of the HR fields (the smallest over the variables), cropped
        to the field: what one read of a window fetches at least (the same in every
        process, so it survives pickling)."""
        sides = [storage_chunks(a, self.plan.ydim, self.plan.xdim) for a in self._open()]
        rows = min(s[0] for s in sides)
        cols = min(s[1] for s in sides)
        return min(rows, self.plan.hr_shape[0]), min(cols, self.plan.hr_shape[1])

    def read(self, index: int, window: tuple[slice, slice] | None = None) -> np.ndarray:
        """Sample ``index`` (flattened over sample dims), HR window ``(rows, cols)``."""
        rows, cols = window or (slice(0, self.plan.hr_shape[0]), slice(0, self.plan.hr_shape[1]))
        where = np.unravel_index(index, self.plan.splits[self.split].sample_shape)
        key: dict[Hashable, int | slice] = {
            d: int(i) for d, i in zip(self.plan.sample_dims, where, strict=True)
        }
        key |= {self.plan.ydim: rows, self.plan.xdim: cols}
        parts = [np.asarray(a.isel(key).values, dtype=np.float32) for a in self._open()]
        return np.stack(parts)

    def read_block(self, start: int, stop: int) -> np.ndarray:
        """Samples ``[start, stop)`` as ``(n, C, H, W)`` float32 (for streaming passes)."""
        return np.stack([self.read(i) for i in range(start, stop)])
