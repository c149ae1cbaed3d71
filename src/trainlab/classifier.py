"""The one LightningModule: trains any classification net built from the `model` config."""

from __future__ import annotations

from typing import Any, NamedTuple

import lightning as L
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor
from torchmetrics import MeanMetric

from trainlab.metrics import EpochMeans, build_metrics, scalars
from trainlab.optimization import apply_decoupled_decay, build_optimizer, build_scheduler
from trainlab.regularization import Regularization


class Objective(NamedTuple):
    """The training objective of one batch: `total` = `loss` (+ `penalty`), the thing backpropagated."""

    total: Tensor
    loss: Tensor  # the data loss: cross-entropy, label-smoothed if asked
    logits: Tensor
    penalty: Tensor | None  # λ₁‖θ‖₁ + λ₂‖θ‖²₂, or None when both λ are zero


class Classifier(L.LightningModule):
    """Cross-entropy training of the net `net` builds, logging per-epoch loss, accuracy and the `metrics` group.

    Its jobs: the objective (loss and penalties from `trainlab.regularization`), per-epoch metrics
    (`trainlab.metrics`), the lr each epoch starts with, and handing the optimizer config to
    `trainlab.optimization`. Every argument is plain data, so checkpoints load with `weights_only=True`.
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
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)  # loggers get the whole composed config instead (training.py)
        self.net = instantiate(net, in_shape=list(in_shape), num_classes=num_classes)
        self.reg = Regularization.from_config(regularization)
        self.train_means = EpochMeans()  # cheap device sums: the training step never calls torchmetrics
        self.eval_metrics = torch.nn.ModuleDict({s: build_metrics(metrics, num_classes) for s in ("val", "test")})
        self.eval_loss = torch.nn.ModuleDict({s: MeanMetric() for s in ("val", "test")})
        self.register_buffer("val_acc_best", torch.zeros(()), persistent=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def penalty(self) -> Tensor | None:
        """The regularization penalty of the net as it is now (None: no l1/l2)."""
        return self.reg.penalty(self.net)

    def objective(self, x: Tensor, y: Tensor) -> Objective:
        """The training objective: the data loss (label-smoothed if asked) plus the l1/l2 penalty."""
        logits = self.net(x)
        loss = self.reg.loss(logits, y)
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
        logits = self.net(x)
        self.eval_loss[stage].update(F.cross_entropy(logits, y), weight=len(y))
        self.eval_metrics[stage].update(logits, y)
        return logits

    def probabilities(self, logits: Tensor) -> Tensor:
        """Class probabilities of the net's outputs (softmax over classes): what predictions and ensembles average."""
        return logits.softmax(dim=-1)

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
        self.log_dict({"train/loss": means["loss"], "train/acc": means["acc"]})
        if self.reg.l1 or self.reg.l2:
            self.log("train/penalty", means["penalty"])
        self.log("train/lr", self.epoch_lr)

    def on_validation_epoch_end(self) -> None:
        results = self._eval_results("val")
        if "acc" in results:  # the best val/acc so far (in checkpoints: a resumed run continues it)
            if not self.trainer.sanity_checking:  # the sanity check's accuracy is not a result
                torch.maximum(self.val_acc_best, results["acc"], out=self.val_acc_best)
            results["acc_best"] = self.val_acc_best
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
