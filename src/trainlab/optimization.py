"""Decoupled weight decay (Loshchilov & Hutter 2019) for every optimizer.

Decoupled decay shrinks the weights directly, θ ← θ − lr·λ·θ, apart from the gradient step; an L2 penalty
instead adds λθ to the gradient, which adaptive optimizers (Adam, RMSprop, Adagrad) then rescale per weight.
AdamW decouples natively, Adam with `decoupled_weight_decay=True`; for the others (SGD, RMSprop, Adagrad)
`Classifier.on_before_optimizer_step` applies the shrink itself. For plain SGD both are the same update.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch


def decoupled_decay_kwargs(optimizer_cls: type, weight_decay: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(keys for the decayed param group, extra optimizer arguments) that make `weight_decay` decoupled."""
    if issubclass(optimizer_cls, torch.optim.AdamW):
        return {"weight_decay": weight_decay}, {}
    if "decoupled_weight_decay" in inspect.signature(optimizer_cls).parameters:
        return {"weight_decay": weight_decay}, {"decoupled_weight_decay": True}
    # Our own shrink in Classifier.on_before_optimizer_step; the optimizer itself sees no weight decay.
    return {"weight_decay": 0.0, "decoupled_decay": weight_decay}, {}
