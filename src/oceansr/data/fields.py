"""Plain containers for loaded ocean fields (numpy only, no torch).

A :class:`FieldSplit` holds the high-resolution fields of one split as a float32 array
``(N, C, H, W)`` with NaN over land, optionally the low-resolution fields given by the
source, and the metadata needed to report results (variables, units, coordinates, one
label per sample).  A :class:`FieldData` groups the train, valid and test splits.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
    """

    hr: np.ndarray
    lr: np.ndarray | None
    variables: list[str]
    units: list[str]
    lat: np.ndarray | None = None
    lon: np.ndarray | None = None
    labels: list[str] = field(default_factory=list)

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
