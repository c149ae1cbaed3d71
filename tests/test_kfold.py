"""k-fold cross-validation (`data.folds=k data.fold=i`): disjoint, covering, stratified and seeded folds; the
data module validates on its fold; bad fold settings are one-line errors before anything loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from helpers.config import compose_train
from helpers.paths import CONF

from trainlab.config.cli import check_overrides
from trainlab.config.errors import UserError
from trainlab.data.in_memory import InMemoryDataModule
from trainlab.data.splits import validation_split

# 300 labels, imbalanced: class 0 is half of them, classes 1-5 a tenth each.
LABELS = torch.tensor([0] * 150 + [c for c in range(1, 6) for _ in range(30)])[
    torch.randperm(300, generator=torch.Generator().manual_seed(1))
]


def test_folds_are_disjoint_cover_the_training_set_and_are_stratified() -> None:
    folds = [validation_split(LABELS, 5000, seed=0, folds=3, fold=i) for i in range(3)]
    vals = [set(val.tolist()) for _, val in folds]
    assert all(not a & b for i, a in enumerate(vals) for b in vals[i + 1 :])  # disjoint
    assert set().union(*vals) == set(range(len(LABELS)))  # together: the whole training set
    for train, val in folds:
        assert set(train.tolist()) == set(range(len(LABELS))) - set(val.tolist())  # the rest trains
        assert torch.bincount(LABELS[val], minlength=6).tolist() == [50, 10, 10, 10, 10, 10]  # each class's share


def test_folds_follow_the_seed() -> None:
    same = validation_split(LABELS, 0, seed=3, folds=3, fold=1)[1]
    assert torch.equal(same, validation_split(LABELS, 0, seed=3, folds=3, fold=1)[1])
    assert not torch.equal(same, validation_split(LABELS, 0, seed=4, folds=3, fold=1)[1])


def test_without_folds_the_hold_out_split_is_unchanged() -> None:
    train, val = validation_split(LABELS, 50, seed=0)
    order = torch.randperm(300, generator=torch.Generator().manual_seed(0))  # what in_memory.py always did
    assert torch.equal(val, order[:50]) and torch.equal(train, order[50:])


class Tiny(InMemoryDataModule):
    shape, num_classes = (1, 2, 2), 6

    def load(self) -> dict[str, torch.Tensor]:
        index = torch.arange(300)  # each image holds its own index: low byte, high byte
        images = torch.stack([index % 256, index // 256, index * 0, index * 0], 1).to(torch.uint8).view(300, 1, 2, 2)
        return {"train_images": images, "train_labels": LABELS, "test_images": images[:10], "test_labels": LABELS[:10]}


def test_the_data_module_validates_on_its_fold(tmp_path: Path) -> None:
    dm = Tiny(tmp_path, tmp_path, val_size=5000, folds=3, fold=2)  # val_size is not used with folds
    dm.setup("fit")
    val_x, val_y = dm.splits["val"]
    train_x, _ = dm.splits["train"]
    assert len(val_y) == 100 and len(train_x) == 200
    expected = validation_split(LABELS, 0, seed=0, folds=3, fold=2)[1]
    index = val_x[:, 0, 0, 0].long() + 256 * val_x[:, 0, 0, 1].long()
    assert set(index.tolist()) == set(expected.tolist())
    assert dm.hparams["folds"] == 3 and dm.hparams["fold"] == 2  # in checkpoints: eval rebuilds the same fold


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["data.fold=1"], "data.fold=1 needs data.folds=k (k ≥ 2 folds), or drop data.fold"),
        (["data.folds=1", "data.fold=0"], "data.folds=1 is not a fold count: must be an integer ≥ 2"),
        (["data.folds=3", "data.fold=3"], "data.fold=3 is not a fold of data.folds: must be an integer in [0, 2]"),
        (["data.folds=3"], "data.folds=3 needs data.fold=i (0 ≤ i < 3), or experiment=kfold to run every fold"),
    ],
)
def test_bad_fold_settings_are_refused(overrides: list[str], message: str) -> None:
    with pytest.raises(UserError) as err:
        check_overrides("train", CONF, overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_the_kfold_experiment_sweeps_every_fold() -> None:
    cfg = compose_train(["experiment=kfold", "data.folds=4"])
    assert cfg.data.folds == 4 and cfg.data.fold == 0
    from trainlab.config.validation import validate

    validate(cfg)  # the base config of the sweep is valid
