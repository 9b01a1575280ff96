"""Quality per model on the bundled WOA sample, x4, for the same wall-clock budget.

Trains SRCNN, EDSR-baseline and SwinIR-light (or ``--models``) one after the other,
each for ``--budget-s`` seconds (Lightning ``max_time``, constant learning rate), then
tests the best checkpoint on months 11-12 and prints JSON per model: parameters, fit
time, training samples/s, test RMSE/MAE/PSNR/SSIM, the bicubic and cubic B-spline
baselines, the gain over the stronger one with its block-bootstrap 95 % interval and
verdict, the levels where the model loses, and the seam ratio (the sample spans the globe).

    python benchmarks/quality.py [--budget-s 150] [--models srcnn edsr_baseline swinir_light]

``--smoke``: SRCNN alone, 1 s, small patches, one validation and one test batch.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import warnings
from typing import Any

import torch

from oceansr.runs import RunPaths, read_events
from oceansr.train.entry import train
from smoke import emit, parse_args

warnings.filterwarnings("ignore")

SMOKE = {"budget_s": 1, "models": ["srcnn"]}
SMOKE_OVERRIDES = [
    "data.patch_size=16",
    "data.batch_size=4",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
]


def run_model(model: str, budget_s: int, runs_root: str, extra: list[str]) -> dict[str, Any]:
    minutes, seconds = divmod(budget_s, 60)
    result = train(
        [
            f"model={model}",
            "data=sample",
            "data.scale=4",
            f"runs_root={runs_root}",
            "trainer.max_epochs=1000",
            f"trainer.max_time=00:00:{minutes:02d}:{seconds:02d}",
            "optim.lr=5e-4",
            "optim.scheduler.name=none",
            *extra,
        ]
    )
    events = read_events(RunPaths.for_id(result.run_id, root=runs_root))
    start = next(e for e in events if e["event"] == "training_start")
    end = next(e for e in events if e["event"] == "training_end")
    epochs = [e for e in events if e["event"] == "epoch_end"]
    m = result.test_metrics
    fit_s = end["fit_duration_s"]
    return {
        "model": model,
        "params": start["params"],
        "fit_time_s": fit_s,
        "epochs": len(epochs),
        "steps": epochs[-1]["step"] if epochs else 0,
        "train_samples_per_s": round(end["samples_seen"] / fit_s, 1) if fit_s else None,
        "best_epoch": end["best_epoch"],
        "test_rmse_degC": round(m["test/temp/rmse"], 4),
        "test_mae_degC": round(m["test/temp/mae"], 4),
        "test_psnr_db": round(m["test/temp/psnr"], 2),
        "test_ssim": round(m["test/temp/ssim"], 4),
        "bicubic_rmse_degC": round(m["test/temp/rmse_bicubic"], 4),
        "bicubic_psnr_db": round(m["test/temp/psnr_bicubic"], 2),
        "bicubic_ssim": round(m["test/temp/ssim_bicubic"], 4),
        "spline_rmse_degC": round(m["test/temp/rmse_spline"], 4),
        "spline_psnr_db": round(m["test/temp/psnr_spline"], 2),
        "rmse_gain_pct": round(m["test/temp/rmse_gain"], 2),
        "rmse_gain_spline_pct": round(m["test/temp/rmse_gain_spline"], 2),
        "psnr_gain_db": round(m["test/temp/psnr_gain"], 2),
        "seam_ratio": round(m["test/temp/seam_ratio"], 3),
        "seam_ratio_bicubic": round(m["test/temp/seam_ratio_bicubic"], 3),
        **_verdict(result.test_breakdown or {}),
        "run_dir": str(result.run_dir),
    }


def _verdict(found: dict[str, Any]) -> dict[str, Any]:
    """The test's claim against the stronger baseline (:mod:`oceansr.engine.breakdown`)."""
    return {
        "baseline": found.get("baseline"),
        "gain_over_baseline_pct": found.get("rmse_gain"),
        "gain_ci95_pct": found.get("ci95"),
        "blocks": f"{found.get('blocks')} by {found.get('blocks_by')}",
        "verdict": found.get("verdict"),
        "losing_groups": found.get("losing"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--budget-s", type=int, default=150)
    parser.add_argument("--models", nargs="+", default=["srcnn", "edsr_baseline", "swinir_light"])
    parser.add_argument("--runs-root", default=None)
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every model")
    args = parse_args(parser, SMOKE)
    runs_root = args.runs_root or tempfile.mkdtemp(prefix="oceansr-quality-")
    extra = [*SMOKE_OVERRIDES, *args.overrides] if args.smoke else args.overrides
    # Lightning prints model summaries on stdout: keep stdout for the JSON alone.
    with contextlib.redirect_stdout(sys.stderr):
        rows = [run_model(m, args.budget_s, runs_root, extra) for m in args.models]
    result = {
        "benchmark": "quality_woa_sample_x4",
        "budget_s_per_model": args.budget_s,
        "split": "train months 1-8, valid 9-10, test 11-12 (19 depths each)",
        "torch_threads": torch.get_num_threads(),
        "models": rows,
    }
    emit(result, args)


if __name__ == "__main__":
    main()
