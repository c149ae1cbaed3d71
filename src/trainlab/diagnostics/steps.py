"""Steps bookkeeping, as the notes define it: s = n·e/b optimizer steps for n examples, e epochs, batches of b."""

from __future__ import annotations

import logging
import math

import lightning as L

from trainlab.callbacks.lean import LeanCallback

log = logging.getLogger(__name__)


def steps_line(n: int | None, batch_size: int | None, epochs: int, steps_per_epoch: int, total: int | float) -> str:
    """`steps: n=55000 examples / b=256 = 215 steps per epoch × e=3 epochs = 645 steps`; the counts are the
    Trainer's own (they follow limit_train_batches, accumulate_grad_batches, max_steps)."""
    parts = []
    if n is not None and batch_size:
        parts.append(f"n={n} examples / b={batch_size} (⌈n/b⌉ = {math.ceil(n / batch_size)}):")
    parts.append(f"{steps_per_epoch} steps per epoch × e={epochs} epochs = {int(total)} steps")
    return "steps: " + " ".join(parts)


def train_size(datamodule: object) -> int | None:
    """n, the training examples of an in-memory data module (None for a data module of another kind)."""
    splits = getattr(datamodule, "splits", None)
    if isinstance(splits, dict) and "train" in splits:
        return len(splits["train"][1])
    return None


class StepCount(LeanCallback):
    """Print the steps per epoch and the total once, when training starts (`enabled=false`: not at all)."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.enabled or not trainer.is_global_zero:
            return
        per_epoch = math.ceil(trainer.num_training_batches / trainer.accumulate_grad_batches)
        datamodule = trainer.datamodule
        n, b = train_size(datamodule), getattr(datamodule, "batch_size", None)
        epochs = trainer.max_epochs if trainer.max_epochs and trainer.max_epochs > 0 else 0
        log.info(steps_line(n, b, epochs, per_epoch, trainer.estimated_stepping_batches))
