"""Zonal spectra on lat/lon grids (oceansr.report.spectra): the true zonal spacing of each
row, ocean-only runs (no coastline tail), the LR Nyquist wavelength and the effective
resolution in the plot's JSON and in the report's sentences."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oceansr.report.figures import PlotSkipped
from oceansr.report.spectra import (
    EFFECTIVE_FRACTION,
    describe_spectra,
    ocean_segments,
    plot_power_spectra,
    zonal_spectra,
)
from oceansr.report.sr_fields import TestFields

#: A global 2° grid: 90 rows of latitude centres, 180 columns of longitude centres.
LAT = np.arange(-89.0, 90.0, 2.0)
LON = np.arange(1.0, 360.0, 2.0)


def _fields(
    hr: np.ndarray,
    sr: np.ndarray | None = None,
    bic: np.ndarray | None = None,
    lat: np.ndarray | None = LAT,
    lon: np.ndarray | None = LON,
    scale: int = 4,
) -> TestFields:
    sr = np.nan_to_num(hr) if sr is None else sr
    n = hr.shape[0]
    return TestFields(
        hr=hr,
        lr=hr[..., ::scale, ::scale],
        bicubic=sr if bic is None else bic,
        sr=sr,
        labels=[f"month={i + 1}" for i in range(n)],
        indices=list(range(n)),
        total=n,
        lat=lat,
        lon=lon,
        variables=["temp"],
        units=["degC"],
        scale=scale,
        checkpoint=Path("best.ckpt"),
        model_name="srcnn",
    )


def _peak_wavelength(band: dict[str, Any]) -> float:
    return float(1.0 / band["k"][int(np.argmax(band["hr"]))])


@pytest.mark.parametrize("lat0", [1.0, 49.0, 65.0])
def test_a_zonal_sine_peaks_at_its_wavelength_at_every_latitude(lat0: float) -> None:
    """Zonal wavenumber 12 around the globe is 40,075 km · cos(lat) / 12 long: 3,340 km at
    the equator, 2,190 km at 49°N, 1,410 km at 65°N. One km spacing for the whole grid
    would put all three at the same place."""
    waves = 12
    hr = np.full((4, 1, LAT.size, LON.size), np.nan, dtype=np.float32)
    rows = np.flatnonzero(np.abs(LAT - lat0) < 1.5)  # the two rows around lat0
    phases = np.random.default_rng(0).uniform(0, 2 * np.pi, (4, 1, rows.size, 1))
    hr[:, :, rows, :] = np.sin(np.radians(LON * waves)[None, None, None, :] + phases)
    (band,) = zonal_spectra(_fields(hr), 0)["bands"]
    expected = 2 * np.pi * 6371.0088 * np.cos(np.radians(LAT[rows])).mean() / waves
    assert band["dx"] == pytest.approx(2 * 111.32 * np.cos(np.radians(LAT[rows])).mean())
    assert _peak_wavelength(band) == pytest.approx(expected, rel=0.05)
    assert band["lr_nyquist"] == pytest.approx(2 * 4 * band["dx"])


def _red_field(rng: np.random.Generator, shape: tuple[int, int], slope: float = 3.0) -> Any:
    """A periodic random field with an isotropic k^-slope spectrum (like SST)."""
    ky, kx = np.fft.fftfreq(shape[0])[:, None], np.fft.fftfreq(shape[1])[None, :]
    k = np.hypot(ky, kx)
    amplitude = np.where(k > 0, np.maximum(k, 1e-9) ** (-slope / 2), 0.0)
    noise = np.fft.fft2(rng.standard_normal(shape))
    field = np.real(np.fft.ifft2(noise * amplitude))
    return (field / field.std()).astype(np.float32)


def _tail(band: dict[str, Any], decades: float = 0.3) -> float:
    """Mean HR power over the highest ``decades`` of wavenumber."""
    k = band["k"]
    return float(band["hr"][k >= k.max() / 10**decades].mean())


def test_land_gaps_give_no_coastline_tail() -> None:
    rng = np.random.default_rng(1)
    sea = 15.0 + np.stack([[_red_field(rng, (LAT.size, LON.size))] for _ in range(3)])  # °C
    land = np.zeros(sea.shape[-2:], dtype=bool)
    land[:, 40:70] = True  # a continent across every row
    land[20:50, 120:130] = True  # an island chain
    with_land = np.where(land, np.nan, sea).astype(np.float32)
    open_sea = zonal_spectra(_fields(sea), 0)["bands"]
    coasts = zonal_spectra(_fields(with_land), 0)["bands"]
    for clean, gapped in zip(open_sea, coasts, strict=True):
        assert gapped["lat_range"] == clean["lat_range"]
        assert 0.5 < _tail(gapped) / _tail(clean) < 2.0, gapped["lat_range"]
    # Land zeroed (what a 2-D FFT of the masked field sees): a 15 °C jump at every coast.
    zeroed = np.where(land, 0.0, sea).astype(np.float32)
    jumps = zonal_spectra(_fields(zeroed), 0)["bands"]
    assert _tail(jumps[0]) > 10 * _tail(open_sea[0])


def test_runs_cross_the_seam_of_a_global_grid() -> None:
    row = np.ones(40, dtype=bool)
    row[10:14] = False
    (run,) = ocean_segments(row, periodic=True)
    assert run.size == 36 and run[0] == 14 and run[-1] == 9
    assert [r.size for r in ocean_segments(row, periodic=False)] == [26]  # 10 cells dropped
    assert ocean_segments(np.zeros(40, dtype=bool), periodic=True) == []


def _zonal_blur(field: np.ndarray, cells: int) -> np.ndarray:
    from scipy.ndimage import uniform_filter1d

    return uniform_filter1d(field, size=cells, axis=-1, mode="wrap")


def test_effective_resolution_and_lr_nyquist_reach_json_and_sentences(tmp_path: Path) -> None:
    """A 6-cell zonal box filter H leaves an error (H − 1)·HR whose spectrum reaches half
    of HR's where H = 0.29, at 6 Δx / 0.77 = 7.8 Δx, and stays above it at shorter
    wavelengths; the SR here is HR plus a little noise: resolved to the grid's 2Δx."""
    rng = np.random.default_rng(2)
    lat = np.linspace(-10.0, 10.0, 48)  # 0.43° rows near the equator: Δx ≈ 47 km
    lon = np.linspace(100.0, 140.0, 96)
    hr = rng.standard_normal((3, 1, lat.size, lon.size)).astype(np.float32)
    hr[:, :, 5:9, 30:40] = np.nan  # an island
    sharp = np.nan_to_num(hr) + 0.05 * rng.standard_normal(hr.shape).astype(np.float32)
    blurred = _zonal_blur(np.nan_to_num(hr), 6).astype(np.float32)
    fields = _fields(hr, sharp, blurred, lat=lat, lon=lon)
    info = plot_power_spectra(fields, 0, tmp_path / "spectra.png")
    assert Path(info["path"]).is_file()
    json.dumps(info, allow_nan=False)  # json-safe: no NaN, no numpy scalars
    (band,) = info["bands"]
    dx = band["dx"]
    assert 45 < dx < 49 and band["lr_nyquist"] == pytest.approx(8 * dx, rel=0.01)
    assert info["lr_nyquist_km"] == band["lr_nyquist"]
    assert info["effective_resolution_km"]["sr"] is None  # kept to the grid scale
    blurred_at = info["effective_resolution_km"]["bicubic"]
    assert 7 * dx < blurred_at < 9 * dx
    assert info["fraction"] == EFFECTIVE_FRACTION
    (sentence,) = describe_spectra(info)
    assert f"(bicubic: ~{blurred_at:,.0f} km)" in sentence
    assert f"the LR grid resolves nothing below {band['lr_nyquist']:,.0f} km" in sentence
    assert f"down to the HR grid's limit, 2Δx = {2 * dx:,.0f} km" in sentence
    assert "resolved to the grid scale" not in sentence


def test_grid_without_coordinates_is_measured_in_cells(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    hr = rng.standard_normal((2, 1, 32, 64)).astype(np.float32)
    info = plot_power_spectra(_fields(hr, lat=None, lon=None), 0, tmp_path / "cells.png")
    assert info["distance_unit"] == "cells" and info["effective_resolution_km"] is None
    (band,) = info["bands"]
    assert band["band"] == "all rows" and band["dx"] == 1.0 and band["lr_nyquist"] == 8.0
    assert "below 8 HR cells" in describe_spectra(info)[0]


def test_a_field_without_long_ocean_runs_is_skipped() -> None:
    hr = np.ones((1, 1, LAT.size, LON.size), dtype=np.float32)
    hr[..., ::10] = np.nan  # land every 10th column: no 16-cell run
    with pytest.raises(PlotSkipped, match="16 HR cells"):
        zonal_spectra(_fields(hr), 0)


def test_interpolation_artefacts_at_the_grid_scale_are_no_resolution() -> None:
    """A baseline that loses HR's small scales but adds as much power of its own there
    (ringing, land-fill artefacts) matches HR's power spectrum, not HR: its error spectrum
    says so."""
    rng = np.random.default_rng(4)
    hr = rng.standard_normal((3, 1, 48, 96)).astype(np.float32)
    smooth = _zonal_blur(hr, 8)
    artefacts = _zonal_blur(rng.standard_normal(hr.shape), 1) - _zonal_blur(
        rng.standard_normal(hr.shape), 8
    )
    fake = (smooth + artefacts).astype(np.float32)
    lat, lon = np.linspace(-10.0, 10.0, 48), np.linspace(100.0, 140.0, 96)
    (band,) = zonal_spectra(_fields(hr, hr, fake, lat=lat, lon=lon), 0)["bands"]
    tail = band["k"] > band["k"].max() / 2
    assert np.all(band["bicubic"][tail] > 0.5 * band["hr"][tail])  # the power is there
    assert band["effective_resolution"]["bicubic"] > 4 * band["dx"]  # the signal is not
    assert band["effective_resolution"]["sr"] is None


def test_spectra_sentences_in_chinese(tmp_path: Path) -> None:
    from oceansr.i18n import writing_in

    rng = np.random.default_rng(5)
    hr = rng.standard_normal((2, 1, 32, 64)).astype(np.float32)
    blurred = _zonal_blur(hr, 6).astype(np.float32)
    lat, lon = np.linspace(30.0, 40.0, 32), np.linspace(0.0, 20.0, 64)
    info = plot_power_spectra(_fields(hr, hr, blurred, lat=lat, lon=lon), 0, tmp_path / "s.png")
    with writing_in("zh"):
        (sentence,) = describe_spectra(info)
    assert sentence.startswith("纬度绝对值 0–45°（") and "双三次插值：~" in sentence
    assert "低分辨率网格无法分辨短于" in sentence and sentence.endswith("。")
    assert not any(word in sentence for word in ("ocean runs", "follows", "bicubic", ": "))
