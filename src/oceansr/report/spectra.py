"""What ocean super-resolution papers show beyond maps: radially averaged power spectra
of HR, SR and bicubic with the effective resolution, and RMSE by depth level.

Spectra: each test field (ocean anomaly, land set to zero, Hann-windowed) is Fourier
transformed on the HR grid with grid spacings in km from the mean latitude (an
approximation on a lat/lon grid, the same for HR, SR and bicubic, so the ratios the
effective resolution uses are fair), and the power is averaged over rings of equal
wavenumber and over the evaluated fields. The effective resolution is the wavelength at
which SR's spectrum first drops below ``fraction`` (default 0.5) of HR's, going from
large to small scales: finer structure than that is not reproduced.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from oceansr.i18n import text
from oceansr.report.figures import JsonDict, PlotSkipped, new_figure, save_figure
from oceansr.report.sr_fields import TestFields

KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON_EQUATOR = 111.320
EFFECTIVE_FRACTION = 0.5
# "depth=75.0" (a coordinate without units) or "depth 75 m" (with its units attribute).
_DEPTH = re.compile(r"\b(depth|deptht|depthu|depthv|lev|level|z)[= ](-?[\d.]+(?:[eE][-+]?\d+)?)")


def grid_spacing_km(fields: TestFields) -> tuple[float, float]:
    """``(dy, dx)`` of the HR grid in km (1 km per cell when there are no coordinates)."""
    lat, lon = fields.lat, fields.lon
    if lat is None or lon is None or lat.ndim != 1 or lon.ndim != 1 or lat.size < 2:
        return 1.0, 1.0
    dlat = abs(float(np.nanmedian(np.diff(lat))))
    dlon = abs(float(np.nanmedian(np.diff(lon))))
    mid = math.radians(float(np.nanmean(lat)))
    return dlat * KM_PER_DEG_LAT, max(dlon * KM_PER_DEG_LON_EQUATOR * math.cos(mid), 1e-3)


def radial_spectrum(
    field: np.ndarray, dy: float, dx: float, ocean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``(wavenumber [cycles/km], power)`` of one 2-D field, land (``~ocean``) zeroed."""
    data = np.where(ocean, field, np.nan).astype(np.float64)
    data = np.where(ocean, data - np.nanmean(data), 0.0)
    h, w = data.shape
    window = np.outer(np.hanning(h), np.hanning(w))
    power = np.abs(np.fft.fft2(data * window)) ** 2 * dy * dx / max(window.sum() ** 2, 1e-12)
    ky, kx = np.fft.fftfreq(h, dy), np.fft.fftfreq(w, dx)
    k = np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)
    k_step = max(1.0 / (h * dy), 1.0 / (w * dx))
    k_max = min(0.5 / dy, 0.5 / dx)
    edges = np.arange(k_step / 2, k_max + k_step, k_step)
    which = np.digitize(k.ravel(), edges)
    sums = np.bincount(which, weights=power.ravel(), minlength=edges.size + 1)
    counts = np.bincount(which, minlength=edges.size + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    inner = slice(1, edges.size)
    return centres, sums[inner] / np.maximum(counts[inner], 1)


def effective_resolution(
    k: np.ndarray, p_hr: np.ndarray, p_other: np.ndarray, fraction: float = EFFECTIVE_FRACTION
) -> float | None:
    """Wavelength [km] where ``p_other`` first drops below ``fraction`` of ``p_hr`` (from
    large to small scales); ``None`` if it never does (resolved to the grid scale)."""
    ratio = p_other / np.where(p_hr > 0, p_hr, np.nan)
    below = np.flatnonzero(np.nan_to_num(ratio, nan=1.0) < fraction)
    if below.size == 0:
        return None
    return float(1.0 / k[below[0]])


def mean_spectra(fields: TestFields, var_index: int) -> JsonDict:
    """Spectra of HR, SR and bicubic averaged over the evaluated test fields."""
    dy, dx = grid_spacing_km(fields)
    sums: dict[str, np.ndarray] = {}
    k = np.empty(0)
    for n in range(fields.hr.shape[0]):
        hr = fields.hr[n, var_index]
        ocean = np.isfinite(hr)
        if ocean.mean() < 0.05:
            continue
        for name, data in (
            ("hr", hr),
            ("sr", fields.sr[n, var_index]),
            ("bicubic", fields.bicubic[n, var_index]),
        ):
            k, power = radial_spectrum(data, dy, dx, ocean)
            sums[name] = sums.get(name, 0) + power
    if not sums:
        raise PlotSkipped("no test field has enough ocean for a spectrum")
    return {"k": k, "dy_km": dy, "dx_km": dx, **sums}


def plot_power_spectra(
    fields: TestFields, var_index: int, path: Path, lang: str = "en"
) -> JsonDict:
    """Radially averaged power spectra (log-log) with the effective resolutions marked."""
    var, unit = fields.variables[var_index], fields.unit(var_index)
    spectra = mean_spectra(fields, var_index)
    k = spectra["k"]
    eff = {
        name: effective_resolution(k, spectra["hr"], spectra[name]) for name in ("sr", "bicubic")
    }
    fig = new_figure(6.4, 4.4)
    ax = fig.add_subplot()
    styles = {
        "hr": ("HR", "black", "-"),
        "sr": ("SR", "tab:blue", "-"),
        "bicubic": (text("plot.bicubic", lang), "tab:orange", "--"),
    }
    for name, (label, colour, line) in styles.items():
        ax.loglog(k, spectra[name], color=colour, linestyle=line, label=label)
    for name in ("sr", "bicubic"):
        wavelength = eff[name]
        if wavelength is not None:
            label, colour, _ = styles[name]
            ax.axvline(1.0 / wavelength, color=colour, linestyle=":", linewidth=1)
            ax.annotate(
                f"{label}: {wavelength:.0f} km",
                (1.0 / wavelength, 0.04),
                xycoords=("data", "axes fraction"),
                rotation=90,
                fontsize=7,
                color=colour,
            )
    psd = text("plot.psd", lang)
    ax.set_xlabel(text("plot.wavenumber", lang))
    ax.set_ylabel(f"{psd} [({unit})² km²]" if unit else psd)
    ax.legend(title=f"{var} [{unit}]" if unit else var, fontsize=8)
    fraction = f"{EFFECTIVE_FRACTION:.0%}"
    fig.suptitle(text("plot.spectra_title", lang, var=var, fraction=fraction), fontsize=9)
    return save_figure(
        fig,
        path,
        variable=var,
        units=unit,
        effective_resolution_km={k_: v for k_, v in eff.items()},
        fraction=EFFECTIVE_FRACTION,
        grid_spacing_km=[spectra["dy_km"], spectra["dx_km"]],
    )


def depth_of(label: str) -> float | None:
    """The depth a field label names (``"month=11 depth=75.0"`` or ``"depth 75 m"`` → 75.0),
    else ``None``."""
    match = _DEPTH.search(label)
    return float(match.group(2)) if match else None


def rmse_by_depth(fields: TestFields, var_index: int) -> dict[float, JsonDict]:
    """``{depth: {"sr": rmse, "bicubic": rmse, "fields": n}}`` over the evaluated fields."""
    errors: dict[float, dict[str, list[float]]] = {}
    for n, label in enumerate(fields.labels):
        depth = depth_of(label)
        hr = fields.hr[n, var_index]
        ocean = np.isfinite(hr)
        if depth is None or not ocean.any():
            continue
        slot = errors.setdefault(depth, {"sr": [], "bicubic": []})
        for name, data in (
            ("sr", fields.sr[n, var_index]),
            ("bicubic", fields.bicubic[n, var_index]),
        ):
            slot[name].append(float(np.mean((data[ocean] - hr[ocean]) ** 2)))
    return {
        depth: {name: math.sqrt(float(np.mean(v))) for name, v in slot.items()}
        | {"fields": len(slot["sr"])}
        for depth, slot in sorted(errors.items())
    }


def plot_rmse_by_depth(
    fields: TestFields, var_index: int, path: Path, lang: str = "en"
) -> JsonDict:
    """RMSE of SR and bicubic per depth level (depth downwards), for 3-D fields."""
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
    ax.invert_yaxis()
    ax.set_xlabel(f"RMSE [{unit}]" if unit else "RMSE")
    ax.set_ylabel(text("plot.depth", lang))
    ax.legend(title=f"{var} [{unit}]" if unit else var, fontsize=8)
    fig.suptitle(text("plot.depth_title", lang, var=var), fontsize=10)
    rows = [{"depth_m": d, **table[d]} for d in depths]
    return save_figure(fig, path, variable=var, units=unit, rows=rows)
