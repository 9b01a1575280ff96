"""Tiled full-field prediction: speed, peak memory and tiled-vs-whole agreement.

For each model (random weights and made-up normalisation: timing does not need
training), super-resolves one large synthetic field (default HR 2048 x 4096, i.e. LR
512 x 1024 at x4) with :func:`oceansr.inference.tiling.tiled_predict`, and reports seconds,
fields/s, HR megapixels/s, the process's peak RSS during the run (sampled by a thread),
and, on a field small enough for whole-field inference (default HR 512 x 1024), the max
absolute difference between tiled and whole-field outputs and the peak RSS of each.

    python benchmarks/predict.py [--height 2048 --width 4096] [--models srcnn edsr_baseline]
        [--tile 64 --overlap 16 --batch-size 8] [--check-height 512 --check-width 1024]

Prints one JSON document. The default run takes about 2-3 minutes on 2 CPU cores;
``--smoke`` predicts a 64 x 128 HR field with 8-cell LR tiles in seconds.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import threading
import time
import warnings
from typing import Any

import numpy as np
import psutil
import torch

from oceansr.data.synthetic import make_synthetic_dataset
from oceansr.data.transforms import block_mean
from oceansr.engine.module import SRModule
from oceansr.inference.tiling import tile_windows, tiled_predict
from smoke import emit, parse_args

warnings.filterwarnings("ignore")

MODEL_CONFIGS: dict[str, dict[str, Any]] = {
    "srcnn": {"name": "srcnn"},
    "edsr_baseline": {"name": "edsr_baseline", "n_resblocks": 16, "n_feats": 64, "res_scale": 1.0},
}
SMOKE = {
    "height": 64,
    "width": 128,
    "check_height": 32,
    "check_width": 64,
    "tile": 8,
    "overlap": 2,
    "batch_size": 4,
}


class PeakRSS:
    """Peak resident memory of this process while the block runs (sampled every 20 ms)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.process = psutil.Process()
        self.peak = 0
        self.start = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRSS:
        self.start = self.peak = self.process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.process.memory_info().rss)

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def peak_mb(self) -> float:
        return round(self.peak / 2**20, 1)

    @property
    def delta_mb(self) -> float:
        return round((self.peak - self.start) / 2**20, 1)


def make_module(name: str, scale: int) -> SRModule:
    torch.manual_seed(0)
    return SRModule(
        model=MODEL_CONFIGS[name],
        variables=["temp"],
        units=["degC"],
        scale=scale,
        mean=[15.0],
        std=[8.0],
        data_range=[35.0],
        optim={"name": "adam", "lr": 1e-3},
        loss={"name": "l1", "charbonnier_eps": 1e-3},
        residual_learning=True,
        max_epochs=1,
    ).eval()


def lr_field(height: int, width: int, scale: int, n_fields: int, seed: int) -> np.ndarray:
    ds = make_synthetic_dataset(
        n_time=n_fields, height=height, width=width, variables=("temp",), seed=seed
    )
    return block_mean(ds["temp"].values[:, None], scale)


def bench_model(name: str, args: argparse.Namespace, big: np.ndarray, small: np.ndarray) -> dict:
    module = make_module(name, args.scale)
    n, _, h, w = big.shape
    tiles = len(tile_windows(h, args.tile, args.overlap)) * len(
        tile_windows(w, args.tile, args.overlap)
    )
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        out = tiled_predict(
            module, big, tile=args.tile, overlap=args.overlap, batch_size=args.batch_size
        )
        seconds = time.perf_counter() - t0
    hr_mpx = n * out.shape[-2] * out.shape[-1] / 1e6
    output_mb = out.nbytes / 2**20
    del out
    with PeakRSS() as mem_whole:
        whole = tiled_predict(module, small, tile=None, batch_size=1)
    with PeakRSS() as mem_tiled:
        tiled = tiled_predict(
            module, small, tile=args.tile, overlap=args.overlap, batch_size=args.batch_size
        )
    ocean = np.repeat(np.repeat(np.isfinite(small), args.scale, -2), args.scale, -1)
    diff = np.abs(tiled - whole)[ocean]
    return {
        "model": name,
        "params": sum(p.numel() for p in module.parameters()),
        "large": {
            "lr_shape": list(big.shape),
            "hr_shape": [n, 1, h * args.scale, w * args.scale],
            "tiles_per_field": tiles,
            "seconds": round(seconds, 2),
            "fields_per_s": round(n / seconds, 4),
            "hr_megapixels_per_s": round(hr_mpx / seconds, 3),
            "output_array_mb": round(output_mb, 1),
            "peak_rss_mb": mem.peak_mb,
            "peak_rss_increase_mb": mem.delta_mb,
        },
        "tiled_vs_whole": {
            "lr_shape": list(small.shape),
            "hr_shape": list(whole.shape),
            "max_abs_diff_degC": float(diff.max()),
            "mean_abs_diff_degC": float(diff.mean()),
            "field_std_degC": round(float(np.nanstd(small)), 3),
            "whole_field_peak_rss_increase_mb": mem_whole.delta_mb,
            "tiled_peak_rss_increase_mb": mem_tiled.delta_mb,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--height", type=int, default=2048, help="HR height of the large field")
    parser.add_argument("--width", type=int, default=4096, help="HR width of the large field")
    parser.add_argument("--n-fields", type=int, default=1, help="fields (time steps) to predict")
    parser.add_argument("--check-height", type=int, default=512, help="HR height, tiled vs whole")
    parser.add_argument("--check-width", type=int, default=1024, help="HR width, tiled vs whole")
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--models", nargs="+", default=list(MODEL_CONFIGS), choices=MODEL_CONFIGS)
    parser.add_argument("--tile", type=int, default=64, help="LR tile core")
    parser.add_argument("--overlap", type=int, default=16, help="LR overlap on each side")
    parser.add_argument("--batch-size", type=int, default=8, help="tiles per forward pass")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parse_args(parser, SMOKE)
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    big = lr_field(args.height, args.width, args.scale, args.n_fields, seed=0)
    small = lr_field(args.check_height, args.check_width, args.scale, 1, seed=1)
    data_s = time.perf_counter() - t0
    results = [bench_model(name, args, big, small) for name in args.models]
    report = {
        "benchmark": "predict",
        "host": {
            "cpu_count": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "device": "cpu",
        },
        "settings": {
            "scale": args.scale,
            "tile": args.tile,
            "overlap": args.overlap,
            "batch_size": args.batch_size,
            "n_fields": args.n_fields,
        },
        "data_generation_s": round(data_s, 2),
        "results": results,
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "total_s": round(time.perf_counter() - t0, 1),
    }
    emit(report, args)


if __name__ == "__main__":
    main()
