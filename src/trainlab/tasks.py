"""The `task` group in code: the loss on the net's logits, the output activation, and what metrics are fed.

The course's table (see `trainlab.config.tasks`): binary and multi-label → sigmoid + binary cross-entropy;
multi-class → softmax + cross-entropy; regression → no activation + MSE; regression to [0, 1] → sigmoid + MSE (or
binary cross-entropy). Losses take the logits: `F.cross_entropy` and `F.binary_cross_entropy_with_logits` fold the
softmax/sigmoid into the log, which stays finite where log(sigmoid(z)) computed in two steps would not. The
activation is applied only for metrics and predictions (`Task.probabilities`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import torch.nn.functional as F
from omegaconf import DictConfig, OmegaConf
from torch import Tensor

from trainlab.config.tasks import TABLE, WITH_ACCURACY


@dataclass(frozen=True)
class Task:
    """One row of the table: `name` (a key of `TABLE`) and its `loss` (`cross_entropy`, `bce` or `mse`)."""

    name: str = "multiclass"
    loss_name: str = "cross_entropy"

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> Task:
        """From the (plain) `task` config; None (a checkpoint saved before tasks existed) is multi-class."""
        name = str((cfg or {}).get("name", "multiclass"))
        return cls(name, str((cfg or {}).get("loss", TABLE[name][1][0])))

    @property
    def activation(self) -> str:
        return TABLE[self.name][0]

    @property
    def has_accuracy(self) -> bool:
        return self.name in WITH_ACCURACY

    def probabilities(self, logits: Tensor) -> Tensor:
        """The output activation: softmax over classes, a sigmoid per unit, or the outputs themselves."""
        if self.activation == "softmax":
            return logits.softmax(dim=1)
        if self.activation == "sigmoid":
            return logits.sigmoid()
        return logits

    def _as_outputs(self, target: Tensor, logits: Tensor) -> Tensor:
        return target.reshape(logits.shape).to(logits.dtype)

    def loss(self, logits: Tensor, target: Tensor, label_smoothing: float = 0.0) -> Tensor:
        """The data loss of a batch, on the logits; `label_smoothing` ε moves 0/1 targets to ε/2 and 1 − ε/2."""
        if self.loss_name == "cross_entropy":
            return F.cross_entropy(logits, target, label_smoothing=label_smoothing)
        soft = self._as_outputs(target, logits)
        if self.loss_name == "bce":
            if label_smoothing:
                soft = soft * (1 - label_smoothing) + label_smoothing / 2
            return F.binary_cross_entropy_with_logits(logits, soft)
        return F.mse_loss(self.probabilities(logits), soft)

    def correct(self, logits: Tensor, target: Tensor) -> Tensor:
        """How many rows the batch got right (multi-label: the share of its labels, summed over rows); with a
        sigmoid, a logit above 0 is a probability above 0.5, compared with the target rounded at 0.5."""
        if self.name == "multiclass":
            return (logits.argmax(dim=1) == target).sum()
        hits = (logits > 0) == (self._as_outputs(target, logits) > 0.5)
        return hits.flatten(1).float().mean(dim=1).sum()

    def metric_inputs(self, logits: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
        """What torchmetrics is fed: the probabilities (or regression outputs) and the targets; one output unit is
        squeezed to shape (N,), the form torchmetrics' binary and single-output metrics take."""
        preds = self.probabilities(logits)
        if self.name == "multiclass":
            return preds, target
        target = target.reshape(logits.shape)
        if logits.shape[1] == 1:
            return preds.squeeze(1), target.squeeze(1)
        return preds, target


def task_arguments(cfg: DictConfig, datamodule: Any) -> dict[str, Any]:
    """The Classifier's task arguments: the `task` config, and the training split's target statistics that a
    regression needs (its outputs are standardized targets mapped back; its metrics compare with the mean)."""
    task = cfg.get("task")
    arguments: dict[str, Any] = {"task": OmegaConf.to_container(task, resolve=True) if task is not None else None}
    stats = getattr(datamodule, "target_stats", None)
    if stats is not None:
        arguments["target_stats"] = stats
    return arguments
