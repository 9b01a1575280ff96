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


def gain_kind(baseline: str) -> str:
    """The suffix of the gain over ``baseline``: ``gain`` (bicubic, its name since the first
    release) or ``gain_<baseline>``."""
    return "gain" if baseline == "bicubic" else f"gain_{baseline}"


def gain_key(prefix: str, metric: str, baseline: str) -> str:
    """The metric key of the model's gain in ``metric`` over ``baseline``."""
    return f"{prefix}/{metric}_{gain_kind(baseline)}"


def verdict_text(verdict: Mapping[str, Any] | None, named: int = 6) -> str:
    """A test verdict in one plain English line, for the closing summary and the CLI:
    ``RMSE +2.5 % over spline, 95 % CI -1.0..+6.1 (10 depth blocks): undecided; worse
    at depth=4000.0``; "" without one. ``verdict`` is status.json's ``test_breakdown``
    or a reply's ``test_verdict`` (whose ``losing`` is cut, ``losing_count`` whole)."""
    if not verdict or verdict.get("rmse_gain") is None:
        return ""
    ci = verdict.get("ci95")
    interval = (
        f"95 % CI {ci[0]:+.1f}..{ci[1]:+.1f} ({verdict.get('blocks')} "
        f"{verdict.get('blocks_by')} blocks)"
        if ci
        else "no interval (fewer than 2 independent blocks)"
    )
    text = (
        f"RMSE {verdict['rmse_gain']:+.1f} % over {verdict.get('baseline')}, {interval}: "
        f"{verdict.get('verdict')}"
    )
    losing = [str(group) for group in verdict.get("losing") or []]
    if losing:
        more = int(verdict.get("losing_count") or len(losing)) - min(len(losing), named)
        text += f"; worse at {', '.join(losing[:named])}" + (f" and {more} more" if more else "")
    return text
