"""Which training images validate: a seeded hold-out of `val_size`, or fold `fold` of `folds` (k-fold CV).

The data modules call `validation_split` once in `setup`; the same arguments always give the same indices, so a
checkpoint (which records them with the data module) rebuilds exactly the split it was trained on.
"""

from __future__ import annotations

import torch
from torch import Tensor


def validation_split(
    labels: Tensor, val_size: int, seed: int, folds: int | None = None, fold: int | None = None
) -> tuple[Tensor, Tensor]:
    """`(train_idx, val_idx)` into the training set: k-fold when `folds` is set, else a random hold-out."""
    check_folds(folds, fold)
    if folds is None:
        if not 0 <= val_size < len(labels):
            raise ValueError(f"data.val_size={val_size} must be in [0, {len(labels)})")
        order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
        return order[val_size:], order[:val_size]
    return kfold_split(labels, folds, fold, seed)  # type: ignore[arg-type]


def kfold_split(labels: Tensor, folds: int, fold: int, seed: int) -> tuple[Tensor, Tensor]:
    """Fold `fold` of a seeded, class-stratified `folds`-way split (scikit-learn's StratifiedKFold): the k
    validation sets are disjoint, together they are the whole training set, and each holds every class in about
    its share of the whole."""
    from sklearn.model_selection import StratifiedKFold  # only k-fold runs pay for the import

    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    y = labels.cpu().numpy()
    train_idx, val_idx = list(splitter.split(y.reshape(-1, 1), y))[fold]
    return torch.from_numpy(train_idx).long(), torch.from_numpy(val_idx).long()


def check_folds(folds: int | None, fold: int | None) -> None:
    """The rules `trainlab.config.validation` checks before a run (repeated here for data modules built in code)."""
    if folds is None and fold is None:
        return
    if folds is None:
        raise ValueError(f"data.fold={fold} needs data.folds=k (k ≥ 2), or drop data.fold")
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ValueError(f"data.folds={folds} must be an integer ≥ 2 (or null for a hold-out split)")
    if isinstance(fold, bool) or not isinstance(fold, int) or not 0 <= fold < folds:
        raise ValueError(f"data.fold={fold} must be an integer in [0, {folds - 1}] with data.folds={folds}")
