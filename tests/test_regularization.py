"""Each regularization switch acts as defined: exact penalties, dropout and batch-norm statistics, augmentation
on training inputs only, label smoothing, early stopping on a plateau with the best checkpoint tested."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from helpers.config import QUICK, compose_train
from torch import nn

from trainlab.classifier import Classifier
from trainlab.data.augment import random_shift
from trainlab.data.in_memory import InMemoryDataModule
from trainlab.models import MLP

NET = {"_target_": "trainlab.models.MLP", "hidden": [5, 4], "activation": "relu", "batchnorm": False}
ADAM = {"_target_": "torch.optim.Adam", "lr": 1e-3}


def known_classifier(**regularization) -> Classifier:
    """A 9-5-4-3 MLP whose parameters are fixed, distinct values (weights and biases of both signs)."""
    model = Classifier(NET, [1, 3, 3], 3, ADAM, None, regularization)
    with torch.no_grad():
        for i, p in enumerate(model.net.parameters()):
            p.copy_(torch.linspace(-1.5, 2.0, p.numel()).reshape(p.shape) * (i + 1))
    return model


def test_l1_and_l2_penalties_equal_lambda_times_the_weight_norms_biases_excluded() -> None:
    weights = [p for n, p in known_classifier().net.named_parameters() if n.endswith("weight")]
    l1 = 0.001 * sum(w.abs().sum() for w in weights)
    l2 = 0.01 * sum((w * w).sum() for w in weights)
    assert torch.equal(known_classifier(l1=0.001).penalty(), l1)
    assert torch.equal(known_classifier(l2=0.01).penalty(), l2)
    assert torch.allclose(known_classifier(l1=0.001, l2=0.01).penalty(), l1 + l2)
    assert known_classifier().penalty() is None


def test_penalizing_biases_is_configurable() -> None:
    params = list(known_classifier().net.parameters())
    expected = 0.01 * sum((p * p).sum() for p in params)
    assert torch.allclose(known_classifier(l2=0.01, penalize_biases_and_norms=True).penalty(), expected)


def test_training_loss_is_cross_entropy_plus_penalty() -> None:
    model = known_classifier(l2=0.01)
    x, y = torch.randn(6, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    loss = model.training_step((x, y), 0)
    assert torch.allclose(loss, F.cross_entropy(model(x), y) + model.penalty())


def test_label_smoothing_in_training_loss_only() -> None:
    eps = 0.1
    model = known_classifier(label_smoothing=eps)
    x, y = torch.randn(6, 1, 3, 3), torch.tensor([0, 1, 2, 0, 1, 2])
    logp = F.log_softmax(model(x), dim=1)
    expected = ((1 - eps) * -logp.gather(1, y[:, None]).squeeze(1) + eps * -logp.mean(dim=1)).mean()
    assert torch.allclose(model.training_step((x, y), 0), expected)
    model.validation_step((x, y), 0)
    val_loss = model._eval_results("val")["loss"]
    assert torch.allclose(val_loss, F.cross_entropy(model(x), y))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout_zeroes_about_p_of_activations_in_training_and_none_in_eval(p: float) -> None:
    torch.manual_seed(0)
    net = MLP([1, 8, 8], 10, hidden=[4000], activation="tanh", dropout=p)
    kinds = [type(m) for m in net.layers]
    assert kinds == [nn.Flatten, nn.Linear, nn.Tanh, nn.Dropout, nn.Linear]  # Linear → activation → Dropout
    seen = {}
    net.layers[3].register_forward_hook(lambda _m, inp, out: seen.update(inp=inp[0], out=out))
    x = torch.randn(50, 1, 8, 8)
    net.train()
    net(x)
    n = seen["inp"].numel()  # tanh outputs are never exactly 0: every zero is dropout's
    zeroed = (seen["out"] == 0).float().mean().item()
    assert abs(zeroed - p) < 6 * math.sqrt(p * (1 - p) / n)
    kept = seen["out"] != 0
    assert torch.allclose(seen["out"][kept], seen["inp"][kept] / (1 - p))  # inverted dropout: survivors scaled
    net.eval()
    net(x)
    assert torch.equal(seen["out"], seen["inp"])


def test_batchnorm_uses_batch_statistics_in_training_and_running_statistics_in_eval() -> None:
    torch.manual_seed(0)
    net = MLP([1, 4, 4], 3, hidden=[7], activation="relu", batchnorm=True)
    assert [type(m) for m in net.layers] == [nn.Flatten, nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Linear]
    bn = net.layers[2]
    with torch.no_grad():
        bn.weight.uniform_(0.5, 2)
        bn.bias.uniform_(-1, 1)
    seen = {}
    bn.register_forward_hook(lambda _m, inp, out: seen.update(inp=inp[0], out=out))
    x = torch.randn(64, 1, 4, 4) * 3 + 2
    net.train()
    net(x)
    h = seen["inp"]
    batch_norm = (h - h.mean(0)) / torch.sqrt(h.var(0, unbiased=False) + bn.eps) * bn.weight + bn.bias
    assert torch.allclose(seen["out"], batch_norm, atol=1e-5)
    # Running statistics moved from (0, 1) towards the batch's by `momentum`.
    assert torch.allclose(bn.running_mean, 0.1 * h.mean(0), atol=1e-6)
    assert torch.allclose(bn.running_var, 0.9 + 0.1 * h.var(0, unbiased=True), atol=1e-5)
    net.eval()
    net(x)
    h = seen["inp"]
    running = (h - bn.running_mean) / torch.sqrt(bn.running_var + bn.eps) * bn.weight + bn.bias
    assert torch.allclose(seen["out"], running, atol=1e-5)


def test_batchnorm_order_is_configurable() -> None:
    net = MLP([1, 4, 4], 3, hidden=[7], batchnorm=True, batchnorm_order="after_activation")
    assert [type(m) for m in net.layers] == [nn.Flatten, nn.Linear, nn.ReLU, nn.BatchNorm1d, nn.Linear]
    assert net.layers[1].bias is not None  # BN no longer directly follows the Linear: its bias matters
    cfg = compose_train(["regularization=batchnorm", "regularization.batchnorm_order=after_activation"])
    assert (cfg.model.batchnorm, cfg.model.batchnorm_order) == (True, "after_activation")


def test_random_shift_moves_each_image_by_at_most_two_pixels() -> None:
    torch.manual_seed(0)
    x = torch.zeros(200, 1, 12, 12)
    x[:, :, 4:8, 4:8] = torch.rand(200, 1, 4, 4) + 0.5  # content away from the border
    out = random_shift(x, 2)
    padded = F.pad(x, (2, 2, 2, 2))
    matches = torch.stack(
        [
            (out == padded[:, :, 2 - dy : 14 - dy, 2 - dx : 14 - dx]).flatten(1).all(1)
            for dy in range(-2, 3)
            for dx in range(-2, 3)
        ]
    )
    assert matches.any(0).all()  # every output is its input shifted by some (dy, dx) in [-2, 2]²
    assert matches.sum(1).gt(0).all()  # and all 25 shifts occur in a batch of 200
    assert random_shift(x, 0) is x


class Squares(InMemoryDataModule):
    """Bright 2×2 squares in the middle of dark 6×6 images; augmented by shifts of up to 2 px."""

    shape = (1, 6, 6)
    num_classes = 3

    def load(self) -> dict[str, torch.Tensor]:
        x = torch.zeros(40, 1, 6, 6, dtype=torch.uint8)
        x[:, :, 2:4, 2:4] = torch.randint(100, 256, (40, 1, 2, 2), dtype=torch.uint8)
        y = torch.zeros(40, dtype=torch.long)
        return {"train_images": x, "train_labels": y, "test_images": x[:10], "test_labels": y[:10]}

    def augment_batch(self, x: torch.Tensor) -> torch.Tensor:
        return random_shift(x, 2)


@pytest.mark.parametrize("augment", [True, False])
def test_augmentation_changes_training_inputs_only(tmp_path: Path, augment: bool) -> None:
    torch.manual_seed(0)
    data = Squares(tmp_path, tmp_path, batch_size=30, val_size=10, normalize="none", augment=augment)
    model = Classifier(NET, [1, 6, 6], 3, ADAM)
    inputs: dict[bool, list[torch.Tensor]] = {True: [], False: []}
    model.net.register_forward_pre_hook(lambda m, args: inputs[m.training].append(args[0]))
    trainer = L.Trainer(
        max_epochs=1, accelerator="cpu", logger=False, enable_checkpointing=False, enable_progress_bar=False
    )
    trainer.fit(model, datamodule=data)
    trainer.test(model, datamodule=data, verbose=False)
    train_in, eval_in = torch.cat(inputs[True]), torch.cat(inputs[False])
    outside = torch.ones(6, 6, dtype=torch.bool)
    outside[2:4, 2:4] = False
    assert eval_in[:, :, outside].eq(0).all()  # val/test: never shifted
    moved = train_in[:, :, outside].ne(0).flatten(1).any(1)
    assert moved.any() == augment  # training: shifted only when augment is on
    assert train_in.sum((1, 2, 3)).gt(0).all()  # shifted within ±2 px: the square stays in view


def test_augment_option_turns_on_the_data_sets_own_augmentation() -> None:
    cfg = compose_train(["regularization=augment"])
    assert (cfg.data.augment, cfg.data.augment_shift) == (True, 2)
    assert not compose_train([]).data.augment


def test_regularization_options_combine() -> None:
    reg = compose_train(["regularization=[dropout,l2,early_stopping,augment,label_smoothing]"]).regularization
    assert (reg.dropout, reg.l2, reg.augment, reg.label_smoothing) == (0.2, 1e-5, True, 0.1)
    assert reg.early_stopping.monitor == "val/loss" and reg.weight_decay == 0.0


@pytest.mark.slow
def test_early_stopping_stops_on_a_plateau_and_the_best_checkpoint_is_tested(tmp_path: Path, train_run) -> None:
    # Epoch 0 learns; then StepLR(gamma=1e-12) cuts lr to ~1e-15, far below float32 resolution of the weights:
    # val/loss is flat from epoch 1 on. (gamma=0 would be exact, but the config validation refuses it.)
    overrides = [
        *QUICK,
        "trainer.max_epochs=6",
        "regularization=early_stopping",
        "regularization.early_stopping.patience=2",
    ]
    overrides += ["scheduler=step", "scheduler.step_size=1", "scheduler.gamma=1e-12", "logger=csv"]
    metrics = train_run(*overrides, run_dir=tmp_path)
    assert metrics["epochs"] < 6  # stopped: epochs 1 and 2 brought no improvement (patience 2)
    rows = [r for r in csv.DictReader((tmp_path / "csv" / "metrics.csv").open()) if r.get("val/acc")]
    val_acc = [float(r["val/acc"]) for r in rows]
    assert len(val_acc) == 3
    best_epoch = val_acc.index(max(val_acc))
    assert Path(metrics["ckpt_best"]).name == f"epoch_{best_epoch:03d}.ckpt"
    ckpt = torch.load(metrics["ckpt_best"], weights_only=True)
    callback = next(v for k, v in ckpt["callbacks"].items() if k.startswith("ModelCheckpoint"))
    assert callback["best_model_path"] == metrics["ckpt_best"]
    assert float(callback["best_model_score"]) == pytest.approx(max(val_acc), abs=1e-4)
