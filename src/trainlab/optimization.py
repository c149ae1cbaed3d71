"""The `optimizer` and `scheduler` config groups: the optimizer, its parameter groups and its lr schedule.

Decoupled weight decay (Loshchilov & Hutter 2019) shrinks the weights directly, θ ← θ − lr·λ·θ, apart from the
gradient step; an L2 penalty instead adds λθ to the gradient, which adaptive optimizers (Adam, RMSprop, Adagrad)
then rescale per weight. AdamW decouples natively, Adam with `decoupled_weight_decay=True`; for the others (SGD,
RMSprop, Adagrad) `apply_decoupled_decay` (called from the Classifier's `on_before_optimizer_step`) does the
shrink itself. For plain SGD both are the same update.

A scheduler config holds the scheduler's own arguments plus Lightning's keys (`interval`, `frequency`,
`monitor`); `T_max`/`total_steps: null` mean "the length of the run", filled in here in the scheduler's unit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from torch import Tensor

# Scheduler arguments that mean "the length of the run"; `null` in the config is filled in here, in the
# scheduler's own unit (steps or epochs), so cosine or one-cycle schedules fit any max_epochs or batch size.
RUN_LENGTH_KEYS = ("T_max", "total_steps")
LIGHTNING_SCHEDULER_KEYS = ("interval", "frequency", "monitor")


def decoupled_decay_kwargs(optimizer_cls: type, weight_decay: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(keys for the decayed param group, extra optimizer arguments) that make `weight_decay` decoupled."""
    if issubclass(optimizer_cls, torch.optim.AdamW):
        return {"weight_decay": weight_decay}, {}
    if "decoupled_weight_decay" in inspect.signature(optimizer_cls).parameters:
        return {"weight_decay": weight_decay}, {"decoupled_weight_decay": True}
    # Our own shrink in apply_decoupled_decay; the optimizer itself sees no weight decay.
    return {"weight_decay": 0.0, "decoupled_decay": weight_decay}, {}


def build_optimizer(
    optimizer_cfg: Mapping[str, Any], params: Sequence[Tensor], decayed: Sequence[Tensor], weight_decay: float
) -> torch.optim.Optimizer:
    """The optimizer of `optimizer_cfg` over the trainable `params`; with `weight_decay`, only `decayed` are decayed
    (decoupled). A parameter with an `lr_scale` attribute (fast_cnn's `bias_lr_scale`) gets a group of its own whose
    steps are that many times larger and whose decay (the optimizer's and ours) is not: lr·s, decay/s."""
    decayed_ids = {id(p) for p in decayed} if weight_decay else set()
    split: dict[tuple[float, bool], list[Tensor]] = {}
    for p in params:
        if p.requires_grad:  # frozen weights (fast_cnn's whitened stem) are neither stepped nor decayed
            split.setdefault((float(getattr(p, "lr_scale", 1.0)), id(p) in decayed_ids), []).append(p)
    group_keys, extra = decoupled_decay_kwargs(get_class(optimizer_cfg["_target_"]), weight_decay)
    groups = []
    for (scale, decay), members in split.items():
        group: dict[str, Any] = {"params": members}
        if weight_decay:
            group.update(group_keys if decay else {"weight_decay": 0.0})
        if scale != 1.0:
            group.update(lr=optimizer_cfg["lr"] * scale, lr_scale=scale)
            for key in ("weight_decay", "decoupled_decay"):
                group[key] = group.get(key, optimizer_cfg.get(key, 0.0)) / scale
        groups.append(group)
    return instantiate(dict(optimizer_cfg), _partial_=True)(params=groups, **(extra if weight_decay else {}))


class OneCycleLR(torch.optim.lr_scheduler.OneCycleLR):
    """torch's one-cycle schedule, holding the lr the cycle ends with after `total_steps` instead of raising: a run
    resumed with a larger `trainer.max_epochs` (its checkpoint keeps the cycle's length) trains on at that lr."""

    def get_lr(self) -> list[float]:
        steps, self.last_epoch = self.last_epoch, min(self.last_epoch, self.total_steps - 1)
        try:
            return super().get_lr()
        finally:
            self.last_epoch = steps


def build_scheduler(
    scheduler_cfg: Mapping[str, Any], optimizer: torch.optim.Optimizer, run_length: Callable[[str], int]
) -> dict[str, Any]:
    """Lightning's `lr_scheduler` dict for `scheduler_cfg`; `run_length(interval)` is the run's length in the
    scheduler's unit ("step" or "epoch"), asked only when an argument needs it."""
    sched = dict(scheduler_cfg)
    lightning_keys = {k: sched.pop(k) for k in LIGHTNING_SCHEDULER_KEYS if k in sched}
    interval = lightning_keys.setdefault("interval", "epoch")
    for key in RUN_LENGTH_KEYS:
        if key in sched and sched[key] is None:
            sched[key] = run_length(interval)
    scales = [group.get("lr_scale", 1.0) for group in optimizer.param_groups]
    if "max_lr" in sched and set(scales) != {1.0}:  # one-cycle: each group peaks at its lr_scale times the peak
        sched.update(max_lr=[sched["max_lr"] * scale for scale in scales], _convert_="all")
    scheduler = instantiate(sched, _partial_=True)(optimizer=optimizer)
    return {"scheduler": scheduler, **lightning_keys}


class EWMAMomentumSGD(torch.optim.SGD):
    """Momentum as the course notes write it, an exponentially weighted average of the gradients:
    V ← βV + (1−β)·dW, W ← W − α·V, with V starting at 0 (`optimizer=momentum_ewma`).

    torch's SGD with `dampening=β` does the same average, except that its first step sets V = dW (undamped);
    starting every velocity at zeros makes the first step (1−β)·dW too, so every step is the notes' formula.
    """

    def __init__(self, params: Any, lr: float = 0.01, beta: float = 0.9, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr=lr, momentum=beta, dampening=beta, weight_decay=weight_decay)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None and "momentum_buffer" not in self.state[p]:
                    self.state[p]["momentum_buffer"] = torch.zeros_like(p)
        return super().step(closure)


@torch.no_grad()
def apply_decoupled_decay(optimizer: torch.optim.Optimizer) -> None:
    """θ ← θ − lr·λ·θ for the param groups that carry our own `decoupled_decay` λ (before the optimizer's step)."""
    for group in optimizer.param_groups:
        decay = group.get("decoupled_decay", 0.0)
        if decay:
            # torch._foreach_mul_: one fused kernel for the whole group (private but stable; tested on torch 2.13.0).
            torch._foreach_mul_(group["params"], 1.0 - group["lr"] * decay)
