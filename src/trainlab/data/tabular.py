"""Tables (a CSV file, or a set scikit-learn ships) held in memory as float tensors, batched as images are.

A table is read whole (`read_table`: column name → numpy array, float with NaN where a value is missing, or
strings with None), its target encoded for the task, and its rows split: a fixed draw of test rows (the same for
every seed, so runs are compared on the same rows), then the base class's seeded validation split (both sizes a
share of all rows, or a row count). Everything fitted
on the data comes from the training split only (`TableEncoder`): the mean a missing number is filled with, the most
frequent category a missing category is filled with, the categories that get a one-hot column (one seen only in
validation or test rows gets all zeros), and the input scaling of the numeric columns (`normalize`; one-hot columns
stay 0/1). Inputs are stored imputed and one-hot encoded, and scaled batch by batch like images (`scale_inputs`).
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from omegaconf import DictConfig, ListConfig, OmegaConf
from torch import Tensor

from trainlab.config.errors import UserError
from trainlab.data.in_memory import InMemoryDataModule

# Cells read as a missing value.
MISSING = frozenset({"", "na", "nan", "n/a", "null", "none", "?"})
Table = dict[str, np.ndarray]


def plain_arguments(arguments: dict[str, Any]) -> dict[str, Any]:
    """Hydra passes lists as ListConfig; checkpoints (`weights_only=True`) may hold plain data only."""
    return {k: OmegaConf.to_container(v) if isinstance(v, ListConfig | DictConfig) else v for k, v in arguments.items()}


def _shown(values: Any, limit: int = 5) -> str:
    values = list(values)
    text = ", ".join(str(v) for v in values[:limit])
    return text + (", …" if len(values) > limit else "")


def _column(cells: list[str]) -> np.ndarray:
    """Numbers as float64 (NaN where missing); a column with any other text as strings (None where missing)."""
    missing = [cell.strip().lower() in MISSING for cell in cells]
    try:
        return np.array([math.nan if gone else float(cell) for cell, gone in zip(cells, missing, strict=True)])
    except ValueError:
        return np.array(
            [None if gone else cell.strip() for cell, gone in zip(cells, missing, strict=True)], dtype=object
        )


def read_csv(path: str | Path) -> Table:
    """A CSV file with a header row, column by column."""
    file = Path(path)
    where = "" if file.is_absolute() else f" (relative to {os.getcwd()})"
    if not file.is_file():
        raise UserError(f"data.path={path}: no such file{where}; pass data.path=<a CSV file with a header row>")
    with file.open(newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    rows = [row for row in rows if any(cell.strip() for cell in row)]
    if len(rows) < 2:
        raise UserError(f"data.path={path}: no rows under a header row; a CSV file with a header row is needed")
    header = [name.strip() for name in rows[0]]
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UserError(f"data.path={path}: row {number} has {len(row)} fields, the header has {len(header)}")
    return {name: _column([row[i] for row in rows[1:]]) for i, name in enumerate(header)}


def is_numeric(column: np.ndarray) -> bool:
    return column.dtype != object


def _as_text(column: np.ndarray) -> np.ndarray:
    """Category names: strings as they are, numbers written shortest (3.0 → '3')."""
    if not is_numeric(column):
        return column
    return np.array([None if math.isnan(v) else f"{v:g}" for v in column], dtype=object)


@dataclass(frozen=True)
class Target:
    """A task's encoded target: `values` (class indices int64 (N,) for multi-class and binary, 0/1 int64 (N, L)
    for multi-label, float32 (N, T) for regression), the net's output units, and the class names."""

    values: Tensor
    outputs: int
    classes: list[str]


def encode_target(table: Table, names: list[str], task: str, source: str) -> Target:
    """The target columns encoded for `task`, or one line saying why they do not fit it."""
    for name in names:
        if name not in table:
            raise UserError(f"{source}: no target column {name!r}; its columns: {_shown(table, 30)} (data.target=…)")
    columns = [table[name] for name in names]
    for name, column in zip(names, columns, strict=True):
        missing = int(np.isnan(column).sum()) if is_numeric(column) else int(sum(v is None for v in column))
        if missing:
            raise UserError(f"{source}: the target column {name!r} has {missing} missing values; drop those rows")
    label = f"data.target={','.join(names)}"
    if task in ("multiclass", "binary"):
        if len(names) != 1:
            raise UserError(f"{label}: task={task} takes one target column; several 0/1 columns are task=multilabel")
        column = columns[0]
        if is_numeric(column) and not np.all(column == np.round(column)):
            raise UserError(f"{label} holds non-integer numbers: a class label it is not; use task=regression")
        classes = sorted(set(column.tolist()))
        names_of = [f"{c:g}" if isinstance(c, float) else str(c) for c in classes]
        if task == "binary" and len(classes) != 2:
            raise UserError(
                f"{label} has {len(classes)} distinct values ({_shown(names_of)}): task=binary needs exactly 2"
                + ("; use task=multiclass" if len(classes) > 2 else "")
            )
        if len(classes) < 2:
            raise UserError(f"{label} has one value only ({_shown(names_of)}): nothing to classify")
        index = {c: i for i, c in enumerate(classes)}
        values = torch.tensor([index[v] for v in column.tolist()], dtype=torch.int64)
        return Target(values, 1 if task == "binary" else len(classes), names_of)
    for name, column in zip(names, columns, strict=True):
        if not is_numeric(column):
            raise UserError(f"{label}: column {name!r} is not numeric (e.g. {column[0]!r}): task={task} needs numbers")
    matrix = np.stack(columns, axis=1)
    if task == "multilabel":
        if not np.isin(matrix, (0, 1)).all():
            raise UserError(f"{label}: task=multilabel needs 0/1 columns (one per label); a class column is multiclass")
        return Target(torch.from_numpy(matrix).long(), len(names), list(names))
    if task == "bounded_regression" and not ((matrix >= 0) & (matrix <= 1)).all():
        low, high = float(matrix.min()), float(matrix.max())
        raise UserError(
            f"{label} has values in [{low:g}, {high:g}]: task=bounded_regression needs [0, 1]; use task=regression"
        )
    return Target(torch.from_numpy(matrix).float(), len(names), list(names))


@dataclass(frozen=True)
class Feature:
    """One input column: numeric, or categorical with its vocabulary (category → code in the raw matrix)."""

    name: str
    categories: tuple[str, ...] | None = None  # None: numeric


def raw_features(
    table: Table, features: list[str], categorical: list[str], source: str
) -> tuple[Tensor, list[Feature]]:
    """The feature columns as one float64 matrix: numbers as they are, categories as codes, NaN where missing."""
    for name in [*features, *categorical]:
        if name not in table:
            raise UserError(
                f"{source}: no column {name!r} (data.features / data.categorical); its columns: {_shown(table, 30)}"
            )
    for name in categorical:
        if name not in features:
            raise UserError(
                f"data.categorical lists {name!r}, which is not among data.features: add it there or drop it"
            )
    columns, specs = [], []
    for name in features:
        column = table[name]
        if name in categorical:
            text = _as_text(column)
            vocabulary = tuple(sorted({v for v in text if v is not None}))
            code = {c: float(i) for i, c in enumerate(vocabulary)}
            columns.append(np.array([math.nan if v is None else code[v] for v in text]))
            specs.append(Feature(name, vocabulary))
        elif is_numeric(column):
            columns.append(column)
            specs.append(Feature(name))
        else:
            example = next(v for v in column if v is not None)
            raise UserError(
                f"{source}: column {name!r} is not numeric (e.g. {example!r}): list it in data.categorical, "
                "or leave it out of data.features"
            )
    return torch.from_numpy(np.stack(columns, axis=1)), specs


class TableEncoder:
    """Imputation, one-hot encoding and input scaling, fitted on the training split's raw matrix only."""

    def __init__(self, train: Tensor, features: list[Feature], normalize: str, source: str) -> None:
        self.features = features
        self.fills: list[float] = []
        self.kept: list[list[int]] = []  # per categorical column: the codes that get a one-hot column
        scale, shift = [], []
        for j, feature in enumerate(features):
            column = train[:, j]
            seen = column[~column.isnan()]
            if len(seen) == 0:
                raise UserError(f"{source}: column {feature.name!r} has no value in the training rows: drop it")
            if feature.categories is None:
                self.fills.append(float(seen.mean()))
                self.kept.append([])
                s, t = numeric_scaling(column.nan_to_num(self.fills[-1]), normalize)
                scale.append(s), shift.append(t)
            else:
                codes, counts = seen.long().unique(return_counts=True)
                self.fills.append(float(codes[counts.argmax()]))
                self.kept.append(codes.tolist())
                scale += [1.0] * len(codes)
                shift += [0.0] * len(codes)
        self.scale = torch.tensor(scale, dtype=torch.float32)
        self.shift = torch.tensor(shift, dtype=torch.float32)

    @property
    def names(self) -> list[str]:
        """The encoded columns' names: `Age`, `Sex=female`, …"""
        out = []
        for feature, kept in zip(self.features, self.kept, strict=True):
            out += (
                [feature.name]
                if feature.categories is None
                else [f"{feature.name}={feature.categories[c]}" for c in kept]
            )
        return out

    def transform(self, raw: Tensor) -> Tensor:
        """Raw rows → float32 inputs (imputed, one-hot), not yet scaled (batches are scaled as they are cut)."""
        parts = []
        for j, (fill, kept) in enumerate(zip(self.fills, self.kept, strict=True)):
            column = raw[:, j].nan_to_num(fill)
            if self.features[j].categories is None:
                parts.append(column[:, None])
            else:
                parts.append((column[:, None] == torch.tensor(kept, dtype=column.dtype)[None, :]).to(column.dtype))
        return torch.cat(parts, dim=1).float()


def numeric_scaling(column: Tensor, normalize: str) -> tuple[float, float]:
    """`(scale, shift)` so that `x * scale + shift` is the column scaled as `normalize` says (train rows only)."""
    if normalize == "standardize":
        std = float(column.std()) if len(column) > 1 else 0.0
        std = std if std > 0 else 1.0
        return 1 / std, -float(column.mean()) / std
    if normalize in ("minmax", "symmetric"):
        low, high = float(column.min()), float(column.max())
        span = high - low if high > low else 1.0
        if normalize == "minmax":
            return 1 / span, -low / span
        return 2 / span, -2 * low / span - 1
    return 1.0, 0.0


def row_count(size: float | int, rows: int, key: str) -> int:
    """A split's size as a row count: a share of `rows` (float) or a count (int)."""
    count = round(size * rows) if isinstance(size, float) else int(size)
    if not 0 <= count < rows:
        raise UserError(f"data.{key}={size} leaves no rows to train on ({rows} rows): make it smaller")
    return count


class TabularDataModule(InMemoryDataModule):
    """A table's rows as float feature vectors (N, F) and the task's targets; a subclass reads the table."""

    def __init__(
        self,
        data_dir: str | Path,
        cache_dir: str | Path,
        target: str | list[str],
        features: list[str] | None = None,
        categorical: list[str] | None = None,
        task: str = "multiclass",
        batch_size: int = 16,
        eval_batch_size: int = 1000,
        val_size: float | int = 0.15,
        test_size: float | int = 0.2,
        normalize: str = "standardize",
        seed: int = 0,
        mirrors: list[str] | None = None,
        augment: bool = False,
        passes_per_epoch: int = 1,
        folds: int | None = None,
        fold: int | None = None,
    ) -> None:
        # The base records folds/fold in checkpoints (None here), so a rebuilt table module is handed them back.
        if folds is not None or fold is not None:
            raise UserError(
                f"data.folds={folds}: k-fold cross-validation is for the image sets; tables split by data.val_size"
            )
        target, features, categorical = plain_arguments(  # plain lists, for checkpoints
            {"target": target, "features": features, "categorical": categorical}
        ).values()
        super().__init__(data_dir, cache_dir, batch_size, eval_batch_size, 0, normalize, seed, mirrors, augment)
        self.targets = [target] if isinstance(target, str) else list(target)
        self.features, self.categorical = features, list(categorical or [])
        self.task, self.split_sizes = task, (val_size, test_size)
        if passes_per_epoch < 1:
            raise UserError(f"data.passes_per_epoch={passes_per_epoch} must be ≥ 1")
        self.passes_per_epoch = passes_per_epoch
        self.target: Target | None = None
        self.encoder: TableEncoder | None = None
        self.target_stats: dict[str, list[float]] | None = None

    def describe(self) -> str:
        """The table in error messages: `data.path=…`, `data=wine`."""
        return "the table"

    def read_table(self) -> Table:
        raise NotImplementedError

    def load(self) -> dict[str, Tensor]:
        table = self.read_table()
        source = self.describe()
        self.target = encode_target(table, self.targets, self.task, source)
        names = self.features if self.features is not None else [c for c in table if c not in self.targets]
        overlap = [name for name in names if name in self.targets]
        if overlap:
            raise UserError(f"data.features lists the target {overlap[0]!r}: the net would be given the answer")
        raw, self.columns = raw_features(table, list(names), self.categorical, source)
        rows = len(raw)
        val_size, test_size = self.split_sizes
        n_test = row_count(test_size, rows, "test_size")
        # A fixed draw (not `seed`): every run of this table is tested on the same rows.
        order = torch.randperm(rows, generator=torch.Generator().manual_seed(0))
        test, train = order[:n_test], order[n_test:]
        self.val_size = row_count(val_size, rows, "val_size")  # a share of all rows, as test_size is
        if self.val_size >= len(train):
            raise UserError(f"data.val_size={val_size} and data.test_size={test_size} leave no rows to train on")
        y = self.target.values
        return {"train_images": raw[train], "train_labels": y[train], "test_images": raw[test], "test_labels": y[test]}

    def fit_on_train_split(self) -> None:
        """Fit imputation, one-hot columns and scaling on the training rows; encode every split with them."""
        self.encoder = TableEncoder(self.splits["train"][0], self.columns, self.normalize, self.describe())
        self.splits = {name: (self.encoder.transform(x), y) for name, (x, y) in self.splits.items()}
        self.scale, self.shift = self.encoder.scale, self.encoder.shift
        if self.passes_per_epoch > 1:  # a small table: one epoch sees each training row that many times
            x, y = self.splits["train"]
            self.splits["train"] = (
                x.repeat(self.passes_per_epoch, 1),
                y.repeat(self.passes_per_epoch, *[1] * (y.ndim - 1)),
            )
        if self.task in ("regression", "bounded_regression"):
            y = self.splits["train"][1]
            std = y.std(dim=0) if len(y) > 1 else torch.ones(y.shape[1])
            self.target_stats = {"mean": y.mean(dim=0).tolist(), "std": torch.where(std > 0, std, 1.0).tolist()}

    @property
    def shape(self) -> tuple[int]:  # type: ignore[override]
        """(features,) after one-hot encoding: known once the table is read and the training split fitted."""
        self.setup()
        return (len(self.scale),)

    @property
    def num_classes(self) -> int:  # type: ignore[override]
        """The net's output units: classes (multi-class), 1 (binary), labels, or regression targets."""
        self.setup()
        assert self.target is not None
        return self.target.outputs


class CSVDataModule(TabularDataModule):
    """A CSV file of your own: `path`, the `target` column(s), optionally `features` and `categorical` columns."""

    def __init__(self, path: str, *args: Any, **kwargs: Any) -> None:
        path = str(Path(path).absolute()) if path else path  # recorded in checkpoints: valid from any folder
        kwargs = plain_arguments(kwargs)
        super().__init__(*args, **kwargs)
        self.path = path

    def describe(self) -> str:
        return f"data.path={self.path}"

    def read_table(self) -> Table:
        return read_csv(self.path)
