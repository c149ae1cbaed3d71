"""Weight, gradient and activation histograms in TensorBoard every `histogram_freq` epochs (Keras'
`TensorBoard(histogram_freq=1)`).

Works on whichever TensorBoard loggers the run has (`logger=tensorboard` or `logger=many`) and does nothing
otherwise. The gradients are those of the epoch's last batch, copied just before its optimizer step (Lightning
clears them afterwards); the activations are the outputs of each activation layer on that batch (forward hooks
attached for that batch only); the weights are read at the end of the epoch. Other steps cost one integer
comparison, and a run without a TensorBoard logger none: its batch hooks are switched off at setup.
"""

from __future__ import annotations

import lightning as L
import torch
from lightning.pytorch.loggers import TensorBoardLogger

from trainlab.callbacks.lean import LeanCallback
from trainlab.diagnostics.activations import ActivationHooks, last_batch
from trainlab.diagnostics.gradients import net_of

BATCH_HOOKS_USED = ("on_train_batch_start", "on_train_batch_end", "on_before_optimizer_step")


class WeightHistograms(LeanCallback):
    """Histograms `weights/<param>`, `gradients/<param>` and `activations/<layer>`; `histogram_freq=0` turns them
    off."""

    def __init__(self, histogram_freq: int = 1) -> None:
        if histogram_freq < 0:
            raise ValueError(f"histogram_freq must be >= 0, got {histogram_freq}")
        self.histogram_freq = histogram_freq
        self._grads: dict[str, torch.Tensor] = {}
        self._activations: dict[str, torch.Tensor] = {}
        self._hooks: ActivationHooks | None = None

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        # Nothing to record (no TensorBoard logger, or histogram_freq=0): the batch hooks are None for this run, so
        # Lightning does not call them (`callbacks/lean.py`); with one they are the class's methods again.
        idle = not self.histogram_freq or not any(isinstance(lg, TensorBoardLogger) for lg in trainer.loggers)
        for hook in BATCH_HOOKS_USED:
            if idle:
                setattr(self, hook, None)
            else:
                self.__dict__.pop(hook, None)

    def _active(self, trainer: L.Trainer) -> bool:
        return (
            bool(self.histogram_freq)
            and (trainer.current_epoch + 1) % self.histogram_freq == 0
            and trainer.is_global_zero
            and any(isinstance(lg, TensorBoardLogger) for lg in trainer.loggers)
        )

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        if last_batch(trainer, batch_idx) and self._active(trainer):
            self._hooks = ActivationHooks(net_of(pl_module), self._record_activation)

    def _record_activation(self, name: str, module: torch.nn.Module, output: torch.Tensor) -> None:
        self._activations[name] = output.detach().float().cpu()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs, batch, batch_idx) -> None:
        if self._hooks is not None:
            self._hooks.remove()
            self._hooks = None

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer) -> None:
        batches_done = trainer.fit_loop.epoch_loop.batch_progress.current.ready
        if batches_done != trainer.num_training_batches or not self._active(trainer):
            return
        self._grads = {
            name: param.grad.detach().float().cpu()
            for name, param in pl_module.named_parameters()
            if param.grad is not None
        }

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._active(trainer):
            return
        writers = [lg.experiment for lg in trainer.loggers if isinstance(lg, TensorBoardLogger)]
        step = trainer.global_step
        for name, param in pl_module.named_parameters():
            short = name.removeprefix("net.")
            weights = param.detach().float().cpu()
            for writer in writers:
                writer.add_histogram(f"weights/{short}", weights, step)
                if name in self._grads:
                    writer.add_histogram(f"gradients/{short}", self._grads[name], step)
        for name, outputs in self._activations.items():
            for writer in writers:
                writer.add_histogram(f"activations/{name}", outputs, step)
        self._grads, self._activations = {}, {}
