"""A CSV logger that appends: a resumed run adds its rows to `metrics.csv` instead of starting it over.

Lightning's CSVLogger deletes an existing `metrics.csv` when it opens its folder; here the earlier rows are kept
and the header grows if the resumed run logs new columns. A resumed run first drops the rows logged after its
checkpoint's step (`rewind_csv_loggers`): an earlier session that went on past that checkpoint would otherwise
leave the steps it logged twice in the file.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any

from lightning.fabric.loggers.csv_logs import _ExperimentWriter as _FabricWriter
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter
from lightning.pytorch.loggers.logger import Logger, rank_zero_experiment
from lightning.pytorch.utilities import rank_zero_only


class AppendingWriter(ExperimentWriter):
    def _check_log_dir_exists(self) -> None:
        """Keep an existing metrics.csv, and start from its columns so that old rows keep their values."""
        if self._fs.isfile(self.metrics_file_path):
            with self._fs.open(self.metrics_file_path, "r", newline="") as file:
                header = next(csv.reader(file), [])
            self.metrics_keys = sorted(set(header))

    def rewind(self, step: int) -> None:
        """Drop the rows logged at `step` or later, except the test rows logged at `step` (a test of the very
        checkpoint the run resumes from); rows still waiting in memory are written first."""
        self.save()
        if not self._fs.isfile(self.metrics_file_path):
            return
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            reader = csv.DictReader(file)
            header, rows = reader.fieldnames or [], list(reader)
        kept = [row for row in rows if keep_row(row, step)]
        if len(kept) == len(rows):
            return
        with self._fs.open(self.metrics_file_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=header)
            writer.writeheader()
            writer.writerows(kept)


def keep_row(row: dict[str, str], step: int) -> bool:
    """Whether a CSV row was logged before a checkpoint saved at optimizer step `step`."""
    try:
        logged_at = int(float(row.get("step") or 0))
    except ValueError:
        return True
    if logged_at != step:
        return logged_at < step
    logged = [key for key, value in row.items() if value not in (None, "") and key not in ("step", "epoch")]
    return bool(logged) and all(key.startswith("test/") for key in logged)


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


@rank_zero_only
def rewind_csv_loggers(loggers: Iterable[Logger], step: int) -> None:
    """Before a run resumes from a checkpoint saved at `step`: drop the later rows of its appending CSV logs."""
    for logger in loggers:
        if isinstance(logger, AppendingCSVLogger):
            logger.experiment.rewind(step)
