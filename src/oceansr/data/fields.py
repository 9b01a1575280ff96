"""Plain containers for loaded ocean fields (numpy only, no torch).

A :class:`FieldSplit` holds the high-resolution fields of one split as a float32 array
``(N, C, H, W)`` with NaN over land, optionally the low-resolution fields given by the
source, and the metadata needed to report results (variables, units, coordinates, one
label per sample).  A :class:`FieldData` groups the train, valid and test splits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from oceansr.i18n import text


@dataclass
class FieldSplit:
    """One split of gridded fields.

    Attributes:
        hr: float32 ``(N, C, H, W)`` high-resolution fields, NaN = land.
        lr: float32 ``(N, C, h, w)`` low-resolution fields when the source provides them,
            else None (LR is then made from HR by the data module).
        variables: channel names, ``len(variables) == C``.
        units: units of each channel ("" when the source does not say).
        lat: latitude, ``(H,)`` or ``(H, W)``, or None when unknown.
        lon: longitude, ``(W,)`` or ``(H, W)``, or None when unknown.
        labels: one human-readable label per sample, e.g. ``"month=3 depth=10.0"``.
        attrs: the CF names of each channel (``long_name``, ``standard_name``, ``units``
            as the source gives them, :func:`cf_attrs`); empty when the source has none.
            Titles use the long name and predict writes them into its output.
    """

    hr: np.ndarray
    lr: np.ndarray | None
    variables: list[str]
    units: list[str]
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)
    attrs: list[dict[str, str]] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return int(self.hr.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.hr.shape[1])

    @property
    def hr_shape(self) -> tuple[int, int]:
        return int(self.hr.shape[-2]), int(self.hr.shape[-1])

    def __len__(self) -> int:
        return self.n_samples

    def __repr__(self) -> str:
        lr = "None" if self.lr is None else str(tuple(self.lr.shape))
        return (
            f"FieldSplit(hr={tuple(self.hr.shape)}, lr={lr}, variables={self.variables}, "
            f"units={self.units}, lat={'None' if self.lat is None else self.lat.shape}, "
            f"lon={'None' if self.lon is None else self.lon.shape})"
        )


@dataclass
class FieldData:
    """The train / valid / test splits of one data source."""

    train: FieldSplit
    valid: FieldSplit
    test: FieldSplit
    source: str = ""

    def splits(self) -> dict[str, FieldSplit]:
        return {"train": self.train, "valid": self.valid, "test": self.test}

    @property
    def variables(self) -> list[str]:
        return list(self.train.variables)

    @property
    def units(self) -> list[str]:
        return list(self.train.units)

    @property
    def attrs(self) -> list[dict[str, str]]:
        return [dict(a) for a in self.train.attrs]


#: The CF attributes that name a variable for readers (titles, predict output).
CF_NAME_ATTRS: tuple[str, ...] = ("long_name", "standard_name", "units")


def cf_attrs(attrs: Mapping[str, Any]) -> dict[str, str]:
    """The non-empty :data:`CF_NAME_ATTRS` of a variable's attributes, as strings."""
    return {k: str(attrs[k]).strip() for k in CF_NAME_ATTRS if str(attrs.get(k) or "").strip()}


def cf_columns(attrs: Sequence[Mapping[str, str]], count: int) -> dict[str, list[str]]:
    """``{"long_names": [...], "standard_names": [...]}`` for a data summary, one entry
    per channel (``""`` where the source has none)."""
    padded = [*attrs, *([{}] * max(count - len(attrs), 0))][:count]
    return {
        "long_names": [str(a.get("long_name", "")) for a in padded],
        "standard_names": [str(a.get("standard_name", "")) for a in padded],
    }


def grid_step_deg(lat: np.ndarray | None) -> float | None:
    """The median latitude step of a grid in degrees (1-D, or 2-D along rows), or None
    when there is no usable latitude. Recorded with a checkpoint so that predict can
    tell an HR file given as LR input (its step is the training HR step, not
    ``scale`` times it)."""
    if lat is None:
        return None
    values = np.asarray(lat, dtype=np.float64)
    steps = np.abs(np.diff(values, axis=0)).ravel() if values.ndim in (1, 2) else np.array([])
    steps = steps[np.isfinite(steps) & (steps > 0)]
    return float(np.median(steps)) if steps.size else None


def spans_globe(lon: np.ndarray | None) -> bool:
    """Whether longitude ``lon`` (1-D, or 2-D with equal rows) closes the circle: evenly
    spaced columns whose count times the spacing is 360° (to 0.1 %).

    Such a grid is periodic: the first and last columns are neighbours, so models,
    baselines, tiling and predict wrap around the seam (docs/architecture.md, inference).
    """
    if lon is None:
        return False
    values = np.asarray(lon, dtype=np.float64)
    if values.ndim == 2:
        if not np.allclose(values, values[:1], equal_nan=False):
            return False
        values = values[0]
    if values.ndim != 1 or values.size < 2 or not np.isfinite(values).all():
        return False
    steps = np.abs((np.diff(values) + 180.0) % 360.0 - 180.0)
    step = float(np.median(steps))
    if step <= 0 or not np.allclose(steps, step, rtol=1e-3, atol=0.0):
        return False
    return bool(abs(values.size * step - 360.0) < 1e-3 * 360.0)


#: Relative difference between a predict input's grid step and the training LR step
#: (``hr_grid_step_deg x scale``) above which predict warns: 10 % passes the rounding of
#: a grid's coordinates and a slightly different product, not another resolution.
STEP_TOLERANCE = 0.10


def _deg(value: float) -> str:
    return f"{value:.4g}"


def resolution_warnings(lat: np.ndarray | None, scale: int, hr_step: float | None) -> list[str]:
    """A warning when a predict input's grid step is not the training LR step.

    The model learned to go from the training LR step (``hr_step x scale``) to the HR
    step; on another input step its output has ``input step / scale``, a resolution it
    never saw (the issue-20 case: trained 8 -> 2 deg, given 4 deg, the output is 1 deg).
    An input at the training HR step (an HR file given as LR input) is said as such.
    Nothing without a latitude step, or for a checkpoint from before the HR step was
    recorded (``hr_step`` None). English text from the i18n catalogue (``warn.*``).
    """
    step = grid_step_deg(lat)
    if step is None or not hr_step:
        return []
    lr_step = hr_step * scale
    if abs(step - lr_step) <= STEP_TOLERANCE * lr_step:
        return []
    output_step = step / scale
    if abs(step - hr_step) <= STEP_TOLERANCE * hr_step:
        key = "warn.resolution.hr_file"
    else:
        key = "warn.resolution.finer" if output_step < hr_step else "warn.resolution.coarser"
    factor = max(hr_step, output_step) / min(hr_step, output_step)
    return [
        text(
            key,
            "en",
            input_step=_deg(step),
            lr_step=_deg(lr_step),
            output_step=_deg(output_step),
            factor=f"{factor:.3g}",
            hr_step=_deg(hr_step),
        )
    ]


def data_warnings(
    variables: Sequence[str],
    *,
    has_coordinates: bool,
    constant: Sequence[int],
    where: str = "the training split",
) -> list[str]:
    """What is odd about training data that still train: shown in ``start``'s reply
    (``warnings``), in ``training_start.warnings`` and as ``[warning]`` lines in
    train.log, so neither passes unseen.

    - no latitude/longitude coordinates: the grid is indexed by cell, so the report's
      maps, predict's output grid and any resolution check have no geography;
    - a constant variable (``constant``: channel indices whose standard deviation over
      ``where`` is 0): normalised with std 1.0 instead of dividing by zero, it carries
      nothing to learn, and its PSNR range is a placeholder.
    """
    found: list[str] = []
    if not has_coordinates:
        found.append(
            "the data have no latitude/longitude coordinates: the grid is indexed by cell "
            "(maps show cell indices, predictions carry no geographic grid); if the file "
            "has them under other names, set data.lat_name and data.lon_name"
        )
    for channel in constant:
        name = variables[channel] if channel < len(variables) else f"channel {channel}"
        found.append(
            f"variable {name!r} is constant over {where} (standard deviation 0): it is "
            "normalised with std 1.0 and there is nothing to learn from it; check "
            "data.variables, data.sel and data.split"
        )
    return found


def constant_channels(std: Sequence[float] | np.ndarray) -> list[int]:
    """Channels whose standard deviation is 0 (or not a number)."""
    return [c for c, value in enumerate(np.asarray(std, dtype=np.float64)) if not value > 0]
