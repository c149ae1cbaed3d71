"""The small tables scikit-learn ships inside its package (no download): the course's practice sets.

| name            | rows | features | target                               | task                   |
|-----------------|------|----------|--------------------------------------|------------------------|
| `wine`          | 178  | 13       | cultivar, 3 classes                  | multiclass             |
| `breast_cancer` | 569  | 30       | malignant (0) or benign (1)          | binary (or multiclass) |
| `diabetes`      | 442  | 10       | disease progression after a year     | regression             |
"""

from __future__ import annotations

from typing import Any

import numpy as np

from trainlab.config.errors import UserError
from trainlab.data.tabular import Table, TabularDataModule, plain_arguments

# name → (scikit-learn loader, the tasks its target fits: the first is its own)
SETS: dict[str, tuple[str, tuple[str, ...]]] = {
    "wine": ("load_wine", ("multiclass",)),
    "breast_cancer": ("load_breast_cancer", ("binary", "multiclass")),
    "diabetes": ("load_diabetes", ("regression",)),
}


class SklearnDataModule(TabularDataModule):
    """One of `SETS` by `name`; its target column is `target`, its features every other column."""

    def __init__(self, name: str, *args: Any, **kwargs: Any) -> None:
        if name not in SETS:
            raise UserError(f"data.name={name} is not a bundled set: must be one of {', '.join(SETS)}")
        kwargs = plain_arguments({"target": "target", **kwargs})
        super().__init__(*args, **kwargs)
        self.name = name

    def describe(self) -> str:
        return f"data={self.name}"

    def read_table(self) -> Table:
        loader, tasks = SETS[self.name]
        if self.task not in tasks:
            raise UserError(
                f"data={self.name} has a {tasks[0]} target, not one for task={self.task}: use task={tasks[0]} "
                f"(or leave task out: data={self.name} picks it)"
            )
        import sklearn.datasets

        options = {"scaled": False} if self.name == "diabetes" else {}  # raw values: trainlab scales them itself
        bunch = getattr(sklearn.datasets, loader)(**options)
        table = {
            str(name): np.asarray(bunch.data[:, i], dtype=np.float64) for i, name in enumerate(bunch.feature_names)
        }
        table["target"] = np.asarray(bunch.target, dtype=np.float64)
        return table
