"""CF/UDUNITS spellings shown as papers print them, and hemisphere labels
(oceansr.report.units)."""

from __future__ import annotations

import pytest

from oceansr.report.formatting import display_unit, format_lat, format_lon, variable_title


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        *[(u, "°C") for u in ("degC", "degree_Celsius", "deg_C", "Celsius", "degrees_C")],
        ("K", "K"),
        *[(u, "psu") for u in ("psu", "PSU", "PSS-78")],
        *[(u, "g/kg") for u in ("1e-3", "0.001", "g/kg", "g kg-1")],
        *[(u, "m s⁻¹") for u in ("m s-1", "m/s", "m.s-1", "m s^-1")],
        ("m", "m"),
        ("W m-2", "W m⁻²"),
        ("1", ""),
        ("", ""),
        ("degrees_north", "degrees_north"),  # not a product of symbols: as written
    ],
)
def test_cf_units_are_displayed_one_way(raw: str, shown: str) -> None:
    assert display_unit(raw) == shown


def test_longitudes_and_latitudes_carry_their_hemisphere() -> None:
    assert [format_lon(v) for v in (-30, 45, 0, 180, 200, 340)] == [
        "30°W", "45°E", "0°", "180°", "160°W", "20°W",
    ]  # fmt: skip
    assert [format_lat(v) for v in (-15, 60, 0)] == ["15°S", "60°N", "0°"]


def test_titles_use_the_long_name_with_the_short_name() -> None:
    assert variable_title("temp", "Sea water temperature") == "Sea water temperature (temp)"
    assert variable_title("temp", "") == "temp" and variable_title("temp", "temp") == "temp"
