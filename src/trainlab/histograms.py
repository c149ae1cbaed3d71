"""Weight and gradient histograms in TensorBoard every `histogram_freq` epochs (Keras' `TensorBoard(histogram_freq=1)`).

Works on whichever TensorBoard loggers the run has (`logger=tensorboard` or `logger=many`) and does nothing
otherwise. It runs once per chosen epoch, after the epoch's last optimizer step, so it costs nothing per step;
the gradients shown are those of that last step.
"""

from __future__ import annotations

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import TensorBoardLogger


class WeightHistograms(Callback):
    """Histograms `weights/<param>` and `gradients/<param>`; `histogram_freq=0` turns them off."""

    def __init__(self, histogram_freq: int = 1) -> None:
        if histogram_freq < 0:
            raise ValueError(f"histogram_freq must be >= 0, got {histogram_freq}")
        self.histogram_freq = histogram_freq

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self.histogram_freq or (trainer.current_epoch + 1) % self.histogram_freq:
            return
        writers = [lg.experiment for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)]
        if not writers or not trainer.is_global_zero:
            return
        step = trainer.global_step
        for name, param in pl_module.named_parameters():
            name = name.removeprefix("net.")
            weights = param.detach().float().cpu()
            grad = param.grad.detach().float().cpu() if param.grad is not None else None
            for writer in writers:
                writer.add_histogram(f"weights/{name}", weights, step)
                if grad is not None:
                    writer.add_histogram(f"gradients/{name}", grad, step)
