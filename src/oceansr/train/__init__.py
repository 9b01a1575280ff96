"""The training job: ``python -m oceansr.train [overrides]`` and ``oceansr.train.train``.

It composes the Hydra config, builds the data module, the LightningModule, the Trainer
and the callbacks that write the run directory (:mod:`oceansr.train.entry`). Names are
resolved on first use, so that ``python -m oceansr.train`` reaches
:mod:`oceansr.train.__main__` (which catches Slurm's early warning signals) before torch
is imported.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["TrainResult", "build_module", "execute", "main", "train"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("oceansr.train.entry"), name)
    raise AttributeError(f"module 'oceansr.train' has no attribute {name!r}")
