"""RunRecorder: a Lightning callback that writes training progress into the run directory.

It turns Lightning's hooks into the status/event schema (see docs/architecture.md, run
directory): phases, step-level progress with ETA and samples/s (handed to the session's
heartbeat thread, which writes it at most once a second, so the training loop does no
file I/O per step), per-epoch metrics with the bicubic baseline, the best epoch (as
ModelCheckpoint decides it, so it always names what ``best.ckpt`` holds, also after a
resume), checkpoints as they appear, and a NaN/Inf guard that stops the run *before* a
non-finite loss reaches the optimiser (so ``last.ckpt`` keeps finite weights).
Everything that concerns the process as a whole (heartbeat, SIGTERM, final status)
lives in :class:`~oceansr.engine.callbacks.session.RunSession`.
"""

from __future__ import annotations

import math
import resource
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Checkpoint, ModelCheckpoint

from oceansr.engine.breakdown import breakdown
from oceansr.engine.callbacks.session import RunSession
from oceansr.engine.callbacks.timelimit import (
    MAX_TIME,
    closed_progress,
    stop_line,
    stopped_by_max_time,
)
from oceansr.engine.module import ESTIMATORS
from oceansr.runs import append_event, update_status

#: ``progress.eta_pending`` before the first optimisation step: no rate measured yet.
ETA_PENDING_FIRST_STEP = "first_step"


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN/Inf; carries the global step for the error summary."""

    failure_type = "nan_loss"

    def __init__(self, step: int, value: float) -> None:
        super().__init__(f"non-finite training loss ({value}) at global step {step}")
        self.step = step


def _floats(metrics: dict[str, Any], prefix: str) -> dict[str, float]:
    """Scalar metrics whose name starts with ``prefix`` as plain floats (NaN → None later)."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        if key.startswith(prefix):
            out[key] = float(value.item() if isinstance(value, torch.Tensor) else value)
    return out


def peak_memory() -> dict[str, float | None]:
    """Peak resident memory of this process and peak CUDA allocation (MiB), for reports."""
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
    return {
        "peak_rss_mb": round(rss_kib / 1024, 1),
        "peak_cuda_mb": round(cuda, 1) if cuda is not None else None,
    }


class RunRecorder(Checkpoint):
    """Status and events for one training run (rank zero only; other ranks are silent).

    It subclasses :class:`~lightning.pytorch.callbacks.Checkpoint` (which adds no
    behaviour) only for its place in the hook order: Lightning runs checkpoint
    callbacks last, in list order, so when this recorder (listed after ModelCheckpoint)
    writes ``epoch_end``, ModelCheckpoint has already decided this epoch's best.
    """

    def __init__(
        self,
        session: RunSession,
        *,
        monitor: str = "val/rmse",
        mode: str = "min",
        min_interval_s: float = 0.5,
        run_info: dict[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.paths = session.paths
        self.monitor = monitor
        self.mode = mode
        self.min_interval_s = min_interval_s
        self.run_info = run_info or {}
        self._t0 = 0.0
        self._last_write = 0.0
        self._step0 = 0
        self._samples = 0
        self.best_value: float | None = None
        self._ckpt_mtimes: dict[Path, float] = {}
        self.best_epoch: int | None = None
        self._last_val: dict[str, float] = {}
        #: The test's groups and verdict as written to status.json (rank 0), for the
        #: closing summary: computed once.
        self.test_breakdown: dict[str, Any] | None = None
        self.fit_started_at: float | None = None
        self._trainer: L.Trainer | None = None
        self.stopped_by: str | None = None

    # -- helpers -----------------------------------------------------------------
    def _active(self, trainer: L.Trainer) -> bool:
        return self.session.enabled and trainer.is_global_zero

    def _progress(self, trainer: L.Trainer) -> dict[str, Any]:
        # No step limit (max_epochs=-1 with max_time): Lightning estimates infinity, and
        # int(inf) raised OverflowError; the total and the ETA are unknown, not an error.
        estimated = float(trainer.estimated_stepping_batches)
        total_steps = int(estimated) if math.isfinite(estimated) else None
        step = int(trainer.global_step)
        elapsed = time.monotonic() - self._t0
        done = max(step - self._step0, 0)
        rate = done / elapsed if elapsed > 0 else 0.0
        remaining = None if total_steps is None else max(total_steps - step, 0)
        max_epochs = trainer.max_epochs  # -1: no epoch limit (max_steps or max_time)
        total_epochs = int(max_epochs) if max_epochs is not None and max_epochs > 0 else None
        # 1-based epoch in progress (docs/architecture.md, run directory): "epoch 1/4"
        # during the first epoch, capped at the total once the last one has ended.
        epoch = int(trainer.current_epoch) + 1
        if total_epochs is not None and total_epochs > 0:
            epoch = min(epoch, total_epochs)
        progress: dict[str, Any] = {
            "epoch": epoch,
            "total_epochs": total_epochs,
            "step": step,
            "total_steps": total_steps,
            "percent": round(100.0 * step / total_steps, 2) if total_steps else None,
            "elapsed_s": round(elapsed, 2),
            "eta_s": round(remaining / rate, 1) if rate > 0 and remaining is not None else None,
            "samples_per_s": round(self._samples / elapsed, 2) if elapsed > 0 else None,
        }
        # No step measured yet: the ETA is measured, never guessed, so it says why it is
        # null (docs/architecture.md, run directory); always written (null once measured)
        # because status writes merge progress key by key.
        pending = rate <= 0 and remaining is not None and remaining > 0
        progress["eta_pending"] = ETA_PENDING_FIRST_STEP if pending else None
        return progress

    def _phase(self, trainer: L.Trainer, phase: str, **extra: Any) -> None:
        if self._active(trainer):
            update_status(self.paths, {"phase": phase, **extra})

    def _emit_new_checkpoints(self, trainer: L.Trainer) -> None:
        for path in (self.paths.best_ckpt, self.paths.last_ckpt):
            try:
                mtime = path.stat().st_mtime
            except FileNotFoundError:
                continue
            if self._ckpt_mtimes.get(path) != mtime:
                self._ckpt_mtimes[path] = mtime
                rel = str(path.relative_to(self.paths.dir))
                key = "best_checkpoint" if path == self.paths.best_ckpt else "last_checkpoint"
                update_status(self.paths, {key: rel})
                append_event(
                    self.paths,
                    "checkpoint_saved",
                    path=rel,
                    kind=path.stem,
                    step=int(trainer.global_step),
                    epoch=int(trainer.current_epoch),
                )

    # -- fit lifecycle -----------------------------------------------------------
    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._trainer = trainer

    def on_sanity_check_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._phase(trainer, "sanity_check")

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._t0 = time.monotonic()
        self._step0 = int(trainer.global_step)
        self.fit_started_at = time.time()
        self.session.in_training_loop = True
        self.session.training_started = True
        if not self._active(trainer):
            return
        progress = self._progress(trainer)
        update_status(self.paths, {"phase": "training", "progress": progress})
        params = sum(p.numel() for p in pl_module.parameters())
        # The datamodule's prepared data knows the dataset sizes (any datamodule may lack it).
        data = getattr(getattr(trainer, "datamodule", None), "data", None)
        summary = getattr(data, "summary", None)
        described = summary() if callable(summary) else None
        # The run's own warnings (schedule vs max_time) and the data's (no coordinates,
        # constant fields: data.fields.data_warnings), in the event and in train.log.
        warnings = [
            *(self.run_info.get("warnings") or ()),
            *((described or {}).get("warnings") or ()),
        ]
        append_event(
            self.paths,
            "training_start",
            params=params,
            trainable_params=sum(p.numel() for p in pl_module.parameters() if p.requires_grad),
            total_epochs=progress["total_epochs"],
            total_steps=progress["total_steps"],
            start_step=self._step0,
            device=str(pl_module.device),
            accelerator=type(trainer.accelerator).__name__,
            precision=str(trainer.precision),
            world_size=int(trainer.world_size),
            data=described,
            # Where the weights came from when the run started from another checkpoint.
            **({"init_from": init} if (init := pl_module.hparams.get("init_from")) else {}),
            **{**self.run_info, "warnings": warnings},
        )
        for warning in warnings:
            _log_line(f"[warning] {warning}")

    def on_before_backward(
        self, trainer: L.Trainer, pl_module: L.LightningModule, loss: torch.Tensor
    ) -> None:
        if not torch.isfinite(loss.detach()).all():
            raise NonFiniteLossError(int(trainer.global_step), float(loss.detach().float().sum()))

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if isinstance(batch, dict) and "lr" in batch:
            self._samples += len(batch["lr"])
        if not self._active(trainer):
            return
        step = int(trainer.global_step)
        every = max(int(getattr(trainer, "log_every_n_steps", 50) or 50), 1)
        if step % every == 0 or step == self._step0 + 1:
            _log_line(_step_line(self._progress(trainer), trainer.callback_metrics))
        now = time.monotonic()
        first = step == self._step0 + 1
        if not first and now - self._last_write < self.min_interval_s:
            return
        self._last_write = now
        self.session.publish_progress(self._progress(trainer))
        if first:
            # Written now, not at the next heartbeat: the measured ETA is in status.json
            # right after the first optimisation step, for the first `wait` after start.
            self.session.flush()

    def on_validation_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._phase(trainer, "validating")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._phase(trainer, "training")
            if self._active(trainer):
                _log_line(_validation_line(self._progress(trainer), trainer.callback_metrics))

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._active(trainer):
            self._emit_new_checkpoints(trainer)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._active(trainer):
            return
        metrics = trainer.callback_metrics
        train = _floats(metrics, "train/")
        val = _floats(metrics, "val/")
        self._last_val = val
        epoch = int(trainer.current_epoch) + 1
        self._sync_best(trainer)
        is_best = self.best_epoch == epoch
        lrs = [group["lr"] for opt in trainer.optimizers for group in opt.param_groups]
        progress = self._progress(trainer)
        progress["epoch"] = epoch
        self.session.publish_progress(progress)
        self.session.flush()
        changes: dict[str, Any] = {"metrics": {"latest": {**train, **val}}}
        if is_best:
            changes["metrics"]["best"] = {**val, "epoch": epoch}
        update_status(self.paths, changes)
        append_event(
            self.paths,
            "epoch_end",
            epoch=epoch,
            step=int(trainer.global_step),
            train=train,
            val=val,
            lr=lrs[0] if len(lrs) == 1 else lrs,
            is_best=is_best,
            elapsed_s=progress["elapsed_s"],
        )

    def _sync_best(self, trainer: L.Trainer) -> None:
        """Follow ModelCheckpoint's best score: it alone decides what ``best.ckpt`` holds.

        Re-deciding "better" here would disagree with ``best.ckpt`` after a resume (a
        fresh recorder would call the first resumed epoch the best); instead the epoch in
        progress is the best when ModelCheckpoint's best score changed during it.
        """
        checkpoint = trainer.checkpoint_callback
        if not isinstance(checkpoint, ModelCheckpoint) or checkpoint.best_model_score is None:
            return
        score = float(checkpoint.best_model_score)
        if math.isfinite(score) and score != self.best_value:
            self.best_value, self.best_epoch = score, int(trainer.current_epoch) + 1

    def state_dict(self) -> dict[str, Any]:
        """Saved in every checkpoint next to ModelCheckpoint's state, so both resume together.

        ModelCheckpoint saves before this recorder's epoch hook runs: syncing here keeps
        the best epoch in ``last.ckpt`` current with the best score saved beside it.
        """
        if self._trainer is not None:
            self._sync_best(self._trainer)
        return {"best_epoch": self.best_epoch, "best_value": self.best_value}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best_epoch = state_dict.get("best_epoch")
        self.best_value = state_dict.get("best_value")

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.session.in_training_loop = False
        if self._active(trainer):
            self._emit_new_checkpoints(trainer)
            progress = self._progress(trainer)
            if stopped_by_max_time(trainer):  # not "epoch 7/200, ETA 2 h" (timelimit.py)
                self.stopped_by = MAX_TIME
                progress = closed_progress(progress)
                update_status(self.paths, {"stopped_by": MAX_TIME})
                _log_line(stop_line(progress))
            self.session.publish_progress(progress)
            self.session.flush()

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        self.session.in_training_loop = False

    # -- test --------------------------------------------------------------------
    def on_test_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._phase(trainer, "testing")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._active(trainer):
            test = _floats(trainer.callback_metrics, "test/")
            changes: dict[str, Any] = {"phase": "finishing", "metrics": {"test": test}}
            self.test_breakdown = test_breakdown(trainer, pl_module)
            if self.test_breakdown is not None:
                changes["test_breakdown"] = self.test_breakdown
            update_status(self.paths, changes)

    def final_val(self) -> dict[str, float]:
        """The last validation metrics seen (for training_end)."""
        return dict(self._last_val)

    def summary(self) -> dict[str, Any]:
        """Facts for the training_end event."""
        duration = time.time() - self.fit_started_at if self.fit_started_at else None
        return {
            **peak_memory(),
            "best_epoch": self.best_epoch,
            "best_value": self.best_value,
            "monitor": self.monitor,
            "fit_duration_s": round(duration, 2) if duration else None,
            "samples_seen": self._samples,
            "stopped_by": self.stopped_by,
        }


def test_breakdown(trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any] | None:
    """Groups and verdict of the test (:func:`oceansr.engine.breakdown.breakdown`), or None
    when the module or the data cannot say which field is which."""
    errors = getattr(pl_module, "last_test_errors", None)
    labels_of = getattr(trainer.datamodule, "split_labels", None)  # type: ignore[attr-defined]
    if not errors or labels_of is None or not len(errors["index"]):
        return None
    labels = labels_of("test")
    index = [int(i) for i in errors["index"]]
    if max(index) >= len(labels):
        return None
    split = (getattr(trainer.datamodule, "cfg", {}) or {}).get("split") or {}  # type: ignore[attr-defined]
    split_dim = split.get("dim") if isinstance(split, Mapping) else None
    return breakdown(
        [labels[i] for i in index],
        errors["squared"],
        errors["cells"],
        ESTIMATORS,
        split_dim=str(split_dim) if split_dim else None,
    )


def _log_line(line: str) -> None:
    """One progress line on stdout, which is train.log for a background run, so the
    logs action shows training as it goes (flushed: an agent may be reading)."""
    print(line, flush=True)


def _value(metrics: Mapping[str, Any], key: str) -> str:
    value = metrics.get(key)
    if value is None:
        return "-"
    try:
        return f"{float(value):.4g}"
    except (TypeError, ValueError):
        return "-"


def _step_line(progress: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """``[progress] epoch 1/4 step 50/200 (25.0%) loss 0.0812 eta 40 s``."""
    eta = progress.get("eta_s")
    return (
        f"[progress] epoch {progress.get('epoch')}/{progress.get('total_epochs')} "
        f"step {progress.get('step')}/{progress.get('total_steps')} "
        f"({progress.get('percent')}%) loss {_value(metrics, 'train/loss_step')} "
        f"eta {'-' if eta is None else f'{eta:.0f} s'}"
    )


def _validation_line(progress: Mapping[str, Any], metrics: Mapping[str, Any]) -> str:
    """``[validation] epoch 1/4 val/rmse 0.71 (bicubic 0.58, spline 0.57) val/loss 0.06``."""
    return (
        f"[validation] epoch {progress.get('epoch')}/{progress.get('total_epochs')} "
        f"val/rmse {_value(metrics, 'val/rmse')} (bicubic {_value(metrics, 'val/rmse_bicubic')}, "
        f"spline {_value(metrics, 'val/rmse_spline')}) "
        f"val/loss {_value(metrics, 'val/loss')}"
    )
