"""The `task` group's rules, torch-free: the course's table, which data and models fit a task, what a run logs.

The table (conf/task/<name>.yaml each set one row; `trainlab.tasks.Task` does the computing):

| task               | output units      | activation | loss (on the logits)         | metrics                     |
|--------------------|-------------------|------------|------------------------------|-----------------------------|
| multiclass         | one per class     | softmax    | cross-entropy                | accuracy                    |
| binary             | 1                 | sigmoid    | binary cross-entropy         | accuracy, F1, AUROC         |
| multilabel         | one per label     | sigmoid    | binary cross-entropy         | accuracy, per label: acc, F1|
| regression         | one per target    | none       | MSE                          | RMSE, MAE, R²               |
| bounded_regression | one per target    | sigmoid    | MSE (or binary cross-entropy)| RMSE, MAE, accuracy         |

`check_task` is called by `trainlab.config.validation` with the other rules that relate two groups.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

if TYPE_CHECKING:
    from trainlab.config.validation import _Checker

# task.name → (activation, losses it may take: the first is its default)
TABLE: dict[str, tuple[str, tuple[str, ...]]] = {
    "multiclass": ("softmax", ("cross_entropy",)),
    "binary": ("sigmoid", ("bce",)),
    "multilabel": ("sigmoid", ("bce",)),
    "regression": ("identity", ("mse",)),
    "bounded_regression": ("sigmoid", ("mse", "bce")),
}
TASKS = tuple(TABLE)
# The tasks with an accuracy (train/acc from the training step's sums): all but plain regression.
WITH_ACCURACY = ("multiclass", "binary", "multilabel", "bounded_regression")
# torchmetrics class-name prefixes and the task each belongs to: a Binary* metric needs task=binary, …
METRIC_FAMILIES = {"Multiclass": ("multiclass",), "Binary": ("binary",), "Multilabel": ("multilabel",)}
# Data modules that hold a table of feature vectors (by `_target_` prefix): they take any task, and only flat nets.
TABULAR_DATA = (
    "trainlab.data.tabular.",
    "trainlab.data.sklearn_sets.",
    "trainlab.data.CSVDataModule",
    "trainlab.data.SklearnDataModule",
)
# Nets of trainlab that take flat feature vectors; its other nets (the CNNs) take images (C, H, W).
FLAT_INPUT_MODELS = ("trainlab.models.MLP", "trainlab.models.mlp.MLP")


def is_tabular(target: Any) -> bool:
    return isinstance(target, str) and target.startswith(TABULAR_DATA)


def _task(cfg: DictConfig) -> str:
    task = cfg.get("task")
    return str(task.get("name", "multiclass")) if isinstance(task, DictConfig) else "multiclass"


def scalar_metric_names(cfg: DictConfig) -> list[str]:
    """The `metrics` group's names that log one scalar (`<stage>/<name>`): not per-class vectors or matrices."""
    names = []
    for name, spec in (cfg.get("metrics") or {}).items():
        if not isinstance(spec, DictConfig):
            continue
        vector = "average" in spec and spec.get("average") in (None, "none")
        if not vector and "ConfusionMatrix" not in str(spec.get("_target_", "")):
            names.append(str(name))
    return names


def monitor(cfg: DictConfig) -> str:
    task = cfg.get("task")
    return str(task.get("monitor", "acc")) if isinstance(task, DictConfig) else "acc"


def fit_metrics(cfg: DictConfig) -> list[str]:
    """What a run of `cfg` logs during fit (`train/penalty` aside): what the monitors may name."""
    names = ["train/loss", *(["train/acc"] if _task(cfg) in WITH_ACCURACY else []), "train/lr", "val/loss"]
    scalars = scalar_metric_names(cfg) if "metrics" in cfg else ["acc"]
    names += [f"val/{name}" for name in scalars]
    if monitor(cfg) in scalars:
        names.append(f"val/{monitor(cfg)}_best")
    return names


def test_metrics(cfg: DictConfig) -> list[str]:
    """What a test logs: the task's metrics, and for multi-class the per-class report's macro F1."""
    scalars = scalar_metric_names(cfg) if "metrics" in cfg else ["acc"]
    per_class = ["test/f1_macro"] if _task(cfg) == "multiclass" else []  # trainlab.evaluation_report
    return ["test/loss", *(f"test/{name}" for name in scalars), *per_class]


def _name(group_target: Any) -> str:
    return str(group_target).rsplit(".", 1)[-1]


def check_task(c: _Checker) -> None:
    """The task fits its head, loss, metrics, data and model; tabular data gets a flat net and no augmentation."""
    cfg = c.cfg
    if not isinstance(cfg.get("task"), DictConfig):
        return
    c.choice("task.name", TASKS)
    name = c.get("task.name")
    if name not in TABLE:
        return
    activation, losses = TABLE[name]
    c.choice("task.activation", (activation,))
    c.choice("task.loss", losses)
    c.choice("task.mode", ("min", "max"))
    data = cfg.get("data")
    target = data.get("_target_") if isinstance(data, DictConfig) else None
    tabular = is_tabular(target)
    if data is not None and not tabular and name != "multiclass":
        c.problems.append(
            f"task={name} does not fit data={_name(target)}: its labels are single classes (task=multiclass); "
            "tables take any task (data=csv, data=breast_cancer, data=diabetes, …)"
        )
    if tabular:
        _check_tabular(c, data)
    smoothing = c.get("regularization.label_smoothing")
    if isinstance(smoothing, int | float) and smoothing > 0 and name in ("regression", "bounded_regression"):
        c.problems.append(
            f"regularization.label_smoothing={smoothing} has no effect on task={name} (no class labels to smooth): "
            "drop it"
        )
    for key, spec in (cfg.get("metrics") or {}).items():
        target_path = str(spec.get("_target_", "")) if isinstance(spec, DictConfig) else ""
        if not target_path.startswith("torchmetrics."):
            continue
        cls = _name(target_path)
        wanted = next((t for prefix, t in METRIC_FAMILIES.items() if cls.startswith(prefix)), None)
        if target_path.startswith("torchmetrics.regression."):
            wanted = ("regression", "bounded_regression")
        if wanted is not None and name not in wanted:
            c.problems.append(
                f"metrics.{key}={cls} does not fit task={name}: use metrics={name} (the task's own metrics) or "
                f"metrics of that kind"
            )


def _check_tabular(c: _Checker, data: DictConfig) -> None:
    for key in ("path", "target"):
        if key in list(data) and OmegaConf.is_missing(data, key):  # `in` skips missing values
            example = "my_table.csv" if key == "path" else "<the column to predict>"
            c.problems.append(f"data.{key} is not set: pass data.{key}={example}")
    for key in ("val_size", "test_size"):
        c.custom(
            f"data.{key}",
            lambda v: (
                (isinstance(v, float) and 0 <= v < 1) or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            ),
            "out of range",
            "a share of the rows in [0, 1) (float) or a number of rows ≥ 0 (int)",
        )
    model = c.get("model._target_")
    if isinstance(model, str) and model.startswith("trainlab.models.") and model not in FLAT_INPUT_MODELS:
        c.problems.append(
            f"model={_name(model).lower()} takes images (channels, height, width), but data is a table of feature "
            "vectors: use model=mlp"
        )
    if c.get("regularization.augment") is True:
        c.problems.append(
            "regularization.augment=true has no effect on tabular data (there is no augmentation for tables): "
            "drop regularization=augment"
        )
