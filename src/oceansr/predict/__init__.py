"""Full-field super-resolution of LR NetCDF / Zarr files with a trained checkpoint.

Layers, each usable on its own (see docs/architecture.md, predict):

- :func:`tiled_predict` (from :mod:`oceansr.inference.tiling`) — numpy LR ``(N, C, h, w)`` to
  HR, overlapping tiles blended without seams, bounded memory;
- :func:`predict` (:mod:`.core`) — file to file: reads the LR fields, checks them against
  the checkpoint, infers, masks land (:mod:`.masks`), writes CF NetCDF/Zarr on the HR
  grid (:mod:`.grid`, :mod:`.output`) and returns a JSON-friendly summary;
- :func:`run_predict_recorded` (:mod:`.recorded`) — the same as a recorded
  ``predict-...`` run that the control plane steers like a training;
- ``python -m oceansr.predict checkpoint=... input=... output=...`` (:mod:`.entry`) — the
  Hydra entry point, composed from ``conf/predict.yaml``.

One name per option everywhere: ``checkpoint`` (a .ckpt), ``run`` (the training run whose
best checkpoint to use), ``input``, ``output``, ``variables``, ``hr_mask``, ``tile``,
``overlap``, ``batch_size``, ``device``, ``overwrite``.

Importing this package is cheap; torch, xarray and Lightning load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

#: Public name -> module that defines it (loaded on first attribute access).
_EXPORTS: dict[str, str] = {
    "predict": "oceansr.predict.core",
    "PredictJob": "oceansr.predict.core",
    "run_predict_recorded": "oceansr.predict.recorded",
    "default_output_path": "oceansr.predict.recorded",
    "PredictKilled": "oceansr.predict.recorded",
    "PredictRecorder": "oceansr.predict.recorded",
    "predict_options": "oceansr.predict.entry",
    "format_summary": "oceansr.predict.entry",
    "main": "oceansr.predict.entry",
    "refine_1d": "oceansr.predict.grid",
    "refine_2d": "oceansr.predict.grid",
    "hr_coords": "oceansr.predict.grid",
    "load_hr_mask": "oceansr.predict.masks",
    "apply_lr_mask": "oceansr.predict.masks",
    "output_format": "oceansr.predict.output",
    "write_dataset": "oceansr.predict.output",
    "build_output_dataset": "oceansr.predict.output",
    "prediction_stats": "oceansr.predict.output",
    "predict_overrides": "oceansr.runs.overrides",
    "tile_windows": "oceansr.inference.tiling",
    "window_weights": "oceansr.inference.tiling",
    "tiled_predict": "oceansr.inference.tiling",
    "load_module": "oceansr.engine.checkpoint",
    "resolve_device": "oceansr.engine.checkpoint",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'oceansr.predict' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return __all__
