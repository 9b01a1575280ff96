"""What ocean super-resolution papers show beyond maps: zonal power spectra of HR, SR and
the baselines with the effective resolution and the LR Nyquist wavelength, and RMSE by
depth level.

Spectra are 1-D and zonal, because a lat/lon cell is not square and not constant: its
zonal width is ``dlon · 111.32 km · cos(lat)`` (222 km at the equator on a 2° grid, 39 km
at 80°N), so one km spacing for a whole global grid puts every row's power at the wrong
wavelength. Each HR row is cut into its contiguous ocean runs (land is never zero-filled:
a coastline jump would become a k⁻² tail); runs shorter than :data:`MIN_SEGMENT_CELLS`
are dropped; a run that crosses the seam of a grid spanning the globe is joined. Each run
is detrended (linear), Hann-tapered and Fourier transformed with the true zonal spacing
of its row; its one-sided PSD is interpolated onto common log-spaced wavenumber bins of
its latitude band and averaged over runs (weighted by their length), test fields and rows.
Latitude bands (:data:`LAT_BAND_EDGES`, by |lat|, up to 80°) keep rows of similar spacing
together, so each band has one LR Nyquist wavelength, ``2 · scale · Δx``: the LR grid
resolves nothing shorter.

The effective resolution is the error-to-signal criterion of altimetry mapping
(Ballarotta et al. 2019, Ocean Sci. 15, 1091): the largest wavelength below which the
spectrum of the error (SR − HR, or baseline − HR) stays at or above
:data:`EFFECTIVE_FRACTION` (50 %) of HR's spectrum. Unlike a ratio of the two power
spectra it counts smoothing (lost signal is error) and invented structure (power that is
not HR's is error) alike, so interpolation artefacts at the grid scale cannot pass for
resolution. ``None`` means the error stays under 50 % of the signal down to the HR
grid's 2Δx; below the LR Nyquist wavelength that is inferred, not observed.
Grids without 1-D or 2-D lat/lon coordinates fall back to HR cells as the unit (stated
on the plot and in the sentences).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.data.geodesy import EARTH_RADIUS_KM
from oceansr.i18n import text, tr, writing_in, writing_lang
from oceansr.report.figures import (
    BIC_COLOUR,
    JsonDict,
    PlotSkipped,
    new_figure,
    save_figure,
    style_axes,
)
from oceansr.report.regions import shown_unit
from oceansr.report.sr_fields import TestFields

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
EFFECTIVE_FRACTION = 0.5
#: A zonal ocean run shorter than this (HR cells) gives no spectrum: too few wavenumbers.
MIN_SEGMENT_CELLS = 16
#: Latitude bands (|lat|, degrees): the zonal spacing varies by at most a factor 1.46
#: inside each of the first three and 2 in the last, so one Δx (and one LR Nyquist
#: wavelength, its range shaded) describes each. Rows poleward of 80° are left out: their
#: spacing falls to nothing at the pole (under 0.17 of the equator's).
LAT_BAND_EDGES = (0.0, 45.0, 60.0, 70.0, 80.0)
#: A band with fewer ocean runs (over all evaluated fields) is left out: too noisy.
MIN_BAND_SEGMENTS = 4
#: Resolution of the common wavenumber axis.
BINS_PER_DECADE = 15
#: The curves: key, label key, colour, line style.
CURVES = (
    ("hr", "HR", "black", "-"),
    ("sr", "SR", "#1f5fa8", "-"),
    ("bicubic", "bicubic", BIC_COLOUR, "--"),
    ("spline", "spline", "#2e8b57", "-."),
)
# "depth=75.0" (a coordinate without units) or "depth 75 m" (with its units attribute).
_DEPTH = re.compile(r"\b(depth|deptht|depthu|depthv|lev|level|z)[= ](-?[\d.]+(?:[eE][-+]?\d+)?)")


@dataclass(frozen=True)
class RowGeometry:
    """Zonal spacing of every HR row and what the spectra are measured in."""

    dx: np.ndarray  # (H,) spacing along each row, km (or 1 cell without coordinates)
    abs_lat: np.ndarray | None  # (H,) |latitude| of each row, None without coordinates
    periodic: bool  # the rows close on themselves (grid spans 360° of longitude)
    unit: str  # "km" or "cells"


def _haversine_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> Any:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dlat, dlon = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    h = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


def row_geometry(fields: TestFields) -> RowGeometry:
    """Per-row zonal spacing: ``dlon · 111.32 km · cos(lat)`` on a 1-D lat/lon grid, the
    median great-circle step between neighbouring columns on a 2-D (curvilinear) grid,
    else 1 HR cell per column."""
    height, width = fields.hr.shape[-2:]
    lat, lon = fields.lat, fields.lon
    cells = RowGeometry(np.ones(height), None, False, "cells")
    if lat is None or lon is None or width < 2:
        return cells
    lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
    if lat.ndim == 1 and lon.ndim == 1 and lat.size >= height and lon.size >= width:
        dlon = abs(float(np.nanmedian(np.diff(lon[:width]))))
        row_lat = lat[:height]
        dx = dlon * KM_PER_DEG_LON_EQUATOR * np.cos(np.radians(row_lat))
        periodic = abs(dlon * width - 360.0) < 0.5 * dlon
        return RowGeometry(np.maximum(dx, 1e-3), np.abs(row_lat), periodic, "km")
    if lat.ndim == 2 and lon.shape == lat.shape and lat.shape[0] >= height:
        lat2, lon2 = lat[:height, :width], lon[:height, :width]
        steps = _haversine_km(lat2[:, :-1], lon2[:, :-1], lat2[:, 1:], lon2[:, 1:])
        dx = np.nanmedian(steps, axis=1)
        return RowGeometry(np.maximum(dx, 1e-3), np.abs(np.nanmedian(lat2, axis=1)), False, "km")
    return cells


def ocean_segments(
    ocean_row: np.ndarray, periodic: bool, min_cells: int = MIN_SEGMENT_CELLS
) -> list[np.ndarray]:
    """Column indices of each contiguous ocean run of a row with at least ``min_cells``
    cells; on a periodic row a run crossing the seam is one run (indices wrap)."""
    width = ocean_row.size
    if not ocean_row.any():
        return []
    if ocean_row.all():
        return [np.arange(width)] if width >= min_cells else []
    start = int(np.argmin(ocean_row)) if periodic else 0  # a land cell: no run crosses it
    order = (np.arange(width) + start) % width
    row = ocean_row[order]
    edges = np.flatnonzero(np.diff(np.concatenate([[0], row.astype(np.int8), [0]])))
    runs = [order[a:b] for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return [run for run in runs if run.size >= min_cells]


def segment_spectrum(values: np.ndarray, dx: float) -> tuple[np.ndarray, np.ndarray]:
    """``(wavenumber [cycles/unit], one-sided PSD [value² · unit])`` of one ocean run:
    linear trend removed, Hann taper, normalised so the PSD integrates to the tapered
    variance (DC dropped)."""
    n = values.size
    x = np.arange(n, dtype=np.float64)
    data = values.astype(np.float64)
    slope, intercept = np.polyfit(x, data, 1)
    window = np.hanning(n + 2)[1:-1]  # no zero end points: every cell carries weight
    spectrum = np.fft.rfft((data - slope * x - intercept) * window)
    power = np.abs(spectrum) ** 2 * dx / float(np.sum(window**2))
    power[1:] *= 2.0
    if n % 2 == 0:
        power[-1] /= 2.0  # the Nyquist term has no mirror
    return np.fft.rfftfreq(n, dx)[1:], power[1:]


def _band_index(abs_lat: float | None) -> int | None:
    """The latitude band of a row (0 without coordinates; ``None`` poleward of 80°)."""
    if abs_lat is None:
        return 0
    edges = LAT_BAND_EDGES
    for i in range(len(edges) - 1):
        if abs_lat < edges[i + 1]:
            return i
    return None


def _curves(fields: TestFields) -> dict[str, np.ndarray]:
    """The arrays to transform: HR, SR, bicubic and (when evaluated) the spline."""
    out = {"hr": fields.hr, "sr": fields.sr, "bicubic": fields.bicubic}
    spline = fields.spline
    if spline is not None:
        out["spline"] = spline
    return out


def _collect_segments(
    fields: TestFields, var_index: int, geometry: RowGeometry
) -> dict[int, list[tuple[int, int, np.ndarray]]]:
    """``{band: [(field, row, columns)]}``: the ocean runs every spectrum is taken on."""
    bands: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    lats = geometry.abs_lat
    for n in range(fields.hr.shape[0]):
        ocean = np.isfinite(fields.hr[n, var_index])
        for row in range(ocean.shape[0]):
            runs = ocean_segments(ocean[row], geometry.periodic)
            band = _band_index(None if lats is None else float(lats[row]))
            if runs and band is not None:
                bands.setdefault(band, []).extend((n, row, run) for run in runs)
    return bands


def _band_spectra(
    fields: TestFields,
    var_index: int,
    geometry: RowGeometry,
    segments: list[tuple[int, int, np.ndarray]],
) -> JsonDict:
    """Length-weighted mean PSD of every curve over ``segments`` on one wavenumber axis."""
    dxs = np.array([geometry.dx[row] for _, row, _ in segments])
    lengths = np.array([run.size for _, _, run in segments], dtype=np.float64)
    k_lo, k_hi = float(np.min(1.0 / (lengths * dxs))), float(np.max(0.5 / dxs))
    count = max(2, math.ceil(BINS_PER_DECADE * math.log10(k_hi / k_lo)))
    log_k = np.linspace(math.log10(k_lo), math.log10(k_hi), count)
    curves = _curves(fields)
    names = [*curves, *(f"error_{name}" for name in curves if name != "hr")]
    sums = {name: np.zeros(count) for name in names}
    weights = np.zeros(count)
    for (n, row, run), dx, length in zip(segments, dxs, lengths, strict=True):
        values = {
            name: np.nan_to_num(data[n, var_index, row, run]) for name, data in curves.items()
        }
        values.update(
            {f"error_{name}": v - values["hr"] for name, v in values.items() if name != "hr"}
        )
        spectra = {name: segment_spectrum(v, float(dx)) for name, v in values.items()}
        k = spectra["hr"][0]
        inside = (log_k >= math.log10(k[0]) - 1e-9) & (log_k <= math.log10(k[-1]) + 1e-9)
        for name, (_, power) in spectra.items():
            sums[name][inside] += length * np.interp(log_k[inside], np.log10(k), power)
        weights[inside] += length
    keep = weights > 0
    mean = {name: total[keep] / weights[keep] for name, total in sums.items()}
    return {"k": 10 ** log_k[keep], **mean}


def effective_resolution(
    k: np.ndarray, p_hr: np.ndarray, p_error: np.ndarray, fraction: float = EFFECTIVE_FRACTION
) -> float | None:
    """The largest wavelength (1/k) below which the error-to-signal ratio
    ``p_error / p_hr`` stays at or above ``fraction``, interpolated between bins in
    log-log; ``None`` when the ratio is under ``fraction`` even at the shortest wavelength
    (the field is resolved to the HR grid's 2Δx)."""
    order = np.argsort(k)
    k, p_hr, p_error = k[order], p_hr[order], p_error[order]
    valid = (p_hr > 0) & np.isfinite(p_hr) & np.isfinite(p_error)
    k, ratio = k[valid], p_error[valid] / p_hr[valid]
    if k.size == 0 or ratio[-1] < fraction:
        return None
    first = k.size - 1
    while first > 0 and ratio[first - 1] >= fraction:
        first -= 1
    if first == 0:
        return float(1.0 / k[0])  # over the threshold at every wavelength shown
    lo, hi = first - 1, first  # ratio[lo] < fraction <= ratio[hi]
    r_lo, r_hi = math.log(max(ratio[lo], 1e-30)), math.log(max(ratio[hi], 1e-30))
    t = (r_lo - math.log(fraction)) / (r_lo - r_hi) if r_lo != r_hi else 0.0
    log_k = math.log(k[lo]) + t * (math.log(k[hi]) - math.log(k[lo]))
    return float(math.exp(-log_k))


def _json_float(value: float | None, digits: int = 1) -> float | None:
    """A finite float rounded for the JSON info, else ``None``."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), digits)


def _band_range(index: int, geometry: RowGeometry) -> tuple[float, float] | None:
    if geometry.abs_lat is None:
        return None
    return LAT_BAND_EDGES[index], LAT_BAND_EDGES[index + 1]


def zonal_spectra(fields: TestFields, var_index: int) -> JsonDict:
    """Zonal spectra per latitude band with LR Nyquist and effective resolutions.

    Returns ``{"unit", "periodic", "bands": [{"lat_range", "segments", "rows", "dx",
    "dx_range", "lr_nyquist", "lr_nyquist_range", "hr_nyquist", "effective_resolution":
    {curve: wavelength | None}, "k", "hr", "sr", "bicubic"[, "spline"]}]}`` (wavelengths in
    ``unit``; arrays are numpy). Raises :class:`PlotSkipped` when no band has
    :data:`MIN_BAND_SEGMENTS` ocean runs of :data:`MIN_SEGMENT_CELLS` cells.
    """
    geometry = row_geometry(fields)
    collected = _collect_segments(fields, var_index, geometry)
    bands = []
    for index, segments in sorted(collected.items()):
        if len(segments) < MIN_BAND_SEGMENTS:
            continue
        spectra = _band_spectra(fields, var_index, geometry, segments)
        cells = np.array([run.size for _, _, run in segments], dtype=np.float64)
        dxs = np.array([geometry.dx[row] for _, row, _ in segments])
        dx = float(np.average(dxs, weights=cells))
        eff = {
            name: effective_resolution(spectra["k"], spectra["hr"], spectra[f"error_{name}"])
            for name in _curves(fields)
            if name != "hr"
        }
        bands.append(
            {
                "lat_range": _band_range(index, geometry),
                "segments": len(segments),
                "rows": len({row for _, row, _ in segments}),
                "dx": dx,
                "dx_range": (float(dxs.min()), float(dxs.max())),
                "lr_nyquist": 2.0 * fields.scale * dx,
                "lr_nyquist_range": (
                    2.0 * fields.scale * float(dxs.min()),
                    2.0 * fields.scale * float(dxs.max()),
                ),
                "hr_nyquist": 2.0 * dx,
                "effective_resolution": eff,
                **spectra,
            }
        )
    if not bands:
        raise PlotSkipped(
            f"no latitude band has {MIN_BAND_SEGMENTS} zonal ocean runs of at least "
            f"{MIN_SEGMENT_CELLS} HR cells for a spectrum"
        )
    return {"unit": geometry.unit, "periodic": geometry.periodic, "bands": bands}


def band_name(band: JsonDict) -> str:
    """``|lat| 0–45°`` or, without coordinates, ``all rows``."""
    lat = band.get("lat_range")
    if lat is None:
        return tr("all rows")
    return tr("|lat| {low}–{high}°", low=f"{lat[0]:g}", high=f"{lat[1]:g}")


def _band_info(band: JsonDict) -> JsonDict:
    """The json-safe numbers of one band (what the report's sentences read)."""
    lat = band["lat_range"]
    return {
        "band": band_name(band),
        "lat_range": None if lat is None else [float(lat[0]), float(lat[1])],
        "segments": band["segments"],
        "rows": band["rows"],
        "dx": _json_float(band["dx"]),
        "dx_range": [_json_float(v) for v in band["dx_range"]],
        "lr_nyquist": _json_float(band["lr_nyquist"]),
        "lr_nyquist_range": [_json_float(v) for v in band["lr_nyquist_range"]],
        "hr_nyquist": _json_float(band["hr_nyquist"]),
        "effective_resolution": {
            name: _json_float(v) for name, v in band["effective_resolution"].items()
        },
    }


def _main_band(bands: list[JsonDict]) -> JsonDict:
    """The band with the most ocean runs: the one the headline numbers come from."""
    return max(bands, key=lambda b: b["segments"])


def _mark(ax: Any, wavelength: float, colour: str, label: str, style: str, y: float) -> None:
    ax.axvline(1.0 / wavelength, color=colour, linestyle=style, linewidth=1)
    ax.annotate(
        label,
        (1.0 / wavelength, y),
        xycoords=("data", "axes fraction"),
        rotation=90,
        fontsize=7,
        color=colour,
        ha="right",
        va="bottom",
    )


def _draw_band(ax: Any, band: JsonDict, unit: str, labels: dict[str, str]) -> None:
    """One panel: the curves, the LR Nyquist span and line, the effective resolutions."""
    k = band["k"]
    for name, _, colour, line in CURVES:
        if name in band:
            ax.loglog(k, band[name], color=colour, linestyle=line, label=labels[name])
    low, high = band["lr_nyquist_range"]
    if high > low * 1.01:
        ax.axvspan(1.0 / high, 1.0 / low, color="0.85", alpha=0.6, linewidth=0)
    nyquist = tr("LR Nyquist {value} {unit}", value=f"{band['lr_nyquist']:.0f}", unit=unit)
    _mark(ax, band["lr_nyquist"], "0.3", nyquist, "--", 0.55)
    for name, _, colour, _ in CURVES:
        wavelength = band["effective_resolution"].get(name)
        if wavelength is not None and name != "hr":
            _mark(ax, wavelength, colour, f"{labels[name]} {wavelength:.0f} {unit}", ":", 0.04)
    ax.set_title(
        tr(
            "{band}: Δx ≈ {dx} {unit}, {segments} ocean runs",
            band=band_name(band),
            dx=f"{band['dx']:.0f}",
            unit=unit,
            segments=band["segments"],
        ),
        fontsize=8,
    )
    style_axes(ax)


def plot_power_spectra(
    fields: TestFields, var_index: int, path: Path, lang: str = "en"
) -> JsonDict:
    """Zonal power spectra (log-log), a panel per latitude band, with the LR Nyquist
    wavelength and the effective resolutions marked."""
    with writing_in(lang):
        return _plot_power_spectra(fields, var_index, path, lang)


def _plot_power_spectra(fields: TestFields, var_index: int, path: Path, lang: str) -> JsonDict:
    var, unit = fields.variables[var_index], shown_unit(fields.unit(var_index))
    result = zonal_spectra(fields, var_index)
    bands, dist = result["bands"], result["unit"]
    shown = _unit_text(dist)
    labels = {"hr": "HR", "sr": "SR", "bicubic": text("plot.bicubic", lang)}
    labels["spline"] = tr("spline")
    fig = new_figure(3.4 * len(bands) + 0.6, 4.2)
    axes = fig.subplots(1, len(bands), squeeze=False)[0]
    for ax, band in zip(axes, bands, strict=True):
        _draw_band(ax, band, shown, labels)
        if dist == "km":
            ax.set_xlabel(text("plot.wavenumber", lang))
        else:
            ax.set_xlabel(tr("wavenumber [cycles/HR cell] (no coordinates)"))
    psd = text("plot.psd", lang)
    axes[0].set_ylabel(f"{psd} [({unit})² {shown}]" if unit else f"{psd} [{shown}]")
    axes[0].legend(title=f"{var} [{unit}]" if unit else var, fontsize=7, frameon=False)
    fraction = f"{EFFECTIVE_FRACTION:.0%}"
    fig.suptitle(text("plot.spectra_title", lang, var=var, fraction=fraction), fontsize=9)
    infos = [_band_info(b) for b in bands]
    main = _band_info(_main_band(bands))
    return save_figure(
        fig,
        path,
        variable=var,
        units=unit,
        distance_unit=dist,
        fraction=EFFECTIVE_FRACTION,
        min_segment_cells=MIN_SEGMENT_CELLS,
        periodic=result["periodic"],
        bands=infos,
        main_band=main["band"],
        effective_resolution_km=main["effective_resolution"] if dist == "km" else None,
        lr_nyquist_km=main["lr_nyquist"] if dist == "km" else None,
        effective_resolution=main["effective_resolution"],
        lr_nyquist=main["lr_nyquist"],
    )


def _unit_text(unit: str) -> str:
    """``km``, or ``HR cells`` on a grid without coordinates (in the language written)."""
    return "km" if unit == "km" else tr("HR cells")


def _wavelength(value: float | None, band: JsonDict, unit: str) -> str:
    if value is None:
        return tr(
            "the HR grid's limit, 2Δx = {value} {unit}",
            value=f"{band['hr_nyquist']:,.0f}",
            unit=unit,
        )
    return f"~{value:,.0f} {unit}"


def describe_spectra(info: JsonDict) -> list[str]:
    """One sentence per latitude band from a spectra plot's JSON info: how far down SR
    and the baselines follow HR (their effective resolutions), and the LR Nyquist
    wavelength below which the LR grid resolves nothing."""
    unit = _unit_text(info.get("distance_unit", "km"))
    colon, comma = ("：", "、") if writing_lang() == "zh" else (": ", ", ")
    out = []
    for band in info.get("bands") or []:
        eff = band["effective_resolution"]
        others = [
            f"{tr(name)}{colon}{_wavelength(eff[name], band, unit)}"
            for name in ("bicubic", "spline")
            if name in eff
        ]
        sentence = tr(
            "{band} ({segments} ocean runs, Δx ≈ {dx} {unit}): SR follows HR, its error "
            "spectrum under {fraction} of HR's, down to {sr} ({others}); the LR grid "
            "resolves nothing below {nyquist} {unit} (its Nyquist wavelength), so structure "
            "finer than that is inferred, not observed.",
            band=band_name(band),
            segments=band["segments"],
            dx=f"{band['dx']:,.0f}",
            unit=unit,
            fraction=f"{info.get('fraction', EFFECTIVE_FRACTION):.0%}",
            sr=_wavelength(eff.get("sr"), band, unit),
            others=comma.join(others),
            nyquist=f"{band['lr_nyquist']:,.0f}",
        )
        out.append(sentence)
    return out


def depth_of(label: str) -> float | None:
    """The depth a field label names (``"month=11 depth=75.0"`` or ``"depth 75 m"`` → 75.0),
    else ``None``."""
    match = _DEPTH.search(label)
    return float(match.group(2)) if match else None


def rmse_by_depth(fields: TestFields, var_index: int) -> dict[float, JsonDict]:
    """``{depth: {"sr": rmse, "bicubic": rmse[, "spline": rmse], "fields": n}}`` over the
    evaluated fields (the spline when they carry it)."""
    errors: dict[float, dict[str, list[float]]] = {}
    for n, label in enumerate(fields.labels):
        depth = depth_of(label)
        hr = fields.hr[n, var_index]
        ocean = np.isfinite(hr)
        if depth is None or not ocean.any():
            continue
        estimates = {"sr": fields.sr, "bicubic": fields.bicubic, "spline": fields.spline}
        slot = errors.setdefault(
            depth, {name: [] for name, v in estimates.items() if v is not None}
        )
        for name in slot:
            data = estimates[name][n, var_index]  # type: ignore[index]
            slot[name].append(float(np.mean((data[ocean] - hr[ocean]) ** 2)))
    return {
        depth: {name: math.sqrt(float(np.mean(v))) for name, v in slot.items()}
        | {"fields": len(slot["sr"])}
        for depth, slot in sorted(errors.items())
    }


def plot_rmse_by_depth(
    fields: TestFields, var_index: int, path: Path, lang: str = "en"
) -> JsonDict:
    """RMSE of SR and the baselines per depth level (depth downwards), for 3-D fields."""
    var, unit = fields.variables[var_index], fields.unit(var_index)
    table = rmse_by_depth(fields, var_index)
    if len(table) < 2:
        raise PlotSkipped("fewer than two depth levels among the evaluated test fields")
    depths = list(table)
    fig = new_figure(4.8, 5.2)
    ax = fig.add_subplot()
    ax.plot([table[d]["sr"] for d in depths], depths, "o-", color="tab:blue", label="SR")
    ax.plot(
        [table[d]["bicubic"] for d in depths],
        depths,
        "s--",
        color="tab:orange",
        label=text("plot.bicubic", lang),
    )
    if all("spline" in row for row in table.values()):
        spline = [table[d]["spline"] for d in depths]
        ax.plot(spline, depths, "^:", color="#2e8b57", label=text("plot.spline", lang))
    ax.invert_yaxis()
    ax.set_xlabel(f"RMSE [{unit}]" if unit else "RMSE")
    ax.set_ylabel(text("plot.depth", lang))
    ax.legend(title=f"{var} [{unit}]" if unit else var, fontsize=8)
    fig.suptitle(text("plot.depth_title", lang, var=var), fontsize=10)
    rows = [{"depth_m": d, **table[d]} for d in depths]
    return save_figure(fig, path, variable=var, units=unit, rows=rows)
