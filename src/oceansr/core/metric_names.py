"""Metric names shared by the training side and the torch-free readers (report, CLI)."""

from __future__ import annotations

#: Per-variable field metrics, in display order (``val/<name>``, ``test/<var>/<name>``).
METRIC_NAMES: tuple[str, ...] = ("rmse", "mae", "bias", "psnr", "ssim")
#: Metrics where larger is better; for the others (errors, |bias|) smaller is better.
HIGHER_IS_BETTER: frozenset[str] = frozenset({"psnr", "ssim"})
