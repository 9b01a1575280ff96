"""Which training fields the normalisation statistics read, and how that is recorded.

A full pass over the training split costs time proportional to the archive (70-93 s
for 8.6 GB, hours at terabyte scale) before training can start. The mean, std and
PSNR data range of a few dozen fields are as good for normalisation, so the lazy path
reads a bounded, seeded sample by default (``data.stats``; docs/architecture.md, data):

- ``auto``: exact on the in-memory path (the fields are loaded anyway), sample on the
  lazy path; ``sample`` and ``exact`` force either on both paths;
- ``data.stats_fields`` fields (all when the split has fewer), drawn without
  replacement by ``numpy.random.default_rng(data.stats_seed)`` and sorted. The seed is
  deliberately not the run's ``seed``: a seed sweep normalises identically;
- ``data.stats_threads`` threads read the fields of the lazy pass.

The choice travels with the statistics as ``sampling`` (data_stats.json, the data
summary of ``training_start`` and config.yaml, the checkpoint's ``stats_sampling``), and
its identity is part of the statistics' cache key, so a changed choice is never served a
stale file. A stats pass reports ``progress(done, total)`` (fields read) through a plain
callable: the data layer knows no run directory (the trainer's implementation writes
``status.json``: :mod:`oceansr.engine.callbacks.preparing`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from oceansr.config.schema import DATA_STATS_MODES
from oceansr.core.errors import ConfigError

#: ``progress(done, total)``: fields read so far out of those the pass reads.
Progress = Callable[[int, int], None]

#: Defaults of conf/data/base.yaml, for callers that build a data config by hand
#: (notebooks, tests): the config files hold the values a run uses.
DEFAULTS: dict[str, Any] = {
    "stats": "auto",
    "stats_fields": 16,
    "stats_seed": 0,
    "stats_threads": 4,
}


def no_progress(done: int, total: int) -> None:
    """The progress of a pass nobody watches."""


@dataclass(frozen=True)
class StatsChoice:
    """How the statistics are computed: ``method`` sample or exact, with its sample size,
    seed and reading threads."""

    method: str
    fields: int
    seed: int
    threads: int

    def indices(self, total: int) -> list[int]:
        """The training fields read, in order: all for exact, else ``min(fields, total)``
        drawn without replacement by ``default_rng(seed)``, sorted."""
        if self.method == "exact" or self.fields >= total:
            return list(range(total))
        rng = np.random.default_rng(self.seed)
        return sorted(int(i) for i in rng.choice(total, size=self.fields, replace=False))

    def identity(self) -> dict[str, Any]:
        """What changes the statistics (the cache key's part): not the threads."""
        if self.method == "exact":
            return {"method": "exact"}
        return {"method": self.method, "fields": self.fields, "seed": self.seed}

    def record(self, read: int, total: int) -> dict[str, Any]:
        """The ``sampling`` entry of the statistics: method, fields read out of all, seed
        (None for exact: no field was drawn)."""
        return {
            "method": self.method,
            "fields_read": read,
            "fields_total": total,
            "seed": self.seed if self.method == "sample" else None,
        }


def checkpoint_record(hparams: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The ``sampling`` entry of statistics a checkpoint gave (mode=test, resume): no field
    was read; ``trained_with`` keeps how the statistics were first made when the checkpoint
    records it (through any number of resumes: a resumed run's record is not nested)."""
    recorded = (hparams or {}).get("stats_sampling")
    if isinstance(recorded, Mapping) and recorded.get("method") == "checkpoint":
        recorded = recorded.get("trained_with")
    return {
        "method": "checkpoint",
        "fields_read": 0,
        "fields_total": None,
        "seed": None,
        "trained_with": dict(recorded) if isinstance(recorded, Mapping) else None,
    }


def stats_choice(cfg: Mapping[str, Any], lazy: bool) -> StatsChoice:
    """``data.stats*`` checked and resolved for the lazy or the in-memory path; a bad value
    is a :class:`ConfigError` naming the field (also outside a composed request)."""
    mode = cfg.get("stats", DEFAULTS["stats"])
    if mode not in DATA_STATS_MODES:
        raise ConfigError(
            f"data.stats={mode!r} is not one of {', '.join(DATA_STATS_MODES)}",
            field="data.stats",
            fix="data.stats=auto (sample when lazy, exact in memory), data.stats=sample "
            "or data.stats=exact (a full pass over the training split)",
        )
    method = ("sample" if lazy else "exact") if mode == "auto" else str(mode)
    return StatsChoice(
        method=method,
        fields=_count(cfg, "stats_fields", 1, "16"),
        seed=_count(cfg, "stats_seed", 0, "0"),
        threads=_count(cfg, "stats_threads", 1, "4"),
    )


def _count(cfg: Mapping[str, Any], key: str, minimum: int, example: str) -> int:
    """``data.<key>`` as an integer of at least ``minimum``, else a classified error."""
    value = cfg.get(key, DEFAULTS[key])
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(
            f"data.{key} must be an integer >= {minimum}, got {value!r}",
            field=f"data.{key}",
            fix=f"data.{key}={example}",
        )
    return value
