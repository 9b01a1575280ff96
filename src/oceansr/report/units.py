"""Units and coordinates as a scientist reads them: CF/UDUNITS spellings of a variable's
``units`` attribute shown the way papers print them (``degC`` → ``°C``, ``m s-1`` →
``m s⁻¹``), and longitudes/latitudes with their hemisphere (``30°W``, ``15°S``).

A module of its own, importing nothing of the report, so that the history reader, the
Markdown and every plot can share the one spelling without import cycles
(:mod:`oceansr.report.formatting` re-exports it).
"""

from __future__ import annotations

import math
import re

#: CF spellings of degrees Celsius (lower-cased, spaces as ``_``).
_CELSIUS = frozenset(
    {"degc", "deg_c", "degree_c", "degrees_c", "celsius", "degree_celsius", "degrees_celsius"}
    | {"°c", "oc", "c_deg", "deg_celsius"}
)

#: Salinity spellings: practical salinity is shown as psu, mass fractions as g/kg.
_PSU = frozenset({"psu", "pss", "pss-78", "pss78", "practical_salinity_unit", "pss_78"})
_G_PER_KG = frozenset({"g/kg", "g_kg-1", "g.kg-1", "g_kg^-1", "1e-3", "0.001", "ppt", "‰"})
_KELVIN = frozenset({"k", "kelvin", "degk", "deg_k", "degree_k", "degrees_k"})
_DIMENSIONLESS = frozenset({"1", "-", "none", "dimensionless", "unitless"})

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
#: One UDUNITS factor: a symbol with an optional (``^``) integer exponent, ``s-1``, ``m2``.
_FACTOR = re.compile(r"^([A-Za-zµμ°%]+)\^?(-?\d+)?$")


def _factors(text: str) -> list[str] | None:
    """``"m s-1"`` / ``"m.s-1"`` / ``"m/s"`` → ``["m", "s⁻¹"]``; None when the text is not
    a plain product of symbols with exponents (then it is shown as written)."""
    numerator, _, denominator = text.partition("/")
    if "/" in denominator:
        return None
    out: list[str] = []
    for part, sign in ((numerator, 1), (denominator, -1)):
        for token in re.split(r"[ .*·]+", part.strip()):
            if not token:
                continue
            match = _FACTOR.match(token)
            if match is None:
                return None
            power = sign * int(match.group(2) or 1)
            out.append(match.group(1) + ("" if power == 1 else str(power).translate(_SUPERSCRIPT)))
    return out or None


def display_unit(units: str | None) -> str:
    """A variable's ``units`` attribute as printed on plots, tables and sentences.

    ``degC``, ``degree_Celsius``, ``deg_C``, ``Celsius`` → ``°C``; ``K`` stays ``K``;
    ``psu``/``PSU``/``PSS-78`` → ``psu``; ``g/kg``, ``g kg-1``, ``1e-3``, ``0.001`` →
    ``g/kg`` (the CF canonical unit of a mass fraction); ``m s-1``, ``m/s`` → ``m s⁻¹``;
    a dimensionless ``1`` → ``""`` (no unit is shown). Anything else is shown as written.
    """
    raw = str(units or "").strip()
    key = re.sub(r"\s+", "_", raw.lower())
    if not raw or key in _DIMENSIONLESS:
        return ""
    if key in _CELSIUS:
        return "°C"
    if key in _KELVIN:
        return "K"
    if key in _PSU:
        return "psu"
    if key in _G_PER_KG or key.replace("_", " ") in ("g kg-1", "g kg^-1"):
        return "g/kg"
    factors = _factors(raw)
    return " ".join(factors) if factors else raw


def with_unit(label: str, units: str | None) -> str:
    """``label [unit]`` with the displayed unit, or the bare label when there is none."""
    shown = display_unit(units)
    return f"{label} [{shown}]" if shown else label


def _degrees(value: float, digits: int) -> str:
    text = f"{abs(value):.{digits}f}".rstrip("0").rstrip(".") if digits else f"{abs(value):.0f}"
    return text or "0"


def format_lon(value: float, digits: int = 0) -> str:
    """A longitude with its hemisphere: ``-30`` → ``30°W``, ``45`` → ``45°E``, ``200`` →
    ``160°W``; ``0`` and ``180`` carry none (they are both hemispheres' edge)."""
    if not math.isfinite(value):
        return ""
    wrapped = (float(value) + 180.0) % 360.0 - 180.0
    if wrapped == -180.0 and value > 0:
        wrapped = 180.0
    shown = _degrees(wrapped, digits)
    if float(shown) in (0.0, 180.0):
        return f"{shown}°"
    return f"{shown}°{'W' if wrapped < 0 else 'E'}"


def format_lat(value: float, digits: int = 0) -> str:
    """A latitude with its hemisphere: ``-15`` → ``15°S``, ``60`` → ``60°N``, ``0`` → ``0°``."""
    if not math.isfinite(value):
        return ""
    shown = _degrees(float(value), digits)
    if float(shown) == 0.0:
        return "0°"
    return f"{shown}°{'S' if value < 0 else 'N'}"


def variable_title(name: str, long_name: str = "") -> str:
    """A variable as titles name it: ``Sea water temperature (temp)`` when the data give a
    CF ``long_name``, the short name alone otherwise. The short name stays in brackets:
    it is what the config, metric keys and predict use."""
    long_name = " ".join(str(long_name or "").split())
    if not long_name or long_name == name:
        return name
    return f"{long_name} ({name})"
