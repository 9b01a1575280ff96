"""Data larger than memory: controller validation and training from a large Zarr store.

Generates a synthetic Zarr store of ``--size-gb`` (eddy fields with coastlines from
:func:`oceansr.data.synthetic.make_synthetic_dataset`, tiled and shifted to the full
grid so that generation is fast; written chunk by chunk, uncompressed, chunks
1 x 512 x 512), then measures, each in a fresh child process:

- ``validation``: the controller's check of a ``start`` on the store
  (:func:`oceansr.data.validation.validate_overrides`): seconds and peak RSS;
- ``train_lazy``: EDSR-baseline x4 training steps (forward, masked loss, backward,
  Adam) from ``data.cache=lazy`` with ``data.num_workers=2`` (``--workers``): samples/s
  and the peak RSS of the process plus its DataLoader workers (sampled every 50 ms);
- ``train_memory``: the same on a subset of the store that fits (``data.cache=memory``),
  side by side, and the lazy path on that same subset.

With ``--predict-only`` it instead measures streaming predict (docs/architecture.md,
predict): an LR Zarr store of ``--predict-lr-gb`` (fields of 512 x 1024, chunks one
field) super-resolved x4 by an SRCNN checkpoint into a Zarr store, in a child process:
seconds and peak RSS (target <= 2 GB for a 2 GB LR input). The HR output is 16 times
the input on disk; both are deleted afterwards.

The stores are deleted afterwards. Prints one JSON document.

    python benchmarks/scale.py [--size-gb 8] [--steps 20] [--root /work/tmp]
    python benchmarks/scale.py --predict-only [--predict-lr-gb 2] [--root /work/tmp]

``--smoke`` shrinks both: twelve 128 x 256 fields (chunks 64 x 64), 2 steps of batch 2
on 32-cell patches without DataLoader workers (each would import torch again); two
32 x 64 LR fields predicted with 16-cell windows.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil

from smoke import emit, parse_args

HEIGHT, WIDTH, CHUNK = 2048, 4096, 512
LR_H, LR_W = 512, 1024
SMOKE = {
    "size_gb": 0.0,
    "height": 128,
    "width": 256,
    "chunk": 64,
    "steps": 2,
    "patch_size": 32,
    "batch_size": 2,
    "workers": 0,
    "predict_lr_gb": 0.0,
    "lr_height": 32,
    "lr_width": 64,
    "predict_tile": 16,
}


def generate(
    path: Path, size_gb: float, grid: tuple[int, int] = (HEIGHT, WIDTH), chunk: int = CHUNK
) -> dict[str, Any]:
    """A (time, lat, lon) float32 store of about ``size_gb`` (at least 12 fields of
    ``grid``), written one field at a time."""

    from oceansr.data.synthetic import make_synthetic_dataset

    height, width = grid
    n_time = max(12, math.ceil(size_gb * 2**30 / (height * width * 4)))
    base = make_synthetic_dataset(n_time=4, height=height // 4, width=width // 4)["temp"].values
    start = time.perf_counter()

    def field(t: int) -> np.ndarray:
        tile = np.roll(base[t % 4], shift=(7 * t, 13 * t), axis=(0, 1))
        return np.tile(tile, (4, 4)) + np.float32(0.01 * t)

    nbytes = write_store(path, n_time, grid, (chunk, chunk), field)
    return {"n_time": n_time, "bytes": nbytes, "seconds": time.perf_counter() - start}


def write_store(
    path: Path,
    n_time: int,
    shape: tuple[int, int],
    chunks: tuple[int, int],
    field: Any,
) -> int:
    """A consolidated Zarr v3 (time, lat, lon) float32 store, written one field at a time
    (``field(t)``), so no more than one field is ever in memory; its size in bytes."""
    import zarr

    height, width = shape
    store = zarr.open_group(str(path), mode="w", zarr_format=3)
    store.create_array("lat", data=np.linspace(-80, 80, height), dimension_names=["lat"])
    lon = np.linspace(-180, 180, width, endpoint=False)
    store.create_array("lon", data=lon, dimension_names=["lon"])
    store.create_array("time", data=np.arange(n_time), dimension_names=["time"])
    arr = store.create_array(
        "temp",
        shape=(n_time, height, width),
        chunks=(1, *chunks),
        dtype="float32",
        fill_value=np.nan,
        compressors=None,
        dimension_names=["time", "lat", "lon"],
        attributes={"units": "degC"},
    )
    for t in range(n_time):
        arr[t] = field(t)
    zarr.consolidate_metadata(str(path))
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


CHILD_VALIDATE = """
import json, resource, sys, time
from oceansr.data.validation import validate_overrides
t = time.perf_counter()
reply = validate_overrides(sys.argv[1:])
print(json.dumps({"ok": reply["ok"], "seconds": time.perf_counter() - t,
                  "error": None if reply["ok"] else reply["error_summary"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_TRAIN = """
import json, sys, time, warnings
warnings.filterwarnings("ignore")
import torch
from oceansr.config.compose import compose_config, normalise_config
from oceansr.data.datamodule import OceanDataModule
from oceansr.engine.module import SRModule, masked_loss
steps = int(sys.argv[1]); cfg = compose_config(sys.argv[2:]); normalise_config(cfg)
torch.manual_seed(0)
dm = OceanDataModule(cfg.data)
d = dm.data
m = SRModule(model=dict(cfg.model), variables=d.variables, units=d.units, scale=d.scale,
             mean=d.mean, std=d.std, data_range=d.data_range, optim=dict(cfg.optim),
             loss=dict(cfg.loss), residual_learning=cfg.residual_learning,
             max_epochs=cfg.trainer.max_epochs)
opt = torch.optim.Adam(m.parameters(), lr=1e-4)
it = iter(dm.train_dataloader()); batch = next(it)  # workers started, first batch read
t = time.perf_counter(); samples = 0
for _ in range(steps):
    lr, hr = batch["lr"], batch["hr"]
    pred = m.forward_normalised(m.normalise(lr))
    loss = masked_loss(pred, m.normalise(hr), torch.isfinite(hr), "l1")
    opt.zero_grad(); loss.backward(); opt.step(); samples += len(lr)
    try:
        batch = next(it)
    except StopIteration:
        it = iter(dm.train_dataloader()); batch = next(it)
print(json.dumps({"samples_per_s": samples / (time.perf_counter() - t), "steps": steps,
                  "lazy": type(d).__name__ == "LazyData"}))
"""


CHILD_PREDICT = """
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
from oceansr.predict import predict
t = time.perf_counter()
s = predict(sys.argv[1], sys.argv[2], sys.argv[3], tile=int(sys.argv[4]), overlap=16,
            batch_size=1, device=sys.argv[5])
print(json.dumps({"seconds": time.perf_counter() - t, "n_fields": s["n_fields"],
                  "hr_shape": s["hr_shape"], "fields_per_s": s["fields_per_s"],
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_checkpoint(path: Path) -> None:
    """An SRCNN x4 checkpoint (untrained weights: speed and memory do not depend on them)."""
    import lightning as L
    import torch

    from oceansr.engine.module import SRModule

    module = SRModule(
        model={"name": "srcnn"},
        variables=["temp"],
        units=["degC"],
        scale=4,
        mean=[15.0],
        std=[8.0],
        data_range=[35.0],
        optim={"name": "adam", "lr": 1e-4, "weight_decay": 0.0, "betas": [0.9, 0.999]},
        loss={"name": "l1", "charbonnier_eps": 1e-3},
        residual_learning=True,
        max_epochs=1,
    )
    torch.save(
        {
            "state_dict": module.state_dict(),
            "hyper_parameters": dict(module.hparams),
            "pytorch-lightning_version": L.__version__,
        },
        path,
    )


def generate_lr(path: Path, size_gb: float, grid: tuple[int, int] = (LR_H, LR_W)) -> dict[str, Any]:
    """A (time, lat, lon) LR store of about ``size_gb`` (at least 2 fields of ``grid``),
    one field per chunk."""

    from oceansr.data.synthetic import make_synthetic_dataset

    height, width = grid
    n_time = max(2, math.ceil(size_gb * 2**30 / (height * width * 4)))
    base = make_synthetic_dataset(n_time=4, height=height, width=width)["temp"].values
    nbytes = write_store(path, n_time, grid, grid, lambda t: base[t % 4] + np.float32(0.01 * t))
    return {"n_time": n_time, "bytes": nbytes}


def predict_benchmark(
    tmp: Path,
    lr_gb: float,
    tile: int = 256,
    device: str = "cpu",
    grid: tuple[int, int] = (LR_H, LR_W),
) -> dict[str, Any]:
    """Streaming predict of an LR store of ``lr_gb`` to Zarr: time and peak RSS, and the
    time a 2 GB LR input would take at the measured rate (fields are independent, so
    the time is linear in their number; the peak is not)."""
    ckpt, lr, out = tmp / "srcnn.ckpt", tmp / "lr.zarr", tmp / "sr.zarr"
    make_checkpoint(ckpt)
    result: dict[str, Any] = {"lr_gb_requested": lr_gb, "lr_store": generate_lr(lr, lr_gb, grid)}
    result["tile"] = tile
    result["device"] = device
    reply = run_child(CHILD_PREDICT, [str(ckpt), str(lr), str(out), str(tile), device])
    result["predict_zarr"] = reply
    if reply.get("fields_per_s"):
        fields_2gb = math.ceil(2 * 2**30 / (grid[0] * grid[1] * 4))
        hr_px = grid[0] * grid[1] * 16
        result["hr_px_per_s"] = reply["fields_per_s"] * hr_px
        result["projected_seconds_2gb_lr"] = fields_2gb / reply["fields_per_s"]
    files = [f for f in out.rglob("*") if f.is_file()] if out.exists() else []
    result["output_bytes"] = sum(f.stat().st_size for f in files)
    return result


def run_child(code: str, args: list[str]) -> dict[str, Any]:
    """Run ``code`` in a child; its JSON reply plus the peak RSS of it and its children."""
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    peak = 0
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(0.05)
    out, err = proc.communicate()
    lines = out.decode().strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": err.decode()[-2000:]}
    reply: dict[str, Any] = json.loads(lines[-1])
    reply["peak_rss_tree_mb"] = peak / 2**20
    return reply


def overrides(
    store: Path, n_time: int, extra: list[str], patch_size: int = 128, batch_size: int = 8
) -> list[str]:
    return [
        "data=xarray",
        f"data.path={store}",
        "data.variables=[temp]",
        "data.split.by=index",
        f"data.split.train={{start: 0, stop: {n_time - 4}}}",
        f"data.split.valid={{start: {n_time - 4}, stop: {n_time - 2}}}",
        f"data.split.test={{start: {n_time - 2}, stop: {n_time}}}",
        "model=edsr_baseline",
        f"data.patch_size={patch_size}",
        f"data.batch_size={batch_size}",
        "trainer=cpu",
        *extra,
    ]


def data_benchmark(tmp: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Validation and lazy/in-memory training from a generated store of ``args.size_gb``."""
    store = tmp / "large.zarr"
    sizes = {"patch_size": args.patch_size, "batch_size": args.batch_size}
    result: dict[str, Any] = {"size_gb_requested": args.size_gb, "grid": [args.height, args.width]}
    result["store"] = gen = generate(store, args.size_gb, (args.height, args.width), args.chunk)
    full = overrides(store, gen["n_time"], [], **sizes)
    result["validation"] = run_child(CHILD_VALIDATE, full)
    lazy = [*full, "data.cache=lazy", f"data.num_workers={args.workers}"]
    result["train_lazy"] = run_child(CHILD_TRAIN, [str(args.steps), *lazy])
    n = args.subset
    subset = overrides(store, n, [f"data.isel={{time: {{start: 0, stop: {n}}}}}"], **sizes)
    for mode in ("memory", "lazy"):
        result[f"train_subset_{mode}"] = run_child(
            CHILD_TRAIN,
            [str(args.steps), *subset, f"data.cache={mode}", f"data.num_workers={args.workers}"],
        )
    mem, lz = result["train_subset_memory"], result["train_subset_lazy"]
    if "samples_per_s" in mem and "samples_per_s" in lz:
        result["lazy_over_memory_speed"] = lz["samples_per_s"] / mem["samples_per_s"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-gb", type=float, default=8.0)
    parser.add_argument("--height", type=int, default=HEIGHT, help="grid of the large store")
    parser.add_argument("--width", type=int, default=WIDTH)
    parser.add_argument("--chunk", type=int, default=CHUNK, help="chunk side of the large store")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--subset", type=int, default=8, help="fields of the in-memory run")
    parser.add_argument("--patch-size", type=int, default=128, help="HR training patch side")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers in training")
    parser.add_argument("--root", default=None, help="where to write the store")
    parser.add_argument("--predict-only", action="store_true", help="only streaming predict")
    parser.add_argument("--predict-lr-gb", type=float, default=2.0)
    parser.add_argument("--lr-height", type=int, default=LR_H, help="predict's LR field")
    parser.add_argument("--lr-width", type=int, default=LR_W)
    parser.add_argument("--predict-tile", type=int, default=256, help="LR window core side")
    parser.add_argument("--device", default="cpu", help="predict's device: cpu, cuda, auto")
    args = parse_args(parser, SMOKE)
    tmp = Path(tempfile.mkdtemp(dir=args.root, prefix="oceansr-scale-"))
    try:
        if args.predict_only:
            grid = (args.lr_height, args.lr_width)
            result = predict_benchmark(
                tmp, args.predict_lr_gb, args.predict_tile, args.device, grid
            )
        else:
            result = data_benchmark(tmp, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    emit(result, args, indent=1)


if __name__ == "__main__":
    main()
