"""Gradient flow: per-layer gradient norms and update/weight ratios, recorded every `every_n_steps` optimizer steps
and on the first step of each epoch.

On a recording step the gradient norms are taken just before the optimizer step and the weights are copied; after
the step the update/weight ratio ‖Δw‖/‖w‖ of each layer follows (the notes' rule of thumb: about 1e-3). The values
stay on the device until the epoch ends: then they are read once, logged per layer (`gradients/<layer>/norm`,
`gradients/<layer>/update_ratio`, at their steps) and checked:

- vanishing: the first layer's gradient norm is below `vanishing_ratio` × the last layer's;
- exploding: the first layer's is above 1 / `vanishing_ratio` × the last layer's, or the global norm has grown
  to `exploding_factor` × its first recorded value (or is not finite).

Each warning is one line, given once. Per epoch, the mean global gradient norm and update ratio of the recorded
steps are logged as `train/grad_norm` and `train/update_ratio` (EarlyStopping can monitor them). Steps that do not
record cost one integer comparison. `gradients.png` is drawn at the end of fit.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn

from trainlab.diagnostics import plots
from trainlab.diagnostics.fit_record import FitRecord

log = logging.getLogger(__name__)


def weight_layers(net: nn.Module) -> list[tuple[str, Tensor]]:
    """(name, weight) of each Linear and Conv layer, first to last (norm layers' scales are not layers here)."""
    kinds = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
    return [(name or "net", m.weight) for name, m in net.named_modules() if isinstance(m, kinds)]


def flow_problem(first: float, last: float, ratio: float) -> str | None:
    """'vanishing' or 'exploding' when the first layer's gradient norm is orders of magnitude off the last's."""
    if last > 0 and first < ratio * last:
        return "vanishing"
    if first > 0 and last < ratio * first:
        return "exploding"
    return None


class GradientFlow(FitRecord):
    """Record every `every_n_steps` optimizer steps (0: off); warn about vanishing or exploding gradients."""

    def __init__(self, every_n_steps: int = 50, vanishing_ratio: float = 1e-3, exploding_factor: float = 1e3) -> None:
        if every_n_steps < 0:
            raise ValueError(f"diagnostics.gradients.every_n_steps must be >= 0, got {every_n_steps}")
        self.every_n_steps = every_n_steps
        self.vanishing_ratio, self.exploding_factor = vanishing_ratio, exploding_factor
        self.layers: list[str] = []
        self.steps: list[int] = []  # recorded optimizer steps, over the whole fit
        self.norms: list[list[float]] = []  # per recorded step: each layer's gradient norm
        self.ratios: list[list[float]] = []  # per recorded step: each layer's ‖Δw‖/‖w‖
        self._pending: list[tuple[int, Tensor, Tensor]] = []  # this epoch's records, still on the device
        self._before: list[Tensor] | None = None  # the weights copied before a recording step
        self._grad_norm: Tensor | None = None
        self._layer_norms: Tensor | None = None
        self._first_norm: float | None = None
        self._warned: set[str] = set()
        self._epoch_recorded = False

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.layers = [name for name, _ in weight_layers(net_of(pl_module))]

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._epoch_recorded = False  # every epoch records its first step, so each has its train/grad_norm

    def on_before_optimizer_step(self, trainer: L.Trainer, pl_module: L.LightningModule, optimizer: Any) -> None:
        if not self.every_n_steps or (self._epoch_recorded and trainer.global_step % self.every_n_steps):
            return
        self._epoch_recorded = True
        weights = [w for _, w in weight_layers(net_of(pl_module))]
        if not weights or any(w.grad is None for w in weights):
            return
        with torch.no_grad():
            grads = [p.grad for p in pl_module.parameters() if p.grad is not None]
            self._grad_norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
            self._layer_norms = torch.stack([torch.linalg.vector_norm(w.grad) for w in weights])
            self._before = [w.detach().clone() for w in weights]

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._before is None:
            return
        weights = [w for _, w in weight_layers(net_of(pl_module))]
        with torch.no_grad():
            deltas = torch.stack([torch.linalg.vector_norm(w - b) for w, b in zip(weights, self._before, strict=True)])
            sizes = torch.stack([torch.linalg.vector_norm(b) for b in self._before])
            ratios = deltas / sizes.clamp_min(1e-12)
            total = deltas.square().sum().sqrt() / sizes.square().sum().sqrt().clamp_min(1e-12)
            record = torch.cat([self._grad_norm.reshape(1), total.reshape(1), self._layer_norms, ratios])
        self._pending.append((trainer.global_step, record))
        self._before = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._pending:
            return
        steps = [step for step, _ in self._pending]
        rows = torch.stack([record for _, record in self._pending]).double().cpu().tolist()  # the one host sync
        self._pending = []
        n = len(self.layers)
        global_norms = [row[0] for row in rows]
        for step, row in zip(steps, rows, strict=True):
            self.steps.append(step)
            self.norms.append(row[2 : 2 + n])
            self.ratios.append(row[2 + n :])
        pl_module.log("train/grad_norm", sum(global_norms) / len(rows))
        pl_module.log("train/update_ratio", sum(row[1] for row in rows) / len(rows))
        self.log_layers(trainer, steps, rows)
        if trainer.is_global_zero:
            self.check(global_norms)

    def log_layers(self, trainer: L.Trainer, steps: list[int], rows: list[list[float]]) -> None:
        """Per-layer values to the loggers only (not to metrics.json: they would crowd it)."""
        if not trainer.loggers:
            return
        n = len(self.layers)
        for step, row in zip(steps, rows, strict=True):
            values = {}
            for i, layer in enumerate(self.layers):
                values[f"gradients/{layer}/norm"] = row[2 + i]
                values[f"gradients/{layer}/update_ratio"] = row[2 + n + i]
            for logger in trainer.loggers:
                logger.log_metrics(values, step=step)

    def check(self, global_norms: list[float]) -> None:
        """Warn (once each) about vanishing or exploding gradients in the latest records."""
        if self._first_norm is None:
            self._first_norm = global_norms[0]
        first, last = self.norms[-1][0], self.norms[-1][-1]
        problem = flow_problem(first, last, self.vanishing_ratio) if len(self.layers) > 1 else None
        if problem and problem not in self._warned:
            self._warned.add(problem)
            fix = (
                "try init=he or init=xavier, a ReLU-family activation, or regularization=batchnorm"
                if problem == "vanishing"
                else "try a lower optimizer.lr, trainer.gradient_clip_val=1.0, or regularization=batchnorm"
            )
            log.warning(
                f"{problem} gradients: the first layer's gradient norm ({self.layers[0]}: {first:.2e}) is "
                f"{first / last if last else float('inf'):.1e}× the last layer's ({self.layers[-1]}: {last:.2e}); "
                f"{fix}"
            )
        latest = global_norms[-1]
        grown = self._first_norm and latest > self.exploding_factor * self._first_norm
        if (grown or not math.isfinite(latest)) and "growing" not in self._warned:
            self._warned.add("growing")
            log.warning(
                f"exploding gradients: the global gradient norm grew from {self._first_norm:.2e} to {latest:.2e} "
                f"(over {self.exploding_factor:g}×); try a lower optimizer.lr or trainer.gradient_clip_val=1.0"
            )

    def state_dict(self) -> dict[str, Any]:
        """The records so far, in checkpoints: a resumed run's gradients.png goes on from them."""
        return {"steps": self.steps, "norms": self.norms, "ratios": self.ratios, "first_norm": self._first_norm}

    def restore(self, state_dict: dict[str, Any]) -> None:
        self.steps, self.norms = list(state_dict.get("steps", [])), list(state_dict.get("norms", []))
        self.ratios, self._first_norm = list(state_dict.get("ratios", [])), state_dict.get("first_norm")

    @property
    def warnings(self) -> set[str]:
        """The problems warned about so far: 'vanishing', 'exploding', 'growing'."""
        return set(self._warned)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.steps and trainer.is_global_zero:
            norms, ratios = [list(row) for row in self.norms], [list(row) for row in self.ratios]
            path = Path(trainer.default_root_dir) / "gradients.png"
            plots.write(path, plots.gradient_flow, list(self.steps), list(self.layers), norms, ratios)


def net_of(pl_module: L.LightningModule) -> nn.Module:
    """The net inside the LightningModule (the Classifier's `net`), or the module itself."""
    net = getattr(pl_module, "net", None)
    return net if isinstance(net, nn.Module) else pl_module
