"""In-memory batching, input scaling, the nets and the LightningModule's bookkeeping."""

from __future__ import annotations

import pytest
import torch

from trainlab.classifier import Classifier
from trainlab.data.batches import TensorBatches
from trainlab.data.in_memory import input_scaling
from trainlab.models import CNN, MLP


def make_batches(n: int = 10, batch_size: int = 4, shuffle: bool = True) -> TensorBatches:
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 1, 2, 2).contiguous()
    return TensorBatches(
        images,
        torch.arange(n),
        batch_size,
        scale=torch.ones(1),
        shift=torch.zeros(1),
        shuffle=shuffle,
        seed=0,
    )


def test_each_sample_once_per_epoch_in_a_fresh_order() -> None:
    batches = make_batches()
    assert len(batches) == 3
    epochs = [torch.cat([y for _, y in batches]) for _ in range(2)]
    for labels in epochs:
        assert sorted(labels.tolist()) == list(range(10))
    assert not torch.equal(epochs[0], epochs[1])
    for x, y in batches:  # images travel with their labels
        assert torch.equal(x[:, 0, 0, 0], y.float())


def test_eval_batches_keep_the_order() -> None:
    labels = torch.cat([y for _, y in make_batches(shuffle=False)])
    assert labels.tolist() == list(range(10))


def test_scaling_is_applied_per_channel() -> None:
    images = torch.full((2, 3, 2, 2), 255, dtype=torch.uint8)
    batches = TensorBatches(images, torch.zeros(2), 2, scale=torch.tensor([1.0, 2.0, 3.0]), shift=torch.ones(3))
    x, _ = next(iter(batches))
    assert x.dtype == torch.float32
    assert x[:, :, 0, 0].tolist() == [[256.0, 511.0, 766.0]] * 2


def test_input_scaling_options_hit_their_ranges() -> None:
    images = torch.randint(0, 256, (500, 1, 8, 8), dtype=torch.uint8)
    images[0, 0, 0, :2] = torch.tensor([0, 255], dtype=torch.uint8)
    for name, low, high in [("minmax", 0.0, 1.0), ("symmetric", -1.0, 1.0), ("none", 0.0, 255.0)]:
        scale, shift = input_scaling(images, name)
        x = images.float() * scale.view(1, -1, 1, 1) + shift.view(1, -1, 1, 1)
        assert x.min().item() == low and abs(x.max().item() - high) < 1e-5, name
    scale, shift = input_scaling(images, "standardize")
    x = images.double() * scale.double() + shift.double()
    assert abs(x.mean().item()) < 1e-5 and abs(x.std().item() - 1) < 1e-5


def test_mlp_shapes_and_options() -> None:
    net = MLP([1, 28, 28], 10, hidden=[32, 16], activation="tanh", dropout=0.5, batchnorm=True)
    assert net(torch.randn(4, 1, 28, 28)).shape == (4, 10)
    kinds = [type(m).__name__ for m in net.layers]
    assert kinds == [
        "Flatten",
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
    ]


def test_cnn_is_the_course_network() -> None:
    net = CNN([1, 28, 28], 10)
    assert net(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [(c.out_channels, c.kernel_size) for c in convs] == [(32, (3, 3)), (64, (3, 3))]
    dense = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    assert [(d.in_features, d.out_features) for d in dense] == [(64 * 12 * 12, 128), (128, 10)]
    assert [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)] == [0.25, 0.5]
    assert CNN([3, 32, 32], 10, channels=[8, 16], dense=32)(torch.randn(2, 3, 32, 32)).shape == (2, 10)


def test_classifier_epoch_means_are_exact() -> None:
    """Training (device sums) and evaluation (torchmetrics) give the exact per-sample means, then start over."""
    model = Classifier(
        net={"_target_": "trainlab.models.MLP", "hidden": [8]},
        in_shape=[1, 4, 4],
        num_classes=3,
        optimizer={"_target_": "torch.optim.SGD", "lr": 0.1},
    )
    batches = [(torch.randn(n, 1, 4, 4), torch.randint(0, 3, (n,))) for n in (5, 3)]
    losses, correct = [], 0
    for x, y in batches:
        logits = model(x)
        losses.append(torch.nn.functional.cross_entropy(logits, y, reduction="sum"))
        correct += (logits.argmax(1) == y).sum().item()
        model._eval_step((x, y), "val")
        model.training_step((x, y), 0)
    for means in (model._eval_results("val"), model.train_means.compute()):
        assert torch.isclose(means["loss"], (sum(losses) / 8).float())
        assert means["acc"].item() == pytest.approx(correct / 8)
    model.train_means.reset()
    assert model.train_means.sums.abs().sum() == 0
    x, y = batches[1]
    model._eval_step((x, y), "val")  # a new epoch: only this batch counts
    assert torch.isclose(model._eval_results("val")["loss"], (losses[1] / 3).float())
