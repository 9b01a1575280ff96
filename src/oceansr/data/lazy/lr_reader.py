"""LR fields read field range by field range from an open xarray selection.

Streaming predict (docs/architecture.md, predict) must not load the whole LR input: a
2 GB LR series is as large as the memory budget of the whole prediction. A
:class:`LazyFields` looks like the ``(N, C, h, w)`` float32 array of
:class:`oceansr.data.lr_input.LRFields` but reads only the fields a slice asks for,
through xarray's lazy indexing (NetCDF hyperslabs, the Zarr chunks under a field).
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import xarray as xr


class LazyFields:
    """``(N, C, h, w)`` view of ``variables`` in ``ds``; ``N`` runs over the sample dims
    in C order (the last fastest), as :func:`~oceansr.data.grid.stack_samples`."""

    ndim = 4
    dtype = np.dtype(np.float32)

    def __init__(
        self,
        ds: xr.Dataset,
        variables: Sequence[str],
        sample_dims: Sequence[Hashable],
        ydim: Hashable,
        xdim: Hashable,
    ) -> None:
        self.arrays = [ds[v].transpose(*sample_dims, ydim, xdim) for v in variables]
        self.sample_shape = tuple(int(ds.sizes[d]) for d in sample_dims)
        n = math.prod(self.sample_shape)
        self.shape = (n, len(self.arrays), int(ds.sizes[ydim]), int(ds.sizes[xdim]))

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: slice) -> np.ndarray:
        """Fields ``key`` (a slice with step 1) as a float32 array, read now."""
        if not isinstance(key, slice):
            raise TypeError(f"LazyFields takes a slice of fields, got {key!r}")
        start, stop, step = key.indices(self.shape[0])
        if step != 1:
            raise ValueError("LazyFields reads contiguous field ranges (step 1)")
        out = np.empty((max(stop - start, 0), *self.shape[1:]), dtype=np.float32)
        for i in range(start, stop):
            index = np.unravel_index(i, self.sample_shape) if self.sample_shape else ()
            position = tuple(int(p) for p in index)
            for c, arr in enumerate(self.arrays):
                out[i - start, c] = arr[position].to_numpy()
        return out

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """Every field (a full read: for callers that need the whole series)."""
        whole = self[0 : self.shape[0]]
        return whole if dtype is None else whole.astype(dtype)
