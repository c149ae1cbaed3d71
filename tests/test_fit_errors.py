"""The errors the bias/variance verdict compares (trainlab/diagnostics/fit_errors.py): the tested weights in eval
mode on the training split without augmentation, a fixed sample of a large split, the task's error measure."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.plugins.precision import Precision
from torch import nn

from trainlab.diagnostics.fit_errors import measure
from trainlab.tasks import Task

CLASSES = 4


class OneHotReader(L.LightningModule):
    """Logits = the input (a one-hot row of the label) × a weight, through a dropout that in train mode zeros
    nearly everything: right on every row in eval mode, mostly wrong in train mode."""

    def __init__(self, weight: float = 1.0, task: Task | None = None) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(weight))
        self.drop = nn.Dropout(0.999)
        self.task = task or Task()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(x * self.weight)


def datamodule(train: int, val: int, seed: int = 0) -> SimpleNamespace:
    def split(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        labels = torch.arange(n) % CLASSES
        return nn.functional.one_hot(labels, CLASSES).float(), labels

    return SimpleNamespace(
        splits={"train": split(train), "val": split(val)},
        scale=torch.ones(CLASSES),
        shift=torch.zeros(CLASSES),
        eval_batch_size=64,
        seed=seed,
    )


def trainer(dm: SimpleNamespace, checkpoint: ModelCheckpoint | None = None) -> SimpleNamespace:
    return SimpleNamespace(datamodule=dm, checkpoint_callback=checkpoint, precision_plugin=Precision(), current_epoch=3)


def test_errors_are_measured_in_eval_mode_on_a_fixed_sample_of_a_large_split() -> None:
    model = OneHotReader()
    model.train()
    x, y = datamodule(train=500, val=40).splits["train"]
    assert (model(x).argmax(dim=1) != y).float().mean() > 0.5  # in train mode the dropout gets most rows wrong
    errors = measure(trainer(datamodule(train=500, val=40)), model, limit=200)
    assert errors is not None
    assert errors.train_error == 0.0 and errors.val_error == 0.0
    assert model.training  # put back as it was
    assert (errors.train_samples, errors.train_split_size, errors.val_samples) == (200, 500, 40)
    assert (errors.weights, errors.epoch, errors.measure) == ("final", 3, "1 − accuracy")
    # A wrong model: the label's logit is the only negative one, so every row is wrong.
    wrong = measure(trainer(datamodule(train=500, val=40)), OneHotReader(weight=-1.0), limit=200)
    assert (wrong.train_error, wrong.val_error) == (1.0, 1.0)


def test_the_sample_is_fixed_by_the_seed() -> None:
    from trainlab.diagnostics.fit_errors import sample

    x, y = torch.arange(1000).float()[:, None], torch.arange(1000)
    assert torch.equal(sample(x, y, 100, seed=1)[1], sample(x, y, 100, seed=1)[1])
    assert not torch.equal(sample(x, y, 100, seed=1)[1], sample(x, y, 100, seed=2)[1])
    assert sample(x, y, 2000, seed=1)[1] is y  # a small split is measured whole


def test_the_best_checkpoint_is_measured_and_the_final_weights_put_back(tmp_path: Path) -> None:
    model = OneHotReader(weight=-1.0)  # the final weights: wrong
    good = {key: value.clone() for key, value in OneHotReader(weight=1.0).state_dict().items()}
    path = tmp_path / "epoch_001.ckpt"
    torch.save({"state_dict": good, "epoch": 1}, path)
    checkpoint = ModelCheckpoint(dirpath=tmp_path)
    checkpoint.best_model_path = str(path)
    errors = measure(trainer(datamodule(train=80, val=40), checkpoint), model)
    assert (errors.train_error, errors.weights, errors.epoch) == (0.0, "best checkpoint", 2)
    assert model.weight.item() == -1.0


def test_a_regression_error_is_the_share_of_variance_left_unexplained() -> None:
    dm = datamodule(train=80, val=40)
    targets = {name: torch.randn(len(y), 1) * 5 + 3 for name, (_, y) in dm.splits.items()}
    dm.splits = {name: (targets[name], targets[name]) for name in dm.splits}  # input = target
    dm.scale, dm.shift = torch.ones(1), torch.zeros(1)
    perfect = OneHotReader(task=Task("regression", "mse"))
    perfect.drop.p = 0.0
    errors = measure(trainer(dm), perfect)
    assert errors.measure == "MSE / Var(y)" and errors.train_error == pytest.approx(0.0, abs=1e-12)
    mean = OneHotReader(weight=0.0, task=Task("regression", "mse"))  # predicts 0: MSE = Var + mean²
    train_y = targets["train"].double()
    expected = float(train_y.square().mean() / train_y.var(unbiased=False))
    assert measure(trainer(dm), mean).train_error == pytest.approx(expected)


def test_no_verdict_without_train_and_val_splits() -> None:
    dm = datamodule(train=10, val=0)
    assert measure(trainer(dm), OneHotReader()) is None
    assert measure(trainer(SimpleNamespace()), OneHotReader()) is None
    quick = trainer(datamodule(train=10, val=10))
    assert measure(quick, OneHotReader()) is not None
    quick.fast_dev_run = 1
    assert measure(quick, OneHotReader()) is None


@pytest.mark.parametrize(("name", "loss"), [("binary", "bce"), ("multilabel", "bce"), ("bounded_regression", "mse")])
def test_sigmoid_tasks_count_rows_or_labels_wrong(name: str, loss: str) -> None:
    # Targets of 0/1 (bounded regression: values rounded at 0.5); the logits ±(2·target − 1) get every one right.
    labels = 1 if name == "binary" else 3
    g = torch.Generator().manual_seed(0)
    targets = {split: (torch.rand(n, labels, generator=g) > 0.5).float() for split, n in (("train", 60), ("val", 30))}
    if name == "bounded_regression":
        targets = {split: t * 0.6 + 0.2 for split, t in targets.items()}  # 0.2 or 0.8
    dm = datamodule(train=60, val=30)
    dm.splits = {
        split: ((t > 0.5).float() * 2 - 1, t.squeeze(1) if name == "binary" else t) for split, t in targets.items()
    }
    dm.scale, dm.shift = torch.ones(labels), torch.zeros(labels)
    right = measure(trainer(dm), OneHotReader(task=Task(name, loss)))
    wrong = measure(trainer(dm), OneHotReader(weight=-1.0, task=Task(name, loss)))
    assert (right.train_error, right.val_error, right.measure) == (0.0, 0.0, "1 − accuracy")
    assert (wrong.train_error, wrong.val_error) == (1.0, 1.0)
