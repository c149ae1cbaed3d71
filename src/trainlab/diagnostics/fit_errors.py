"""The train and validation errors the bias/variance verdict compares, measured as the notes define them: the
trained model in eval mode (no dropout; batch norm with its running statistics) on the training split as stored
(no augmentation) and on the validation split. The running train/acc of an epoch is no such measure: it averages
over weights that kept changing, in train mode, on augmented batches.

The weights measured are those that are tested: the best checkpoint of the run's ModelCheckpoint, or without one
the weights fit ended with. A split of more than `MAX_SAMPLES` examples is measured on a fixed random sample of
that many (seeded by the data module's seed: the same sample in every run of that data and seed), which keeps
the measurement at a fraction of an epoch's cost: the standard error of an error rate p on 5,000 examples is
√(p(1−p)/5000), 0.2 points at p = 2% and never over 0.71, well under the verdict's 2-point thresholds. A run
limited by `trainer.limit_train_batches` or `limit_val_batches` is measured on no more examples than those limits
let it see. Batches are the data module's own (its input scaling), summed on the device: one host sync per split.

The error is the task's: 1 − accuracy for the tasks with one (multi-label: the share of labels wrong; bounded
regression: outputs and targets rounded at 0.5), and for a regression the share of the target's variance left
unexplained, MSE / Var(training targets), averaged over targets (0: perfect; 1: no better than the mean).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import Tensor

from trainlab.data.batches import TensorBatches
from trainlab.tasks import Task

MAX_SAMPLES = 5_000


@dataclass(frozen=True)
class FitErrors:
    """The two errors and what they were measured on (all in metrics.json under `diagnosis/`)."""

    train_error: float
    val_error: float
    measure: str  # "1 − accuracy" or "MSE / Var(y)"
    train_samples: int  # examples measured
    train_split_size: int  # examples in the training split
    val_samples: int
    weights: str  # "best checkpoint" or "final"
    epoch: int | None  # the epoch (1-based) whose weights were measured

    def metrics(self) -> dict[str, Any]:
        return {
            "diagnosis/error_measure": self.measure,
            "diagnosis/train_samples": self.train_samples,
            "diagnosis/train_split_size": self.train_split_size,
            "diagnosis/val_samples": self.val_samples,
            "diagnosis/weights": self.weights,
            "diagnosis/epoch": self.epoch,
        }


def model_task(pl_module: L.LightningModule) -> Task:
    task = getattr(pl_module, "task", None)
    return task if isinstance(task, Task) else Task()


def sample(x: Tensor, y: Tensor, limit: int, seed: int) -> tuple[Tensor, Tensor]:
    """The whole split, or `limit` examples of it drawn with a generator seeded by `seed`."""
    if len(y) <= limit:
        return x, y
    take = torch.randperm(len(y), generator=torch.Generator().manual_seed(seed))[:limit].to(x.device)
    return x[take], y[take]


@torch.no_grad()
def split_error(
    pl_module: L.LightningModule, batches: TensorBatches, task: Task, variance: Tensor, trainer: L.Trainer
) -> float:
    """The task's error of the model (as it is: eval mode is the caller's) over `batches`."""
    device = pl_module.device
    total = torch.zeros((), dtype=torch.float64, device=device)
    n = 0
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        with trainer.precision_plugin.forward_context():
            out = pl_module(x)
        if task.has_accuracy:
            total += task.correct(out, y).double()
        else:  # Σ over rows of the squared error, each target divided by its variance
            squared = (out.double() - y.reshape(out.shape).double()).square() / variance.to(device)
            total += squared.mean(dim=1).sum()
        n += len(y)
    mean = float(total) / max(n, 1)  # the one host sync
    return 1.0 - mean if task.has_accuracy else mean


@contextmanager
def checkpoint_weights(pl_module: L.LightningModule, path: str) -> Iterator[int | None]:
    """The module with the weights of checkpoint `path` inside the block (its own afterwards); yields the
    checkpoint's epoch (1-based)."""
    own = {key: value.detach().clone() for key, value in pl_module.state_dict().items()}
    checkpoint = torch.load(path, map_location=pl_module.device, weights_only=True)
    pl_module.load_state_dict(checkpoint["state_dict"])
    try:
        epoch = checkpoint.get("epoch")
        yield int(epoch) + 1 if epoch is not None else None
    finally:
        pl_module.load_state_dict(own)


@contextmanager
def eval_mode(pl_module: L.LightningModule) -> Iterator[None]:
    was_training = pl_module.training
    pl_module.eval()
    try:
        yield
    finally:
        pl_module.train(was_training)


def best_checkpoint(trainer: L.Trainer) -> str:
    """The checkpoint a run tests after fit (as `trainlab.training` picks it), or "" without one."""
    callback = trainer.checkpoint_callback
    return callback.best_model_path if isinstance(callback, ModelCheckpoint) else ""


def measure(trainer: L.Trainer, pl_module: L.LightningModule, limit: int = MAX_SAMPLES) -> FitErrors | None:
    """Train and val errors of the tested weights; None when the data module keeps no train and val splits, or
    for a `fast_dev_run` (one batch of each: no verdict to draw, and no time to spend on one)."""
    if getattr(trainer, "fast_dev_run", False):
        return None
    datamodule = trainer.datamodule
    splits = getattr(datamodule, "splits", None)
    if not isinstance(splits, dict) or not {"train", "val"} <= set(splits) or len(splits["val"][1]) == 0:
        return None
    task = model_task(pl_module)
    seed = int(getattr(datamodule, "seed", 0) or 0)
    train_x, train_y = splits["train"]
    variance = torch.ones(1)
    if not task.has_accuracy:
        targets = train_y.double().reshape(len(train_y), -1)
        variance = targets.var(dim=0, unbiased=False).clamp_min(1e-12)
    batch_size = int(getattr(datamodule, "eval_batch_size", 1000))

    def batches(x: Tensor, y: Tensor) -> TensorBatches:
        return TensorBatches(x, y, batch_size, datamodule.scale, datamodule.shift)

    # No more than the run itself looked at: trainer.limit_train_batches / limit_val_batches cap the samples too.
    inf = float("inf")
    trained = getattr(trainer, "num_training_batches", inf)
    validated = sum(getattr(trainer, "num_val_batches", None) or [inf])
    train_limit = min(limit, batches_seen(trained, getattr(datamodule, "batch_size", limit), limit))
    val_limit = min(limit, batches_seen(validated, batch_size, limit))
    if train_limit == 0 or val_limit == 0:
        return None
    train = sample(train_x, train_y, train_limit, seed)
    val = sample(*splits["val"], val_limit, seed)
    path = best_checkpoint(trainer)
    with checkpoint_weights(pl_module, path) if path else _final(trainer) as epoch, eval_mode(pl_module):
        train_error = split_error(pl_module, batches(*train), task, variance, trainer)
        val_error = split_error(pl_module, batches(*val), task, variance, trainer)
    return FitErrors(
        train_error=train_error,
        val_error=val_error,
        measure="1 − accuracy" if task.has_accuracy else "MSE / Var(y)",
        train_samples=len(train[1]),
        train_split_size=len(train_y),
        val_samples=len(val[1]),
        weights="best checkpoint" if path else "final",
        epoch=epoch,
    )


def batches_seen(count: float, batch_size: int, limit: int) -> int:
    """Examples in `count` batches of `batch_size` (`count` inf, a loader of unknown length: `limit`)."""
    return limit if count == float("inf") else int(count) * int(batch_size)


@contextmanager
def _final(trainer: L.Trainer) -> Iterator[int]:
    yield trainer.current_epoch  # fit has ended: current_epoch counts the epochs done
