"""Turn a `data` config into validated, model-ready arrays.

This is the one place where a data config is checked and resolved, so that the
training entry point and the control plane (which validates *before* spawning a
training process) give the same classified errors for the same bad input.

Pipeline: source (sample / xarray / npy / synthetic, by name in
:mod:`oceansr.data.sources`) → crop the HR grid to a multiple of the scale (or refuse,
per ``crop_to_scale``) → LR by the ``data.degradation`` operator
(:mod:`oceansr.data.degrade`; NaN-aware block mean by default) unless the source gives
LR → check HR/LR shapes → land of the LR input filled with the
nearest ocean value (the network and the bicubic baseline both see a smooth field,
not a NaN or a step at the coast) → normalisation statistics and PSNR data range
from the ocean cells of the *training* split only, computed by global rank 0 alone
and handed to the other ranks through the run directory
(:mod:`oceansr.data.shared_stats`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from omegaconf import DictConfig, ListConfig, OmegaConf

from oceansr.core.errors import ConfigError, DataInvalidError, ShapeMismatchError
from oceansr.data import covariates as cov
from oceansr.data.degrade import GIVEN, check_degradation, degrade, refuse_with_given_lr
from oceansr.data.fields import (
    FieldData,
    FieldSplit,
    cf_columns,
    constant_channels,
    data_warnings,
    spans_globe,
)
from oceansr.data.shared_stats import StatsShare, shared_stats
from oceansr.data.sources import source_loader
from oceansr.data.stats_sampling import (
    Progress,
    StatsChoice,
    checkpoint_record,
    no_progress,
    stats_choice,
)
from oceansr.data.transforms import (
    crop_coord,
    crop_shape,
    crop_to_multiple,
    fill_land_nearest,
    ocean_stats,
)
from oceansr.runs.protocol import SPLITS

log = logging.getLogger(__name__)

#: Data keys that decide how samples are drawn, batched, cached or evaluated, or where
#: the LR input comes from: none of them changes the HR training fields, so none is in
#: the statistics' fingerprint (:func:`memory_stats_key`).
NOT_IN_STATS: frozenset[str] = frozenset(
    {
        "patch_size",
        "min_ocean_fraction",
        "patches_per_field",
        "batch_size",
        "eval_batch_size",
        "num_workers",
        "patches_per_read",
        "eval_workers",
        "val_fields",
        "cache",
        "chunks",
        "lr_path",
        "eval_tile",
        "eval_memory_mb",
        "degradation",  # changes the LR only; statistics are the HR's
        "covariates",  # extra inputs, with their own statistics (data/covariates.py)
        # The statistics choice is in the key as resolved (StatsChoice.identity), and
        # the threads never change the result.
        "stats",
        "stats_fields",
        "stats_seed",
        "stats_threads",
    }
)


@dataclass
class SplitArrays:
    """One split, ready for a Dataset: physical units, HR with NaN land, LR filled."""

    hr: np.ndarray  # (N, C, H, W) float32, NaN = land
    lr: np.ndarray  # (N, C, h, w) float32, land filled with nearest ocean value
    lr_mask: np.ndarray  # (N, C, h, w) bool, True = ocean in the LR field
    labels: list[str]
    #: (N, K, h, w) float32 raw covariates (data.covariates), None without any.
    cov: np.ndarray | None = None

    def model_input(self, indices: Any = slice(None)) -> np.ndarray:
        """The LR fields the model takes: the variables, then the covariates."""
        if self.cov is None:
            return self.lr[indices]
        return np.concatenate([self.lr[indices], self.cov[indices]], axis=1)

    def __len__(self) -> int:
        return self.hr.shape[0]


@dataclass
class PreparedData:
    """All three splits plus what the model needs to know about them."""

    splits: dict[str, SplitArrays]
    variables: list[str]
    units: list[str]
    scale: int
    mean: list[float]
    std: list[float]
    data_range: list[float]
    lat: np.ndarray | None
    lon: np.ndarray | None
    source: str
    notes: list[str] = field(default_factory=list)
    #: The LR operator (``data.degradation``), or ``"given"`` when the source gave LR.
    degradation: str = "nanmean"
    #: What is odd but trains (no coordinates, constant fields): fields.data_warnings.
    warnings: list[str] = field(default_factory=list)
    #: CF long_name / standard_name / units per channel (fields.cf_attrs).
    attrs: list[dict[str, str]] = field(default_factory=list)
    #: data.covariates with their statistics, as the checkpoint records them
    #: (:func:`oceansr.data.covariates.record`); empty without covariates.
    covariates: list[dict[str, Any]] = field(default_factory=list)
    #: How the statistics were made (data.stats): method, fields read out of all, seed.
    stats_sampling: dict[str, Any] | None = None

    @property
    def channels(self) -> int:
        return len(self.variables)

    def summary(self) -> dict[str, Any]:
        """JSON-friendly description (stored in config.yaml and the training_start event)."""
        train = self.splits["train"]
        return {
            "source": self.source,
            "variables": self.variables,
            "units": self.units,
            **cf_columns(self.attrs, len(self.variables)),
            "scale": self.scale,
            "degradation": self.degradation,
            "hr_shape": list(train.hr.shape[-2:]),
            "lr_shape": list(train.lr.shape[-2:]),
            "samples": {name: len(split) for name, split in self.splits.items()},
            "ocean_fraction": float(np.isfinite(train.hr).mean()),
            "mean": self.mean,
            "std": self.std,
            "data_range": self.data_range,
            "stats_sampling": self.stats_sampling,
            **({"covariates": self.covariates} if self.covariates else {}),
            "notes": self.notes,
            "warnings": self.warnings,
        }


def _as_plain(value: Any) -> Any:
    """OmegaConf containers → plain Python, so sources never see DictConfig."""
    if isinstance(value, DictConfig | ListConfig):
        return OmegaConf.to_container(value, resolve=True)
    return value


def load_field_data(cfg: Mapping[str, Any]) -> FieldData:
    """Read the configured source into HR (and maybe LR) arrays per split, through the
    registry of sources (:mod:`oceansr.data.sources`), which names ``data.source`` when
    the source is unknown."""
    cfg = _as_plain(cfg)
    return source_loader(cfg.get("source"))(cfg)


def _validate_scale(cfg: Mapping[str, Any]) -> int:
    scale = cfg.get("scale")
    if not isinstance(scale, int) or isinstance(scale, bool) or scale < 2:
        raise ConfigError(
            f"data.scale must be an integer >= 2, got {scale!r}",
            field="data.scale",
            fix="data.scale=4 (also 2, 3 or 8)",
        )
    return scale


def _crop_split(split: FieldSplit, scale: int, allow_crop: bool, notes: list[str]) -> np.ndarray:
    height, width = split.hr.shape[-2:]
    crop_shape(height, width, scale, allow_crop, notes)
    return crop_to_multiple(split.hr, scale)


def _lr_for_split(
    name: str, split: FieldSplit, hr: np.ndarray, scale: int, degradation: str
) -> np.ndarray:
    """The split's LR: made from ``hr`` by the ``degradation`` operator (``area_mean``
    reads the cropped latitude), or the source's own, checked against the HR shape."""
    if split.lr is None:
        lat = crop_coord(split.lat, hr.shape[-2:], axis="lat")
        return degrade(hr, scale, degradation, lat=lat)
    refuse_with_given_lr(degradation, "the source gives LR fields")
    expected = (hr.shape[-2] // scale, hr.shape[-1] // scale)
    if split.lr.shape[:2] != hr.shape[:2] or split.lr.shape[-2:] != expected:
        raise ShapeMismatchError(
            f"{name} split: LR shape {tuple(split.lr.shape)} does not match HR "
            f"{tuple(hr.shape)} at scale {scale} (expected LR {expected})",
            field="data.scale",
            fix=f"set data.scale to the HR/LR ratio of your files "
            f"(HR {hr.shape[-2]}x{hr.shape[-1]}, LR {split.lr.shape[-2]}x{split.lr.shape[-1]})",
        )
    return split.lr.astype(np.float32, copy=False)


def _given_lr(cfg: Mapping[str, Any], scale: int) -> Any:
    """The checked ``data.lr_path`` source of an ``xarray`` config, or None.

    Read through the same reader as the lazy path (:mod:`oceansr.data.lazy.given_lr`), so
    both paths see the same LR fields.
    """
    if not cfg.get("lr_path"):
        return None
    if cfg.get("source") != "xarray":
        raise ConfigError(
            f"data.lr_path is read by data.source=xarray only, not {cfg.get('source')!r}",
            field="data.lr_path",
            fix="drop data.lr_path, or use data=xarray (npy folders carry their own lr/)",
        )
    from oceansr.data.lazy.source import build_plan

    return build_plan(cfg, scale).given_lr


def given_shape(hr: np.ndarray, scale: int) -> tuple[int, int]:
    return hr.shape[-2] // scale, hr.shape[-1] // scale


def _check_not_empty(name: str, split: FieldSplit) -> None:
    if split.hr.shape[0] == 0:
        raise DataInvalidError(
            f"the {name} split is empty",
            field=f"data.split.{name}",
            fix=f"select at least one sample for {name} (e.g. data.split.{name}=...)",
        )


def prepare_data(
    cfg: Mapping[str, Any],
    share: StatsShare | None = None,
    stats: Mapping[str, Any] | None = None,
    progress: Progress = no_progress,
) -> PreparedData:
    """Load, check and resolve a data config; raise a classified error on bad input.

    The normalisation statistics are ``stats`` when given (a checkpoint's: nothing is
    computed), else shared through ``share`` (global rank 0 computes them, the other
    ranks read its file), else computed here, from the training fields ``data.stats``
    picks (all of them by default: :mod:`oceansr.data.stats_sampling`), reporting to
    ``progress``.
    """
    cfg = _as_plain(cfg)
    scale = _validate_scale(cfg)
    choice = stats_choice(cfg, lazy=False)
    degradation = check_degradation(cfg.get("degradation"))
    fields = load_field_data(cfg)
    given = _given_lr(cfg, scale)
    notes: list[str] = []
    splits: dict[str, SplitArrays] = {}
    for name in SPLITS:
        split: FieldSplit = getattr(fields, name)
        _check_not_empty(name, split)
        if not np.issubdtype(split.hr.dtype, np.floating):
            raise DataInvalidError(
                f"{name} HR data have dtype {split.hr.dtype}",
                field="data.variables",
                fix="store the variables as floating point with NaN for land",
            )
        hr = _crop_split(split, scale, bool(cfg.get("crop_to_scale", True)), notes)
        if given is not None:
            split = replace(split, lr=given.read_split(name, given_shape(hr, scale)))
        if split.lr is None and min(hr.shape[-2:]) < scale:
            raise DataInvalidError(
                f"HR grid {hr.shape[-2]}x{hr.shape[-1]} is smaller than the scale {scale}",
                field="data.scale",
                fix="use a smaller data.scale",
            )
        lr = _lr_for_split(name, split, hr, scale, degradation)
        made_by = GIVEN if split.lr is not None else degradation
        lr_mask = np.isfinite(lr)
        # Land next to the seam of a globe is filled from across it, as in evaluation.
        periodic = spans_globe(crop_coord(split.lon, hr.shape[-2:], axis="lon"))
        splits[name] = SplitArrays(
            hr=np.ascontiguousarray(hr, dtype=np.float32),
            lr=fill_land_nearest(lr, periodic).astype(np.float32, copy=False),
            lr_mask=lr_mask,
            labels=list(split.labels),
        )
    lat = crop_coord(fields.train.lat, splits["train"].hr.shape[-2:], axis="lat")
    lon = crop_coord(fields.train.lon, splits["train"].hr.shape[-2:], axis="lon")
    recorded = add_covariates(cfg.get("covariates"), splits, lat, lon, scale)
    if stats is None:
        train_hr = splits["train"].hr
        stats = shared_stats(
            share or StatsShare(),
            memory_stats_key(cfg, choice),
            lambda: chosen_stats(train_hr, choice, progress),
        )
    else:  # a checkpoint's: nothing read
        stats = {"sampling": checkpoint_record(), **stats}
    warnings = data_warnings(
        list(fields.train.variables),
        has_coordinates=fields.train.lat is not None or fields.train.lon is not None,
        constant=list(stats.get("constant") or []),  # unknown for a checkpoint's statistics
    )
    return PreparedData(
        splits=splits,
        variables=list(fields.train.variables),
        units=list(fields.train.units),
        scale=scale,
        mean=[float(v) for v in stats["mean"]],
        std=[float(v) for v in stats["std"]],
        data_range=[float(v) for v in stats["data_range"]],
        lat=lat,
        lon=lon,
        source=fields.source,
        notes=notes,
        warnings=warnings,
        attrs=fields.attrs,
        degradation=made_by,
        covariates=recorded,
        stats_sampling=stats.get("sampling"),
    )


def add_covariates(
    items: Any,
    splits: dict[str, SplitArrays],
    lat: np.ndarray | None,
    lon: np.ndarray | None,
    scale: int,
) -> list[dict[str, Any]]:
    """Build ``data.covariates`` for every split (raw, from each LR field before its land
    is filled) and return them as recorded, with statistics of the training split."""
    specs = cov.parse_covariates(items)
    if not specs:
        return []
    grid = cov.CovariateGrid.from_hr(lat, lon, scale)
    specs = cov.resolve(specs, grid, "data.covariates")
    builder = cov.CovariateBuilder(specs, grid)
    built = {}
    for name, split in splits.items():
        built[name] = split.cov = builder.build(np.where(split.lr_mask, split.lr, np.nan))
    mean, std = cov.covariate_stats(built["train"])
    return cov.record(specs, mean, std)


def split_stats(hr: np.ndarray) -> dict[str, Any]:
    """Mean, std and PSNR data range of a split's ocean cells, in the shape of the lazy
    path's :func:`~oceansr.data.lazy.stats.streaming_stats` (so one file format)."""
    mean, std, vmin, vmax = ocean_stats(hr)
    return {
        "constant": constant_channels(std),  # warned; their std 0 becomes 1.0
        "mean": [float(v) for v in mean],
        "std": [float(v) if v > 0 else 1.0 for v in std],  # no division by zero
        "data_range": [float(v) for v in np.maximum(vmax - vmin, 1e-6)],
        "ocean_fraction": [float(np.isfinite(hr).mean())],
    }


def chosen_stats(hr: np.ndarray, choice: StatsChoice, progress: Progress) -> dict[str, Any]:
    """:func:`split_stats` of the training fields ``choice`` picks, with its ``sampling``
    record; the fields are in memory already, so progress is the pass's start and end."""
    indices = choice.indices(hr.shape[0])
    progress(0, len(indices))
    picked = hr if len(indices) == hr.shape[0] else hr[indices]
    stats = split_stats(picked)
    progress(len(indices), len(indices))
    return {**stats, "sampling": choice.record(len(indices), hr.shape[0])}


def memory_stats_key(cfg: Mapping[str, Any], choice: StatsChoice | None = None) -> str:
    """Fingerprint of what in-memory statistics depend on: the data config less the keys
    that do not change the training fields (a new key counts, to be safe: it only costs
    one recomputation), plus the statistics choice as resolved."""
    plain = _as_plain(cfg)
    payload = {k: v for k, v in plain.items() if k not in NOT_IN_STATS}
    payload["stats_choice"] = (choice or stats_choice(plain, lazy=False)).identity()
    text = json.dumps({"path_kind": "memory", **payload}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
