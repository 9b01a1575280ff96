"""GPU check: training-step throughput on CUDA (fp32, bf16 autocast) vs this machine's CPU,
and an end-to-end background training run on CUDA through the control plane.

Run on a machine with an NVIDIA GPU (the project is CPU-only otherwise; the test suite
runs only its ``--smoke``, which skips without CUDA). Prints one JSON document:

    python benchmarks/gpu.py [--steps 30] [--batch 16] [--e2e-epochs 15] [--runs-root DIR]
                             [--smoke]

``throughput``: per model, samples/s of a full training step (forward, masked L1 loss
over ocean cells, backward, Adam) at LR 32x32 -> HR 128x128 (x4) for the CPU (fp32, all
cores), the GPU in fp32 and the GPU under bf16 autocast, measured in one process.
``e2e``: ``control.start`` of the demo experiment with ``trainer=gpu`` (bf16-mixed),
waited until terminal: status, wall time, device, and test RMSE next to bicubic.

Without CUDA it prints only ``{"skipped": reason}``. ``--smoke``: 2 timed steps of
batch 2, one epoch end to end.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import tempfile
import time
from typing import Any

import torch

from oceansr.engine.module import masked_loss
from oceansr.inference.baselines import bicubic_upsample
from oceansr.models import build_model
from smoke import emit, parse_args

MODELS = ("srcnn", "edsr_baseline", "swinir_light")
SCALE = 4
LR_SIZE = 32
SMOKE = {"steps": 2, "cpu_steps": 1, "batch": 2, "e2e_epochs": 1}


def _batch(batch: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A synthetic batch with a land mask (a quarter of the cells), on ``device``."""
    gen = torch.Generator().manual_seed(0)
    lr = torch.randn(batch, 1, LR_SIZE, LR_SIZE, generator=gen)
    hr = torch.randn(batch, 1, LR_SIZE * SCALE, LR_SIZE * SCALE, generator=gen)
    mask = torch.ones_like(hr, dtype=torch.bool)
    mask[..., : LR_SIZE * SCALE // 4, :] = False
    return lr.to(device), hr.to(device), mask.to(device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def step_rate(name: str, device: torch.device, batch: int, steps: int, bf16: bool) -> float:
    """Samples/s of training steps after a warm-up of 5 steps."""
    model = build_model(name, 1, 1, SCALE).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-4)
    lr, hr, mask = _batch(batch, device)
    autocast = (
        torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        if bf16
        else contextlib.nullcontext()
    )

    def one_step() -> None:
        optimiser.zero_grad(set_to_none=True)
        with autocast:
            pred = model(lr) + bicubic_upsample(lr, SCALE)
            loss = masked_loss(pred.float(), hr, mask, "l1")
        loss.backward()
        optimiser.step()

    for _ in range(5):
        one_step()
    _sync(device)
    began = time.perf_counter()
    for _ in range(steps):
        one_step()
    _sync(device)
    return steps * batch / (time.perf_counter() - began)


def throughput(batch: int, steps: int, cpu_steps: int) -> dict[str, Any]:
    gpu = torch.device("cuda")
    cpu = torch.device("cpu")
    rows: dict[str, Any] = {}
    for name in MODELS:
        cpu_rate = step_rate(name, cpu, batch, cpu_steps, bf16=False)
        fp32 = step_rate(name, gpu, batch, steps, bf16=False)
        bf16 = step_rate(name, gpu, batch, steps, bf16=True)
        rows[name] = {
            "cpu_fp32_samples_s": round(cpu_rate, 1),
            "gpu_fp32_samples_s": round(fp32, 1),
            "gpu_bf16_samples_s": round(bf16, 1),
            "gpu_fp32_vs_cpu": round(fp32 / cpu_rate, 1),
            "gpu_bf16_vs_fp32": round(bf16 / fp32, 2),
        }
    return rows


def end_to_end(runs_root: str, epochs: int) -> dict[str, Any]:
    """The demo experiment on CUDA with bf16-mixed, through the real control plane."""
    from oceansr import control

    overrides = [
        "experiment=demo",
        "trainer=gpu",
        "trainer.precision=bf16-mixed",
        f"trainer.max_epochs={epochs}",
    ]
    began = time.perf_counter()
    started = control.start(overrides, runs_root=runs_root, startup_timeout=300)
    if started.get("status") != "started":
        return {"status": started.get("status"), "error_summary": started.get("error_summary")}
    pid = started["process_id"]
    final = control.wait(pid, timeout=900, until="terminal", runs_root=runs_root)
    test = final.get("test_metrics") or (final.get("metrics") or {}).get("test") or {}
    return {
        "status": final.get("status"),
        "wall_s": round(time.perf_counter() - began, 1),
        "startup_s": started.get("startup_s"),
        "device": (started.get("training_start") or {}).get("device"),
        "precision": "bf16-mixed",
        "epochs": epochs,
        "test_rmse": test.get("test/rmse"),
        "test_rmse_bicubic": test.get("test/rmse_bicubic"),
        "test_psnr": test.get("test/psnr"),
        "error_summary": final.get("error_summary"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--cpu-steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--e2e-epochs", type=int, default=15)
    parser.add_argument("--runs-root", default=None)
    args = parse_args(parser, SMOKE)
    if not torch.cuda.is_available():
        emit({"skipped": "no CUDA device on this machine"}, args)
        return
    torch.backends.cudnn.benchmark = True
    report: dict[str, Any] = {
        "gpu": torch.cuda.get_device_name(0),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cpu_threads": torch.get_num_threads(),
        "python": platform.python_version(),
        "batch": args.batch,
        "lr_hr": f"{LR_SIZE}->{LR_SIZE * SCALE} (x{SCALE})",
    }
    report["throughput"] = throughput(args.batch, args.steps, args.cpu_steps)
    runs_root = args.runs_root or tempfile.mkdtemp(prefix="oceansr-gpu-")
    os.makedirs(runs_root, exist_ok=True)
    report["e2e"] = end_to_end(runs_root, args.e2e_epochs)
    report["peak_cuda_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    emit(report, args)


if __name__ == "__main__":
    main()
