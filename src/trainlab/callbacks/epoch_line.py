"""One line per epoch with its metrics and duration, Keras's `verbose=2` habit:

    epoch 3/8  train/loss 0.0712  train/acc 0.9781  val/loss 0.0801  val/acc 0.9760  2.1s

Printed through logging, so it lands on the console (above the progress bar in a terminal) and in the run's
`<task>.log`. The metrics of an epoch are complete only after the LightningModule's `on_train_epoch_end` (which
runs after every callback's), so the line is printed when the next epoch starts, or when training ends.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import lightning as L

from trainlab.callbacks.lean import LeanCallback
from trainlab.outputs import number

log = logging.getLogger(__name__)

DEFAULT_KEYS = ("train/loss", "train/acc", "val/loss", "val/acc")


class EpochLine(LeanCallback):
    """Log `keys` (those this epoch produced) and the epoch's wall time once per training epoch."""

    def __init__(self, keys: Sequence[str] = DEFAULT_KEYS) -> None:
        self.keys = list(keys)
        self._start: float | None = None
        self._ended: int | None = None  # the epoch that ended and whose line is not printed yet
        self._validated = False

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # A run resumed mid-epoch skips on_train_epoch_start for that epoch: time it from here.
        self._start = time.perf_counter()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.flush(trainer)
        self._start = time.perf_counter()
        self._validated = False

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._validated = True

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._ended = trainer.current_epoch

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.flush(trainer)

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        self.flush(trainer)

    def flush(self, trainer: L.Trainer) -> None:
        """Print the line of the epoch that ended, if any (rank zero only)."""
        if self._ended is None:
            return
        epoch, self._ended = self._ended, None
        seconds = time.perf_counter() - self._start if self._start is not None else None
        if trainer.is_global_zero:
            log.info(self.line(epoch, trainer.max_epochs, trainer.callback_metrics, seconds))

    def line(self, epoch: int, max_epochs: int | None, metrics: dict[str, Any], seconds: float | None) -> str:
        """`epoch 3/8  train/loss 0.0712 …  2.1s` (epoch is 0-based; validation keys only if it ran this epoch)."""
        parts = [f"epoch {epoch + 1}/{max_epochs}" if max_epochs and max_epochs > 0 else f"epoch {epoch + 1}"]
        for key in self.keys:
            if key in metrics and (self._validated or not key.startswith("val/")):
                parts.append(f"{key} {number(float(metrics[key]))}")
        if seconds is not None:
            parts.append(f"{seconds:.1f}s")
        return "  ".join(parts)
