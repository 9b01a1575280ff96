"""Shared figure plumbing of the report's plots: an Agg canvas without pyplot (safe in
notebooks and threads), atomic PNG writes, the house style and colours.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from oceansr.runs.store import atomic_write_bytes

JsonDict = dict[str, Any]


DPI = 110


LAND_COLOUR = "0.78"


SR_COLOUR = "#1f5fa8"


SR_LIGHT = "#7fb2e5"


BIC_COLOUR = "0.35"


BIC_LIGHT = "0.75"


VAR_COLOURS = ("#1f5fa8", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085", "#7f8c8d")


MAX_PLOT_VARIABLES = 8


class PlotSkipped(Exception):
    """A plot (or the checkpoint evaluation) cannot be made; the message says why."""


def new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_figure(fig: Any, path: Path, **info: Any) -> JsonDict:
    """Write ``fig`` as PNG atomically; return metadata incl. the titles drawn."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    data = buffer.getvalue()
    atomic_write_bytes(path, data)
    width, height = fig.canvas.get_width_height()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    suptitle = fig._suptitle.get_text() if getattr(fig, "_suptitle", None) else ""
    return {
        "path": str(path),
        "title": suptitle,
        "axes_titles": titles,
        "size_px": [int(width), int(height)],
        "bytes": len(data),
        **info,
    }


def style_axes(ax: Any) -> None:
    ax.grid(True, alpha=0.3, linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def add_legend(ax: Any, **kwargs: Any) -> None:
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, fontsize=8, frameon=False, **kwargs)


def safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "var"
