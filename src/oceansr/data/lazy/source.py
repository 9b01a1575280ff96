"""Choosing between the in-memory and the lazy data path, the full plan of an ``xarray``
config (HR plan plus a given LR source), and the lazy path's summary.

Small data keep the eager path of :func:`oceansr.data.prepare.prepare_data` (fastest
per sample); data larger than :data:`MEMORY_BYTES` (or ``data.cache=lazy``) stay on
disk and are read patch by patch (docs/architecture.md, data). ``data.cache=memory``
forces the eager path. Only the ``xarray`` source can be lazy: the bundled sample,
synthetic fields and ``.npy`` folders are small by construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from oceansr.config.schema import DATA_CACHE_MODES as CACHE_MODES
from oceansr.core.errors import ConfigError
from oceansr.data.covariates import check_request
from oceansr.data.degrade import GIVEN, check_degradation
from oceansr.data.fields import cf_columns, data_warnings
from oceansr.data.lazy.given_lr import plan_given_lr
from oceansr.data.lazy.plan import DataPlan, build_hr_plan
from oceansr.data.lazy.stats import cached_stats, sample_check
from oceansr.data.shared_stats import StatsShare
from oceansr.data.stats_sampling import Progress, checkpoint_record, no_progress, stats_choice

#: Selected HR bytes (float32) above which ``data.cache=auto`` reads lazily.
MEMORY_BYTES = 1 << 30


def build_plan(cfg: Mapping[str, Any], scale: int) -> DataPlan:
    """Resolve an ``xarray`` data config from metadata: the HR plan, then the checked
    ``data.lr_path`` source aligned on it (None without one). Composed here, above both,
    so that :mod:`~oceansr.data.lazy.given_lr` depends on :mod:`~oceansr.data.lazy.plan`
    and not the other way round."""
    plan = build_hr_plan(cfg, scale)
    plan.given_lr = plan_given_lr(plan)
    return plan


def cache_mode(cfg: Mapping[str, Any]) -> str:
    """``data.cache`` checked: auto (by size), memory (eager) or lazy (from disk)."""
    mode = cfg.get("cache") or "auto"
    if mode not in CACHE_MODES:
        raise ConfigError(
            f"data.cache={mode!r} is not one of {', '.join(CACHE_MODES)}",
            field="data.cache",
            fix="data.cache=auto (by size), data.cache=memory or data.cache=lazy",
        )
    if mode == "lazy" and cfg.get("source") != "xarray":
        raise ConfigError(
            f"data.cache=lazy needs data.source=xarray, not {cfg.get('source')!r}",
            field="data.cache",
            fix="data.cache=auto or data.cache=memory for this source",
        )
    return str(mode)


def lazy_plan(cfg: Mapping[str, Any], scale: int) -> DataPlan | None:
    """The plan when this config should be read lazily, else None (in-memory path)."""
    mode = cache_mode(cfg)
    if mode == "memory" or cfg.get("source") != "xarray":
        return None
    plan = build_plan(cfg, scale)
    if mode == "auto" and plan.nbytes() <= MEMORY_BYTES:
        return None
    check_request(cfg.get("covariates"), lazy=True)
    return plan


class LazyData:
    """The lazy counterpart of ``PreparedData``: same attributes, statistics on demand.

    The statistics come from one streaming pass over the training fields that
    ``data.stats`` picks (a seeded sample by default) the first time they are asked
    for, made by global rank 0 only (``rank``, reporting to ``progress``), or from the
    run directory's cache (``stats_cache``, also the other ranks' hand-over), or are
    ``given`` (a checkpoint's, in mode=test and on resume: the model was trained with
    them, so no pass over the data is needed; docs/architecture.md, data).
    """

    def __init__(
        self,
        plan: DataPlan,
        stats_cache: Path | None = None,
        given: Mapping[str, Any] | None = None,
        rank: int = 0,
        progress: Progress = no_progress,
    ) -> None:
        self.plan = plan
        self.share = StatsShare(stats_cache, rank)
        self.choice = stats_choice(plan.cfg, lazy=True)
        self.progress = progress
        self._stats: dict[str, Any] | None = None
        if given is not None:  # a checkpoint's: nothing read
            self._stats = {"sampling": checkpoint_record(), **given}
        self.variables = list(plan.variables)
        self.units = list(plan.units)
        self.attrs = [dict(a) for a in plan.attrs]
        self.scale = plan.scale
        self.lat: np.ndarray | None = plan.lat
        self.lon: np.ndarray | None = plan.lon
        self.source = plan.source
        self.notes = list(plan.notes)
        #: The LR operator, or ``"given"`` with ``data.lr_path`` (as PreparedData's).
        self.degradation = (
            GIVEN if plan.given_lr is not None else check_degradation(plan.cfg.get("degradation"))
        )

    @property
    def channels(self) -> int:
        return len(self.variables)

    @property
    def stats(self) -> dict[str, Any]:
        if self._stats is None:
            self._stats = cached_stats(self.plan, self.share, self.choice, self.progress)
        return self._stats

    @property
    def mean(self) -> list[float]:
        return self.stats["mean"]

    @property
    def std(self) -> list[float]:
        return self.stats["std"]

    @property
    def data_range(self) -> list[float]:
        return self.stats["data_range"]

    @property
    def stats_sampling(self) -> dict[str, Any] | None:
        """How the statistics were made (``data.stats``; a checkpoint's: method checkpoint)."""
        return self.stats.get("sampling")

    def summary(self, with_stats: bool = True) -> dict[str, Any]:
        """Same keys as ``PreparedData.summary``; statistics None when not computed."""
        stats = self.stats if with_stats else None
        return {
            "source": self.source,
            "variables": self.variables,
            "units": self.units,
            **cf_columns(self.attrs, len(self.variables)),
            "scale": self.scale,
            "degradation": self.degradation,
            "hr_shape": list(self.plan.hr_shape),
            "lr_shape": list(self.plan.lr_shape),
            "samples": {name: len(split) for name, split in self.plan.splits.items()},
            "ocean_fraction": _first(stats.get("ocean_fraction")) if stats else None,
            "mean": stats["mean"] if stats else None,
            "std": stats["std"] if stats else None,
            "data_range": stats["data_range"] if stats else None,
            "stats_sampling": stats.get("sampling") if stats else None,
            "notes": self.notes,
            "warnings": self.warnings((stats or {}).get("constant") or []),
            "lazy": True,
        }

    def warnings(self, constant: list[int], where: str = "the training split") -> list[str]:
        """:func:`oceansr.data.fields.data_warnings` for this plan (``constant``: the
        channels with no variation over ``where``)."""
        return data_warnings(
            self.variables,
            has_coordinates=self.lat is not None or self.lon is not None,
            constant=constant,
            where=where,
        )


def _first(values: list[float] | None) -> float | None:
    """The training split's ocean fraction; None when the statistics came from a
    checkpoint (which does not record it)."""
    return values[0] if values else None


def validate_metadata(cfg: Mapping[str, Any], scale: int) -> dict[str, Any] | None:
    """Controller-side check of an ``xarray`` source from metadata and a bounded sample.

    Returns the data summary (statistics None: the trainer computes them), or None for
    the other sources, which are small and checked by preparing them.
    """
    mode = cache_mode(cfg)
    if cfg.get("source") != "xarray":
        return None
    plan = build_plan(cfg, scale)
    sampled = sample_check(plan)
    data = LazyData(plan)
    summary = data.summary(with_stats=False)
    summary["lazy"] = mode == "lazy" or (mode == "auto" and plan.nbytes() > MEMORY_BYTES)
    check_request(cfg.get("covariates"), lazy=summary["lazy"])
    summary["ocean_fraction_sampled"] = sampled.ocean_fraction
    summary["warnings"] = data.warnings(sampled.constant, "the training fields checked")
    return summary
