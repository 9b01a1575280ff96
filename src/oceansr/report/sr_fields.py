"""Test fields of a run evaluated with its best checkpoint, for the maps and the error
analysis: loaded by the one checkpoint loader and inferred by the one tiled inference
path (see docs/architecture.md, inference), so the maps show what ``predict`` writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.data.fields import spans_globe
from oceansr.report.figures import PlotSkipped
from oceansr.report.history import (
    RunHistory,
)
from oceansr.report.units import display_unit, variable_title

#: Test fields evaluated with the checkpoint for maps and error analysis (evenly spaced).
MAX_EVAL_FIELDS = 64


#: Cap on HR cells per array held in memory for that evaluation (fields x channels x H x W).
MAX_EVAL_CELLS = 30_000_000


@dataclass
class TestFields:
    """Test fields evaluated with a checkpoint, in physical units, ``(N, C, H, W)``."""

    __test__ = False  # not a pytest test class

    hr: np.ndarray  # NaN = land
    lr: np.ndarray  # LR (h, w) with NaN over LR land
    bicubic: np.ndarray  # bicubic of the land-filled LR, unmasked
    sr: np.ndarray  # model output, unmasked
    labels: list[str]
    indices: list[int]  # positions in the test split
    total: int  # size of the test split
    lat: np.ndarray | None
    lon: np.ndarray | None
    variables: list[str]
    units: list[str]
    scale: int
    checkpoint: Path
    model_name: str
    spline: np.ndarray | None = None  # cubic B-spline of the land-filled LR, unmasked
    periodic: bool = False  # longitude spans the globe: SR and baselines wrap the seam
    #: CF long_name per variable ("" where the data had none).
    long_names: list[str] = field(default_factory=list)

    @property
    def ocean(self) -> np.ndarray:
        return np.isfinite(self.hr)

    def unit(self, var_index: int) -> str:
        """The variable's unit as printed (``degC`` → ``°C``, report/units.py)."""
        return display_unit(self.units[var_index]) if var_index < len(self.units) else ""

    def title(self, var_index: int) -> str:
        """The variable as a title names it: its long_name with the short name, else
        the short name (report/units.py ``variable_title``)."""
        names = self.long_names
        return variable_title(
            self.variables[var_index], names[var_index] if var_index < len(names) else ""
        )


def evenly_spaced(total: int, count: int) -> list[int]:
    if count >= total:
        return list(range(total))
    if count <= 1:
        return [0]
    return sorted({round(float(i)) for i in np.linspace(0, total - 1, count)})


_DEPTH_ID = re.compile(r"\b(depth|deptht|depthu|depthv)=(-?[\d.]+(?:[eE][-+]?\d+)?)")


def display_label(label: str) -> str:
    """A field label as the plots show it: ``depth=75.0`` → ``depth 75 m``. The data
    keeps ``dim=value`` identifiers; the named depth coordinates of CF, NEMO and WOA
    data are metres (docs/architecture.md, report)."""
    return _DEPTH_ID.sub(lambda m: f"{m.group(1)} {float(m.group(2)):g} m", label)


def load_test_fields(
    history: RunHistory, *, max_fields: int = MAX_EVAL_FIELDS, max_cells: int = MAX_EVAL_CELLS
) -> TestFields:
    """Run the best checkpoint (else the last) on up to ``max_fields`` evenly spaced test
    fields of the run's own data config (``config.yaml``). Raises :class:`PlotSkipped`
    with the reason when the checkpoint, the config or the data are unavailable."""
    checkpoint = history.checkpoint_path()
    if checkpoint is None:
        raise PlotSkipped(
            "no checkpoint: neither checkpoints/best.ckpt nor checkpoints/last.ckpt exists"
        )
    data_cfg = (history.config or {}).get("data")
    if not data_cfg:
        raise PlotSkipped("config.yaml with a data section is missing")
    try:
        from oceansr.data.prepare import prepare_data

        data = prepare_data(data_cfg)
    except Exception as exc:  # data moved, deleted or unreadable: plots still go on
        raise PlotSkipped(f"could not load the run's test data: {exc}") from exc
    split = data.splits["test"]
    cells = max(int(np.prod(split.hr.shape[1:])), 1)
    count = max(1, min(max_fields, max_cells // cells))
    indices = evenly_spaced(len(split), count)
    module = _load_module(checkpoint, data.variables, data.scale)
    periodic = spans_globe(data.lon)
    sr, baselines = _predict(module, split.model_input(indices), data.scale, periodic)
    lr = np.where(split.lr_mask[indices], split.lr[indices], np.nan).astype(np.float32)
    return TestFields(
        hr=split.hr[indices],
        lr=lr,
        bicubic=baselines["bicubic"],
        spline=baselines["spline"],
        sr=sr,
        labels=[
            display_label(split.labels[i]) if i < len(split.labels) else f"#{i}" for i in indices
        ],
        indices=indices,
        total=len(split),
        lat=data.lat,
        lon=data.lon,
        variables=list(data.variables),
        units=list(data.units),
        long_names=[str(a.get("long_name", "")) for a in getattr(data, "attrs", [])],
        scale=int(data.scale),
        checkpoint=checkpoint,
        model_name=str(history.model_name or "model"),
        periodic=periodic,
    )


def _load_module(checkpoint: Path, variables: list[str], scale: int) -> Any:
    """The checkpoint's module through the one loader; any refusal skips the maps."""
    from oceansr.core.errors import OceanSRError
    from oceansr.engine.checkpoint import load_module, match_scale, match_variables

    try:
        module = load_module(checkpoint, device="cpu")
        match_variables(module, variables, field="data.variables", any_order=False)
        match_scale(module, scale, field="data.scale")
    except OceanSRError as exc:
        raise PlotSkipped(f"could not use checkpoint {checkpoint}: {exc.message}") from exc
    return module


def _predict(
    module: Any, lr: np.ndarray, scale: int, periodic: bool, batch: int = 8
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """SR by the one tiled inference path (as ``predict`` writes it), and the baselines
    (of the variables: ``lr`` carries any covariates after them)."""
    import torch

    from oceansr.core.metric_names import BASELINES
    from oceansr.inference.baselines import baseline_upsample
    from oceansr.inference.tiling import tiled_predict

    sr = tiled_predict(module, lr, batch_size=batch, periodic=periodic)
    lr = lr[:, : len(module.variables)]
    parts: dict[str, list[np.ndarray]] = {name: [] for name in BASELINES}
    with torch.inference_mode():
        for start in range(0, len(lr), batch):
            x = torch.from_numpy(np.ascontiguousarray(lr[start : start + batch])).float()
            for name in BASELINES:
                up = baseline_upsample(name, x, scale, periodic)
                parts[name].append(up.float().numpy())
    return sr, {name: np.concatenate(arrays) for name, arrays in parts.items()}
