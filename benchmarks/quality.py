"""Quality per model on the bundled WOA sample, x4, for the same wall-clock budget.

Trains SRCNN, EDSR-baseline and SwinIR-light (or ``--models``) one after the other,
each for ``--budget-s`` seconds (Lightning ``max_time``, constant learning rate), then
tests the best checkpoint on months 11-12 and prints JSON per model: parameters, fit
time, training samples/s, test RMSE/MAE/PSNR/SSIM, the bicubic and cubic B-spline
baselines, the gain over the stronger one with its block-bootstrap 95 % interval and
verdict, the levels where the model loses, and the seam ratio (the sample spans the globe).

    python benchmarks/quality.py [--budget-s 150] [--models srcnn edsr_baseline swinir_light]

The model options of issue 20, each beside the plain model with the same steps and seed
(ratio of the test RMSE to the cubic spline's, the conservation error, and the first
validation's RMSE over bicubic's: a residual model starts at bicubic)::

    python benchmarks/quality.py --options --steps 300 --models edsr_baseline

Transfer to another grid (``init_from``): a model trained on the WOA sample (2 deg HR)
fine-tuned on Levitus 1 deg temperature (split by depth: test 0-20 m, valid 30-50 m,
train 75-5000 m), against the same steps from scratch::

    python benchmarks/quality.py --transfer --steps 300 --models edsr_baseline

``--smoke``: SRCNN alone, 1 s (or 2 steps), small patches, one validation and one test batch.
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

SMOKE = {"budget_s": 1, "models": ["srcnn"], "steps": 2}
FERRET = "/usr/share/ferret-vis/data"
#: Each option of issue 20 as overrides; "plain" is the model without any.
OPTIONS: dict[str, list[str]] = {
    "plain": [],
    "constraint=block_mean": ["model.constraint=block_mean"],
    "covariates=[land_mask,lat]": ["data.covariates=[land_mask,lat]"],
    "covariates=[etopo60 bathymetry]": [
        f"data.covariates=[{{file:{FERRET}/etopo60.cdf,variable:ROSE}}]"
    ],
    "degradation=strict_mean": ["data.degradation=strict_mean"],
}
#: Levitus 1 deg annual temperature (ferret-datasets), x4 (4 deg -> 1 deg), split by depth.
LEVITUS = [
    "data=xarray",
    f"data.path={FERRET}/levitus_climatology.cdf",
    "data.variables=[TEMP]",
    "data.decode_times=false",
    "data.split.dim=ZAXLEVITR",
    "data.split.by=index",
    "data.split.train={start: 5, stop: 20}",
    "data.split.valid={start: 3, stop: 5}",
    "data.split.test={start: 0, stop: 3}",
    "data.patch_size=48",
    "data.patches_per_field=16",
]
SMOKE_OVERRIDES = [
    "data.patch_size=16",
    "data.batch_size=4",
    "trainer.limit_val_batches=1",
    "trainer.limit_test_batches=1",
]


def run_model(model: str, budget_s: int, runs_root: str, extra: list[str]) -> dict[str, Any]:
    minutes, seconds = divmod(budget_s, 60)
    limit = ["trainer.max_epochs=1000", f"trainer.max_time=00:00:{minutes:02d}:{seconds:02d}"]
    return _train_row(model, runs_root, [*limit, *extra])


def _train_row(model: str, runs_root: str, overrides: list[str]) -> dict[str, Any]:
    """Train ``model`` on the sample (or what ``overrides`` name), test it, and read the
    figures of one row from the result and the run's events."""
    result = train(
        [
            f"model={model}",
            "data=sample",
            "data.scale=4",
            f"runs_root={runs_root}",
            "optim.lr=5e-4",
            "optim.scheduler.name=none",
            *overrides,
        ]
    )
    events = read_events(RunPaths.for_id(result.run_id, root=runs_root))
    start = next(e for e in events if e["event"] == "training_start")
    end = next(e for e in events if e["event"] == "training_end")
    epochs = [e for e in events if e["event"] == "epoch_end"]
    m = result.test_metrics
    fit_s = end["fit_duration_s"]
    var = result.variables[0]
    return {
        "model": model,
        "params": start["params"],
        "fit_time_s": fit_s,
        "epochs": len(epochs),
        "steps": epochs[-1]["step"] if epochs else 0,
        "train_samples_per_s": round(end["samples_seen"] / fit_s, 1) if fit_s else None,
        "best_epoch": end["best_epoch"],
        "test_rmse_degC": round(m[f"test/{var}/rmse"], 4),
        "test_mae_degC": round(m[f"test/{var}/mae"], 4),
        "test_psnr_db": round(m[f"test/{var}/psnr"], 2),
        "test_ssim": round(m[f"test/{var}/ssim"], 4),
        "bicubic_rmse_degC": round(m[f"test/{var}/rmse_bicubic"], 4),
        "bicubic_psnr_db": round(m[f"test/{var}/psnr_bicubic"], 2),
        "bicubic_ssim": round(m[f"test/{var}/ssim_bicubic"], 4),
        "spline_rmse_degC": round(m[f"test/{var}/rmse_spline"], 4),
        "spline_psnr_db": round(m[f"test/{var}/psnr_spline"], 2),
        "rmse_gain_pct": round(m[f"test/{var}/rmse_gain"], 2),
        "rmse_gain_spline_pct": round(m[f"test/{var}/rmse_gain_spline"], 2),
        "psnr_gain_db": round(m[f"test/{var}/psnr_gain"], 2),
        "seam_ratio": round(m[f"test/{var}/seam_ratio"], 3),
        "seam_ratio_bicubic": round(m[f"test/{var}/seam_ratio_bicubic"], 3),
        "ratio_to_spline": round(m[f"test/{var}/rmse"] / m[f"test/{var}/rmse_spline"], 4),
        "conservation_rms": _rounded(m.get(f"test/{var}/conservation_rms"), 6),
        "first_val_ratio_to_bicubic": _first_validation(epochs, var),
        **_verdict(result.test_breakdown or {}),
        "init_from": start.get("init_from"),
        "checkpoint": result.best_checkpoint or result.last_checkpoint,
        "run_dir": str(result.run_dir),
    }


def _rounded(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _first_validation(epochs: list[dict[str, Any]], var: str) -> dict[str, Any] | None:
    """The first validation's RMSE over bicubic's, and its step (a residual model with
    a zeroed last layer starts at exactly 1.0)."""
    for event in epochs:
        val = event.get("val") or {}
        model, bicubic = val.get(f"val/{var}/rmse"), val.get(f"val/{var}/rmse_bicubic")
        if model is not None and bicubic:
            return {"step": event.get("step"), "ratio": round(model / bicubic, 4)}
    return None


def option_rows(
    model: str, steps: int, runs_root: str, extra: list[str], names: list[str]
) -> list[dict]:
    """Each option of :data:`OPTIONS` in ``names`` trained for the same steps from the same
    seed."""
    limit = ["trainer.max_epochs=-1", f"trainer.max_steps={steps}"]
    rows = []
    for name in names:
        overrides = OPTIONS[name]
        rows.append({"option": name, **_train_row(model, runs_root, [*limit, *overrides, *extra])})
    return rows


def transfer_rows(model: str, steps: int, runs_root: str, extra: list[str]) -> dict[str, Any]:
    """``init_from`` to another grid: the WOA-sample model fine-tuned on Levitus 1 deg
    beside the same steps from scratch."""
    limit = ["trainer.max_epochs=-1", f"trainer.max_steps={steps}"]
    source = _train_row(model, runs_root, [*limit, *extra])
    target = [*limit, *LEVITUS, *extra]
    scratch = _train_row(model, runs_root, target)
    tuned = _train_row(model, runs_root, [*target, f"init_from={source['checkpoint']}"])
    return {"source_woa_sample": source, "levitus_scratch": scratch, "levitus_init_from": tuned}


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
    parser.add_argument("--options", action="store_true", help="one row per issue-20 option")
    parser.add_argument("--transfer", action="store_true", help="init_from WOA -> Levitus")
    parser.add_argument("--steps", type=int, default=300, help="steps per run (--options)")
    parser.add_argument("--only", nargs="+", choices=list(OPTIONS), default=list(OPTIONS))
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides for every model")
    args = parse_args(parser, SMOKE)
    runs_root = args.runs_root or tempfile.mkdtemp(prefix="oceansr-quality-")
    extra = [*SMOKE_OVERRIDES, *args.overrides] if args.smoke else args.overrides
    # Lightning prints model summaries on stdout: keep stdout for the JSON alone.
    if args.options or args.transfer:
        with contextlib.redirect_stdout(sys.stderr):
            model = args.models[0]
            found: dict[str, Any] = {"steps": args.steps, "model": model}
            if args.options:
                found["options"] = option_rows(model, args.steps, runs_root, extra, args.only)
            if args.transfer:
                found["transfer"] = transfer_rows(model, args.steps, runs_root, extra)
        emit({"benchmark": "quality_options_x4", **found}, args)
        return
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
