"""Statistics and sanity checks of lazy data, reading a bounded amount at a time.

- :func:`sample_check` reads a bounded sample of fields (a few per split, within a
  cell budget) for the controller: all-NaN fields and infinite ocean values give the
  same classified errors as the in-memory path, at a cost independent of the data size.
- :func:`streaming_stats` reads the training fields that the statistics choice picks
  (:mod:`oceansr.data.stats_sampling`: a bounded seeded sample by default, or all of
  them), ``threads`` at a time (zarr and numpy release the GIL while reading and
  decompressing): per field, per channel count, mean, min, max and the centred sum of
  squares, merged in field order (Chan et al.), so the result does not depend on the
  threads and the exact pass equals the in-memory two-pass result to rounding.
- :func:`cached_stats` keeps the result in the run directory so a resume or a test of
  the same run does not read the data again, and so that only global rank 0 makes the
  pass: the other ranks read its file (:mod:`oceansr.data.shared_stats`;
  docs/architecture.md, data).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from oceansr.core.errors import DataInvalidError
from oceansr.data.fields import constant_channels
from oceansr.data.grid import short_list
from oceansr.data.lazy.plan import DataPlan, SplitReader
from oceansr.data.shared_stats import STATS_FILE as STATS_FILE  # its old home, re-exported
from oceansr.data.shared_stats import StatsShare, shared_stats
from oceansr.data.stats_sampling import Progress, StatsChoice, no_progress
from oceansr.runs.protocol import SPLITS

#: Cells (all channels) the controller's sample check may read, over all splits.
SAMPLE_CELLS = 2**23
#: The choice of an exact pass, one reading thread (streaming_stats' default).
EXACT = StatsChoice(method="exact", fields=1, seed=0, threads=1)


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
        low, high, mean_b = float(v.min()), float(v.max()), float(v.mean())
        v -= mean_b  # in place: one float64 copy of the channel per reading thread
        np.square(v, out=v)
        self._merge_channel(c, (float(v.size), mean_b, float(v.sum())), low, high)

    def merge(self, other: Moments) -> None:
        """Merge another set of moments into this one, channel by channel (same update)."""
        for c in range(len(self.count)):
            if other.count[c]:
                part = (float(other.count[c]), float(other.mean[c]), float(other.m2[c]))
                self._merge_channel(c, part, float(other.vmin[c]), float(other.vmax[c]))

    def _merge_channel(
        self, c: int, part: tuple[float, float, float], low: float, high: float
    ) -> None:
        n_b, mean_b, m2_b = part
        n_a = self.count[c]
        delta = mean_b - self.mean[c]
        total = n_a + n_b
        self.mean[c] += delta * n_b / total
        self.m2[c] += m2_b + delta * delta * n_a * n_b / total
        self.count[c] = total
        self.vmin[c] = min(self.vmin[c], low)
        self.vmax[c] = max(self.vmax[c], high)


def field_moments(reader: SplitReader, index: int) -> Moments:
    """The moments of one training field (run in a reading thread)."""
    hr = reader.read(index)
    moments = Moments.empty(hr.shape[0])
    for c in range(hr.shape[0]):
        moments.add(c, hr[c])
    return moments


def in_order(reader: SplitReader, indices: list[int], threads: int) -> Iterator[Moments]:
    """Each field's moments in ``indices`` order, read by ``threads`` threads with at
    most ``2 * threads`` fields in flight (memory bounded, whatever the split's length).

    The first field is read here, alone: it opens the reader's dataset once (a
    multi-file source may take seconds to open) before the threads share it.
    """
    if not indices:
        return
    yield field_moments(reader, indices[0])
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="oceansr-stats") as pool:
        pending: list[Future[Moments]] = []
        for index in indices[1:]:
            pending.append(pool.submit(field_moments, reader, index))
            if len(pending) >= 2 * threads:
                yield pending.pop(0).result()
        for future in pending:
            yield future.result()


def streaming_stats(
    reader: SplitReader, choice: StatsChoice = EXACT, progress: Progress = no_progress
) -> dict[str, Any]:
    """Mean, std and PSNR data range of the ocean cells of the training fields that
    ``choice`` picks, with the ``sampling`` record; ``progress(done, total)`` after each."""
    plan = reader.plan
    indices = choice.indices(len(reader))
    moments = Moments.empty(len(plan.variables))
    progress(0, len(indices))
    for done, part in enumerate(in_order(reader, indices, max(1, choice.threads)), start=1):
        moments.merge(part)
        progress(done, len(indices))
    if (moments.count == 0).any():
        ch = int(np.flatnonzero(moments.count == 0)[0])
        raise DataInvalidError(
            f"channel {ch} has no ocean (finite) value in the {len(indices)} training "
            "field(s) read for the statistics",
            field="data.variables",
            fix="check the variable and its land mask, or drop it from data.variables "
            "(with data.stats=sample, more data.stats_fields or data.stats=exact)",
        )
    std = np.sqrt(moments.m2 / moments.count)
    cells = len(indices) * math.prod(plan.hr_shape)
    return {
        "constant": constant_channels(std),  # std 0 replaced by 1.0 below (warned)
        "mean": [float(v) for v in moments.mean],
        "std": [float(v) if v > 0 else 1.0 for v in std],
        "data_range": [float(v) for v in np.maximum(moments.vmax - moments.vmin, 1e-6)],
        "ocean_fraction": [float(moments.count.sum() / cells)],
        "sampling": choice.record(len(indices), len(reader)),
    }


def stats_key(plan: DataPlan, choice: StatsChoice = EXACT) -> str:
    """Fingerprint of what the statistics depend on: the data config, the train split and
    the statistics choice (method, sample size, seed: a changed choice recomputes)."""
    keys = ("path", "variables", "sel", "isel", "split", "scale", "crop_to_scale", "decode_times")
    payload: dict[str, Any] = {k: plan.cfg.get(k) for k in keys}
    payload["train_positions"] = plan.splits["train"].positions.tolist()
    payload["stats"] = choice.identity()
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def cached_stats(
    plan: DataPlan,
    share: StatsShare,
    choice: StatsChoice = EXACT,
    progress: Progress = no_progress,
) -> dict[str, Any]:
    """Statistics from the run's file when it matches this data and choice, else computed
    (and written) by global rank 0; the other ranks wait for rank 0's file."""
    return shared_stats(
        share,
        stats_key(plan, choice),
        lambda: streaming_stats(SplitReader(plan, "train"), choice, progress),
    )
