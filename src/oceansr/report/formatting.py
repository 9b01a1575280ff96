"""Numbers as the report and the plots print them: metric values, gains over bicubic,
durations, counts and sizes (``n/a`` for anything missing or non-finite)."""

from __future__ import annotations

from typing import Any

from oceansr.report.history import finite


def format_value(value: Any, digits: int = 4) -> str:
    """A metric value for tables and sentences: 4 decimals in the usual range, else 4
    significant digits; ``n/a`` for missing or non-finite values."""
    number = finite(value)
    if number is None:
        return "n/a"
    if number == 0:
        return "0"
    if 1e-3 <= abs(number) < 1e5:
        return f"{number:.{digits}f}"
    return f"{number:.{digits}g}"


def format_gain(value: Any, metric: str, unit: str = "") -> str:
    """The gain over bicubic in the unit :func:`oceansr.engine.metrics.gain` uses per metric."""
    number = finite(value)
    if number is None:
        return "n/a"
    if metric in ("rmse", "mae"):
        return f"{number:+.1f} %"
    if metric == "psnr":
        return f"{number:+.2f} dB"
    if metric == "bias":
        return f"{number:+.4f} {unit}".rstrip()
    return f"{number:+.4f}"


def format_duration(seconds: Any) -> str:
    """``8.2 s``, ``3 min 05 s``, ``2 h 04 min``; ``n/a`` when unknown."""
    value = finite(seconds)
    if value is None:
        return "n/a"
    if value < 60:
        return f"{value:.1f} s"
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_count(value: Any) -> str:
    """``57,281 (57.3 k)`` for parameter counts; ``n/a`` when unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "n/a"
    value = int(value)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value:,} ({value / scale:.1f} {suffix})"
    return f"{value:,}"


def format_bytes(size: Any) -> str:
    if not isinstance(size, int | float):
        return "n/a"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover
