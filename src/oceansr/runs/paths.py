"""Where a run's files live.

:class:`RunPaths` is the only place that joins a run id to the file system, and it refuses
to exist with an invalid id, so every path derived from it stays inside the runs root.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .ids import validate_run_id

RUNS_ENV_VAR = "OCEANSR_RUNS"

RUN_JSON = "run.json"
CONFIG_YAML = "config.yaml"
STATUS_JSON = "status.json"
EVENTS_JSONL = "events.jsonl"
TRAIN_LOG = "train.log"
CHECKPOINTS_DIR = "checkpoints"
LAST_CKPT = f"{CHECKPOINTS_DIR}/last.ckpt"
BEST_CKPT = f"{CHECKPOINTS_DIR}/best.ckpt"
METRICS_CSV = "metrics.csv"
PLOTS_DIR = "plots"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
ERROR_TXT = "error.txt"
DATA_STATS_JSON = "data_stats.json"
PREDICTIONS_DIR = "predictions"
LOCK_FILE = ".lock"


def _absolute(path: str | os.PathLike[str]) -> Path:
    # absolute() rather than resolve(): keep the user's symlinked layout visible in replies.
    return Path(path).expanduser().absolute()


def default_runs_root() -> Path:
    """The runs root: ``$OCEANSR_RUNS`` if set and non-empty, else ``./runs``; always absolute.

    Absolute so that a path computed here stays valid after the caller or a spawned
    training process changes directory (Hydra does).
    """
    return _absolute(os.environ.get(RUNS_ENV_VAR) or "runs")


@dataclass(frozen=True)
class RunPaths:
    """The files of one run, ``<root>/<run_id>/...``; constructing it validates the id."""

    root: Path
    run_id: str

    def __post_init__(self) -> None:
        validate_run_id(self.run_id)
        object.__setattr__(self, "root", _absolute(self.root))

    @classmethod
    def for_id(cls, run_id: str, root: str | os.PathLike[str] | None = None) -> RunPaths:
        """Paths of ``run_id`` under ``root`` (default :func:`default_runs_root`)."""
        validate_run_id(run_id)
        return cls(default_runs_root() if root is None else Path(root), run_id)

    @classmethod
    def from_dir(cls, path: str | os.PathLike[str]) -> RunPaths:
        """Paths of the run whose directory is ``path``; its name must be a valid run id."""
        run_dir = _absolute(path)
        return cls(run_dir.parent, run_dir.name)

    def _file(self, relative: str) -> Path:
        return self.dir / relative

    @property
    def dir(self) -> Path:
        return self.root / self.run_id

    @property
    def run_json(self) -> Path:
        return self._file(RUN_JSON)

    @property
    def config_yaml(self) -> Path:
        return self._file(CONFIG_YAML)

    @property
    def status_json(self) -> Path:
        return self._file(STATUS_JSON)

    @property
    def events_jsonl(self) -> Path:
        return self._file(EVENTS_JSONL)

    @property
    def train_log(self) -> Path:
        return self._file(TRAIN_LOG)

    @property
    def checkpoints_dir(self) -> Path:
        return self._file(CHECKPOINTS_DIR)

    @property
    def last_ckpt(self) -> Path:
        return self._file(LAST_CKPT)

    @property
    def best_ckpt(self) -> Path:
        return self._file(BEST_CKPT)

    @property
    def metrics_csv(self) -> Path:
        return self._file(METRICS_CSV)

    @property
    def plots_dir(self) -> Path:
        return self._file(PLOTS_DIR)

    @property
    def report_md(self) -> Path:
        return self._file(REPORT_MD)

    @property
    def report_html(self) -> Path:
        return self._file(REPORT_HTML)

    @property
    def error_txt(self) -> Path:
        return self._file(ERROR_TXT)

    @property
    def predictions_dir(self) -> Path:
        return self._file(PREDICTIONS_DIR)

    @property
    def lock(self) -> Path:
        return self._file(LOCK_FILE)

    def exists(self) -> bool:
        """True if the run directory exists."""
        return self.dir.is_dir()
