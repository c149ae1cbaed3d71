"""The Lightning callback of a job in an Optuna sweep: report the optimized metric each validation, stop when
pruned. A pruned job leaves `metrics.json` with `"status": "pruned"` and the epoch it stopped at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import optuna

from trainlab.callbacks.lean import LeanCallback
from trainlab.outputs import plain_metrics, write_metrics
from trainlab.sweeps.trial import should_stop


class ReportToTrial(LeanCallback):
    """After each validation (not the sanity check): `trial.report(<metric>, epoch)`; raise `optuna.TrialPruned`
    when the pruner says so. In DDP, rank 0 decides and the others follow."""

    def __init__(self, trial: optuna.Trial, metric: str, metrics_path: Path) -> None:
        self.trial = trial
        self.metric = metric
        self.metrics_path = metrics_path

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        value = trainer.callback_metrics.get(self.metric)
        prune = False
        if trainer.is_global_zero and value is not None:
            prune = should_stop(self.trial, float(value), trainer.current_epoch)
        if trainer.world_size > 1:
            prune = trainer.strategy.broadcast(prune, src=0)
        if prune:
            epoch = trainer.current_epoch
            raise optuna.TrialPruned(
                f"trial {self.trial.number} pruned after epoch {epoch}: {self.metric}={float(value):.4f}"
            )

    def on_exception(self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException) -> None:
        if isinstance(exception, optuna.TrialPruned) and trainer.is_global_zero:
            metrics: dict[str, Any] = plain_metrics(trainer.callback_metrics)
            metrics.update(epochs=trainer.current_epoch + 1, status="pruned", pruned_after_epoch=trainer.current_epoch)
            write_metrics(self.metrics_path, metrics)
