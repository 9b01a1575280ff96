"""Training throughput as users run it: the product's Trainer vs a plain PyTorch loop.

Same model, same data, same batch size, same optimiser, measured side by side in one
process and interleaved (A B C A B C ...) so machine noise hits every variant alike:

- ``plain``: the same computation as a bare loop (forward, masked loss, backward, step);
- ``lightning``: :func:`oceansr.train.entry.run_training`, the Trainer every run gets,
  with its callbacks, loggers and checkpoint I/O, but without the run recording;
- ``lightning_recorder``: :func:`oceansr.train.entry.train`, the whole product path
  (run session with its heartbeat, RunRecorder, RequeueWatch on top).

The Lightning variants are built by the product's own functions, not by a Trainer
written here, so the benchmark follows the product when its set-up changes (a stand-in
Trainer broke once RunRecorder became a ``Checkpoint``). Each variant times the steps
after a short warm-up, within one epoch, with validation off (a background run's
settings otherwise: no progress bar); the run's test on one batch follows, untimed.
Prints JSON:

    python benchmarks/overhead.py [--model edsr_baseline] [--steps 40] [--repeats 3] [--smoke]

``lightning_vs_plain`` is (Lightning steps/s) / (plain steps/s), target >= 0.95;
``recorder_ratio`` is (steps/s with the run recording) / (steps/s without), target
>= 0.98; ``product_vs_plain`` is the product as users run it against the plain loop.
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from oceansr.config.compose import compose_config, normalise_config
from oceansr.data.datamodule import OceanDataModule
from oceansr.engine.module import SRModule, masked_loss
from oceansr.runs import RunPaths, new_run_id
from oceansr.train.entry import build_module, run_training, train
from smoke import emit, parse_args

warnings.filterwarnings("ignore")

VARIANTS = ("plain", "lightning", "lightning_recorder")
SMOKE = {"model": "srcnn", "steps": 2, "warmup": 1, "repeats": 1, "batch_size": 4, "patch_size": 16}


class StepTimer(Callback):
    """Wall time from the end of the warm-up's last step to the end of the last step."""

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

    def rate(self) -> float:
        """Timed steps per second; fails loudly if the run stopped before any was timed."""
        if self.start is None or self.end is None:
            raise RuntimeError(f"no step after the {self.warmup} warm-up steps was timed")
        return self.timed_steps / (self.end - self.start)


def overrides(args: argparse.Namespace, runs_root: Path) -> list[str]:
    """One configuration for every variant: the bench sizes on the bundled sample."""
    return [
        f"model={args.model}",
        "data=sample",
        f"data.batch_size={args.batch_size}",
        f"data.patch_size={args.patch_size}",
        "scheduler=none",
        f"trainer.max_steps={args.steps + args.warmup}",
        "trainer.limit_val_batches=0",
        "trainer.limit_test_batches=1",
        "trainer.enable_progress_bar=false",
        f"runs_root={runs_root}",
    ]


def lightning_rate(overrides: list[str], warmup: int, recorder: bool) -> float:
    """Steps/s of the product's fit: ``train`` (recorded) or ``run_training`` (not)."""
    timer = StepTimer(warmup)
    if recorder:
        train(overrides, extra_callbacks=[timer])
    else:
        cfg = compose_config(overrides)
        run_training(cfg, RunPaths.for_id(new_run_id(), Path(cfg.runs_root)), [timer])
    return timer.rate()


def plain_rate(overrides: list[str], steps: int, warmup: int) -> float:
    """The same computation written as a bare loop: forward, masked loss, backward, step."""
    cfg = compose_config(overrides)
    normalise_config(cfg)
    L.seed_everything(int(cfg.seed), verbose=False)
    datamodule = OceanDataModule(cfg.data)
    module: SRModule = build_module(cfg, datamodule)
    module.train()
    configured = module.configure_optimizers()  # the optimiser Lightning would get
    optimizer = configured["optimizer"] if isinstance(configured, dict) else configured
    loader = datamodule.train_dataloader()
    done, start = 0, time.perf_counter()
    while done < steps + warmup:
        for batch in loader:
            lr, hr = batch["lr"], batch["hr"]
            mask = torch.isfinite(hr)
            pred = module.forward_normalised(module.normalise(lr))
            loss = masked_loss(pred, module.normalise(hr), mask, **module._loss_args())
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


def measure(args: argparse.Namespace, runs_root: Path) -> dict[str, list[float]]:
    """Steps/s of each variant, ``args.repeats`` times, interleaved."""
    config = overrides(args, runs_root)
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(args.repeats):
        rates["plain"].append(plain_rate(config, args.steps, args.warmup))
        rates["lightning"].append(lightning_rate(config, args.warmup, recorder=False))
        rates["lightning_recorder"].append(lightning_rate(config, args.warmup, recorder=True))
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="edsr_baseline")
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--patch-size", type=int, default=48)
    args = parse_args(parser, SMOKE)
    runs_root = Path(tempfile.mkdtemp(prefix="oceansr-bench-overhead-"))
    # Lightning's model summary and the recorder's progress lines go to stdout: keep
    # stdout for the JSON alone.
    with contextlib.redirect_stdout(sys.stderr):
        rates = measure(args, runs_root)
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
        "product_vs_plain": round(median["lightning_recorder"] / median["plain"], 4),
        "targets": {"lightning_vs_plain": ">= 0.95", "recorder_ratio": ">= 0.98"},
        "runs_root": str(runs_root),
    }
    emit(result, args)


if __name__ == "__main__":
    main()
