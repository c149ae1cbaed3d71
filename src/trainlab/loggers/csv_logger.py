"""A CSV logger that appends: a resumed run adds its rows to `metrics.csv` instead of starting it over.

Lightning's CSVLogger deletes an existing `metrics.csv` when it opens its folder; here the earlier rows are kept
and the header grows if the resumed run logs new columns.
"""

from __future__ import annotations

import csv
from typing import Any

from lightning.fabric.loggers.csv_logs import _ExperimentWriter as _FabricWriter
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import rank_zero_experiment


class AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        """Keep an existing metrics.csv, and start from its columns so that old rows keep their values."""
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                header = next(csv.reader(file), [])
            self.metrics_keys = sorted(set(header))


# Private Lightning API (tested with lightning 2.6.6): the writer's `_check_log_dir_exists` (overridden above) and
# the logger's `_experiment`/`_fs` (used below as CSVLogger.experiment itself does). Fail loudly if they move.
assert hasattr(_FabricWriter, "_check_log_dir_exists"), "Lightning's CSV writer changed: revisit AppendingWriter"


class AppendingCSVLogger(CSVLogger):
    """Lightning's CSVLogger, but `metrics.csv` is appended to (see the module docstring)."""

    @property
    @rank_zero_experiment
    def experiment(self) -> Any:
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = AppendingWriter(log_dir=self.log_dir)
        return self._experiment
