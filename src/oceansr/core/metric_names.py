"""Metric names shared by the training side and the torch-free readers (report, CLI)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

#: Per-variable field metrics, in display order (``val/<name>``, ``test/<var>/<name>``).
METRIC_NAMES: tuple[str, ...] = ("rmse", "mae", "bias", "psnr", "ssim")
#: Metrics where larger is better; for the others (errors, |bias|) smaller is better.
HIGHER_IS_BETTER: frozenset[str] = frozenset({"psnr", "ssim"})
#: The classical baselines every metric is shown next to (``<metric>_<baseline>``).
BASELINES: tuple[str, ...] = ("bicubic", "spline")


def strongest_baseline(metrics: Mapping[str, Any], prefix: str) -> str:
    """``"spline"`` or ``"bicubic"``: the baseline with the lower ``<prefix>/rmse_*``.

    The headline gain is quoted against it, so no gain is inflated by a weak baseline;
    bicubic when the spline is missing (runs from before it).
    """
    values = {name: metrics.get(f"{prefix}/rmse_{name}") for name in BASELINES}
    known = {k: float(v) for k, v in values.items() if isinstance(v, int | float) and v == v}
    return min(known, key=lambda k: known[k]) if len(known) == len(BASELINES) else "bicubic"


def gain_key(prefix: str, metric: str, baseline: str) -> str:
    """The metric key of the model's gain in ``metric`` over ``baseline``."""
    return f"{prefix}/{metric}_gain" + ("" if baseline == "bicubic" else f"_{baseline}")
