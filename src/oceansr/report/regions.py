"""Where errors concentrate: RMSE against distance to land and per latitude band, for
the model and the baselines (the numbers behind the report's analysis).

Distance to land is geodesic on a lat/lon grid: each ocean cell centre's great-circle
distance to the nearest land cell centre, found with a k-d tree on 3-D unit vectors (the
chord becomes an arc of the 6,371 km sphere), so a periodic globe needs no special case.
Bands are those of a physical oceanographer, 0–50, 50–200, 200–500, 500–1,000 and
>1,000 km, a band narrower than one HR cell merged into the next (a 2° grid cannot tell
30 km from 150 km). Without coordinates distances stay in HR cells, labelled as cells.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.data.geodesy import EARTH_RADIUS_KM, geodesic_distance_to_land
from oceansr.i18n import tr, writing_lang
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
from oceansr.report.units import display_unit, format_lat

#: Edges of the distance-to-land bands [km], before merging what the grid cannot resolve.
COAST_BANDS_KM = (0.0, 50.0, 200.0, 500.0, 1000.0, math.inf)
#: Ocean farther than this from land is "open ocean" in the coast/open comparison.
OPEN_OCEAN_KM = 500.0
SPLINE_COLOUR = "#2e8b57"


def _centres(fields: TestFields) -> tuple[np.ndarray, np.ndarray] | None:
    """Latitude and longitude of every HR cell centre (H, W), or ``None`` without both."""
    height, width = fields.hr.shape[-2:]
    if fields.lat is None or fields.lon is None:
        return None
    lat = np.asarray(fields.lat, dtype=np.float64)
    lon = np.asarray(fields.lon, dtype=np.float64)
    if lat.ndim == 1 and lon.ndim == 1 and lat.size >= height and lon.size >= width:
        grid_lat, grid_lon = np.meshgrid(lat[:height], lon[:width], indexing="ij")
        return grid_lat, grid_lon
    if lat.ndim == 2 and lat.shape == lon.shape and lat.shape[0] >= height:
        return lat[:height, :width], lon[:height, :width]
    return None


def _grid_distance_to_land(ocean: np.ndarray) -> np.ndarray:
    """HR cells from each ocean cell to the nearest land cell (``inf`` without land)."""
    from scipy.ndimage import distance_transform_edt

    if ocean.all():
        return np.full(ocean.shape, np.inf)
    return np.asarray(distance_transform_edt(ocean), dtype=np.float64)


def _distance_to_land(fields: TestFields) -> tuple[np.ndarray, str]:
    """Per (field, channel) distance to land in km (geodesic) or, without coordinates, in
    HR cells; a land mask repeated across fields or channels is measured once."""
    ocean = fields.ocean
    centres = _centres(fields)
    out = np.full(ocean.shape, np.inf, dtype=np.float64)
    done: dict[bytes, np.ndarray] = {}
    for n in range(ocean.shape[0]):
        for c in range(ocean.shape[1]):
            mask = ocean[n, c]
            if not mask.any():
                continue
            key = np.packbits(mask).tobytes()
            if key not in done:
                done[key] = (
                    _grid_distance_to_land(mask)
                    if centres is None
                    else geodesic_distance_to_land(mask, *centres)
                )
            out[n, c] = done[key]
    return out, ("cells" if centres is None else "km")


def cell_size_km(fields: TestFields) -> float | None:
    """The typical HR cell's longer side (median over ocean cells of the larger of the
    zonal and meridional great-circle steps): an ocean cell next to land can be that far
    from it, so no finer distance band is filled everywhere."""
    centres = _centres(fields)
    if centres is None:
        return None
    lat, lon = centres
    if min(lat.shape) < 2:
        return None
    dx = _haversine(lat[:-1, :-1], lon[:-1, :-1], lat[:-1, 1:], lon[:-1, 1:])
    dy = _haversine(lat[:-1, :-1], lon[:-1, :-1], lat[1:, :-1], lon[1:, :-1])
    ocean = fields.ocean[..., :-1, :-1].any(axis=(0, 1))
    side = np.maximum(dx, dy)
    return float(np.median(side[ocean] if ocean.any() else side))


def _haversine(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return np.asarray(2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0))))


def distance_bands(unit: str, cell: float | None, scale: int) -> list[tuple[float, float]]:
    """``[(low, high)]`` bands of distance to land, upper edge included.

    In km: :data:`COAST_BANDS_KM`, with every band narrower than one HR cell (``cell``)
    merged into the next, since the grid cannot tell its distances apart. In HR cells
    (no coordinates): within one LR cell, one to two, two to four, beyond.
    """
    if unit != "km":
        edges = [0.0, float(scale), 2.0 * scale, 4.0 * scale, math.inf]
    else:
        edges = list(COAST_BANDS_KM)
        i = 1
        while cell and i < len(edges) - 1:
            if edges[i] - edges[i - 1] < cell:
                del edges[i]
            else:
                i += 1
    return list(itertools.pairwise(edges))


def distance_text(value: float, unit: str) -> str:
    """``500 km`` or ``4 HR cells`` (in the language being written)."""
    shown = f"{value:,.0f}"
    return f"{shown} km" if unit == "km" else tr("{count} HR cells", count=shown)


def distance_band_label(low: float, high: float, unit: str) -> str:
    """``0–50 km``, ``>1,000 km``, ``4–8 HR cells``: the band's edges, as ticks say them."""
    if math.isinf(high):
        return f">{distance_text(low, unit)}"
    return f"{low:,.0f}–{distance_text(high, unit)}"


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


def _stats(
    err_sr: np.ndarray, err_bic: np.ndarray, err_spline: np.ndarray | None, mask: np.ndarray
) -> JsonDict:
    """Cells and RMSE of the model, bicubic and (when evaluated) the spline over ``mask``."""
    cells = int(mask.sum())
    out: JsonDict = {"cells": cells, "rmse": None, "rmse_bicubic": None}
    if err_spline is not None:
        out["rmse_spline"] = None
    if cells == 0:
        return out
    for key, err in (("rmse", err_sr), ("rmse_bicubic", err_bic), ("rmse_spline", err_spline)):
        if err is not None:
            values = err[mask].astype(np.float64)
            out[key] = float(np.sqrt(np.mean(values * values)))
    return out


def _open_from(bands: list[tuple[float, float]], unit: str, scale: int, dist: np.ndarray) -> float:
    """Where the open ocean starts: :data:`OPEN_OCEAN_KM` (two LR cells without
    coordinates), never inside the coastal band; the coastal band's edge when no ocean
    cell lies that far from land."""
    coastal_high = bands[0][1]
    start = max(OPEN_OCEAN_KM if unit == "km" else 2.0 * scale, coastal_high)
    finite = dist[np.isfinite(dist)]
    if math.isinf(start) or not (finite > start).any():
        return coastal_high
    return start


def region_errors(fields: TestFields) -> JsonDict:
    """Where the errors are, per variable, on the evaluated test fields.

    Distance to land is geodesic (km, great circles between cell centres, see
    :func:`geodesic_distance_to_land`) on a lat/lon grid, else in HR cells. Returns per
    variable the RMSE of the model, bicubic (and the spline when evaluated) over all
    cells, per band of distance to land (:func:`distance_bands`), in the coastal band
    (the first) and the open ocean (beyond ``open_from``), per latitude band (the worst
    band, with at least 2 % of the ocean cells, is named) and the worst field.
    """
    ocean = fields.ocean
    dist, unit = _distance_to_land(fields)
    cell = cell_size_km(fields)
    bands = distance_bands(unit, cell, fields.scale)
    open_from = _open_from(bands, unit, fields.scale, dist[ocean])
    lat_grid, is_lat = _latitudes(fields)
    edges = _band_edges(lat_grid, is_lat)
    spline = fields.spline
    out: JsonDict = {
        "distance_unit": unit,
        "distance": "geodesic" if unit == "km" else "grid cells",
        "cell_km": None if cell is None else round(cell, 1),
        "distance_bands": [_edges_json(low, high, unit) for low, high in bands],
        "coastal_band": _edges_json(*bands[0], unit),
        "open_from": open_from,
        "fields": len(fields.indices),
        "total_fields": fields.total,
        "checkpoint": str(fields.checkpoint),
        "band_axis": "latitude" if is_lat else "row",
        "variables": {},
    }
    for c, var in enumerate(fields.variables):
        mask = ocean[:, c]
        hr = np.nan_to_num(fields.hr[:, c])
        errors = (
            np.where(mask, fields.sr[:, c] - hr, 0.0),
            np.where(mask, fields.bicubic[:, c] - hr, 0.0),
            None if spline is None else np.where(mask, spline[:, c] - hr, 0.0),
        )
        d = dist[:, c]
        entry: JsonDict = {
            "units": fields.unit(c),
            "overall": _stats(*errors, mask),
            "coastal": _stats(*errors, mask & (d <= bands[0][1])),
            "open": _stats(*errors, mask & (d > open_from)),
            "by_distance": [
                {**_edges_json(low, high, unit), **_stats(*errors, mask & (d > low) & (d <= high))}
                for low, high in bands
            ],
        }
        entry.update(_latitude_bands(errors, mask, lat_grid, edges))
        per_field = []
        for n in range(mask.shape[0]):
            sr, bic, spl = errors
            one = _stats(sr[n], bic[n], None if spl is None else spl[n], mask[n])
            if one["cells"]:
                per_field.append({"label": fields.labels[n], **one})
        entry["worst_field"] = max(per_field, key=lambda f: f["rmse"]) if per_field else None
        out["variables"][var] = entry
    return out


def _latitude_bands(
    errors: tuple[np.ndarray, np.ndarray, np.ndarray | None],
    mask: np.ndarray,
    lat_grid: np.ndarray,
    edges: np.ndarray,
) -> JsonDict:
    """RMSE per latitude (or row) band and the worst band with at least 2 % of the ocean
    cells (a sliver of ocean at a domain edge is not named)."""
    bands = []
    for lo, hi in itertools.pairwise(edges):
        last = hi == edges[-1]
        in_band = (lat_grid >= lo) & ((lat_grid <= hi) if last else (lat_grid < hi))
        stats = _stats(*errors, mask & in_band[None])
        if stats["cells"]:
            bands.append({"low": float(lo), "high": float(hi), **stats})
    total_cells = max(int(mask.sum()), 1)
    candidates = [b for b in bands if b["cells"] >= 0.02 * total_cells] or bands
    worst = max(candidates, key=lambda b: b["rmse"]) if candidates else None
    return {"bands": bands, "worst_band": worst}


def _edges_json(low: float, high: float, unit: str) -> JsonDict:
    """A distance band for the JSON info: ``high`` is ``None`` for the open-ended one."""
    return {
        "low": float(low),
        "high": None if math.isinf(high) else float(high),
        "label": distance_band_label(low, high, unit),
    }


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


def _plot_by_distance(ax: Any, var: str, entry: JsonDict, regions: JsonDict) -> None:
    """Left panel: RMSE bars of model and baselines per band of distance to land, each
    bar over its band's tick, the tick naming the band's edges."""
    unit = shown_unit(entry["units"])
    rows = [row for row in entry["by_distance"] if row["cells"]]
    series = [("rmse", tr("model"), SR_COLOUR), ("rmse_bicubic", tr("bicubic"), BIC_COLOUR)]
    if any(row.get("rmse_spline") is not None for row in rows):
        series.append(("rmse_spline", tr("spline"), SPLINE_COLOUR))
    width = 0.8 / len(series)
    xs = np.arange(len(rows))
    for i, (key, label, colour) in enumerate(series):
        values = [row.get(key) or 0.0 for row in rows]
        offset = (i - (len(series) - 1) / 2) * width
        ax.bar(xs + offset, values, width=width, color=colour, label=_with_unit(label, unit))
    geodesic = regions.get("distance_unit") == "km"
    ax.set_xticks(xs, [_shown_band(row, regions["distance_unit"]) for row in rows], fontsize=8)
    xlabel = "geodesic distance to land [km]" if geodesic else "distance to land [HR cells]"
    ax.set_xlabel(tr(xlabel), fontsize=9)
    rmse = _with_unit(tr("RMSE"), unit)
    ax.set_ylabel(rmse, fontsize=9)
    ax.set_title(tr("{var} — {rmse} vs distance to land", var=var, rmse=rmse), fontsize=10)
    style_axes(ax)
    add_legend(ax)


def _shown_band(band: Mapping[str, Any], unit: str) -> str:
    """A JSON distance band's label in the language being written."""
    high = math.inf if band["high"] is None else band["high"]
    return distance_band_label(band["low"], high, unit)


def describe_distance_bands(regions: JsonDict) -> str:
    """How the distance bands were made (for the figure's caption)."""
    labels = "、" if writing_lang() == "zh" else ", "
    unit = regions["distance_unit"]
    bands = labels.join(_shown_band(b, unit) for b in regions["distance_bands"])
    if regions["distance_unit"] != "km":
        return tr(
            "Distance to land in HR cells (the grid has no lat/lon coordinates): {bands}.",
            bands=bands,
        )
    return tr(
        "Distance bands {bands}: great-circle distance from each ocean cell centre to the "
        "nearest land cell centre; of 0–50, 50–200, 200–500, 500–1,000 and >1,000 km, a band "
        "narrower than one HR cell (its longer side, ~{cell} km) is merged into the next. "
        "Land outside the domain is not seen.",
        bands=bands,
        cell=f"{regions['cell_km']:,.0f}",
    )


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
    if axis == "latitude":
        from matplotlib.ticker import FuncFormatter

        # Hemispheres on the ticks (15°S, 60°N), as on the maps.
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_lat(v)))
    ax.set_ylabel(tr("latitude") if axis == "latitude" else tr("row"))
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
