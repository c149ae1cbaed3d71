"""The `regularization` config group, in one place: what each key does and where it is honoured.

Keys and who honours them:
- `l1`, `l2`: penalties λ₁‖θ‖₁ + λ₂‖θ‖²₂ added to the training loss (`Regularization.penalty`, called by the
  Classifier's objective); logged as `train/penalty`.
- `weight_decay`: decoupled decay θ ← θ − lr·λ·θ, given to the optimizer (`trainlab.optimization`) for the
  parameters `Regularization.penalized` returns.
- `penalties`: penalties of your own, by `_target_` (`name: {_target_: …, …}`): each is called with the
  penalized parameters and returns a scalar added to the l1/l2 penalty (docs/architecture.md has an example).
- `penalize_biases_and_norms`: penalties and decay act on weights (tensors of 2+ dims) only, unless this is true.
- `label_smoothing`: in the training loss only (`Regularization.loss`); val/test losses stay plain cross-entropy.
- `early_stopping`: Lightning's EarlyStopping callback (`early_stopping_callback`), added by `build_trainer`.
- `dropout`, `batchnorm`, `batchnorm_order`: honoured by the nets themselves; `conf/model/*.yaml` passes them
  to the net's constructor (`${regularization.dropout}`, …), see the model contract in `trainlab.models`.
- `augment`: honoured by the data module, which applies its data set's own augmentation to training batches
  (`InMemoryDataModule.augment_batch`; MNIST: random shifts up to `data.augment_shift` px; CIFAR-10: random
  crops with `data.augment_crop` px of reflected padding and horizontal flips).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from hydra.utils import instantiate
from torch import Tensor, nn


@dataclass(frozen=True)
class Regularization:
    """The loss-side switches of the `regularization` group (the rest are honoured elsewhere, see above)."""

    l1: float = 0.0
    l2: float = 0.0
    weight_decay: float = 0.0
    penalize_biases_and_norms: bool = False
    label_smoothing: float = 0.0
    # `penalties`, built: each takes the penalized parameters and returns its term of the penalty.
    extra: tuple[Callable[[list[Tensor]], Tensor], ...] = ()

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> Regularization:
        """From the group's (plain) config; keys honoured by the nets or the data module are ignored here."""
        cfg = cfg or {}
        return cls(
            l1=float(cfg.get("l1", 0.0)),
            l2=float(cfg.get("l2", 0.0)),
            weight_decay=float(cfg.get("weight_decay", 0.0)),
            penalize_biases_and_norms=bool(cfg.get("penalize_biases_and_norms", False)),
            label_smoothing=float(cfg.get("label_smoothing", 0.0)),
            extra=tuple(instantiate(spec) for spec in (cfg.get("penalties") or {}).values() if spec is not None),
        )

    @property
    def penalizes(self) -> bool:
        """Whether the loss gets a penalty (and `train/penalty` is logged)."""
        return bool(self.l1 or self.l2 or self.extra)

    def penalized(self, net: nn.Module) -> list[Tensor]:
        """Parameters the penalties and weight decay act on: weights of Linear and Conv layers (2+ dims); biases
        and norm parameters (1 dim) only with `penalize_biases_and_norms`."""
        return [p for p in net.parameters() if p.ndim > 1 or self.penalize_biases_and_norms]

    def penalty(self, net: nn.Module) -> Tensor | None:
        """λ₁‖θ‖₁ + λ₂‖θ‖²₂ (+ the `penalties`) over the penalized parameters, or None when there is none."""
        if not self.penalizes:
            return None
        weights = self.penalized(net)
        total = torch.zeros((), device=weights[0].device, dtype=weights[0].dtype)
        if self.l1:
            total = total + self.l1 * sum(w.abs().sum() for w in weights)
        if self.l2:
            total = total + self.l2 * sum(w.pow(2).sum() for w in weights)
        for term in self.extra:
            total = total + term(weights)
        return total

    def loss(self, logits: Tensor, target: Tensor) -> Tensor:
        """The training data loss: cross-entropy, label-smoothed when asked."""
        return F.cross_entropy(logits, target, label_smoothing=self.label_smoothing)


def early_stopping_callback(cfg: Mapping[str, Any] | None) -> Any:
    """Lightning's EarlyStopping from `regularization.early_stopping` (its arguments), or None when unset."""
    early = (cfg or {}).get("early_stopping")
    if not early:
        return None
    from lightning.pytorch.callbacks import EarlyStopping

    return EarlyStopping(**dict(early))
