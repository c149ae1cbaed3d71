"""Lightning's TQDM progress bar, for terminals only, with the epoch's running training loss.

- Not a terminal (a file, a pipe, CI, a SLURM log): no bar at all, so a log holds no redraws; the per-epoch lines
  (`trainlab.callbacks.epoch_line`) say how training goes.
- The loss is read only when the bar redraws (every `refresh_rate` batches): one host sync per redraw, none in
  the steps between. It shows the mean of the losses read so far this epoch.
- With the `loss_ewma` callback (`trainlab.diagnostics.ewma`), the bar also shows `loss_ewma`, the bias-corrected
  moving average of the step losses, read at the same redraws.
- While the bar is shown, log lines go through `tqdm.write`, so they print above the bar instead of into it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar
from tqdm.contrib.logging import logging_redirect_tqdm

from trainlab.console import is_terminal
from trainlab.diagnostics.ewma import LossEWMA


class LossProgressBar(TQDMProgressBar):
    """A TQDM bar in terminals, none elsewhere; shows `loss` (this epoch's running training loss)."""

    def __init__(self, refresh_rate: int = 10, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self._loss_sum = 0.0
        self._loss_reads = 0
        self._ewma: float | None = None
        self._redirect: contextlib.ExitStack | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if not is_terminal():
            self.disable()
        if self.is_enabled and self._redirect is None:
            self._redirect = contextlib.ExitStack()
            self._redirect.enter_context(logging_redirect_tqdm())

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        super().teardown(trainer, pl_module, stage)
        if self._redirect is not None:
            self._redirect.close()
            self._redirect = None

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_epoch_start(trainer, pl_module)
        self._loss_sum, self._loss_reads = 0.0, 0
        epochs = f"/{trainer.max_epochs}" if trainer.max_epochs and trainer.max_epochs > 0 else ""
        self.train_progress_bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)  # no stale loss
        self.train_progress_bar.set_description(f"epoch {trainer.current_epoch + 1}{epochs}")

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        n = batch_idx + 1
        if self.is_enabled and (n % self.refresh_rate == 0 or n == self.train_progress_bar.total):  # a redraw
            loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
            if loss is not None:
                self._loss_sum += float(loss)  # the one host sync per redraw
                self._loss_reads += 1
            self._ewma = loss_ewma(trainer)
        super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, int | str | float | dict]:
        """The metrics logged with `prog_bar=True`, the running loss, and no `v_num` (the run dir says which run)."""
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        if self._ewma is not None:
            metrics["loss_ewma"] = f"{self._ewma:.4f}"
        if self._loss_reads:
            metrics["loss"] = f"{self._loss_sum / self._loss_reads:.4f}"
        return metrics


def loss_ewma(trainer: L.Trainer) -> float | None:
    """The current smoothed loss of the run's LossEWMA callback (one host sync), or None without one."""
    ewma = next((c for c in trainer.callbacks if isinstance(c, LossEWMA)), None)
    return ewma.value() if ewma is not None else None


def console_flags(callbacks: list[Any], trainer_keys: Mapping[str, Any]) -> dict[str, bool]:
    """Trainer flags that keep the console in line with the callbacks group (unless the trainer config sets them).

    Lightning's own model summary stays off (the callbacks group has its own, `model_summary`); with no progress
    bar among the callbacks (`callbacks=none`), Lightning's default bar is shown in a terminal only.
    """
    flags = {"enable_model_summary": False}
    if not any(isinstance(c, ProgressBar) for c in callbacks):
        flags["enable_progress_bar"] = is_terminal()
    return {key: value for key, value in flags.items() if key not in trainer_keys}
