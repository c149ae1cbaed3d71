"""The exponentially weighted moving average of the training loss, with the notes' bias correction:

    v_t = β·v_{t−1} + (1 − β)·θ_t,   v_0 = 0,   reported as v_t / (1 − β^t)

Without the correction the first values are pulled towards v_0 = 0. The average is kept on the loss's device with
no host sync: each step's loss is only kept (a reference, no tensor op), and the steps kept are folded into v at
once when the average is read, v_t = β^k·v_{t−k} + Σ_i (1 − β)·β^(k−1−i)·θ_{t−k+1+i}, which is the recursion above
unrolled. It is read when logged (every `trainer.log_every_n_steps` steps, as `train/loss_ewma`, and its value at
each epoch's end) or when the progress bar redraws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import lightning as L
import torch
from torch import Tensor

from trainlab.callbacks.lean import LeanCallback

FOLD_EVERY = 256  # steps kept at most before they are folded in, however rarely the average is read


class EWMA:
    """v_t of a stream of scalar tensors, on their device; `value()` is the bias-corrected v_t / (1 − β^t)."""

    def __init__(self, beta: float) -> None:
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"diagnostics.ewma_beta={beta} must be in [0, 1)")
        self.beta = beta
        self.t = 0
        self._v: Tensor | None = None
        self._kept: list[Tensor] = []  # the steps not folded into _v yet, oldest first

    def update(self, x: Tensor) -> None:
        self._kept.append(x.detach())
        self.t += 1
        if len(self._kept) >= FOLD_EVERY:
            self._fold()

    def _fold(self) -> None:
        """v ← β^k·v + Σ (1 − β)·β^(k−1−i)·θ_i over the k kept values: one vectorized update."""
        if not self._kept:
            return
        xs = torch.stack(self._kept).float()
        k = len(self._kept)
        powers = torch.arange(k - 1, -1, -1, dtype=torch.float64)
        weights = ((1.0 - self.beta) * self.beta**powers).to(device=xs.device, dtype=xs.dtype)
        folded = (weights * xs).sum()
        self._v = folded if self._v is None else self._v * self.beta**k + folded
        self._kept = []

    @property
    def v(self) -> Tensor | None:
        """v_t, the average before the bias correction (None before the first update)."""
        self._fold()
        return self._v

    def value(self) -> Tensor | None:
        """The bias-corrected average (a tensor on the device), or None before the first update."""
        v = self.v
        if v is None:
            return None
        return v / (1.0 - self.beta**self.t)


def ewma_series(values: Iterable[float], beta: float) -> list[float]:
    """The bias-corrected averages of a whole sequence (for tests and plots)."""
    ewma, out = EWMA(beta), []
    for x in values:
        ewma.update(torch.tensor(float(x)))
        out.append(float(ewma.value()))
    return out


def should_log(trainer: L.Trainer) -> bool:
    """Whether Lightning sends step metrics to the loggers after this training batch (`log_every_n_steps`).
    Lightning keeps this on a private attribute; only its public result is used."""
    return bool(trainer._logger_connector.should_update_logs)


class LossEWMA(LeanCallback):
    """Logs `train/loss_ewma` every `log_every_n_steps` steps; `beta=null` turns it off. The progress bar
    (`trainlab.callbacks.progress`) shows it too."""

    def __init__(self, beta: float | None = 0.98) -> None:
        self.beta = beta
        self.ewma = EWMA(beta) if beta is not None else None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.beta is not None:
            self.ewma = EWMA(self.beta)  # each fit starts over (a resumed run too: its first values are corrected)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.ewma is None:
            return
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if not isinstance(loss, Tensor):
            return
        self.ewma.update(loss)
        if should_log(trainer):
            pl_module.log("train/loss_ewma", self.ewma.value(), on_step=True, on_epoch=False)

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        # The epoch's last value too, so every epoch has one (metrics.json, EarlyStopping), whatever the steps.
        value = self.ewma.value() if self.ewma is not None else None
        if value is not None:
            pl_module.log("train/loss_ewma", value, on_step=False, on_epoch=True)

    def value(self) -> float | None:
        """The current average as a number (one host sync): for the progress bar's redraws."""
        value = self.ewma.value() if self.ewma is not None else None
        return float(value) if value is not None else None
