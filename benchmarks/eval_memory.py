"""Evaluation memory of one large field: what ``data.eval_memory_mb`` bounds.

Tiled validation/test (docs/architecture.md, inference) bounds the model's activations
by the window size, and evaluates the SR output, bicubic baseline, loss and metrics in
HR row bands sized from the same budget, so the step holds the batch plus O(band). This
script evaluates one HR field of ``--height`` x ``--width`` (one channel, SRCNN x4,
seeded weights) in a fresh child process per setting, and reports the peak resident
memory above the process's baseline (taken after the batch is built), in MB and in
multiples of one float32 HR field, next to the peak of one window's forward pass alone
and what the step holds beyond it. Prints JSON.

    python benchmarks/eval_memory.py [--height 1024] [--width 2048] [--tiles 32 64 4096]

``--smoke``: one 64 x 128 field, one tile setting.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from smoke import emit, parse_args

SMOKE = {"height": 64, "width": 128, "tiles": [16]}

CHILD = """
import json, resource, sys, warnings
import torch
from oceansr.inference.tiling import EVAL_OVERLAP
from oceansr.engine.module import SRModule
warnings.filterwarnings("ignore")
torch.set_grad_enabled(False)
torch.manual_seed(0)  # same SRCNN weights in every run: comparable rmse
h, w, tile = (int(a) for a in sys.argv[1:4])
m = SRModule(model={"name": "srcnn"}, variables=["t"], units=["degC"], scale=4, mean=[10.0],
             std=[3.0], data_range=[20.0], optim={"name": "adam", "lr": 1e-3,
             "weight_decay": 0.0, "betas": [0.9, 0.999]},
             loss={"name": "l1", "charbonnier_eps": 1e-3}, residual_learning=True, max_epochs=1,
             eval_tile=tile).eval()
g = torch.Generator().manual_seed(0)
hr = torch.randn(1, 1, h, w, generator=g).cumsum(-1) / 50 + 10.0
hr[:, :, : h // 8, : w // 8] = float("nan")
lr = torch.nn.functional.avg_pool2d(torch.nan_to_num(hr, 10.0), 4)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
side = min(tile + 2 * EVAL_OVERLAP, h // 4)
m.forward_normalised(lr[..., :side, : min(tile + 2 * EVAL_OVERLAP, w // 4)])
window = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
m._eval_step({"lr": lr, "hr": hr}, "test")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
rmse = float(m.metrics["test_model"].compute()["rmse"].reshape(-1)[0])
field_mb = h * w * 4 / 2**20
print(json.dumps({"eval_tile": tile, "hr_field_mb": field_mb, "peak_above_baseline_mb":
                  peak - base, "peak_in_hr_fields": (peak - base) / field_mb,
                  "one_window_forward_mb": window - base,
                  "peak_above_one_window_in_hr_fields": (peak - window) / field_mb,
                  "rmse": rmse}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--height", type=int, default=1024)
    parser.add_argument("--width", type=int, default=2048)
    parser.add_argument("--tiles", type=int, nargs="+", default=[32, 64, 4096])
    args = parse_args(parser, SMOKE)
    results = []
    for tile in args.tiles:
        cmd = [sys.executable, "-c", CHILD, str(args.height), str(args.width), str(tile)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = proc.stdout.strip().splitlines()
        results.append(json.loads(lines[-1]) if lines else {"error": proc.stderr[-1500:]})
    emit({"hr_shape": [args.height, args.width], "runs": results}, args, indent=1)


if __name__ == "__main__":
    main()
