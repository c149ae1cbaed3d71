"""Metrics: cheap device sums for the training step, a torchmetrics `MetricCollection` for evaluation.

Training: torchmetrics costs a few hundred microseconds of Python per update; on a small MLP that is a large
share of the step. `EpochMeans` keeps each step's loss and correct count on the device and folds them into running
sums now and then (no host sync), and the sums are read (and, under DDP, summed across processes) once per epoch.

Evaluation (val/test): the `metrics` config group names torchmetrics classes by `_target_`, one entry per metric,
so per-class accuracy, F1 or a confusion matrix is one config line. Each `task` has its own option
(conf/metrics/<task>.yaml, chosen with the task), fed the task's probabilities (`Task.metric_inputs`). Each is
logged as `<stage>/<name>`; a metric with a vector or matrix value (per-class accuracy, a confusion matrix) as
`<stage>/<name>/<i>` or `<stage>/<name>/<i>_<j>`. torchmetrics sums its states across DDP processes itself
when computing.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import torch
from hydra.utils import get_class, instantiate
from torch import Tensor
from torchmetrics import MetricCollection
from torchmetrics.classification import BinaryAccuracy
from torchmetrics.regression import MeanSquaredError

FOLD_EVERY = 256  # training steps kept at most before `EpochMeans` adds them to its sums

# What `conf/metrics/default.yaml` holds: the metrics of a checkpoint saved without a `metrics` config.
DEFAULT_METRICS = {"acc": {"_target_": "torchmetrics.classification.MulticlassAccuracy", "average": "micro"}}


def multiclass_correct(logits: Tensor, target: Tensor) -> Tensor:
    return (logits.argmax(dim=1) == target).sum()


class EpochMeans(torch.nn.Module):
    """Running sums of (Σ loss·n, Σ correct, Σ n, Σ penalty, steps) over one epoch of training.

    `correct(logits, target)` counts a batch's right answers (the task's, `Task.correct`); None: the task has no
    accuracy (regression) and `compute` reports none. A step only keeps its detached loss (and correct count and
    penalty): every `FOLD_EVERY` steps, and when read, they are folded into the sums in a few vectorized ops, which
    costs a step ~15 µs of Python where building and adding a row of five each step cost ~50 µs.
    """

    def __init__(self, correct: Callable[[Tensor, Tensor], Tensor] | None = multiclass_correct) -> None:
        super().__init__()
        self.correct = correct
        # A plain attribute, not a buffer: DDP broadcasts buffers from rank zero before each forward, which would
        # overwrite every other rank's sums. It follows the data's device on the first update.
        self.sums = torch.zeros(5, dtype=torch.float64)
        self._clear_kept()

    def _clear_kept(self) -> None:
        self._losses: dict[int, list[Tensor]] = {}  # batch size → the losses of the kept steps of that size
        self._correct: list[Tensor] = []
        self._penalties: list[Tensor] = []
        self._n = self._steps = 0  # examples and steps kept: Python ints, no device op per step

    def update(self, loss: Tensor, logits: Tensor, target: Tensor, penalty: Tensor | None = None) -> None:
        # No `torch.no_grad()` around this (~3 µs a step): everything kept is detached instead.
        if self.sums.device != target.device:
            self.sums = self.sums.to(target.device)
        n = len(target)
        self._losses.setdefault(n, []).append(loss.detach())
        if self.correct is not None:
            self._correct.append(self.correct(logits, target).detach())
        if penalty is not None:
            self._penalties.append(penalty.detach())
        self._n += n
        self._steps += 1
        if self._steps >= FOLD_EVERY:
            self._fold()

    def _fold(self) -> None:
        """Add the kept steps to the sums, on the device (a batch size multiplies as a Python number: no copy)."""
        if not self._steps:
            return
        zero = self.sums.new_zeros(())
        loss_n = sum((torch.stack(losses).double().sum() * n for n, losses in self._losses.items()), zero)
        correct = torch.stack(self._correct).double().sum() if self._correct else zero
        penalty = torch.stack(self._penalties).double().sum() if self._penalties else zero
        self.sums += torch.stack([loss_n, correct, zero + self._n, penalty, zero + self._steps])
        self._clear_kept()

    def compute(self, reduce: Callable[[Tensor], Tensor] | None = None) -> dict[str, Tensor]:
        """Means over the epoch; `reduce` (e.g. the strategy's sum across processes) runs on the sums first."""
        self._fold()
        sums = reduce(self.sums) if reduce is not None else self.sums
        loss_n, correct, n, penalty, steps = sums.unbind()
        means = {"loss": (loss_n / n).float(), "penalty": (penalty / steps).float()}
        if self.correct is not None:
            means["acc"] = (correct / n).float()
        return means

    def reset(self) -> None:
        self.sums.zero_()
        self._clear_kept()


def build_metrics(
    specs: Mapping[str, Any] | None, num_classes: int, target_mean: list[float] | None = None
) -> MetricCollection:
    """The evaluation metrics of the `metrics` config (None: `DEFAULT_METRICS`). The data set's class (or label)
    count and the training split's mean target are passed to every metric that takes them (`num_classes`,
    `num_labels`, `target_mean`) and does not set them, so configs need not repeat what the data says."""
    known = {"num_classes": num_classes, "num_labels": num_classes, "target_mean": target_mean}
    metrics = {}
    for name, spec in (DEFAULT_METRICS if specs is None else specs).items():
        if spec is None:  # `metrics.acc=null` drops a metric
            continue
        takes = inspect.signature(get_class(spec["_target_"])).parameters
        extra = {key: value for key, value in known.items() if key in takes and key not in spec}
        metrics[name] = instantiate(dict(spec), **extra)
    return MetricCollection(metrics)


class MeanPredictorRMSE(MeanSquaredError):
    """The RMSE of always predicting the training split's mean target (`target_mean`), whatever the model says:
    the baseline a regression must beat, logged beside the model's own RMSE."""

    def __init__(self, target_mean: list[float] | None = None, **kwargs: Any) -> None:
        super().__init__(squared=False, **kwargs)
        if target_mean is None:
            raise ValueError("MeanPredictorRMSE needs the training mean: the data set gives none (not a regression)")
        self.register_buffer("mean", torch.tensor(target_mean, dtype=torch.float32))

    def update(self, preds: Tensor, target: Tensor) -> None:
        super().update(self.mean.to(target.dtype).expand_as(target).contiguous(), target)


class RoundedAccuracy(BinaryAccuracy):
    """Accuracy of a regression to [0, 1]: predictions and targets both rounded at 0.5, then compared."""

    def update(self, preds: Tensor, target: Tensor) -> None:
        super().update(preds, (target >= 0.5).long())


def scalars(stage: str, values: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """Loggable scalars named `<stage>/<name>`; a vector or matrix value gives one per entry (`/<i>`, `/<i>_<j>`)."""
    out = {}
    for name, value in values.items():
        value = value.float()  # counts (a confusion matrix) too: Lightning logs floats
        if value.ndim == 0:
            out[f"{stage}/{name}"] = value
            continue
        for index in itertools.product(*(range(size) for size in value.shape)):
            out[f"{stage}/{name}/{'_'.join(map(str, index))}"] = value[index]
    return out
