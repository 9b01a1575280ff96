"""Numbers as the report and the plots print them: metric values, gains over bicubic,
durations, counts and sizes (``n/a`` for anything missing or non-finite), in the
language being written (:func:`oceansr.i18n.writing_in`); units, coordinates and
variable titles from :mod:`oceansr.report.units`, re-exported here."""

from __future__ import annotations

import re
from typing import Any

from oceansr.i18n import tr, writing_lang
from oceansr.report.history import finite
from oceansr.report.units import (
    display_unit,
    format_lat,
    format_lon,
    variable_title,
    with_unit,
)

__all__ = [
    "display_unit",
    "format_bytes",
    "format_count",
    "format_duration",
    "format_gain",
    "format_lat",
    "format_lon",
    "format_value",
    "sample_label_text",
    "variable_title",
    "with_unit",
]


def format_value(value: Any, digits: int = 4) -> str:
    """A metric value for tables and sentences: 4 decimals in the usual range, else 4
    significant digits; ``n/a`` for missing or non-finite values."""
    number = finite(value)
    if number is None:
        return tr("n/a")
    if number == 0:
        return "0"
    if 1e-3 <= abs(number) < 1e5:
        return f"{number:.{digits}f}"
    return f"{number:.{digits}g}"


def format_gain(value: Any, metric: str, unit: str = "") -> str:
    """The gain over bicubic in the unit :func:`oceansr.engine.metrics.gain` uses per metric."""
    number = finite(value)
    if number is None:
        return tr("n/a")
    if metric in ("rmse", "mae"):
        return f"{number:+.1f} %"
    if metric == "psnr":
        return f"{number:+.2f} dB"
    if metric == "bias":
        return f"{number:+.4f} {unit}".rstrip()
    return f"{number:+.4f}"


def format_duration(seconds: Any) -> str:
    """``8.2 s``, ``3 min 05 s``, ``2 h 04 min`` (``8.2 秒``, ``3 分 05 秒``, ``2 小时 04 分``
    in Chinese); ``n/a`` when unknown."""
    value = finite(seconds)
    if value is None:
        return tr("n/a")
    zh = writing_lang() == "zh"
    if value < 60:
        return f"{value:.1f} " + ("秒" if zh else "s")
    minutes, secs = divmod(round(value), 60)
    if minutes < 60:
        return f"{minutes} 分 {secs:02d} 秒" if zh else f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} 小时 {minutes:02d} 分" if zh else f"{hours} h {minutes:02d} min"


def format_count(value: Any) -> str:
    """``57,281 (57.3 k)`` for parameter counts (``57,281（5.7 万）`` in Chinese, which
    counts in 万 and 亿); ``n/a`` when unknown."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return tr("n/a")
    value = int(value)
    if writing_lang() == "zh":
        for scale, suffix in ((1e8, "亿"), (1e4, "万")):
            if value >= scale:
                return f"{value:,}（{value / scale:.1f} {suffix}）"
        return f"{value:,}"
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value:,} ({value / scale:.1f} {suffix})"
    return f"{value:,}"


#: Sample dimensions of a field label (``month=11 depth 0 m``) as Chinese words.
_DIM_WORDS = {
    "month": "月份",
    "time": "时间",
    "depth": "深度",
    "deptht": "深度",
    "lev": "层",
    "level": "层",
    "year": "年份",
    "day": "日",
    "sample": "样本",
    "season": "季节",
}
_DIM = re.compile(r"(?<![\w.])(" + "|".join(_DIM_WORDS) + r")(?=[= ])")


def sample_label_text(label: str) -> str:
    """A test field's label as a caption shows it: as recorded in English
    (``month=11 depth 0 m``), with the dimension names in Chinese under ``lang=zh``
    (``月份=11 深度 0 m``). Labels quoted as identifiers (code spans) keep the original."""
    if writing_lang() != "zh":
        return label
    return _DIM.sub(lambda m: _DIM_WORDS[m.group(1)], label)


def format_bytes(size: Any) -> str:
    if not isinstance(size, int | float):
        return tr("n/a")
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover
