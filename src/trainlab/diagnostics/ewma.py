"""The exponentially weighted moving average of the training loss, with the notes' bias correction:

    v_t = β·v_{t−1} + (1 − β)·θ_t,   v_0 = 0,   reported as v_t / (1 − β^t)

Without the correction the first values are pulled towards v_0 = 0. The average is kept on the loss's device
(one in-place `lerp_` per step: no host sync); it is read only when logged (every `trainer.log_every_n_steps`
steps, as `train/loss_ewma`, and its value at each epoch's end) or when the progress bar redraws.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import lightning as L
import torch
from torch import Tensor

from trainlab.callbacks.lean import LeanCallback


class EWMA:
    """v_t of a stream of scalar tensors, on their device; `value()` is the bias-corrected v_t / (1 − β^t)."""

    def __init__(self, beta: float) -> None:
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"diagnostics.ewma_beta={beta} must be in [0, 1)")
        self.beta = beta
        self.t = 0
        self.v: Tensor | None = None

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        x = x.detach().float()
        if self.v is None:
            self.v = torch.zeros_like(x)
        self.v.lerp_(x, 1.0 - self.beta)  # v + (1 − β)(x − v) = βv + (1 − β)x
        self.t += 1

    def value(self) -> Tensor | None:
        """The bias-corrected average (a tensor on the device), or None before the first update."""
        if self.v is None:
            return None
        return self.v / (1.0 - self.beta**self.t)


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
