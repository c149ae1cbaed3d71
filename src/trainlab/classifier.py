"""The one LightningModule: trains any classification net built from the `model` config."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor

from trainlab.epoch_means import EpochMeans

# Scheduler arguments that mean "the length of the run"; `null` in the config is filled in here, in the
# scheduler's own unit (steps or epochs), so cosine or one-cycle schedules fit any max_epochs or batch size.
RUN_LENGTH_KEYS = ("T_max", "total_steps")
LIGHTNING_SCHEDULER_KEYS = ("interval", "frequency", "monitor")


class Classifier(L.LightningModule):
    """Cross-entropy training with per-epoch loss/accuracy, optional L1/L2 penalties and weight decay.

    Every argument is plain data (dicts, lists, numbers), so checkpoints load with `weights_only=True`.
    """

    def __init__(
        self,
        net: dict[str, Any],
        in_shape: list[int],
        num_classes: int,
        optimizer: dict[str, Any],
        scheduler: dict[str, Any] | None = None,
        regularization: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)  # in checkpoints; the loggers get the whole run config instead
        self.net = instantiate(net, in_shape=list(in_shape), num_classes=num_classes)
        reg = regularization or {}
        self.l1, self.l2 = float(reg.get("l1", 0.0)), float(reg.get("l2", 0.0))
        self.weight_decay = float(reg.get("weight_decay", 0.0))
        self.means = torch.nn.ModuleDict({stage: EpochMeans() for stage in ("fit", "val", "test")})
        self.register_buffer("val_acc_best", torch.zeros(()), persistent=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def penalized(self) -> list[Tensor]:
        """Weights of Linear and Conv layers; biases and norm parameters (all 1-d) are not penalized."""
        return [p for p in self.net.parameters() if p.ndim > 1]

    def penalty(self) -> Tensor | None:
        """λ₁‖θ‖₁ + λ₂‖θ‖²₂ over the penalized weights, or None when both λ are zero."""
        if not (self.l1 or self.l2):
            return None
        weights = self.penalized()
        total = torch.zeros((), device=weights[0].device)
        if self.l1:
            total = total + self.l1 * sum(w.abs().sum() for w in weights)
        if self.l2:
            total = total + self.l2 * sum(w.pow(2).sum() for w in weights)
        return total

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        logits = self.net(x)
        loss = F.cross_entropy(logits, y)
        penalty = self.penalty()
        self.means["fit"].update(loss, logits, y, penalty)
        return loss if penalty is None else loss + penalty

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "val")

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        self._eval_step(batch, "test")

    def _eval_step(self, batch: tuple[Tensor, Tensor], stage: str) -> None:
        x, y = batch
        logits = self.net(x)
        self.means[stage].update(F.cross_entropy(logits, y), logits, y)

    def _epoch_means(self, stage: str) -> dict[str, Tensor]:
        """Read and reset a stage's sums, added up over all processes first."""
        means = self.means[stage].compute(reduce=lambda t: self.trainer.strategy.reduce(t, reduce_op="sum"))
        self.means[stage].reset()
        return means

    def on_train_start(self) -> None:
        self.val_acc_best.zero_()  # forget the sanity check's accuracy

    def on_train_epoch_end(self) -> None:
        means = self._epoch_means("fit")
        self.log_dict({"train/loss": means["loss"], "train/acc": means["acc"]})
        if self.l1 or self.l2:
            self.log("train/penalty", means["penalty"])

    def on_validation_epoch_end(self) -> None:
        means = self._epoch_means("val")
        if not self.trainer.sanity_checking:
            torch.maximum(self.val_acc_best, means["acc"], out=self.val_acc_best)
        self.log_dict({"val/loss": means["loss"], "val/acc": means["acc"], "val/acc_best": self.val_acc_best})

    def on_test_epoch_end(self) -> None:
        means = self._epoch_means("test")
        self.log_dict({"test/loss": means["loss"], "test/acc": means["acc"]})

    def configure_optimizers(self) -> Any:
        groups: Any = list(self.net.parameters())
        if self.weight_decay:  # decay the weights only, never biases or norm parameters
            no_decay = [p for p in groups if p.ndim <= 1]
            groups = [{"params": self.penalized(), "weight_decay": self.weight_decay}, {"params": no_decay}]
        optimizer = instantiate(self.hparams.optimizer, _partial_=True)(params=groups)
        sched = dict(self.hparams.scheduler or {})
        if not sched:
            return optimizer
        lightning_keys = {k: sched.pop(k) for k in LIGHTNING_SCHEDULER_KEYS if k in sched}
        interval = lightning_keys.setdefault("interval", "epoch")
        run_length = self.trainer.estimated_stepping_batches if interval == "step" else self.trainer.max_epochs
        for key in RUN_LENGTH_KEYS:
            if key in sched and sched[key] is None:
                sched[key] = int(run_length)
        scheduler = instantiate(sched, _partial_=True)(optimizer=optimizer)
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, **lightning_keys}}
