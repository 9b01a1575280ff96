"""Sample maps (LR, bicubic, SR, HR and both errors per test field) and the colour maps
and limits they use, chosen from a variable's name or units.
"""

from __future__ import annotations

import dataclasses
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.i18n import text, tr
from oceansr.report.figures import LAND_COLOUR, JsonDict, new_figure, save_figure
from oceansr.report.formatting import format_value, sample_label_text
from oceansr.report.sr_fields import TestFields, evenly_spaced
from oceansr.report.units import format_lat, format_lon

#: Panel titles of a sample-map row, left to right.
MAP_PANELS: tuple[str, ...] = ("LR", "Bicubic", "SR", "HR", "Bicubic − HR", "SR − HR")


_TEMPERATURE = ("temp", "thetao", "theta", "sst", "tos", "to", "t", "pot_temp", "ptemp", "tem")


_SALINITY = ("salt", "salinity", "so", "sss", "sos", "s", "sal", "psal", "sa")


_SIGNED = (
    "ssh", "zos", "eta", "sla", "adt", "zeta", "ssha", "u", "v", "w", "uo", "vo", "wo",
    "ugos", "vgos", "ugosa", "vgosa", "uvel", "vvel", "ssu", "ssv", "vort", "vorticity",
)  # fmt: skip


_SPEED = ("speed", "spd", "uv", "current_speed", "wind_speed", "ws")


_CHLOROPHYLL = ("chl", "chla", "chlor_a", "chlorophyll")


_TEMPERATURE_UNITS = ("degc", "°c", "deg_c", "celsius", "degrees_c", "degree_c", "k", "kelvin")


_SALINITY_UNITS = ("psu", "pss-78", "pss78", "g/kg", "g kg-1", "g.kg-1", "1e-3", "0.001", "ppt")


_VELOCITY_UNITS = ("m/s", "m s-1", "m.s-1", "cm/s", "cm s-1", "m s^-1", "m s⁻¹", "cm s⁻¹")


_HEIGHT_UNITS = ("m", "cm", "mm")


@dataclass(frozen=True)
class ColourMap:
    name: str  # cmocean name (thermal, haline, balance, ...)
    symmetric: bool  # limits symmetric about zero
    kind: str  # temperature, salinity, signed, speed, chlorophyll, generic


def colour_map_for(var: str, units: str = "") -> ColourMap:
    """The cmocean map of a variable, from its name first, then from its units."""
    name = re.sub(r"[^a-z0-9_]", "", var.lower())
    unit = units.strip().lower()
    if name in _TEMPERATURE or "temp" in name or "sst" in name:
        return ColourMap("thermal", False, "temperature")
    if name in _SALINITY or "sal" in name or "sss" in name:
        return ColourMap("haline", False, "salinity")
    if name in _SPEED or "speed" in name:
        return ColourMap("speed", False, "speed")
    if name in _SIGNED or "ssh" in name or "vel" in name or "height" in name:
        return ColourMap("balance", True, "signed")
    if name in _CHLOROPHYLL or "chl" in name:
        return ColourMap("algae", False, "chlorophyll")
    if unit in _TEMPERATURE_UNITS or "celsius" in unit:
        return ColourMap("thermal", False, "temperature")
    if unit in _SALINITY_UNITS:
        return ColourMap("haline", False, "salinity")
    if unit in _VELOCITY_UNITS or unit in _HEIGHT_UNITS:
        return ColourMap("balance", True, "signed")
    return ColourMap("deep", False, "generic")


_FALLBACK_CMAPS = {
    "thermal": "inferno",
    "haline": "viridis",
    "balance": "RdBu_r",
    "speed": "YlGn",
    "algae": "Greens",
    "deep": "viridis",
}


def _cmap(name: str) -> Any:
    """A cmocean colour map (matplotlib's nearest equivalent if cmocean is missing), with
    NaN (land) drawn in the land colour."""
    cmap = None
    try:
        from matplotlib import MatplotlibDeprecationWarning

        with warnings.catch_warnings():
            # cmocean 4 passes N= to ListedColormap, deprecated since matplotlib 3.11
            warnings.simplefilter("ignore", MatplotlibDeprecationWarning)
            import cmocean.cm

        cmap = getattr(cmocean.cm, name, None)
    except ImportError:
        cmap = None
    if cmap is None:
        from matplotlib import colormaps

        cmap = colormaps[_FALLBACK_CMAPS.get(name, "viridis")]
    return cmap.with_extremes(bad=LAND_COLOUR)


def robust_limits(
    values: np.ndarray, *, symmetric: bool = False, low: float = 2.0, high: float = 98.0
) -> tuple[float, float]:
    """Colour limits from the finite (ocean) values: percentiles ``low``/``high``, or
    ``±`` the ``high`` percentile of ``|values|`` when ``symmetric``."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return (-1.0, 1.0) if symmetric else (0.0, 1.0)
    if symmetric:
        bound = float(np.percentile(np.abs(data), high))
        bound = bound if bound > 0 else float(np.abs(data).max()) or 1.0
        return -bound, bound
    vmin, vmax = (float(v) for v in np.percentile(data, [low, high]))
    if vmax <= vmin:
        pad = max(abs(vmin) * 0.01, 1e-6)
        vmin, vmax = vmin - pad, vmax + pad
    return vmin, vmax


def extend_for(values: np.ndarray, limits: tuple[float, float]) -> str:
    """The colour bar's ``extend`` for ``values`` shown within ``limits``: arrows on the
    ends the data go beyond, so clipped extremes (the Mediterranean outflow, Arctic
    water) are visible as clipped rather than silently saturated."""
    data = np.asarray(values, dtype=np.float64)
    data = data[np.isfinite(data)]
    if data.size == 0:
        return "neither"
    below, above = bool(data.min() < limits[0]), bool(data.max() > limits[1])
    return {(True, True): "both", (True, False): "min", (False, True): "max"}.get(
        (below, above), "neither"
    )


def wrap_longitude(lon: np.ndarray | None) -> tuple[np.ndarray | None, np.ndarray | None]:
    """1-D longitudes in [-180, 180) and the column order that makes them increasing
    (``None`` when nothing needs to change: 2-D or already within range)."""
    if lon is None or lon.ndim != 1 or not np.isfinite(lon).all():
        return lon, None
    if float(lon.max()) <= 180.0 and float(lon.min()) >= -180.0:
        return lon, None
    wrapped = (lon.astype(np.float64) + 180.0) % 360.0 - 180.0
    order = np.argsort(wrapped, kind="stable")
    return wrapped[order], order


def _is_uniform(coord: np.ndarray) -> bool:
    if coord.ndim != 1 or coord.size < 2:
        return coord.ndim == 1
    steps = np.diff(coord.astype(np.float64))
    return bool(np.allclose(steps, steps[0], rtol=1e-3, atol=1e-9)) and steps[0] != 0


def _draw_field(ax: Any, field: np.ndarray, fields: TestFields, cmap: Any, vlim: tuple) -> Any:
    """``field`` (H, W) on the HR grid: extent for uniform 1-D lat/lon, pcolormesh for
    2-D or irregular coordinates, grid indices when there are none."""
    vmin, vmax = vlim
    data = np.ma.masked_invalid(field)
    lat, lon = fields.lat, fields.lon
    ax.set_facecolor(LAND_COLOUR)
    if lat is None or lon is None:
        image = ax.imshow(
            data, origin="lower", cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest"
        )
        ax.set_aspect("equal")
        return image
    if lat.ndim == 1 and lon.ndim == 1 and _is_uniform(lat) and _is_uniform(lon):
        dlat = float(lat[1] - lat[0]) if lat.size > 1 else 1.0
        dlon = float(lon[1] - lon[0]) if lon.size > 1 else 1.0
        extent = (
            float(lon[0]) - dlon / 2,
            float(lon[-1]) + dlon / 2,
            float(lat[0]) - dlat / 2,
            float(lat[-1]) + dlat / 2,
        )
        image = ax.imshow(
            data,
            origin="lower",
            extent=extent,
            cmap=cmap,
            vmin=vmin,
            vmax=vmax,
            interpolation="nearest",
        )
        ax.set_xlim(min(extent[:2]), max(extent[:2]))
        ax.set_ylim(min(extent[2:]), max(extent[2:]))
    else:
        shading = "nearest" if lat.ndim == 1 else "auto"
        image = ax.pcolormesh(lon, lat, data, cmap=cmap, vmin=vmin, vmax=vmax, shading=shading)
    ax.set_aspect(_geo_aspect(lat))
    return image


def _geo_aspect(lat: np.ndarray) -> float:
    """Degrees of longitude look as long as degrees of latitude at the domain's middle."""
    finite_lat = lat[np.isfinite(lat)]
    if finite_lat.size == 0:
        return 1.0
    lo, hi = float(finite_lat.min()), float(finite_lat.max())
    if hi - lo > 60:  # global or basin scale: plate carrée
        return 1.0
    return float(min(1.0 / max(math.cos(math.radians((lo + hi) / 2)), 0.2), 3.0))


def _panel_size(fields: TestFields) -> tuple[float, float]:
    height, width = fields.hr.shape[-2:]
    ratio = height / max(width, 1)
    if fields.lat is not None and fields.lon is not None:
        lat = np.asarray(fields.lat, dtype=np.float64)
        lon = np.asarray(fields.lon, dtype=np.float64)
        lat_span = float(np.nanmax(lat) - np.nanmin(lat))
        lon_span = float(np.nanmax(lon) - np.nanmin(lon))
        if lat_span > 0 and lon_span > 0:
            ratio = lat_span * _geo_aspect(lat) / lon_span
    panel_w = 3.1
    return panel_w, float(min(max(panel_w * ratio, 1.2), 4.2))


def _rmse(pred: np.ndarray, truth: np.ndarray) -> float | None:
    mask = np.isfinite(truth) & np.isfinite(pred)
    if not mask.any():
        return None
    diff = (pred[mask] - truth[mask]).astype(np.float64)
    return float(np.sqrt(np.mean(diff * diff)))


def _annotate_rmse(ax: Any, value: float | None, unit: str) -> None:
    """The RMSE of an error panel, in its lower-left corner."""
    ax.text(
        0.02,
        0.03,
        f"RMSE {format_value(value, 3)} {unit}".rstrip(),
        transform=ax.transAxes,
        fontsize=7,
        bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 1.5},
    )


def _limits(
    panels: list[np.ndarray], hr: np.ndarray, symmetric: bool
) -> tuple[tuple[float, float], tuple[float, float], tuple[str, str]]:
    """Field and error colour limits of one map row, and the colour bars' extends."""
    vlim = robust_limits(hr, symmetric=symmetric)
    errors = np.concatenate([panels[4].ravel(), panels[5].ravel()])
    low, high = robust_limits(errors, high=99.0)
    bound = max(abs(low), abs(high))
    elim = (-bound, bound)
    extend = (extend_for(np.stack(panels[:4]), vlim), extend_for(errors, elim))
    return vlim, elim, extend


def _colour_bars(
    subfig: Any,
    axes: Any,
    images: list[Any],
    var: str,
    unit: str,
    extend: tuple[str, str],
    error: str = "error",
) -> None:
    """One colour bar for the four field panels, one for the two error panels, with
    arrows where the data go beyond the limits."""
    field_bar = subfig.colorbar(
        images[3], ax=list(axes[:4]), shrink=0.85, pad=0.01, extend=extend[0]
    )
    field_bar.set_label(f"{var} [{unit}]" if unit else var, fontsize=8)  # var: the title
    error_bar = subfig.colorbar(
        images[5], ax=list(axes[4:]), shrink=0.85, pad=0.01, extend=extend[1]
    )
    error_bar.set_label(f"{error} [{unit}]" if unit else error, fontsize=8)
    for bar in (field_bar, error_bar):
        bar.ax.tick_params(labelsize=7)


def plot_sample_maps(
    fields: TestFields, var_index: int, path: Path, *, num_maps: int, lang: str = "en"
) -> JsonDict:
    """LR, bicubic, SR, HR and both errors for ``num_maps`` evenly spaced test fields."""
    var = fields.variables[var_index]
    title = fields.title(var_index)  # the CF long_name when the data have one
    unit = fields.unit(var_index)
    spec = colour_map_for(var, unit)
    field_cmap, error_cmap = _cmap(spec.name), _cmap("balance")
    picks = [fields.indices.index(i) for i in _pick_map_fields(fields, num_maps)]
    panel_w, panel_h = _panel_size(fields)
    fig = new_figure(panel_w * len(MAP_PANELS) + 1.6, (panel_h + 0.95) * len(picks) + 0.5)
    subfigs = fig.subfigures(len(picks), 1, squeeze=False)[:, 0]
    rows_meta = []
    # Hemispheres are on the ticks (30°W, 15°S: _hemisphere_ticks), not in the label.
    axis_labels = (
        tr("latitude") if fields.lat is not None else tr("row"),
        tr("longitude") if fields.lon is not None else tr("column"),
    )
    titles = text("plot.panels", lang).split("|")
    # Longitudes such as 20-380 °E are drawn as -180-180 °E (docs/architecture.md, report).
    wrapped, order = wrap_longitude(fields.lon)
    if order is not None:
        fields = dataclasses.replace(fields, lon=wrapped)
    for subfig, k in zip(subfigs, picks, strict=True):
        panels = _row_panels(fields, k, var_index)
        bic, sr, hr = panels[1], panels[2], panels[3]
        vlim, elim, extend = _limits(panels, hr, spec.symmetric)
        if order is not None:
            panels = [panel[:, order] for panel in panels]
        axes = subfig.subplots(1, len(MAP_PANELS), sharex=True, sharey=True)
        images = _draw_panels(
            axes, titles, panels, fields, (field_cmap, error_cmap), (vlim, elim), axis_labels
        )
        for j, pred in ((4, bic), (5, sr)):
            _annotate_rmse(axes[j], _rmse(pred, hr), unit)
        _colour_bars(subfig, axes, images, title, unit, extend, text("plot.error", lang))
        if fields.lat is not None and fields.lon is not None:
            _hemisphere_ticks(axes)
        label = fields.labels[k]
        subfig.suptitle(
            text(
                "plot.test_field",
                lang,
                var=title,
                n=fields.indices[k] + 1,
                total=fields.total,
                label=sample_label_text(label),
            ),
            fontsize=10,
            x=0.02,
            ha="left",
        )
        meta = {"label": label, "test_index": fields.indices[k], "extend": list(extend)}
        rows_meta.append({**meta, **_row_numbers(axes, panels, vlim, elim)})
    fig.suptitle(
        text(
            "plot.maps_title",
            lang,
            var=title,
            model=fields.model_name,
            ckpt=fields.checkpoint.name,
            cmap=spec.name,
        ),
        fontsize=11,
    )
    return save_figure(
        fig,
        path,
        variable=var,
        units=unit,
        colour_map=spec.name,
        checkpoint=str(fields.checkpoint),
        panels=titles,
        rows=rows_meta,
    )


def _hemisphere_ticks(axes: Any) -> None:
    """Tick labels with their hemisphere: negative longitudes °W, positive °E,
    latitudes °S/°N (the axes share x and y, so one formatter per axis object)."""
    from matplotlib.ticker import FuncFormatter

    for ax in axes:
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_lon(v)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: format_lat(v)))


def _row_numbers(
    axes: Any, panels: list[np.ndarray], vlim: tuple[float, float], elim: tuple[float, float]
) -> JsonDict:
    """Panel titles, RMSEs and colour limits of one map row (the plot's metadata)."""
    bic, sr, hr = panels[1], panels[2], panels[3]
    return {
        "panels": [ax.get_title() for ax in axes],
        "rmse": _rmse(sr, hr),
        "rmse_bicubic": _rmse(bic, hr),
        "colour_limits": [float(v) for v in vlim],
        "error_limits": [float(v) for v in elim],
    }


def _row_panels(fields: TestFields, k: int, var_index: int) -> list[np.ndarray]:
    """LR (repeated onto the HR grid), bicubic, SR, HR and both errors of field ``k``,
    masked with HR's land."""
    hr = fields.hr[k, var_index]
    ocean = np.isfinite(hr)
    sr = np.where(ocean, fields.sr[k, var_index], np.nan)
    bic = np.where(ocean, fields.bicubic[k, var_index], np.nan)
    scale = fields.scale
    lr_up = np.repeat(np.repeat(fields.lr[k, var_index], scale, axis=0), scale, axis=1)
    lr_up = lr_up[: hr.shape[0], : hr.shape[1]]
    return [lr_up, bic, sr, hr, bic - hr, sr - hr]


def _draw_panels(
    axes: Any,
    titles: list[str],
    panels: list[np.ndarray],
    fields: TestFields,
    cmaps: tuple[Any, Any],
    limits: tuple[tuple[float, float], tuple[float, float]],
    axis_labels: tuple[str, str],
) -> list[Any]:
    """The six panels of one map row (the last two are errors); returns their images."""
    images = []
    for j, (ax, title, data) in enumerate(zip(axes, titles, panels, strict=True)):
        is_error = j >= 4
        images.append(_draw_field(ax, data, fields, cmaps[is_error], limits[is_error]))
        ax.set_title(title, fontsize=10)
        ax.tick_params(labelsize=7)
        if j == 0:
            ax.set_ylabel(axis_labels[0], fontsize=8)
        ax.set_xlabel(axis_labels[1], fontsize=8)
    return images


def _pick_map_fields(fields: TestFields, num_maps: int) -> list[int]:
    """Test-split indices of ``num_maps`` evaluated fields spread over the split."""
    positions = evenly_spaced(len(fields.indices), num_maps)
    return [fields.indices[p] for p in positions]
