"""What a pooled test score hides: RMSE per group of fields and an interval on the gain.

The evaluation keeps the squared error of every test field for the model and each
baseline (:class:`oceansr.engine.metrics.FieldErrors`); this module turns them, with the
fields' labels (``month=11 depth=4000.0``), into:

- **groups**: RMSE of model and baselines per value of every label dimension that varies
  (each depth level, each month), so a level where the model loses cannot hide in the mean;
- **the verdict**: the headline RMSE gain over the *stronger* baseline (lower pooled
  RMSE) with a block-bootstrap 95 % interval. Fields of one month or of neighbouring
  depths are strongly correlated, so resampling fields one by one would give an interval
  far too narrow; blocks are the values of the split dimension (``data.split.dim``,
  months when split by month) when the test split has at least :data:`MIN_BLOCKS` of
  them, else contiguous bands of the label dimension with most values (depth bands),
  at most :data:`MAX_BLOCKS`. "Beats" is said only when the interval excludes zero.

RMSE is pooled as the metrics are: per variable over all ocean cells of the fields, then
averaged over variables. The bootstrap is seeded, so a run's interval is reproducible.
Numpy only: it runs on rank 0 after the test, on arrays of a few numbers per field.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: Fewer distinct values of the split dimension than this: blocks from another dimension.
MIN_BLOCKS = 5
#: At most this many blocks (bands of neighbouring values) for the bootstrap.
MAX_BLOCKS = 10
RESAMPLES = 2000
CONFIDENCE = 0.95
SEED = 0

JsonDict = dict[str, Any]


def parse_label(label: str) -> dict[str, str]:
    """``"month=11 depth=4000.0"`` → ``{"month": "11", "depth": "4000.0"}``."""
    parts = (part.split("=", 1) for part in label.split() if "=" in part)
    return {dim: value for dim, value in parts}


def _sort_key(value: str) -> tuple[int, float, str]:
    """Numbers in numeric order, then anything else in text order."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)


def pooled_rmse(squared: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """Mean over variables of the pooled RMSE, per estimator: ``(K,)`` from ``(M, C, K)``."""
    per_var = np.sqrt(squared.sum(axis=0) / np.maximum(cells.sum(axis=0), 1)[:, None])
    result: np.ndarray = per_var.mean(axis=0)
    return result


def gain_pct(model: float, baseline: float) -> float:
    """RMSE reduction in % (positive: the model's error is smaller)."""
    return 100.0 * (baseline - model) / baseline if baseline > 0 else math.nan


def _groups(
    labels: list[dict[str, str]],
    squared: np.ndarray,
    cells: np.ndarray,
    estimators: Sequence[str],
    base: int,
) -> dict[str, list[JsonDict]]:
    """RMSE of every estimator per value of each label dimension with several values, and
    the model's gain over estimator ``base`` (the breakdown's baseline)."""
    out: dict[str, list[JsonDict]] = {}
    dims = sorted({dim for parsed in labels for dim in parsed})
    for dim in dims:
        values = sorted({p[dim] for p in labels if dim in p}, key=_sort_key)
        if len(values) < 2:
            continue
        rows = []
        for value in values:
            pick = np.array([p.get(dim) == value for p in labels])
            rmse = pooled_rmse(squared[pick], cells[pick])
            row: JsonDict = {"value": value, "fields": int(pick.sum())}
            row.update({_rmse_key(name): _num(r) for name, r in zip(estimators, rmse, strict=True)})
            row["rmse_gain"] = _num(gain_pct(rmse[0], rmse[base]))
            rows.append(row)
        out[dim] = rows
    return out


def _rmse_key(estimator: str) -> str:
    return "rmse" if estimator == "model" else f"rmse_{estimator}"


def _num(value: float) -> float | None:
    """A JSON number with 5 significant digits (status.json stays compact), or None."""
    return float(f"{value:.5g}") if math.isfinite(value) else None


def block_ids(labels: list[dict[str, str]], split_dim: str | None) -> tuple[np.ndarray, str | None]:
    """A block number per field and the dimension the blocks follow (see the module)."""
    counts = {
        dim: len({p[dim] for p in labels if dim in p}) for dim in {d for p in labels for d in p}
    }
    if split_dim and counts.get(split_dim, 0) >= MIN_BLOCKS:
        dim = split_dim
    elif counts:
        dim = max(sorted(counts), key=lambda d: counts[d])
    else:
        return np.zeros(len(labels), dtype=np.int64), None
    values = sorted({p.get(dim, "") for p in labels}, key=_sort_key)
    bands = min(len(values), MAX_BLOCKS)
    # Contiguous bands of (nearly) equal numbers of values, in coordinate order.
    band_of = {value: (i * bands) // len(values) for i, value in enumerate(values)}
    return np.array([band_of[p.get(dim, "")] for p in labels], dtype=np.int64), dim


def bootstrap_gain(
    squared: np.ndarray, cells: np.ndarray, blocks: np.ndarray, baseline: int
) -> tuple[float, float] | None:
    """95 % percentile interval of the RMSE gain (%) over estimator ``baseline``.

    Blocks are drawn with replacement (as many as there are), their fields' sums pooled;
    None with fewer than two blocks, where resampling says nothing.
    """
    ids = np.unique(blocks)
    if ids.size < 2:
        return None
    block_sq = np.stack([squared[blocks == b].sum(axis=0) for b in ids])  # (B, C, K)
    block_cells = np.stack([cells[blocks == b].sum(axis=0) for b in ids])  # (B, C)
    rng = np.random.default_rng(SEED)
    draws = rng.integers(0, ids.size, size=(RESAMPLES, ids.size))
    counts = np.stack([np.bincount(d, minlength=ids.size) for d in draws]).astype(np.float64)
    sq = np.einsum("rb,bck->rck", counts, block_sq)
    n = np.maximum(np.einsum("rb,bc->rc", counts, block_cells), 1)
    rmse = np.sqrt(sq / n[..., None]).mean(axis=1)  # (R, K)
    base = np.where(rmse[:, baseline] > 0, rmse[:, baseline], np.nan)
    gains = 100.0 * (base - rmse[:, 0]) / base
    tail = (1.0 - CONFIDENCE) / 2 * 100
    lo, hi = np.nanpercentile(gains, [tail, 100 - tail])
    return float(lo), float(hi)


def verdict_word(interval: tuple[float, float] | None) -> str:
    """``beats`` / ``loses`` when the interval excludes zero, else ``undecided``."""
    if interval is None:
        return "undecided"
    lo, hi = interval
    return "beats" if lo > 0 else "loses" if hi < 0 else "undecided"


def breakdown(
    labels: Sequence[str],
    squared: np.ndarray,
    cells: np.ndarray,
    estimators: Sequence[str],
    split_dim: str | None = None,
) -> JsonDict:
    """Groups and verdict of one evaluation; see the module. ``estimators[0]`` is the
    model, the others baselines; ``squared`` is ``(M, C, K)``, ``cells`` ``(M, C)`` for the
    ``M`` fields whose ``labels`` are given."""
    if squared.shape[0] == 0:
        return {"fields": 0}
    parsed = [parse_label(label) for label in labels]
    overall = pooled_rmse(squared, cells)
    base = 1 + int(np.argmin(overall[1:]))
    blocks, blocks_by = block_ids(parsed, split_dim)
    interval = bootstrap_gain(squared, cells, blocks, base)
    groups = _groups(parsed, squared, cells, estimators, base)
    base_key = _rmse_key(estimators[base])
    losing = [
        f"{dim}={row['value']}"
        for dim, rows in groups.items()
        for row in rows
        if row["rmse"] is not None and row[base_key] is not None and row["rmse"] > row[base_key]
    ]
    return {
        "fields": int(squared.shape[0]),
        "baseline": estimators[base],
        "rmse": _num(overall[0]),
        f"rmse_{estimators[base]}": _num(overall[base]),
        "rmse_gain": _num(gain_pct(overall[0], overall[base])),
        "ci95": None if interval is None else [round(interval[0], 3), round(interval[1], 3)],
        "verdict": verdict_word(interval),
        "blocks": int(np.unique(blocks).size),
        "blocks_by": blocks_by,
        "resamples": RESAMPLES if interval is not None else 0,
        "losing": losing,
        "groups": groups,
    }
