"""The one LightningModule: trains any classification net built from the `model` config."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from hydra.utils import get_class, instantiate
from torch import Tensor

from trainlab.data.augment import random_shift
from trainlab.metrics import EpochMeans
from trainlab.optimization import decoupled_decay_kwargs

# Scheduler arguments that mean "the length of the run"; `null` in the config is filled in here, in the
# scheduler's own unit (steps or epochs), so cosine or one-cycle schedules fit any max_epochs or batch size.
RUN_LENGTH_KEYS = ("T_max", "total_steps")
LIGHTNING_SCHEDULER_KEYS = ("interval", "frequency", "monitor")
# Where a host check costs a device sync (GPU, or a collective under DDP), the first non-finite loss is tracked on
# the device and read every this many steps; on a single CPU every step is checked (there is nothing to sync).
NONFINITE_CHECK_EVERY = 50


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or inf at optimizer step `step` (no update was made from it on one CPU)."""

    def __init__(self, step: int, epoch: int, value: float | None) -> None:
        self.step, self.epoch, self.value = step, epoch, value
        what = f"{value}" if value is not None else "NaN or inf"
        super().__init__(f"the training loss is {what} at step {step} (epoch {epoch})")


class Classifier(L.LightningModule):
    """Cross-entropy training with per-epoch loss/accuracy and the regularization group's switches.

    From `regularization`: `l1`/`l2` penalties added to the loss, decoupled `weight_decay` given to the optimizer
    (both on weights only unless `penalize_biases_and_norms`), `label_smoothing` and `augment_shift` (random
    shifts, training batches only). Every argument is plain data, so checkpoints load with `weights_only=True`.
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
        self.save_hyperparameters(logger=False)  # loggers get the whole composed config instead (training.py)
        self.net = instantiate(net, in_shape=list(in_shape), num_classes=num_classes)
        reg = regularization or {}
        self.l1, self.l2 = float(reg.get("l1", 0.0)), float(reg.get("l2", 0.0))
        self.weight_decay = float(reg.get("weight_decay", 0.0))
        self.penalize_all = bool(reg.get("penalize_biases_and_norms", False))
        self.label_smoothing = float(reg.get("label_smoothing", 0.0))
        self.augment_shift = int(reg.get("augment_shift", 0))
        self.means = torch.nn.ModuleDict({stage: EpochMeans() for stage in ("fit", "val", "test")})
        self.register_buffer("val_acc_best", torch.zeros(()), persistent=True)
        self.check_every = 1  # set for the device when training starts (on_train_start)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

    def penalized(self) -> list[Tensor]:
        """Weights of Linear and Conv layers; biases and norm parameters (1-d) only if penalize_biases_and_norms."""
        return [p for p in self.net.parameters() if p.ndim > 1 or self.penalize_all]

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

    def objective(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
        """(J, data loss, logits, penalty): J is the cross-entropy (label-smoothed if asked) plus the penalty."""
        logits = self.net(x)
        loss = F.cross_entropy(logits, y, label_smoothing=self.label_smoothing)
        penalty = self.penalty()
        return (loss if penalty is None else loss + penalty), loss, logits, penalty

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        if self.augment_shift:
            x = random_shift(x, self.augment_shift)
        total, loss, logits, penalty = self.objective(x, y)
        self.check_finite(total)
        self.means["fit"].update(loss, logits, y, penalty)
        return total

    def on_train_start(self) -> None:
        # A run resumed mid-epoch skips on_train_epoch_start for that epoch: start from the lr it resumes with.
        self.epoch_lr = float(self.optimizers().param_groups[0]["lr"])
        self.first_nonfinite = torch.full((), -1, dtype=torch.long, device=self.device)
        self.check_every = 1 if self.device.type == "cpu" and self.trainer.world_size == 1 else NONFINITE_CHECK_EVERY

    @torch.no_grad()
    def check_finite(self, loss: Tensor) -> None:
        """Stop at the first non-finite training loss: at once on one CPU, else within `check_every` steps."""
        step = self.global_step
        if self.check_every == 1:
            if not torch.isfinite(loss):
                raise NonFiniteLoss(step, self.current_epoch, loss.item())
            return
        bad = ~torch.isfinite(loss) & (self.first_nonfinite < 0)
        self.first_nonfinite = torch.where(bad, step, self.first_nonfinite)
        if step % self.check_every == self.check_every - 1:
            self.raise_if_nonfinite()

    def raise_if_nonfinite(self) -> None:
        first = int(self.first_nonfinite.item())
        if self.trainer.world_size > 1:  # every rank stops together, or the others would wait for it forever
            first = int(self.trainer.strategy.reduce(self.first_nonfinite.double(), reduce_op="max").item())
        if first >= 0:
            raise NonFiniteLoss(first, self.current_epoch, None)

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

    def on_train_epoch_start(self) -> None:
        # The lr this epoch starts with (a Python float: no device sync), logged as train/lr whatever the callbacks.
        self.epoch_lr = float(self.optimizers().param_groups[0]["lr"])

    def on_train_epoch_end(self) -> None:
        if self.check_every > 1:
            self.raise_if_nonfinite()
        means = self._epoch_means("fit")
        self.log_dict({"train/loss": means["loss"], "train/acc": means["acc"]})
        if self.l1 or self.l2:
            self.log("train/penalty", means["penalty"])
        self.log("train/lr", self.epoch_lr)

    def on_validation_epoch_end(self) -> None:
        means = self._epoch_means("val")
        if not self.trainer.sanity_checking:  # the sanity check's accuracy is not a result
            torch.maximum(self.val_acc_best, means["acc"], out=self.val_acc_best)
        self.log_dict({"val/loss": means["loss"], "val/acc": means["acc"], "val/acc_best": self.val_acc_best})

    def on_test_epoch_end(self) -> None:
        means = self._epoch_means("test")
        self.log_dict({"test/loss": means["loss"], "test/acc": means["acc"]})

    @torch.no_grad()
    def on_before_optimizer_step(self, optimizer: torch.optim.Optimizer) -> None:
        """Decoupled weight decay for optimizers without it built in: θ ← θ − lr·λ·θ before the update."""
        for group in optimizer.param_groups:
            decay = group.get("decoupled_decay", 0.0)
            if decay:
                torch._foreach_mul_(group["params"], 1.0 - group["lr"] * decay)

    def configure_optimizers(self) -> Any:
        groups: Any = list(self.net.parameters())
        extra: dict[str, Any] = {}
        if self.weight_decay:  # decay the penalized parameters only (by default not biases or norm parameters)
            decayed = self.penalized()
            decayed_ids = {id(p) for p in decayed}
            rest = [p for p in groups if id(p) not in decayed_ids]
            group_keys, extra = decoupled_decay_kwargs(get_class(self.hparams.optimizer["_target_"]), self.weight_decay)
            groups = [{"params": decayed, **group_keys}, {"params": rest, "weight_decay": 0.0}]
        optimizer = instantiate(self.hparams.optimizer, _partial_=True)(params=groups, **extra)
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
