"""Learning curves: the per-epoch history of a run, `curves.png` redrawn each epoch, and the bias/variance verdict
at the end of fit (from the train and val errors of `fit_errors.measure`: the tested weights in eval mode).

An epoch's metrics are complete only after the LightningModule's `on_train_epoch_end` (which runs after every
callback's), so an epoch's row is taken when the next epoch starts, or when training ends (as
`trainlab.callbacks.epoch_line` does). The history goes to metrics.json as `history`, one row per epoch:
`{"epoch": 1, "train/loss": …, "train/acc": …, "val/loss": …, "val/acc": …, "train/lr": …}` (plus
`train/grad_norm` and `train/update_ratio` when the gradient monitor records them). The history is kept in
checkpoints (`state_dict`), so a run resumed from one (`resume=true`, `ckpt_path=…`) goes on from its epochs.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger

from trainlab.diagnostics import plots
from trainlab.diagnostics.fit_errors import FitErrors, measure
from trainlab.diagnostics.fit_record import FitRecord
from trainlab.diagnostics.verdict import Diagnosis, diagnose

log = logging.getLogger(__name__)

KEYS = ("train/loss", "train/acc", "val/loss", "val/acc", "train/lr", "train/grad_norm", "train/update_ratio")


class LearningCurves(FitRecord):
    """Keep the history, draw `<run dir>/curves.png` each epoch (`enabled=false`: neither) and diagnose bias and
    variance at the end of fit (`verdict=false`: no verdict) from the train and val errors of the tested weights."""

    def __init__(
        self,
        enabled: bool = True,
        verdict: bool = True,
        reference_error: float = 0.0,
        bias_threshold: float = 0.02,
        variance_threshold: float = 0.02,
        filename: str = "curves.png",
    ) -> None:
        self.enabled, self.verdict = enabled, verdict
        self.thresholds = {
            "reference_error": reference_error,
            "bias_threshold": bias_threshold,
            "variance_threshold": variance_threshold,
        }
        self.filename = filename
        self.history: list[dict[str, float]] = []
        self.diagnosis: Diagnosis | None = None
        self.errors: FitErrors | None = None
        self._ended: int | None = None  # the epoch that ended and whose row is not taken yet
        self._validated = False
        self._trainer: L.Trainer | None = None  # for `state_dict`, which Lightning calls without it

    # -- collecting ----------------------------------------------------------------------------------------------

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        self._trainer = trainer

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.flush(trainer)
        self._validated = False

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validated = True

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._ended = trainer.current_epoch

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.flush(trainer)
        if self.enabled and self.verdict and trainer.is_global_zero:
            self.diagnosis = self.diagnose(trainer, pl_module)
            if self.diagnosis is not None:
                log.info(self.diagnosis.line())

    def flush(self, trainer: L.Trainer) -> None:
        """Take the row of the epoch that ended, if any, and redraw the curves."""
        if self._ended is None or not self.enabled:
            return
        epoch, self._ended = self._ended, None
        self.history = with_row(self.history, self.row(trainer, epoch))
        if trainer.is_global_zero:
            self.draw(trainer)

    def row(self, trainer: L.Trainer, epoch: int) -> dict[str, float]:
        """The history row of `epoch` (0-based), from the metrics logged in it."""
        metrics = trainer.callback_metrics
        row: dict[str, float] = {"epoch": epoch + 1}
        for key in KEYS:
            if key in metrics and (self._validated or not key.startswith("val/")):
                value = float(metrics[key])
                row[key] = value if math.isfinite(value) else None
        return row

    # -- checkpointing: a resumed run's history goes on from the checkpoint's epochs -------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The history in the checkpoint. A checkpoint saved as an epoch ends (ModelCheckpoint runs after this
        callback's and the module's on_train_epoch_end) comes before that epoch's row is taken: it is added here."""
        history = self.history
        if self._ended is not None and self._trainer is not None and self.enabled:
            history = with_row(history, self.row(self._trainer, self._ended))
        return {"history": [dict(row) for row in history]}

    def restore(self, state_dict: dict[str, Any]) -> None:
        self.history = [dict(row) for row in state_dict.get("history", [])]

    # -- results -------------------------------------------------------------------------------------------------

    def best_row(self) -> dict[str, float] | None:
        """The epoch with the highest val/acc (the checkpoint that is tested), or None without validation."""
        rows = [row for row in self.history if row.get("val/acc") is not None and row.get("train/acc") is not None]
        return max(rows, key=lambda row: row["val/acc"]) if rows else None

    def diagnose(self, trainer: L.Trainer, pl_module: L.LightningModule) -> Diagnosis | None:
        self.errors = measure(trainer, pl_module)
        if self.errors is None:
            return None
        errors = self.errors
        return diagnose(errors.train_error, errors.val_error, measure=errors.measure, **self.thresholds)

    def results(self) -> dict[str, Any]:
        """What metrics.json records: `history`, and the verdict with the numbers it used."""
        if not self.enabled:
            return {}
        out: dict[str, Any] = {"history": self.history}
        if self.diagnosis is not None and self.errors is not None:
            out.update(self.diagnosis.metrics())
            out.update(self.errors.metrics())
        return out

    # -- drawing -------------------------------------------------------------------------------------------------

    def draw(self, trainer: L.Trainer) -> None:
        """Redraw curves.png (in the drawing process); TensorBoard and W&B take the picture too, once it is drawn."""
        best = self.best_row()
        path = Path(trainer.default_root_dir) / self.filename
        plots.write(path, plots.learning_curves, [dict(row) for row in self.history], best["epoch"] if best else None)
        if any(isinstance(lg, (TensorBoardLogger, WandbLogger)) for lg in trainer.loggers):
            plots.wait()
            log_image(trainer, "diagnostics/curves", path)


def with_row(history: list[dict[str, float]], row: dict[str, float]) -> list[dict[str, float]]:
    """`history` up to the row's epoch, then the row (an epoch redone after a resume replaces the later rows)."""
    return [r for r in history if r["epoch"] < row["epoch"]] + [row]


def log_image(trainer: L.Trainer, tag: str, path: Path) -> None:
    """Send a PNG to the run's TensorBoard and W&B loggers (none: nothing to do; no PNG: nothing to send)."""
    if not path.is_file():
        return
    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            import numpy as np
            from PIL import Image

            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"))
            logger.experiment.add_image(tag, pixels, trainer.global_step, dataformats="HWC")
        elif isinstance(logger, WandbLogger):
            logger.log_image(key=tag, images=[str(path)])
