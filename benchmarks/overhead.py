"""Training throughput: our LightningModule vs a plain PyTorch loop, and the RunRecorder's cost.

Same model, same data, same batch size, same optimiser, measured side by side in one
process and interleaved (A B A B ...) so machine noise hits every variant alike.
Each measurement times the steps after a short warm-up. Prints JSON:

    python benchmarks/overhead.py [--model edsr_baseline] [--steps 40] [--repeats 3]

``lightning_vs_plain`` is (Lightning steps/s) / (plain steps/s), target >= 0.95;
``recorder_ratio`` is (steps/s with RunRecorder) / (steps/s without), target >= 0.98.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from oceansr.config.compose import compose_config
from oceansr.data.datamodule import OceanDataModule
from oceansr.engine.callbacks.recorder import RunRecorder
from oceansr.engine.callbacks.session import RunSession
from oceansr.engine.module import SRModule, masked_loss
from oceansr.runs import RunPaths, new_run_id
from oceansr.train.entry import build_module

warnings.filterwarnings("ignore")


class StepTimer(Callback):
    """Wall time from the end of warm-up step to the end of the last step."""

    def __init__(self, warmup: int) -> None:
        self.warmup = warmup
        self.start: float | None = None
        self.end: float | None = None
        self.timed_steps = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.warmup:
            self.start = time.perf_counter()
        elif trainer.global_step > self.warmup:
            self.end = time.perf_counter()
            self.timed_steps = trainer.global_step - self.warmup


def lightning_rate(cfg, datamodule, steps: int, warmup: int, recorder: bool) -> float:
    module = build_module(cfg, datamodule)
    timer = StepTimer(warmup)
    callbacks: list[Callback] = [timer]
    session = None
    if recorder:
        root = Path(tempfile.mkdtemp(prefix="oceansr-bench-"))
        session = RunSession(RunPaths.for_id(new_run_id(), root), [])
        session.open(handle_signals=False)
        callbacks.insert(0, RunRecorder(session))
    trainer = L.Trainer(
        accelerator="cpu",
        devices=1,
        max_steps=steps + warmup,
        limit_val_batches=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=callbacks,
    )
    trainer.fit(module, train_dataloaders=datamodule.train_dataloader())
    if session is not None:
        session.close()
    return timer.timed_steps / (timer.end - timer.start)


def plain_rate(cfg, datamodule, steps: int, warmup: int) -> float:
    """The same computation written as a bare loop: forward, masked loss, backward, step."""
    module: SRModule = build_module(cfg, datamodule)
    module.train()
    optimizer = torch.optim.Adam(module.parameters(), lr=float(cfg.optim.lr))
    loader = datamodule.train_dataloader()
    done, start = 0, None
    while done < steps + warmup:
        for batch in loader:
            lr, hr = batch["lr"], batch["hr"]
            mask = torch.isfinite(hr)
            pred = module.forward_normalised(module.normalise(lr))
            loss = masked_loss(pred, module.normalise(hr), mask, "l1")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            float(loss)  # Lightning reads the loss value every step for logging
            done += 1
            if done == warmup:
                start = time.perf_counter()
            if done == steps + warmup:
                break
    return steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="edsr_baseline")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=48)
    args = parser.parse_args()

    cfg = compose_config(
        [
            f"model={args.model}",
            "data=sample",
            f"data.batch_size={args.batch_size}",
            f"data.patch_size={args.patch_size}",
            "optim.scheduler.name=none",
        ]
    )
    datamodule = OceanDataModule(cfg.data)
    rates: dict[str, list[float]] = {"plain": [], "lightning": [], "lightning_recorder": []}
    for _ in range(args.repeats):
        L.seed_everything(0, verbose=False)
        rates["plain"].append(plain_rate(cfg, datamodule, args.steps, args.warmup))
        rates["lightning"].append(lightning_rate(cfg, datamodule, args.steps, args.warmup, False))
        rates["lightning_recorder"].append(
            lightning_rate(cfg, datamodule, args.steps, args.warmup, True)
        )
    median = {k: statistics.median(v) for k, v in rates.items()}
    result: dict[str, Any] = {
        "benchmark": "training_overhead",
        "model": args.model,
        "batch_size": args.batch_size,
        "hr_patch": args.patch_size,
        "timed_steps": args.steps,
        "repeats": args.repeats,
        "torch_threads": torch.get_num_threads(),
        "machine": platform.machine(),
        "steps_per_s": {k: round(v, 3) for k, v in median.items()},
        "steps_per_s_all": {k: [round(x, 3) for x in v] for k, v in rates.items()},
        "lightning_vs_plain": round(median["lightning"] / median["plain"], 4),
        "recorder_ratio": round(median["lightning_recorder"] / median["lightning"], 4),
        "targets": {"lightning_vs_plain": ">= 0.95", "recorder_ratio": ">= 0.98"},
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
