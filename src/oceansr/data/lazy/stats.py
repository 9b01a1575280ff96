"""Statistics and sanity checks of lazy data, reading a bounded amount at a time.

- :func:`sample_check` reads a bounded sample of fields (a few per split, within a
  cell budget) for the controller: all-NaN fields and infinite ocean values give the
  same classified errors as the in-memory path, at a cost independent of the data size.
- :func:`streaming_stats` is one chunked pass over the training split: per-channel
  count, sum, min, max and the centred sum of squares merged block by block (Chan et
  al.), which equals the in-memory two-pass result to rounding.
- :func:`cached_stats` keeps the result in the run directory so a resume or a test of
  the same run does not read the data again, and so that only global rank 0 makes the
  pass: the other ranks read its file (:mod:`oceansr.data.shared_stats`;
  docs/architecture.md, data).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from oceansr.core.errors import DataInvalidError
from oceansr.data.fields import constant_channels
from oceansr.data.grid import short_list
from oceansr.data.lazy.plan import DataPlan, SplitReader
from oceansr.data.shared_stats import STATS_FILE as STATS_FILE  # its old home, re-exported
from oceansr.data.shared_stats import StatsShare, shared_stats
from oceansr.runs.protocol import SPLITS

#: Cells (all channels) the controller's sample check may read, over all splits.
SAMPLE_CELLS = 2**23
#: Cells per block of the streaming pass (bounds its float64 temporaries).
BLOCK_CELLS = 2**24


def sample_indices(n: int, k: int) -> list[int]:
    """Up to ``k`` spread indices of ``range(n)``: first, last and evenly between."""
    if n <= k:
        return list(range(n))
    return sorted({round(i * (n - 1) / max(k - 1, 1)) for i in range(k)})


@dataclass(frozen=True)
class Sampled:
    """What :func:`sample_check` saw: the ocean fraction of the fields it read, and the
    channels constant over the training fields among them (same min and max)."""

    ocean_fraction: float
    constant: list[int]


def sample_check(plan: DataPlan) -> Sampled:
    """Read a bounded sample of each split; raise on bad fields; say what it saw.

    Small data are read whole (every field is checked, as the in-memory path does);
    large data are checked on a few spread fields per split.
    """
    field_cells = math.prod(plan.hr_shape) * len(plan.variables)
    per_split = max(1, SAMPLE_CELLS // (len(SPLITS) * field_cells))
    ocean, total = 0, 0
    low = np.full(len(plan.variables), np.inf)
    high = np.full(len(plan.variables), -np.inf)
    for name in SPLITS:
        reader = SplitReader(plan, name)
        labels = plan.splits[name].labels
        for index in sample_indices(len(reader), per_split):
            hr = reader.read(index)
            check_field(hr, plan.variables, labels[index], name)
            ocean += int(np.isfinite(hr).sum())
            total += hr.size
            if name == "train":
                low = np.minimum(low, np.nanmin(hr.reshape(len(low), -1), axis=1))
                high = np.maximum(high, np.nanmax(hr.reshape(len(high), -1), axis=1))
    constant = [int(c) for c in np.flatnonzero(high <= low)]
    return Sampled(ocean / max(total, 1), constant)


def check_field(hr: np.ndarray, variables: list[str], label: str, split: str) -> None:
    """One cropped ``(C, H, W)`` field: no all-NaN channel, no infinite value.

    An ocean cell of the cropped HR field makes its LR block ocean too, so the LR field
    needs no separate check (the in-memory path's fill error cannot happen then).
    """
    for c, var in enumerate(variables):
        values = hr[c]
        if np.isinf(values).any():
            raise DataInvalidError(
                f"variable {var!r} has infinite values in sample {label} of split {split!r}",
                field="data.variables",
                fix=f"mask them as land (NaN) or fix {var!r}; check its _FillValue / "
                "scale_factor CF attributes",
            )
        if not np.isfinite(values).any():
            raise DataInvalidError(
                f"variable {var!r} is entirely NaN (all land / missing) for sample(s) "
                f"{short_list([label], 5)} of split {split!r}",
                field="data.sel",
                fix="exclude such samples, e.g. data.isel='{depth: {start: 0, stop: K}}' "
                "or data.sel='{dim: [kept labels]}'",
            )


@dataclass
class Moments:
    """Per-channel running count, mean, centred sum of squares, min and max."""

    count: np.ndarray
    mean: np.ndarray
    m2: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray

    @classmethod
    def empty(cls, channels: int) -> Moments:
        zeros = np.zeros(channels, dtype=np.float64)
        return cls(zeros.copy(), zeros.copy(), zeros.copy(), zeros + np.inf, zeros - np.inf)

    def add(self, c: int, values: np.ndarray) -> None:
        """Merge the finite ``values`` of channel ``c`` (Chan's pairwise update)."""
        v = values[np.isfinite(values)].astype(np.float64)
        if not v.size:
            return
        n_b, mean_b = float(v.size), float(v.mean())
        m2_b = float(((v - mean_b) ** 2).sum())
        n_a = self.count[c]
        delta = mean_b - self.mean[c]
        total = n_a + n_b
        self.mean[c] += delta * n_b / total
        self.m2[c] += m2_b + delta * delta * n_a * n_b / total
        self.count[c] = total
        self.vmin[c] = min(self.vmin[c], float(v.min()))
        self.vmax[c] = max(self.vmax[c], float(v.max()))


def streaming_stats(reader: SplitReader) -> dict[str, Any]:
    """Mean, std and PSNR data range of the split's ocean cells, in one chunked pass."""
    plan = reader.plan
    moments = Moments.empty(len(plan.variables))
    block = max(1, BLOCK_CELLS // (math.prod(plan.hr_shape) * len(plan.variables)))
    for start in range(0, len(reader), block):
        hr = reader.read_block(start, min(start + block, len(reader)))
        for c in range(hr.shape[1]):
            moments.add(c, hr[:, c])
    if (moments.count == 0).any():
        ch = int(np.flatnonzero(moments.count == 0)[0])
        raise DataInvalidError(
            f"channel {ch} has no ocean (finite) value",
            field="data.variables",
            fix="check the variable and its land mask, or drop it from data.variables",
        )
    std = np.sqrt(moments.m2 / moments.count)
    return {
        "constant": constant_channels(std),  # std 0 replaced by 1.0 below (warned)
        "mean": [float(v) for v in moments.mean],
        "std": [float(v) if v > 0 else 1.0 for v in std],
        "data_range": [float(v) for v in np.maximum(moments.vmax - moments.vmin, 1e-6)],
        "ocean_fraction": [float(moments.count.sum() / (len(reader) * math.prod(plan.hr_shape)))],
    }


def stats_key(plan: DataPlan) -> str:
    """Fingerprint of what the statistics depend on: the data config and the train split."""
    keys = ("path", "variables", "sel", "isel", "split", "scale", "crop_to_scale", "decode_times")
    payload: dict[str, Any] = {k: plan.cfg.get(k) for k in keys}
    payload["train_positions"] = plan.splits["train"].positions.tolist()
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cached_stats(plan: DataPlan, share: StatsShare) -> dict[str, Any]:
    """Statistics from the run's file when it matches this data, else computed (and
    written) by global rank 0; the other ranks wait for rank 0's file."""
    return shared_stats(share, stats_key(plan), lambda: streaming_stats(SplitReader(plan, "train")))
