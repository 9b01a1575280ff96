"""File-to-file prediction: check, load, infer (tiled), mask land, write with provenance.

:func:`predict` is a sequence of small steps over one :class:`PredictJob`, so each step
reads what the previous ones established and the summary is built from the same facts
as the ``predict_start`` / ``predict_end`` events (see docs/architecture.md, predict).
Normalisation statistics always come from the checkpoint, never from the input.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dask
import numpy as np
import xarray as xr

import oceansr
from oceansr.core.errors import ConfigError, DataNotFoundError
from oceansr.data import covariates as cov
from oceansr.data.fields import resolution_warnings, spans_globe
from oceansr.data.lr_input import LRFields, open_lr_fields
from oceansr.engine import checkpoint as ckpt_lib
from oceansr.inference.tiling import (
    PREDICT,
    ProgressFn,
    check_tiling,
    periodic_pad,
    tile_windows,
)
from oceansr.predict.degradation import check_input_operator, operator_warnings
from oceansr.predict.grid import refine_coord
from oceansr.predict.masks import load_hr_mask
from oceansr.predict.output import (
    build_output_dataset,
    check_output,
    write_dataset,
)
from oceansr.predict.stream import FieldStream
from oceansr.runs import checkpoint_file, now_iso

LR_MASK_SOURCE = "lr_mask (an HR cell is land where its parent LR cell is)"
#: Options that are paths (recorded absolute, in run.json and the events).
PATH_OPTIONS: tuple[str, ...] = ("checkpoint", "input", "output", "hr_mask")


def path_text(value: Any) -> str | None:
    """An input/output path as recorded (absolute), or a marker for in-memory data."""
    if value is None:
        return None
    if isinstance(value, (xr.Dataset, xr.DataArray)):
        return "<in-memory xarray.Dataset>"
    return str(Path(value).expanduser().absolute())


@dataclass
class PredictJob:
    """What :func:`predict` has established so far (one instance per call)."""

    checkpoint: Path
    input: Any
    output: Path
    fmt: str
    tile: int | None
    overlap: int
    batch_size: int
    module: Any = None
    variables: list[str] | None = None
    scale: int = 0
    model: str = "?"
    fields: LRFields | None = None
    ocean: np.ndarray | None = None
    mask_source: str = LR_MASK_SOURCE
    sel: Mapping[str, Any] | None = None
    isel: Mapping[str, Any] | None = None
    #: The checkpoint's LR operator against the input (predict/degradation.py).
    operator: dict[str, Any] | None = None
    #: The checkpoint's covariates rebuilt on the input's grid (None: it has none).
    covariates: cov.CovariateBuilder | None = None

    @property
    def lr(self) -> LRFields:
        assert self.fields is not None, "fields are read before they are used"
        return self.fields

    @property
    def periodic(self) -> bool:
        """The input's longitude closes the circle: tiling wraps around the seam."""
        return spans_globe(self.lr.lon)

    def windows(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        width = self.lr.width + (2 * periodic_pad(self.overlap) if self.periodic else 0)
        return (
            tile_windows(self.lr.height, self.tile, self.overlap),
            tile_windows(width, self.tile, self.overlap),
        )


def _check_inputs(input: Any, hr_mask: Any) -> None:
    """Missing input or mask files fail before the checkpoint is loaded (seconds saved)."""
    if not isinstance(input, (xr.Dataset, xr.DataArray)) and (
        input is None or not Path(input).expanduser().exists()
    ):
        raise DataNotFoundError(
            f"input not found: {input}",
            field="input",
            fix="input= an existing LR NetCDF file or Zarr store",
        )
    if hr_mask is not None and not Path(hr_mask).expanduser().exists():
        raise DataNotFoundError(
            f"hr_mask file not found: {hr_mask}",
            field="hr_mask",
            fix="point hr_mask at a NetCDF/Zarr mask on the HR grid, or omit it",
        )


def _load(job: PredictJob, variables: Any, device: str) -> None:
    job.module = ckpt_lib.load_module(job.checkpoint, device=device)
    job.variables = ckpt_lib.match_variables(job.module, variables)
    job.scale = ckpt_lib.match_scale(job.module, None)
    job.model = ckpt_lib.model_name(job.module)


def _read(job: PredictJob, reading: Mapping[str, Any], hr_mask: Any, mask_var: Any) -> None:
    # Lazy: streaming predict reads the LR fields one at a time (docs/architecture.md).
    job.fields = open_lr_fields(job.input, job.variables or [], lazy=True, **reading)
    if hr_mask is None:
        return
    try:
        job.ocean, job.mask_source = load_hr_mask(
            hr_mask,
            job.fields,
            job.scale,
            variable=mask_var,
            sel=reading.get("sel"),
            isel=reading.get("isel"),
            decode_times=bool(reading.get("decode_times", True)),
        )
    except BaseException:
        job.fields.close()
        raise


def _covariates(job: PredictJob, files: Mapping[str, str] | str | None) -> None:
    """The checkpoint's covariates (docs/architecture.md, covariates), required: rebuilt
    from the input's grid and land, file fields from the recorded file or ``files``."""
    specs, _, _ = cov.from_record(job.module.hparams.get("covariates"), files)
    if not specs:
        if files:
            raise ConfigError(
                "covariates= was given, and the checkpoint was trained without covariates",
                field="covariates",
                fix="drop covariates=",
            )
        return
    lat, lon, scale = job.lr.lat, job.lr.lon, job.scale
    hr_lat = None if lat is None else refine_coord(lat, scale, "lat")  # the output's
    hr_lon = None if lon is None else refine_coord(lon, scale, "lon")
    grid = cov.CovariateGrid(lat, lon, hr_lat, hr_lon, scale)
    job.covariates = cov.CovariateBuilder(specs, grid, field="covariates")


def start_info(job: PredictJob, hr_mask: Any) -> dict[str, Any]:
    """The facts recorded in ``predict_start`` (and repeated in the summary)."""
    fields = job.lr
    ys, xs = job.windows()
    height, width = fields.height * job.scale, fields.width * job.scale
    return {
        "inputs": {
            # Event payload keys as recorded since the first release (the run-directory
            # contract, docs/architecture.md, run directory), not the option names.
            "ckpt_path": str(job.checkpoint.absolute()),
            "input_path": path_text(job.input),
            "output_path": str(job.output),
            "hr_mask": path_text(hr_mask),
            "variables": job.variables,
            "sel": job.sel,
            "isel": job.isel,
        },
        **(
            {"covariates": [c for s in job.covariates.specs for c in s.channels]}
            if job.covariates is not None
            else {}
        ),
        "model": job.model,
        "scale": job.scale,
        "device": str(next(job.module.parameters()).device),
        "format": job.fmt,
        "sample_dims": {
            str(d): s for d, s in zip(fields.sample_dims, fields.sample_shape, strict=True)
        },
        "n_fields": fields.n_fields,
        "lr_shape": [*fields.sample_shape, fields.height, fields.width],
        "hr_shape": [*fields.sample_shape, height, width],
        "grid": fields.grid_kind,
        "periodic_lon": job.periodic,
        "tiles": {
            "tile": job.tile,
            "overlap": job.overlap,
            "batch_size": job.batch_size,
            "window": [ys[0][1] - ys[0][0], xs[0][1] - xs[0][0]],
            "per_field": len(ys) * len(xs),
            "total": len(ys) * len(xs) * fields.n_fields,
        },
        "mask": job.mask_source,
        "degradation": job.operator,
    }


def provenance_attrs(job: PredictJob, sha: str) -> dict[str, Any]:
    """Global attributes of the output: the input's, plus CF history and oceansr facts."""
    fields, scale = job.lr, job.scale
    created = now_iso()
    source = path_text(job.input) or fields.source
    ys, xs = job.windows()
    tiling = "whole field" if len(ys) * len(xs) == 1 else f"tile {job.tile} overlap {job.overlap}"
    history = (
        f"{created} oceansr {oceansr.__version__} predict: x{scale} {job.model} "
        f"super-resolution of {source} with {job.checkpoint.absolute()} ({tiling})"
    )
    old_history, title = fields.attrs.get("history"), fields.attrs.get("title")
    attrs = {k: v for k, v in fields.attrs.items() if k not in ("history", "title")}
    attrs.update(
        {
            "Conventions": str(fields.attrs.get("Conventions") or "CF-1.8"),
            "title": f"{title} (super-resolved x{scale} by oceansr)"
            if title
            else f"oceansr x{scale} super-resolution of {Path(str(source)).name}",
            "history": history + (f"\n{old_history}" if old_history else ""),
            "date_created": created,
            "oceansr_version": oceansr.__version__,
            "oceansr_checkpoint": str(job.checkpoint.absolute()),
            "oceansr_checkpoint_sha256": sha,
            "oceansr_model": job.model,
            "oceansr_model_config": dict(job.module.hparams.model),
            "oceansr_scale": scale,
            "oceansr_variables": ",".join(job.variables or []),
            "oceansr_source_file": source,
            "oceansr_tile": "none" if job.tile is None else job.tile,
            "oceansr_overlap": job.overlap,
            "oceansr_land_mask": job.mask_source,
            # block_mean: each LR cell's block of the output averages to the input value.
            "oceansr_constraint": job.module.constraint,
        }
    )
    for key, value in (("oceansr_sel", job.sel), ("oceansr_isel", job.isel)):
        if value:
            attrs[key] = json.dumps(value, default=str)
    return attrs


def _write(
    job: PredictJob, overwrite: bool, progress: ProgressFn | None
) -> tuple[xr.Dataset, list[str], str, FieldStream]:
    """Write the output while inferring it field by field (docs/architecture.md, predict).

    The Dataset's variables are dask arrays of one-field blocks (:class:`FieldStream`):
    the writer stores coordinates and attributes, then computes and stores one HR field
    at a time, so memory does not grow with the number or size of fields. The
    synchronous scheduler keeps one field in flight and the model on one thread.
    """
    sha = checkpoint_file.sha256(job.checkpoint)
    units = [str(u) for u in job.module.hparams.units]
    stream = FieldStream(job, progress)
    ds, notes = build_output_dataset(
        stream.array(),
        job.lr,
        job.scale,
        ckpt_units=units,
        ckpt_attrs=list(job.module.hparams.get("variable_attrs") or []),
        global_attrs=provenance_attrs(job, sha),
        method=f"x{job.scale} super-resolution by oceansr ({job.model}); land: {job.mask_source}",
    )
    with dask.config.set(scheduler="synchronous"):
        write_dataset(ds, job.output, job.fmt, overwrite=overwrite)
    return ds, notes, sha, stream


def unit_warnings(fields: LRFields, ckpt_units: Sequence[str]) -> list[str]:
    """Input variables whose units differ from the checkpoint's training units."""
    out = []
    for name, mine, theirs in zip(fields.variables, fields.units, ckpt_units, strict=False):
        if mine and theirs and mine.strip().lower() != str(theirs).strip().lower():
            out.append(
                f"variable {name!r} is in {mine!r} in the input but the checkpoint was "
                f"trained on {theirs!r}: convert the input if these differ"
            )
    return out


def predict(
    checkpoint: str | os.PathLike[str],
    input: str | os.PathLike[str] | xr.Dataset,
    output: str | os.PathLike[str],
    *,
    variables: Sequence[str] | None = None,
    hr_mask: str | os.PathLike[str] | None = None,
    hr_mask_variable: str | None = None,
    tile: int | None = PREDICT["tile"],
    overlap: int = PREDICT["overlap"],
    batch_size: int = PREDICT["batch_size"],
    sel: Mapping[str, Any] | None = None,
    isel: Mapping[str, Any] | None = None,
    decode_times: bool = PREDICT["decode_times"],
    lat_name: str | None = None,
    lon_name: str | None = None,
    device: str = PREDICT["device"],
    overwrite: bool = PREDICT["overwrite"],
    covariates: Mapping[str, str] | str | None = None,
    progress: ProgressFn | None = None,
    on_start: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Super-resolve the LR fields of ``input`` with ``checkpoint``; write ``output``.

    The keyword defaults are ``conf/predict.yaml``'s values (read once at import), so
    this function, ``python -m oceansr.predict`` and the control plane agree.

    Args:
        checkpoint: a checkpoint written by oceansr training (its normalisation is used).
        input: LR-only NetCDF file or Zarr store (or an ``xr.Dataset``).
        output: ``*.nc`` (NetCDF-4) or ``*.zarr``; refused if it exists unless
            ``overwrite``. Written to a temporary name first, so a failure leaves nothing.
        variables: input variables; default the checkpoint's. Must be the checkpoint's
            variables (any order; the model's channel order is used).
        hr_mask: file on the HR grid marking land (see :func:`~oceansr.predict.masks.
            load_hr_mask`); without it an HR cell is land when its parent LR cell is.
        hr_mask_variable: the mask variable to use in ``hr_mask``.
        tile, overlap, batch_size: see :func:`oceansr.inference.tiling.tiled_apply`
            (``tile=None``: whole field).
        sel, isel, decode_times, lat_name, lon_name: as for training data.
        device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``, ``"cuda:1"``...
        covariates: files of the checkpoint's file covariates when not the recorded
            ones: ``{<variable>: <path>}``, or one path for one file covariate.
        progress: ``progress(done_fields, total_fields, done_tiles, total_tiles)``.
        on_start: called once inputs are checked, before inference, with the facts
            recorded in ``predict_start`` (inputs, shapes, tiles).

    Returns:
        A JSON-friendly summary: output path and format, shapes, model, scale, device,
        seconds, fields/s, per-variable ocean min/max/mean, warnings.
    """
    t0 = time.perf_counter()
    tile, overlap, batch_size = check_tiling(tile, overlap, batch_size)
    ckpt = checkpoint_file.check_checkpoint_path(checkpoint)
    _check_inputs(input, hr_mask)
    out_path, fmt = check_output(output, overwrite, input)
    job = PredictJob(ckpt, input, out_path, fmt, tile, overlap, batch_size, sel=sel, isel=isel)
    _load(job, variables, device)
    reading = {"sel": sel, "isel": isel, "decode_times": decode_times}
    _read(job, {**reading, "lat_name": lat_name, "lon_name": lon_name}, hr_mask, hr_mask_variable)
    try:
        job.operator = check_input_operator(job)
        _covariates(job, covariates)
        info = start_info(job, hr_mask)
        if on_start is not None:
            on_start(info)
        ds, notes, sha, stream = _write(job, overwrite, progress)
    finally:
        job.lr.close()
    infer_s = stream.seconds
    names = job.variables or []
    return {
        "output_path": str(out_path),
        "format": fmt,
        "input_path": path_text(job.input) or job.lr.source,
        "checkpoint": str(ckpt.absolute()),
        "checkpoint_sha256": sha,
        **{key: info[key] for key in ("model", "scale", "device", "sample_dims", "n_fields")},
        "variables": names,
        "units": [str(ds[v].attrs.get("units", "")) for v in names],
        **{key: info[key] for key in ("lr_shape", "hr_shape", "grid", "periodic_lon", "tiles")},
        "mask": info["mask"],
        "degradation": info["degradation"],
        "constraint": job.module.constraint,
        "seconds": round(time.perf_counter() - t0, 3),
        "inference_seconds": round(infer_s, 3),
        "fields_per_s": round(job.lr.n_fields / infer_s, 3) if infer_s > 0 else None,
        "stats": stream.stats.result(),
        "warnings": unit_warnings(job.lr, list(job.module.hparams.units))
        + resolution_warnings(job.lr.lat, job.scale, job.module.hparams.get("hr_grid_step_deg"))
        + operator_warnings(info["degradation"])
        + notes,
    }
