"""Activation monitor: per-layer mean, std and saturation of the activation functions' outputs.

Saturation depends on the activation: for sigmoid and tanh the share of outputs within `margin` of their flat
ends (sigmoid: < margin or > 1 − margin; tanh: |y| > 1 − margin), where the gradient all but vanishes; for the
ReLU family (relu, leaky_relu, elu, gelu, silu) the share of dead units: units whose output is ≤ 0 for every
example of the batch (a Conv unit is a channel, over all positions). Maxout and others get mean and std only.

Forward hooks are attached for one batch only, the last training batch of every `every_n_epochs`-th epoch, and
removed right after it: every other step runs without hooks. The statistics stay on the device until the epoch
ends. They are logged (`activations/<layer>/mean`, `…/std`, `…/saturated`) to the loggers, and drawn at the end of
fit in `activations.png`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from trainlab.diagnostics import plots
from trainlab.diagnostics.fit_record import FitRecord
from trainlab.diagnostics.gradients import net_of
from trainlab.models.activations import Maxout

SQUASHING = (nn.Sigmoid, nn.Tanh)
RELU_FAMILY = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.SiLU)
ACTIVATIONS = (*SQUASHING, *RELU_FAMILY, Maxout, nn.Softplus, nn.Hardtanh, nn.Mish)


def activation_layers(net: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of each activation function module, first to last."""
    return [(name, m) for name, m in net.named_modules() if isinstance(m, ACTIVATIONS)]


@torch.no_grad()
def activation_stats(module: nn.Module, y: Tensor, margin: float = 0.05) -> Tensor:
    """[mean, std, saturated share] of one activation's output batch `y` (NaN share: not defined for it)."""
    y = y.detach().float()
    if isinstance(module, nn.Sigmoid):
        saturated = ((y < margin) | (y > 1 - margin)).float().mean()
    elif isinstance(module, nn.Tanh):
        saturated = (y.abs() > 1 - margin).float().mean()
    elif isinstance(module, RELU_FAMILY):
        units = y.transpose(0, 1).reshape(y.shape[1], -1) if y.ndim > 1 else y.reshape(1, -1)
        saturated = (units <= 0).all(dim=1).float().mean()  # dead: never positive on this batch
    else:
        saturated = torch.full((), float("nan"), device=y.device)
    return torch.stack([y.mean(), y.std(), saturated])


class ActivationHooks:
    """Forward hooks on a net's activation layers that call `record(name, module, output)`; `remove()` them."""

    def __init__(self, net: nn.Module, record: Any) -> None:
        self.handles = [
            module.register_forward_hook(lambda m, _inputs, output, name=name: record(name, m, output))
            for name, module in activation_layers(net)
        ]

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()
        self.handles = []


def last_batch(trainer: L.Trainer, batch_idx: int) -> bool:
    return batch_idx + 1 == trainer.num_training_batches


class ActivationMonitor(FitRecord):
    """Record activation statistics every `every_n_epochs` epochs (0: off), on the epoch's last training batch."""

    def __init__(self, every_n_epochs: int = 1, saturation_margin: float = 0.05) -> None:
        if every_n_epochs < 0:
            raise ValueError(f"diagnostics.activations.every_n_epochs must be >= 0, got {every_n_epochs}")
        self.every_n_epochs, self.margin = every_n_epochs, saturation_margin
        self.layers: list[str] = []
        self.epochs: list[int] = []
        self.stats: list[dict[str, list[float]]] = []  # per recorded epoch: mean, std, saturated per layer
        self._hooks: ActivationHooks | None = None
        self._pending: dict[str, Tensor] = {}

    def recording(self, trainer: L.Trainer) -> bool:
        return bool(self.every_n_epochs) and (trainer.current_epoch + 1) % self.every_n_epochs == 0

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if last_batch(trainer, batch_idx) and self.recording(trainer):
            self._pending = {}
            self._hooks = ActivationHooks(net_of(pl_module), self._record)

    def _record(self, name: str, module: nn.Module, output: Tensor) -> None:
        self._pending[name] = activation_stats(module, output, self.margin)

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._hooks is not None:
            self._hooks.remove()
            self._hooks = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._pending:
            return
        self.layers = list(self._pending)
        values = torch.stack(list(self._pending.values())).double().cpu().tolist()  # the one host sync
        self._pending = {}
        stats = {key: [row[i] for row in values] for i, key in enumerate(("mean", "std", "saturated"))}
        self.epochs.append(trainer.current_epoch + 1)
        self.stats.append(stats)
        logged = {
            f"activations/{layer}/{key}": stats[key][i]
            for i, layer in enumerate(self.layers)
            for key in stats
            if stats[key][i] == stats[key][i]  # not NaN
        }
        for logger in trainer.loggers:
            logger.log_metrics(logged, step=trainer.global_step)

    def state_dict(self) -> dict[str, Any]:
        """The statistics so far, in checkpoints: a resumed run's activations.png goes on from them."""
        return {"layers": self.layers, "epochs": self.epochs, "stats": self.stats}

    def restore(self, state_dict: dict[str, Any]) -> None:
        self.layers, self.epochs = list(state_dict.get("layers", [])), list(state_dict.get("epochs", []))
        self.stats = list(state_dict.get("stats", []))

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._hooks is not None:  # fit stopped inside a recorded batch
            self._hooks.remove()
            self._hooks = None
        if self.stats and trainer.is_global_zero:
            stats = [{key: list(values) for key, values in epoch.items()} for epoch in self.stats]
            path = Path(trainer.default_root_dir) / "activations.png"
            plots.write(path, plots.activations, list(self.epochs), list(self.layers), stats)
