"""Coastal bands from geodesic distance to land (oceansr.report.regions): great circles on a
periodic globe, bands an oceanographer uses clipped to what the grid resolves, ticks that
name the band edges, and a coast sentence that says "concentrate" only past its factor."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from oceansr.report.analysis import CONCENTRATION_RATIO, _where_errors
from oceansr.report.regions import (
    distance_bands,
    geodesic_distance_to_land,
    plot_errors_by_region,
    region_errors,
)
from oceansr.report.sr_fields import TestFields


def _grid(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    grid_lat, grid_lon = np.meshgrid(lat, lon, indexing="ij")
    return grid_lat, grid_lon


def test_one_degree_of_longitude_at_60n_is_55_6_km() -> None:
    lat, lon = _grid(np.array([59.0, 60.0, 61.0]), np.array([10.0, 11.0, 12.0, 13.0]))
    ocean = np.ones(lat.shape, dtype=bool)
    ocean[1, 0] = False  # land at 60°N 10°E
    dist = geodesic_distance_to_land(ocean, lat, lon)
    assert dist[1, 1] == pytest.approx(55.6, abs=0.1)  # 111.2 km · cos 60°
    assert dist[1, 2] == pytest.approx(111.2, abs=0.2)
    assert dist[0, 0] == pytest.approx(111.2, abs=0.2)  # 1° of latitude south
    assert dist[1, 0] == 0.0


def test_a_cell_at_359e_is_next_to_land_at_0_5e() -> None:
    lon = np.arange(0.5, 360.0, 1.0)  # a global 1° grid, 0.5 ... 359.5
    lat, grid_lon = _grid(np.array([-1.0, 0.0, 1.0]), lon)
    ocean = np.ones(lat.shape, dtype=bool)
    ocean[:, 0] = False  # a meridian of land at 0.5°E
    dist = geodesic_distance_to_land(ocean, lat, grid_lon)
    assert dist[1, -1] == pytest.approx(111.2, abs=0.2)  # 359.5°E, across the seam
    assert dist[1, 180] == pytest.approx(180 * 111.2, rel=0.01)  # the antimeridian side


def test_bands_are_clipped_to_what_the_grid_resolves() -> None:
    inf = math.inf
    fine = [(0, 50), (50, 200), (200, 500), (500, 1000), (1000, inf)]
    assert distance_bands("km", 28.0, 4) == fine  # 0.25°: every band holds cells
    assert distance_bands("km", 111.0, 4) == [(0, 200), (200, 500), (500, 1000), (1000, inf)]
    assert distance_bands("km", 222.0, 4) == [(0, 500), (500, 1000), (1000, inf)]  # 2°
    assert distance_bands("km", 890.0, 4) == [(0, 1000), (1000, inf)]  # 8°
    assert distance_bands("cells", None, 4) == [(0, 4), (4, 8), (8, 16), (16, inf)]


def _fields(coastal_noise: float, coords: bool = True, spline: bool = False) -> TestFields:
    """A 2° strip of the tropics with a continent on its west side; model errors are
    ``coastal_noise`` times larger in the two columns (~220-440 km) next to it."""
    rng = np.random.default_rng(0)
    shape = (3, 1, 20, 60)
    hr = rng.normal(25.0, 1.0, shape).astype(np.float32)
    hr[..., :10] = np.nan
    noise = rng.normal(0.0, 0.1, shape).astype(np.float32)
    noise[..., 10:12] *= coastal_noise
    sr = np.nan_to_num(hr) + noise
    fields = TestFields(
        hr=hr,
        lr=hr[..., ::4, ::4],
        bicubic=np.nan_to_num(hr) + 2 * noise,
        sr=sr,
        labels=["month=1", "month=2", "month=3"],
        indices=[0, 1, 2],
        total=3,
        lat=np.arange(-19.0, 20.0, 2.0) if coords else None,
        lon=np.arange(-59.0, 60.0, 2.0) if coords else None,
        variables=["temp"],
        units=["°C"],
        scale=4,
        checkpoint=Path("best.ckpt"),
        model_name="srcnn",
    )
    if spline:
        fields.spline = np.nan_to_num(hr) + 1.5 * noise  # type: ignore[attr-defined]
    return fields


def test_region_bands_are_geodesic_and_named_by_their_edges(tmp_path: Path) -> None:
    regions = region_errors(_fields(3.0, spline=True))
    assert regions["distance_unit"] == "km" and 215 < regions["cell_km"] < 225
    labels = [b["label"] for b in regions["distance_bands"]]
    assert labels == ["0–500 km", "500–1,000 km", ">1,000 km"]
    entry = regions["variables"]["temp"]
    first = entry["by_distance"][0]
    # Columns 10-11 are 1-2 cells (~220-440 km) east of land: all of them in 0-500 km.
    assert first["cells"] == 3 * 20 * 2 and entry["coastal"]["cells"] == first["cells"]
    assert entry["open"]["cells"] == sum(row["cells"] for row in entry["by_distance"][1:])
    assert regions["open_from"] == 500.0 and entry["coastal"]["rmse_spline"] is not None
    info = plot_errors_by_region(_fields(3.0, spline=True), tmp_path / "r.png", regions)
    assert Path(info["path"]).is_file()


def _ticks_and_lines(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fields: Any) -> Any:
    import oceansr.report.regions as regions

    seen: dict[str, Any] = {}
    real = regions.save_figure

    def keep(fig: Any, path: Path, **info: Any) -> Any:
        ax = fig.axes[0]
        seen["ticks"] = [t.get_text() for t in ax.get_xticklabels()]
        seen["xlabel"] = ax.get_xlabel()
        seen["vertical_lines"] = [line for line in ax.get_lines() if len(line.get_xdata()) == 2]
        seen["bars"] = [p.get_x() + p.get_width() / 2 for p in ax.patches]
        return real(fig, path, **info)

    monkeypatch.setattr(regions, "save_figure", keep)
    regions.plot_errors_by_region(fields, tmp_path / "regions.png")
    return seen


def test_distance_panel_ticks_say_the_edges_and_no_line_is_drawn(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen = _ticks_and_lines(monkeypatch, tmp_path, _fields(3.0))
    assert seen["ticks"] == ["0–500 km", "500–1,000 km", ">1,000 km"]
    assert seen["xlabel"] == "geodesic distance to land [km]"
    assert seen["vertical_lines"] == []
    # Model and bicubic bars sit either side of each tick (0, 1, 2).
    assert sorted(round(x) for x in seen["bars"]) == [0, 0, 1, 1, 2, 2]
    cells = _ticks_and_lines(monkeypatch, tmp_path, _fields(3.0, coords=False))
    assert cells["ticks"] == ["0–4 HR cells", "4–8 HR cells", "8–16 HR cells", ">16 HR cells"]
    assert cells["xlabel"] == "distance to land [HR cells]"


@pytest.mark.parametrize(
    ("coastal_noise", "verdict"),
    [
        (3.0, "errors **concentrate near the coast**"),
        (1.1, "coastal and open-ocean errors are **alike**"),
        (0.3, "errors are **larger in the open ocean** than near the coast"),
    ],
)
def test_coast_sentence_follows_the_ratio(coastal_noise: float, verdict: str) -> None:
    regions = region_errors(_fields(coastal_noise))
    entry = regions["variables"]["temp"]
    ratio = entry["coastal"]["rmse"] / entry["open"]["rmse"]
    sentence = _where_errors(regions, None)[0]
    assert verdict in sentence, (ratio, sentence)
    assert f"(×{ratio:.2f}; errors are said to concentrate only beyond ×1.25)" in sentence
    assert "within 500 km of land" in sentence and "farther than 500 km" in sentence
    assert (ratio > CONCENTRATION_RATIO) is ("concentrate near" in sentence)


def test_coast_sentence_without_land_says_why() -> None:
    fields = _fields(1.0)
    fields.hr = np.nan_to_num(fields.hr, nan=25.0)
    sentence = _where_errors(region_errors(fields), None)[0]
    assert "the coast/open-ocean split is undefined (no land on the grid)" in sentence
