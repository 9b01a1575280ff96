"""Experiment loggers (config group ``logger``: csv | tensorboard | mlflow).

The run directory stays the source of truth (docs/architecture.md, run directory):
:class:`~oceansr.engine.callbacks.csv_logger.RunCSVLogger` always writes ``metrics.csv`` and
is the trainer's first logger, so ``trainer.logger`` and everything that reads
``metrics.csv`` (status, report, plots) behave the same whichever extra logger is
chosen. ``tensorboard`` and ``mlflow`` add Lightning's own loggers beside it, writing
under the run directory by default. Their packages are optional extras; a missing one
is a ``config_error`` naming ``logger`` and the install command, raised before training
by :func:`oceansr.config.checks.check_config` (as is an unknown ``logger.name``).

The loggers are built here rather than by Hydra ``_target_`` instantiation: each needs
arguments only known at run time (the run directory, the run id, MLflow's default URI
inside the run directory), so a ``_target_`` would remove no branch, and it would let a
request's overrides name any importable callable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from oceansr.config.schema import LOGGERS

TENSORBOARD_DIR = "tensorboard"
MLFLOW_DIR = "mlruns"


def mlflow_uri(cfg: Mapping[str, Any], run_dir: Path) -> str:
    """The MLflow tracking URI: the configured one, else a file store in the run dir."""
    uri = cfg["tracking_uri"]
    return str(uri) if uri else (run_dir / MLFLOW_DIR).resolve().as_uri()


def allow_file_store(uri: str) -> None:
    """Let MLflow >= 3.7 write the run directory's file store.

    MLflow 3.x refuses ``file:`` tracking URIs ("filesystem tracking backend ... is in
    maintenance mode") unless ``MLFLOW_ALLOW_FILE_STORE=true``; the run directory is the
    source of truth (docs/architecture.md, run directory), so a self-contained file store
    inside it is what ``logger=mlflow`` promises. An explicit setting by the user wins.
    """
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")


def extra_loggers(cfg: Mapping[str, Any], run_dir: Path, run_id: str) -> list[Any]:
    """Lightning loggers to add after the run's CSV logger (none for ``logger=csv``).

    ``cfg`` is the run's checked ``logger`` group (values: ``conf/logger/*.yaml``).
    """
    name = cfg["name"]
    if name == "tensorboard":
        from lightning.pytorch.loggers import TensorBoardLogger

        return [TensorBoardLogger(save_dir=str(run_dir), name=TENSORBOARD_DIR, version="")]
    if name == "mlflow":
        from lightning.pytorch.loggers import MLFlowLogger

        allow_file_store(mlflow_uri(cfg, run_dir))
        return [
            MLFlowLogger(
                experiment_name=str(cfg["experiment_name"]),
                run_name=run_id,
                tracking_uri=mlflow_uri(cfg, run_dir),
            )
        ]
    return []


__all__ = ["LOGGERS", "extra_loggers", "mlflow_uri"]
