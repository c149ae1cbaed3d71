"""airbench's lookahead: a slow copy of the weights that the fast (trained) weights are pulled back to.

Every `every` optimizer steps the slow copy moves towards the fast weights, slow ← decay·slow + (1 − decay)·fast,
and the fast weights are reset to it; `decay = base^every · (step / total)³` grows from 0 (the slow copy simply
follows) to base^every at the end of the run, so late, noisy steps are averaged. After the last step the net keeps
the slow weights. Batch norm's running statistics are averaged alike. Switched on in an experiment with
`+callbacks.lookahead._target_=trainlab.callbacks.lookahead.Lookahead` (conf/experiment/cifar10_94.yaml).
"""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import Tensor

from trainlab.callbacks.lean import LeanCallback


class Lookahead(LeanCallback):
    def __init__(self, every: int = 5, base: float = 0.95) -> None:
        if every < 1 or not 0 <= base < 1:
            raise ValueError(f"lookahead every={every} must be ≥ 1 and base={base} in [0, 1)")
        self.every, self.base = every, base
        self.slow: dict[str, Tensor] = {}
        self.fast: dict[str, Tensor] = {}

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # Views of the net's floating-point state (weights, biases, BN running statistics), taken once: the same
        # tensors are updated in place for the whole fit, so no state dict is built on the training path.
        self.fast = {k: v for k, v in pl_module.state_dict(keep_vars=False).items() if v.is_floating_point()}
        if not self.slow:  # a resumed run keeps the slow weights its checkpoint stored
            self.slow = {k: v.detach().clone() for k, v in self.fast.items()}
        else:
            self.slow = {k: v.to(self.fast[k].device) for k, v in self.slow.items()}

    @torch.no_grad()
    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any) -> None:
        step, total = trainer.global_step, trainer.estimated_stepping_batches
        if step % self.every == 0:
            decay = self.base**self.every * (step / total) ** 3
            for name, fast in self.fast.items():
                self.slow[name].lerp_(fast, 1 - decay)
                fast.copy_(self.slow[name])
        elif step >= total:  # the last step: the net ends on the slow weights
            for name, fast in self.fast.items():
                fast.copy_(self.slow[name])

    def state_dict(self) -> dict[str, Any]:
        return {"slow": {k: v.cpu() for k, v in self.slow.items()}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.slow = dict(state_dict["slow"])
