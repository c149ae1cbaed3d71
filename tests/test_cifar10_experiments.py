"""The saved CIFAR-10 experiments compose, pass the config validation, and set the switches they document."""

from __future__ import annotations

from helpers.config import compose_train

from trainlab.config.validation import problems


def test_cifar10_94_composes_with_each_documented_trick_switched_on() -> None:
    cfg = compose_train(["experiment=cifar10_94"])
    assert problems(cfg) == []
    assert cfg.data._target_ == "trainlab.data.CIFAR10DataModule" and cfg.model._target_ == "trainlab.models.FastCNN"
    assert (cfg.model.channels_last, cfg.model.compile, cfg.model.tta_flip) == (True, True, True)
    assert cfg.trainer.precision == "bf16-mixed" and cfg.scheduler._target_.endswith("OneCycleLR")
    reg = cfg.regularization
    assert (reg.augment, reg.batchnorm, reg.label_smoothing, reg.weight_decay) == (True, True, 0.2, 0.0)
    assert cfg.data.augment and cfg.optimizer.nesterov and cfg.optimizer.weight_decay == 1.33e-3  # L2, via momentum


def test_cifar10_cpu_composes() -> None:
    cfg = compose_train(["experiment=cifar10_cpu"])
    assert problems(cfg) == []
    assert cfg.model._target_ == "trainlab.models.FastCNN" and list(cfg.model.widths) == [32, 64, 128]
    assert cfg.trainer.precision == "32-true" and cfg.data.augment and cfg.model.tta_flip
    assert (cfg.data.augment_crop, cfg.data.augment_flip, cfg.trainer.max_time) == (0, True, "00:00:10:00")
