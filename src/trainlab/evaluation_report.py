"""Per-class results at test time: per-class accuracy, macro F1 and the confusion matrix (torchmetrics), written to
`metrics.json` and `<run dir>/confusion.png`, and the most confused class pairs named in the final summary.

`PerClassReport` is a Lightning callback: it updates torchmetrics' Multiclass* metrics with the logits the
Classifier's `test_step` returns (on the device, summed across processes when computed), so a test pass costs no
extra forward. Multi-class classifiers only: for another task it says so once and reports nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import lightning as L
from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.classification import MulticlassAccuracy, MulticlassConfusionMatrix, MulticlassF1Score

from trainlab.callbacks.lean import LeanCallback

log = logging.getLogger(__name__)

CONFUSION_PNG = "confusion.png"
WORST_PAIRS = 3  # confused pairs named in the summary


def class_names(datamodule: Any, num_classes: int) -> list[str]:
    """The data module's class names (`classes`) when it has one per class, else the class indices."""
    names = getattr(datamodule, "classes", None)
    if names is not None and len(names) == num_classes:
        return [str(name) for name in names]
    return [str(i) for i in range(num_classes)]


def model_task(model: Any) -> str:
    """The model's task ("multiclass" for today's Classifier; a `task` hyperparameter or attribute otherwise)."""
    hparams = getattr(model, "hparams", {}) or {}
    task = hparams.get("task") if isinstance(hparams, Mapping) else None
    task = task if task is not None else getattr(model, "task", None)
    if isinstance(task, Mapping):
        task = task.get("name") or task.get("task")
    return str(task) if task else "multiclass"


def per_class_metrics(num_classes: int) -> MetricCollection:
    """torchmetrics' per-class accuracy (recall of each class), macro F1 and confusion matrix (rows: true class)."""
    return MetricCollection(
        {
            "acc_per_class": MulticlassAccuracy(num_classes, average=None),
            "f1_macro": MulticlassF1Score(num_classes, average="macro"),
            "confusion": MulticlassConfusionMatrix(num_classes),
        }
    )


def worst_confused(confusion: Tensor, names: Sequence[str], count: int = WORST_PAIRS) -> list[tuple[str, str, int]]:
    """The `count` largest off-diagonal entries of a confusion matrix: (true class, predicted class, samples)."""
    off = confusion.clone().long()
    off.fill_diagonal_(0)
    values, flat = off.flatten().topk(min(count, off.numel()))
    k = off.shape[1]
    return [(names[i // k], names[i % k], int(v)) for v, i in zip(values.tolist(), flat.tolist(), strict=True) if v > 0]


def report(results: Mapping[str, Tensor], names: Sequence[str], prefix: str = "test") -> dict[str, Any]:
    """The computed per-class metrics as metrics.json entries (plain numbers, per-class values keyed by name)."""
    confusion = results["confusion"].long().cpu()
    pairs = worst_confused(confusion, names)
    return {
        f"{prefix}/f1_macro": float(results["f1_macro"]),
        f"{prefix}/acc_per_class": dict(zip(names, results["acc_per_class"].tolist(), strict=True)),
        f"{prefix}/class_counts": dict(zip(names, confusion.sum(dim=1).tolist(), strict=True)),
        f"{prefix}/confusion_matrix": {"classes": list(names), "rows_true_cols_predicted": confusion.tolist()},
        f"{prefix}/worst_confused": ", ".join(f"{t}→{p} ({n})" for t, p, n in pairs) or "none",
    }


def plot_confusion(confusion: Tensor, names: Sequence[str], path: Path, title: str = "test confusion matrix") -> None:
    """A confusion-matrix heat map, each row as shares of its true class, the mistakes' counts written in."""
    from trainlab.diagnostics import plots

    plots.write(path, plots.confusion, confusion.tolist(), list(names), title)


class PerClassReport(LeanCallback):
    """Per-class accuracy, macro F1 and the confusion matrix of each test pass; `confusion.png` in the run dir.

    After `trainer.test`, `results` holds the metrics.json entries (empty for a task other than multi-class);
    `enabled=False` (an ensemble's members) skips it.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.metrics: MetricCollection | None = None
        self.results: dict[str, Any] = {}

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.results, self.metrics = {}, None
        if not self.enabled:
            return
        task = model_task(pl_module)
        if task != "multiclass":
            log.info(f"per-class report skipped: it is for multi-class classifiers (this model's task: {task})")
            return
        self.metrics = per_class_metrics(int(pl_module.hparams["num_classes"])).to(pl_module.device)

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        if self.metrics is not None and isinstance(outputs, Mapping):
            self.metrics.update(outputs["logits"].detach(), outputs["target"])

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.metrics is None:
            return
        results = self.metrics.compute()  # summed across processes
        self.metrics.reset()
        pl_module.log("test/f1_macro", results["f1_macro"])  # to the loggers too
        names = class_names(trainer.datamodule, int(pl_module.hparams["num_classes"]))
        self.results = report(results, names)
        if trainer.is_global_zero:
            plot_confusion(results["confusion"], names, Path(trainer.default_root_dir) / CONFUSION_PNG)


def per_class_results(trainer: L.Trainer) -> dict[str, Any]:
    """The metrics.json entries of the trainer's last test pass (empty without a PerClassReport)."""
    found = [cb for cb in trainer.callbacks if isinstance(cb, PerClassReport)]
    return dict(found[0].results) if found else {}
