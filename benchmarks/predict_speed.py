"""Where streaming predict's time goes, and what the cheap fixes buy. Prints JSON.

One LR field (``--height`` x ``--width``, SRCNN x4, untrained: speed does not depend on
the weights) goes through :func:`oceansr.inference.tiling.tiled_predict` for each LR window
core (``--tiles``) with contiguous and channels-last convolution layouts. The settings
run interleaved, ``--repeats`` times, and the median is kept, so that other load on a
shared machine hits them alike. Also reported: the share of one field's time spent in
the model's convolutions (cProfile), the rest being tiling, blending, the bicubic
upsampling and land filling.

    python benchmarks/predict_speed.py [--height 256] [--width 512] [--tiles 128 256] [--smoke]

``--smoke``: a 32 x 64 LR field, one window size, one repeat.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from smoke import emit, parse_args

SMOKE = {"height": 32, "width": 64, "tiles": [16], "repeats": 1}


def profile_share(module: Any, lr: np.ndarray, tile: int) -> dict[str, float]:
    """Seconds of one field and the share of them inside ``torch.conv2d``."""
    from oceansr.inference.tiling import tiled_predict

    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    tiled_predict(module, lr, tile=tile, overlap=16, batch_size=1)
    profiler.disable()
    total = time.perf_counter() - start
    stats: Any = pstats.Stats(profiler).stats
    conv = sum(v[2] for k, v in stats.items() if k[2] == "<built-in method torch.conv2d>")
    return {"seconds": total, "conv2d_share": conv / total}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--height", type=int, default=256)
    parser.add_argument("--width", type=int, default=512)
    parser.add_argument("--tiles", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--repeats", type=int, default=3)
    args = parse_args(parser, SMOKE)
    import torch

    from oceansr.data.synthetic import make_synthetic_dataset
    from oceansr.engine.checkpoint import load_module
    from oceansr.inference import tiling as inference
    from scale import make_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        make_checkpoint(Path(tmp) / "srcnn.ckpt")
        module = load_module(Path(tmp) / "srcnn.ckpt", device="cpu")
    field = make_synthetic_dataset(n_time=1, height=args.height, width=args.width)
    lr = field["temp"].values[:, None].astype(np.float32)
    settings = [(tile, layout) for tile in args.tiles for layout in (False, True)]
    times: dict[tuple[int, bool], list[float]] = {s: [] for s in settings}
    outputs: dict[tuple[int, bool], np.ndarray] = {}
    for _ in range(args.repeats):
        for tile, channels_last in settings:
            inference.CHANNELS_LAST = channels_last
            start = time.perf_counter()
            outputs[(tile, channels_last)] = inference.tiled_predict(
                module, lr, tile=tile, overlap=16, batch_size=1
            )
            times[(tile, channels_last)].append(time.perf_counter() - start)
    hr_px = args.height * args.width * 16
    runs = []
    for tile, channels_last in settings:
        seconds = statistics.median(times[(tile, channels_last)])
        diff = np.nanmax(np.abs(outputs[(tile, channels_last)] - outputs[(tile, False)]))
        runs.append(
            {
                "tile": tile,
                "channels_last": channels_last,
                "median_s": seconds,
                "hr_px_per_s": hr_px / seconds,
                "max_abs_diff_vs_contiguous": float(diff),
            }
        )
    inference.CHANNELS_LAST = True
    report = {
        "lr_shape": [args.height, args.width],
        "threads": torch.get_num_threads(),
        "runs": runs,
        "profile_tile_128": profile_share(module, lr, 128),
    }
    emit(report, args, indent=1)


if __name__ == "__main__":
    main()
