"""The one LightningModule: trains the net of the `model` config for the `task` (classification or regression)."""

from __future__ import annotations

from typing import Any, NamedTuple

import lightning as L
import torch
from hydra.utils import instantiate
from torch import Tensor
from torchmetrics import MeanMetric

from trainlab.hook_costs import CachedStepSignatures, FastHookName
from trainlab.metrics import EpochMeans, build_metrics, scalars
from trainlab.optimization import apply_decoupled_decay, build_optimizer, build_scheduler
from trainlab.regularization import Regularization
from trainlab.tasks import Task


class Objective(NamedTuple):
    """The training objective of one batch: `total` = `loss` (+ `penalty`), the thing backpropagated."""

    total: Tensor
    loss: Tensor  # the data loss of the task (cross-entropy, BCE or MSE), label-smoothed if asked
    logits: Tensor
    penalty: Tensor | None  # λ₁‖θ‖₁ + λ₂‖θ‖²₂ (+ regularization.penalties), or None when there is none


class Classifier(FastHookName, CachedStepSignatures, L.LightningModule):
    """Training of the net `net` builds for the `task`, logging per-epoch loss, accuracy and the `metrics` group.

    Its jobs: the objective (the task's loss from `trainlab.tasks`, penalties from `trainlab.regularization`),
    per-epoch metrics (`trainlab.metrics`), the lr each epoch starts with, and handing the optimizer config to
    `trainlab.optimization`. Every argument is plain data, so checkpoints load with `weights_only=True`.
    `num_classes` is the net's output units (classes, labels, or regression targets; 1 for binary);
    `target_stats` (regression: the training split's target `mean` and `std`) maps standardized outputs back.
    """

    def __init__(
        self,
        net: dict[str, Any],
        in_shape: list[int],
        num_classes: int,
        optimizer: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        regularization: dict[str, Any] | None = None,
        metrics: dict[str, Any] | None = None,
        task: dict[str, Any] | None = None,
        target_stats: dict[str, list[float]] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)  # loggers get the whole composed config instead (training.py)
        self.net = instantiate(net, in_shape=list(in_shape), num_classes=num_classes)
        self.reg = Regularization.from_config(regularization)
        self.task = Task.from_config(task)
        self.task_name = self.task.name
        # Cheap device sums: the training step never calls torchmetrics (accuracy only for tasks that have one).
        self.train_means = EpochMeans(self.task.correct if self.task.has_accuracy else None)
        mean = (target_stats or {}).get("mean")
        self.eval_metrics = torch.nn.ModuleDict({s: build_metrics(metrics, num_classes, mean) for s in ("val", "test")})
        self.eval_loss = torch.nn.ModuleDict({s: MeanMetric() for s in ("val", "test")})
        # The best of the task's validation metric so far (val/acc_best, val/rmse_best), kept in checkpoints.
        self.monitor, self.maximize = (task or {}).get("monitor", "acc"), (task or {}).get("mode", "max") == "max"
        self.best_name = f"val_{self.monitor}_best"
        self.register_buffer(self.best_name, torch.tensor(0.0 if self.maximize else float("inf")), persistent=True)
        # Regression: the net learns standardized targets; its outputs are mapped back to the target's units.
        scaled = self.task.name == "regression" and target_stats is not None
        self.register_buffer("target_std", torch.tensor(target_stats["std"]) if scaled else None, persistent=False)
        self.register_buffer("target_mean", torch.tensor(target_stats["mean"]) if scaled else None, persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        """The logits (regression: the predictions, in the target's units)."""
        out = self.net(x)
        if self.target_std is not None:
            out = torch.addcmul(self.target_mean.to(out.dtype), out, self.target_std.to(out.dtype))
        return out

    def probabilities(self, logits: Tensor) -> Tensor:
        """The task's output activation on `logits`: softmax (multi-class), sigmoid (binary, multi-label, bounded
        regression) or the outputs themselves (regression): what predictions and metrics use."""
        return self.task.probabilities(logits)

    def penalty(self) -> Tensor | None:
        """The regularization penalty of the net as it is now (None: no l1/l2)."""
        return self.reg.penalty(self.net)

    def objective(self, x: Tensor, y: Tensor) -> Objective:
        """The training objective: the task's data loss (label-smoothed if asked) plus the l1/l2 penalty."""
        logits = self(x)
        loss = self.task.loss(logits, y, self.reg.label_smoothing)
        penalty = self.penalty()
        return Objective(loss if penalty is None else loss + penalty, loss, logits, penalty)

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch  # augmented by the data module when regularization.augment is on
        objective = self.objective(x, y)
        self.train_means.update(objective.loss, objective.logits, y, objective.penalty)
        return objective.total

    def on_train_start(self) -> None:
        # A run resumed mid-epoch skips on_train_epoch_start for that epoch: start from the lr it resumes with.
        self.epoch_lr = float(self.optimizers().param_groups[0]["lr"])

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> dict[str, Tensor]:
        # Handed to the callbacks' on_test_batch_end (the per-class report, an ensemble's probabilities).
        return {"logits": self._eval_step(batch, "test"), "target": batch[1]}

    def _eval_step(self, batch: tuple[Tensor, Tensor], stage: str) -> Tensor:
        x, y = batch
        logits = self(x)
        self.eval_loss[stage].update(self.task.loss(logits, y), weight=len(y))
        self.eval_metrics[stage].update(*self.task.metric_inputs(logits, y))
        return logits

    def _eval_results(self, stage: str) -> dict[str, Tensor]:
        """Read and reset a stage's metrics (torchmetrics adds them up over all processes first)."""
        results = {"loss": self.eval_loss[stage].compute(), **self.eval_metrics[stage].compute()}
        self.eval_loss[stage].reset()
        self.eval_metrics[stage].reset()
        return results

    def on_train_epoch_start(self) -> None:
        # The lr this epoch starts with (a Python float: no device sync), logged as train/lr whatever the callbacks.
        self.epoch_lr = float(self.optimizers().param_groups[0]["lr"])

    def on_train_epoch_end(self) -> None:
        means = self.train_means.compute(reduce=lambda t: self.trainer.strategy.reduce(t, reduce_op="sum"))
        self.train_means.reset()
        self.log_dict({f"train/{key}": means[key] for key in ("loss", "acc") if key in means})
        if self.reg.penalizes:
            self.log("train/penalty", means["penalty"])
        self.log("train/lr", self.epoch_lr)

    def on_validation_epoch_end(self) -> None:
        results = self._eval_results("val")
        if self.monitor in results:  # the best val/<monitor> so far (in checkpoints: a resumed run continues it)
            best = getattr(self, self.best_name)
            if not self.trainer.sanity_checking:  # the sanity check's value is not a result
                (torch.maximum if self.maximize else torch.minimum)(best, results[self.monitor], out=best)
            results[f"{self.monitor}_best"] = best
        self.log_dict(scalars("val", results))

    def on_test_epoch_end(self) -> None:
        self.log_dict(scalars("test", self._eval_results("test")))

    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        apply_decoupled_decay(optimizer)  # for optimizers without decoupled weight decay built in

    def configure_optimizers(self) -> Any:
        reg = self.reg
        optimizer = build_optimizer(
            self.hparams.optimizer, list(self.net.parameters()), reg.penalized(self.net), reg.weight_decay
        )
        if not self.hparams.scheduler:
            return optimizer
        scheduler = build_scheduler(self.hparams.scheduler, optimizer, self.run_length)
        return {"optimizer": optimizer, "lr_scheduler": scheduler}

    def run_length(self, interval: str) -> int:
        """The run's length in the scheduler's unit: optimizer steps or epochs."""
        return int(self.trainer.estimated_stepping_batches if interval == "step" else self.trainer.max_epochs)
