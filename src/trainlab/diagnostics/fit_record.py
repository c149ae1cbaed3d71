"""The base of the monitors whose state is the record of a fit (the learning curves' history, the gradient and
activation statistics): checkpoints carry it so that a resumed fit goes on from it.

Lightning restores every callback's state whenever a checkpoint is loaded, also for the final test of the best
checkpoint, whose record ends at the best epoch: the epochs after it would vanish from `metrics.json` and the plots.
So the record is restored only when a fit starts from the checkpoint.
"""

from __future__ import annotations

from typing import Any

import lightning as L

from trainlab.callbacks.lean import LeanCallback


class FitRecord(LeanCallback):
    """`restore(state_dict)` when a fit loads a checkpoint; nothing when a test, validation or predict does."""

    _stage: str | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._stage = stage  # Lightning calls setup before it restores a checkpoint's callback states

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if self._stage in (None, "fit"):
            self.restore(state_dict)

    def restore(self, state_dict: dict[str, Any]) -> None:
        raise NotImplementedError
