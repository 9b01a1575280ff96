"""Runs bounded by ``trainer.max_time``: say that the time budget stopped them, and warn
at start when the learning-rate schedule is sized to epochs the budget may not allow.

A run that Lightning's :class:`~lightning.pytorch.callbacks.Timer` stopped ends
``completed``; without a note its progress would still read "epoch 7/200, ETA 2 h".
The note is ``stopped_by: "max_time"`` in ``status.json`` and in ``training_end``
(docs/architecture.md, run directory), and the progress is closed: ``total_epochs`` is the
epochs that ran (``planned_epochs`` keeps the configured number) and there is no ETA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import Timer

#: The ``stopped_by`` value of a run that its time budget ended.
MAX_TIME = "max_time"


def stopped_by_max_time(trainer: L.Trainer) -> bool:
    """Whether fit ended because ``trainer.max_time`` ran out with epochs/steps left.

    The Timer callback stops fit by setting ``should_stop`` once its budget is spent;
    a run that also reached ``max_epochs``/``max_steps`` finished its plan, so it is not
    reported as cut short.
    """
    callbacks = getattr(trainer, "callbacks", [])  # Lightning sets it at runtime
    timer = next((cb for cb in callbacks if isinstance(cb, Timer)), None)
    remaining = timer.time_remaining() if timer is not None else None
    if remaining is None or remaining > 0:
        return False
    epochs_left = trainer.max_epochs in (None, -1) or trainer.current_epoch < trainer.max_epochs
    steps_left = trainer.max_steps in (None, -1) or trainer.global_step < trainer.max_steps
    return bool(epochs_left and steps_left)


def closed_progress(progress: Mapping[str, Any]) -> dict[str, Any]:
    """Progress of a run the time budget stopped: what ran, not the plan, and no ETA."""
    epoch = progress.get("epoch")
    done = {
        "stopped_by": MAX_TIME,
        "planned_epochs": progress.get("total_epochs"),
        "planned_steps": progress.get("total_steps"),
        "eta_s": None,
        "percent": 100.0,
    }
    if isinstance(epoch, int):
        done["total_epochs"] = epoch
    if isinstance(progress.get("step"), int):
        done["total_steps"] = progress["step"]
    return {**progress, **done}


def stop_line(progress: Mapping[str, Any]) -> str:
    """The train.log line of a run the time budget stopped."""
    return (
        f"[progress] stopped by trainer.max_time after epoch {progress.get('epoch')} "
        f"of {progress.get('planned_epochs')} planned (step {progress.get('step')})"
    )


def schedule_warnings(cfg: Mapping[str, Any]) -> list[str]:
    """Warnings for the ``training_start`` event: a cosine schedule is sized to
    ``trainer.max_epochs`` but ``trainer.max_time`` may stop the run before its end, so
    the learning rate would never anneal to ``min_lr``."""
    trainer = cfg.get("trainer") or {}
    sched = (cfg.get("optim") or {}).get("scheduler") or {}
    epochs = trainer.get("max_epochs")
    if sched.get("name") != "cosine" or trainer.get("max_time") is None:
        return []
    if not isinstance(epochs, int) or epochs <= 0:
        return []
    return [
        f"the cosine schedule anneals over trainer.max_epochs={epochs} but "
        f"trainer.max_time={trainer.get('max_time')} may stop the run first, leaving the "
        "learning rate above min_lr; set trainer.max_epochs to what the time allows, or "
        "scheduler=none/step"
    ]
