"""CSV metrics logger that appends to the run's ``metrics.csv`` across attempts.

Lightning's CSVLogger deletes an existing ``metrics.csv`` when its directory is not
empty. A run directory is never empty (run.json, status.json...) and a resumed run
must keep the epochs of its earlier attempts, so this writer keeps the file and
its header instead.
"""

from __future__ import annotations

import csv
import os

from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class AppendingExperimentWriter(ExperimentWriter):
    """Same output format; existing rows and columns are kept."""

    def _check_log_dir_exists(self) -> None:
        if os.path.isfile(self.metrics_file_path):
            with open(self.metrics_file_path, newline="") as fh:
                header = next(csv.reader(fh), [])
            self.metrics_keys = sorted(set(header))


class RunCSVLogger(CSVLogger):
    """``CSVLogger(save_dir=run_dir, name="", version="")`` that appends."""

    @property
    def experiment(self) -> AppendingExperimentWriter:
        if not isinstance(self._experiment, AppendingExperimentWriter):
            os.makedirs(self.root_dir, exist_ok=True)
            self._experiment = AppendingExperimentWriter(log_dir=self.log_dir)
        return self._experiment
