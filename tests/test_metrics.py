"""Evaluation metrics come from the `metrics` config: an added metric is logged under test/<name> with the value
its definition gives, accumulated over all batches; vector and matrix metrics are logged entry by entry."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from trainlab.classifier import Classifier
from trainlab.data.batches import TensorBatches

CONF = Path(__file__).resolve().parents[1] / "conf"
NET = {"_target_": "trainlab.models.MLP", "hidden": [16], "activation": "tanh"}
SGD = {"_target_": "torch.optim.SGD", "lr": 0.1}
CLASSES = 4


def metrics_config(*overrides: str) -> dict:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides))
    return OmegaConf.to_container(cfg.metrics, resolve=True)


def evaluate(metrics: dict) -> tuple[dict[str, float], torch.Tensor, torch.Tensor]:
    """Test a fixed random net on 3 batches of 30 samples; (logged metrics, predictions, targets)."""
    torch.manual_seed(0)
    model = Classifier(NET, [1, 3, 3], CLASSES, SGD, metrics=metrics)
    x = torch.randint(0, 256, (90, 1, 3, 3), dtype=torch.uint8)
    y = torch.randint(0, CLASSES, (90,))
    scale, shift = torch.tensor([1 / 64]), torch.tensor([-2.0])
    batches = TensorBatches(x, y, 30, scale, shift)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.test(model, batches, verbose=False)
    with torch.no_grad():
        predicted = torch.cat([model(xb).argmax(1) for xb, _ in batches])
    return {k: float(v) for k, v in trainer.callback_metrics.items()}, predicted, y


def test_default_metrics_are_loss_and_accuracy() -> None:
    logged, predicted, y = evaluate(metrics_config())
    assert set(logged) == {"test/loss", "test/acc"}
    assert logged["test/acc"] == pytest.approx((predicted == y).float().mean().item())


def test_a_metric_added_in_config_is_logged_with_its_value() -> None:
    f1 = ["+metrics.f1._target_=torchmetrics.classification.MulticlassF1Score", "+metrics.f1.average=macro"]
    logged, predicted, y = evaluate(metrics_config(*f1))
    assert set(logged) == {"test/loss", "test/acc", "test/f1"}
    scores = []
    for k in range(CLASSES):  # macro F1: the mean over classes of 2·TP / (2·TP + FP + FN)
        tp = ((predicted == k) & (y == k)).sum().item()
        fp = ((predicted == k) & (y != k)).sum().item()
        fn = ((predicted != k) & (y == k)).sum().item()
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    assert logged["test/f1"] == pytest.approx(sum(scores) / CLASSES, abs=1e-6)
    assert len(set(predicted.tolist())) > 1  # the check means something: more than one class predicted


def test_matrix_metrics_are_logged_entry_by_entry_and_metrics_can_be_dropped() -> None:
    confusion = [
        "+metrics.confusion._target_=torchmetrics.classification.MulticlassConfusionMatrix",
        "metrics.acc=null",
    ]
    logged, predicted, y = evaluate(metrics_config(*confusion))
    assert "test/acc" not in logged
    for i in range(CLASSES):
        for j in range(CLASSES):
            assert logged[f"test/confusion/{i}_{j}"] == ((y == i) & (predicted == j)).sum().item()
