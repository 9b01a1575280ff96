"""Where errors concentrate: RMSE against distance to land and per latitude band, for
the model and bicubic (the numbers behind the report's analysis).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.i18n import tr
from oceansr.report.figures import (
    BIC_COLOUR,
    BIC_LIGHT,
    MAX_PLOT_VARIABLES,
    SR_COLOUR,
    SR_LIGHT,
    JsonDict,
    add_legend,
    new_figure,
    save_figure,
    style_axes,
)
from oceansr.report.sr_fields import TestFields
from oceansr.report.units import display_unit


def _distance_to_land(ocean: np.ndarray) -> np.ndarray:
    """Per (field, channel): HR cells from each ocean cell to the nearest land cell
    (``inf`` for a field without land)."""
    from scipy.ndimage import distance_transform_edt

    out = np.full(ocean.shape, np.inf, dtype=np.float32)
    for n in range(ocean.shape[0]):
        for c in range(ocean.shape[1]):
            mask = ocean[n, c]
            if mask.all() or not mask.any():
                continue
            out[n, c] = distance_transform_edt(mask)
    return out


def _latitudes(fields: TestFields) -> tuple[np.ndarray, bool]:
    """Latitude of every HR cell (H, W), or the row index when there is no latitude."""
    height, width = fields.hr.shape[-2:]
    if fields.lat is None:
        rows = np.arange(height, dtype=np.float64)[:, None]
        return np.broadcast_to(rows, (height, width)), False
    lat = np.asarray(fields.lat, dtype=np.float64)
    if lat.ndim == 1:
        return np.broadcast_to(lat[:height, None], (height, width)), True
    return lat[:height, :width], True


def _band_edges(values: np.ndarray, is_lat: bool) -> np.ndarray:
    """Latitude bands of 15° (10° or 5° for smaller domains, aligned on multiples of the
    width), or six equal bands of rows when there is no latitude."""
    lo, hi = float(np.nanmin(values)), float(np.nanmax(values))
    span = hi - lo
    if not is_lat:
        return np.linspace(lo, hi, 1 + max(1, min(6, int(span) + 1)))
    width = 15.0 if span >= 60 else 10.0 if span >= 30 else 5.0 if span >= 12 else span / 4
    if width <= 0:
        return np.array([lo, hi + 1e-6])
    start = math.floor(lo / width) * width
    count = max(1, math.ceil((hi - start) / width))
    return start + width * np.arange(count + 1)


def _stats(err_sr: np.ndarray, err_bic: np.ndarray, mask: np.ndarray) -> JsonDict:
    cells = int(mask.sum())
    if cells == 0:
        return {"cells": 0, "rmse": None, "rmse_bicubic": None}
    sr = err_sr[mask].astype(np.float64)
    bic = err_bic[mask].astype(np.float64)
    return {
        "cells": cells,
        "rmse": float(np.sqrt(np.mean(sr * sr))),
        "rmse_bicubic": float(np.sqrt(np.mean(bic * bic))),
    }


def region_errors(fields: TestFields, coast_cells: int | None = None) -> JsonDict:
    """Where the errors are, per variable, on the evaluated test fields.

    ``coast_cells`` (default: the scale factor, i.e. one LR cell) splits ocean cells into
    coastal (at most that many HR cells from land) and open ocean. Returns per variable the
    RMSE of model and bicubic over all cells, coastal and open cells, per distance to land
    (1 ... 2×coast_cells, then beyond), per latitude band (the worst band, with at least
    2 % of the ocean cells, is named), and the worst field.
    """
    coast = int(coast_cells or fields.scale)
    ocean = fields.ocean
    dist = _distance_to_land(ocean)
    lat_grid, is_lat = _latitudes(fields)
    edges = _band_edges(lat_grid, is_lat)
    out: JsonDict = {
        "coast_cells": coast,
        "cell_km": _cell_km(fields),
        "fields": len(fields.indices),
        "total_fields": fields.total,
        "checkpoint": str(fields.checkpoint),
        "band_axis": "latitude" if is_lat else "row",
        "variables": {},
    }
    for c, var in enumerate(fields.variables):
        mask = ocean[:, c]
        hr = np.nan_to_num(fields.hr[:, c])
        err_sr = np.where(mask, fields.sr[:, c] - hr, 0.0)
        err_bic = np.where(mask, fields.bicubic[:, c] - hr, 0.0)
        d = dist[:, c]
        entry: JsonDict = {
            "units": fields.unit(c),
            "overall": _stats(err_sr, err_bic, mask),
            "coastal": _stats(err_sr, err_bic, mask & (d <= coast)),
            "open": _stats(err_sr, err_bic, mask & (d > coast)),
        }
        by_distance = []
        for step in range(1, 2 * coast + 1):
            sel = mask & (d > step - 1) & (d <= step)
            by_distance.append({"distance": step, **_stats(err_sr, err_bic, sel)})
        by_distance.append(
            {"distance": f">{2 * coast}", **_stats(err_sr, err_bic, mask & (d > 2 * coast))}
        )
        entry["by_distance"] = by_distance
        bands = []
        total_cells = max(int(mask.sum()), 1)
        for lo, hi in itertools.pairwise(edges):
            last = hi == edges[-1]
            in_band = (lat_grid >= lo) & ((lat_grid <= hi) if last else (lat_grid < hi))
            stats = _stats(err_sr, err_bic, mask & in_band[None])
            if stats["cells"]:
                bands.append({"low": float(lo), "high": float(hi), **stats})
        entry["bands"] = bands
        candidates = [b for b in bands if b["cells"] >= 0.02 * total_cells] or bands
        entry["worst_band"] = max(candidates, key=lambda b: b["rmse"]) if candidates else None
        per_field = []
        for n in range(mask.shape[0]):
            stats = _stats(err_sr[n], err_bic[n], mask[n])
            if stats["cells"]:
                per_field.append({"label": fields.labels[n], **stats})
        entry["worst_field"] = max(per_field, key=lambda f: f["rmse"]) if per_field else None
        out["variables"][var] = entry
    return out


def band_label(band: Mapping[str, Any], axis: str = "latitude") -> str:
    """``30°S–15°S`` for latitude bands, ``rows 0–14`` otherwise (in the language being
    written)."""
    if axis != "latitude":
        return tr("rows {low}–{high}", low=f"{band['low']:.0f}", high=f"{band['high']:.0f}")

    def deg(value: float) -> str:
        hemi = "N" if value > 0 else "S" if value < 0 else ""
        return f"{abs(value):g}°{hemi}"

    return f"{deg(band['low'])}–{deg(band['high'])}"


def shown_unit(unit: str) -> str:
    """A variable's unit as an oceanographer reads it on a plot (``degC`` → ``°C``): the
    one spelling of :func:`oceansr.report.units.display_unit`."""
    return display_unit(unit)


def _with_unit(label: str, unit: str) -> str:
    return f"{label} [{unit}]" if unit else label


def _cell_km(fields: TestFields) -> float | None:
    """The mean HR grid spacing in km (None without lat/lon: distances stay in cells)."""
    from oceansr.report.spectra import grid_spacing_km

    if fields.lat is None or fields.lon is None:
        return None
    dy, dx = grid_spacing_km(fields)
    return round((dy + dx) / 2, 1)


def _distance_label(distance: Any, cell_km: float | None) -> str:
    """A distance bin (HR cells, or ``">N"``) as km when the grid spacing is known."""
    if cell_km is None:
        return str(distance)
    text = str(distance)
    if text.startswith(">"):
        return f">{float(text[1:]) * cell_km:.0f}"
    return f"{float(text) * cell_km:.0f}"


def _plot_by_distance(ax: Any, var: str, entry: JsonDict, regions: JsonDict) -> None:
    """Left panel: RMSE of model and bicubic per distance to land (km when known)."""
    unit = shown_unit(entry["units"])
    coast = regions["coast_cells"]
    rows = [row for row in entry["by_distance"] if row["cells"]]
    cell_km = regions.get("cell_km")
    labels = [_distance_label(row["distance"], cell_km) for row in rows]
    xs = np.arange(len(rows))
    rmse = _with_unit(tr("RMSE"), unit)
    model = _with_unit(tr("model"), unit)
    bicubic = _with_unit(tr("bicubic"), unit)
    ax.plot(xs, [row["rmse"] for row in rows], "o-", color=SR_COLOUR, label=model)
    ax.plot(xs, [row["rmse_bicubic"] for row in rows], "s--", color=BIC_COLOUR, label=bicubic)
    ax.set_xticks(xs, labels)
    steps = [str(row["distance"]) for row in rows]
    if str(coast) in steps:
        if cell_km:
            coastal = tr("coastal ≤ {km} km", km=f"{coast * cell_km:.0f}")
        else:
            coastal = tr("coastal ≤ {cells} HR cells", cells=coast)
        ax.axvline(steps.index(str(coast)) + 0.5, color="#e67e22", linestyle=":", label=coastal)
    xlabel = "distance to land [km]" if cell_km else "distance to land [HR cells]"
    ax.set_xlabel(tr(xlabel), fontsize=9)
    ax.set_ylabel(rmse, fontsize=9)
    ax.set_title(tr("{var} — {rmse} vs distance to land", var=var, rmse=rmse), fontsize=10)
    style_axes(ax)
    add_legend(ax)


def _plot_by_band(ax: Any, var: str, entry: JsonDict, regions: JsonDict) -> None:
    """Right panel: RMSE of model and bicubic per latitude band (or row band)."""
    from matplotlib.patches import Patch

    unit = shown_unit(entry["units"])
    axis = regions["band_axis"]
    bands = entry["bands"]
    worst = entry.get("worst_band")
    centres = np.array([(b["low"] + b["high"]) / 2 for b in bands])
    half = np.array([(b["high"] - b["low"]) * 0.4 for b in bands])
    colours = [SR_COLOUR if b is worst else SR_LIGHT for b in bands]
    ax.barh(centres + half / 2, [b["rmse"] for b in bands], height=half, color=colours)
    bicubic = [b["rmse_bicubic"] for b in bands]
    ax.barh(centres - half / 2, bicubic, height=half, color=BIC_LIGHT)
    handles = [
        Patch(color=SR_LIGHT, label=_with_unit(tr("model"), unit)),
        Patch(color=BIC_LIGHT, label=_with_unit(tr("bicubic"), unit)),
    ]
    if worst:
        label = tr("worst: {band}", band=band_label(worst, axis))
        handles.append(Patch(color=SR_COLOUR, label=label))
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="best")
    ax.set_ylabel(tr("latitude [°N]") if axis == "latitude" else tr("row"))
    rmse = _with_unit(tr("RMSE"), unit)
    ax.set_xlabel(rmse)
    ax.set_title(tr("{var} — {rmse} per {axis} band", var=var, rmse=rmse, axis=tr(axis)))
    style_axes(ax)


def plot_errors_by_region(fields: TestFields, path: Path, regions: JsonDict | None = None):
    """RMSE of model and bicubic against distance to land and per latitude band; texts
    in the language being written (:func:`oceansr.i18n.writing_in`), units on every
    axis and legend entry."""
    regions = regions or region_errors(fields)
    variables = list(regions["variables"])[:MAX_PLOT_VARIABLES]
    fig = new_figure(12.0, 3.3 * len(variables) + 0.7)
    axes = fig.subplots(len(variables), 2, squeeze=False)
    for r, var in enumerate(variables):
        entry = regions["variables"][var]
        _plot_by_distance(axes[r][0], var, entry, regions)
        _plot_by_band(axes[r][1], var, entry, regions)
    fig.suptitle(
        tr(
            "Where the errors are — {fields} of {total} test fields, {ckpt}",
            fields=regions["fields"],
            total=regions["total_fields"],
            ckpt=Path(regions["checkpoint"]).name,
        ),
        fontsize=11,
    )
    return save_figure(fig, path, regions=regions)
