"""Documented fault injection (config group ``debug``) for tests of the control plane.

The faults live in a callback, built by the entry point from ``cfg.debug``, and not in
the LightningModule: they describe how a test wants *this process* to misbehave, not the
model, so they must never reach a checkpoint's hyper-parameters (a model resumed or
evaluated later would otherwise inherit a test's sabotage).

Semantics (the ``debug`` keys, all off by default):

- ``fail_at=startup``: raise before any data is loaded (:func:`raise_startup_fault`);
- ``fail_at=step``: raise at the first training step whose global step is ``>= fail_step``;
- ``nan_step``: from this global step on, the training loss is NaN (the LR input of the
  batch is replaced by NaN, so the loss goes non-finite through the real forward pass
  and the recorder's NaN guard classifies it with its step);
- ``sleep_per_step``: sleep this many seconds in every training step (slow runs for
  kill/wait tests);
- ``startup_sleep``: sleep this many seconds after ``process_started``, before any data
  loads (:func:`startup_pause`), so a test can signal a process that is still setting up.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


def raise_startup_fault(debug: Mapping[str, Any]) -> None:
    """``debug.fail_at=startup``: fail like a crash during start-up, before any data loads."""
    if debug["fail_at"] == "startup":
        raise RuntimeError("debug fault injected at start-up (debug.fail_at=startup)")


def startup_pause(debug: Mapping[str, Any]) -> None:
    """``debug.startup_sleep``: a start-up that lasts long enough to be interrupted."""
    seconds = float(debug["startup_sleep"])
    if seconds > 0:
        time.sleep(seconds)


class FaultInjection(Callback):
    """Step-level faults from the ``debug`` config (values: ``conf/debug/none.yaml``;
    see the module docstring). ``fail_at=step`` without a ``fail_step`` fails at once."""

    def __init__(self, debug: Mapping[str, Any]) -> None:
        self.sleep_per_step = float(debug["sleep_per_step"])
        self.fail_step: int | None = (
            int(debug["fail_step"] or 0) if debug["fail_at"] == "step" else None
        )
        nan_step = debug["nan_step"]
        self.nan_step: int | None = int(nan_step) if nan_step is not None else None

    @property
    def active(self) -> bool:
        """Whether any step-level fault is configured (else the callback is not needed)."""
        return bool(self.sleep_per_step) or self.fail_step is not None or self.nan_step is not None

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        step = int(trainer.global_step)
        if self.sleep_per_step:
            time.sleep(self.sleep_per_step)
        if self.fail_step is not None and step >= self.fail_step:
            raise RuntimeError(f"debug fault injected at step {step}")
        if self.nan_step is not None and step >= self.nan_step and isinstance(batch, dict):
            # The batch dict is the one training_step receives next.
            batch["lr"] = torch.full_like(batch["lr"], float("nan"))
