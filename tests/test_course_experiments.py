"""The course's experiments (conf/experiment/mnist_ladder, mnist_keras_cnn, mnist_fast_cnn, optimizers) compose
to the settings they claim: the ladder's rungs and seeds, the Keras convnet layer by layer, the optimizer sweep's
optimizers on one MLP and budget. Their measured results are in docs/results.md."""

from __future__ import annotations

import pytest
import torch
import yaml
from helpers.config import compose_train
from helpers.paths import CONF
from hydra.utils import instantiate
from torch import nn

from trainlab.config.validation import problems
from trainlab.models import CNN

RUNGS = ["softmax_sgd", "softmax_adam", "hidden256", "xavier", "deep", "dropout"]


def swept(experiment: str) -> dict[str, list[str]]:
    """The experiment file's own hydra.sweeper.params, each as its list of values."""
    config = yaml.safe_load((CONF / "experiment" / f"{experiment}.yaml").read_text())
    assert config["hydra"]["mode"] == "MULTIRUN"
    return {key: str(values).split(",") for key, values in config["hydra"]["sweeper"]["params"].items()}


def test_the_ladder_sweeps_every_rung_in_order_over_three_seeds() -> None:
    assert swept("mnist_ladder") == {"rung": RUNGS, "seed": ["0", "1", "2"]}
    assert sorted(p.stem for p in (CONF / "rung").glob("*.yaml")) == sorted(RUNGS)


# rung → (hidden sizes, optimizer, init, its std for `normal`, dropout)
LADDER = {
    "softmax_sgd": ([], "torch.optim.SGD", "normal", 1.0, 0.0),
    "softmax_adam": ([], "torch.optim.Adam", "normal", 1.0, 0.0),
    "hidden256": ([256], "torch.optim.Adam", "normal", 1.0, 0.0),
    "xavier": ([256], "torch.optim.Adam", "xavier_uniform", None, 0.0),
    "deep": ([256, 256, 256], "torch.optim.Adam", "xavier_uniform", None, 0.0),
    "dropout": ([256, 256, 256], "torch.optim.Adam", "xavier_uniform", None, 0.3),
}


@pytest.mark.parametrize("rung", RUNGS)
def test_each_rung_sets_its_own_net_optimizer_and_init_and_nothing_of_the_default_recipe(rung: str) -> None:
    hidden, optimizer, init, std, dropout = LADDER[rung]
    cfg = compose_train(["experiment=mnist_ladder", f"rung={rung}"])
    assert problems(cfg) == []
    assert list(cfg.model.hidden) == hidden and cfg.model._target_ == "trainlab.models.MLP"
    assert cfg.optimizer._target_ == optimizer and cfg.optimizer.lr == (0.01 if "SGD" in optimizer else 0.001)
    assert cfg.init.name == init and cfg.init.get("std") == std
    assert cfg.model.dropout == dropout
    assert "_target_" not in cfg.scheduler and cfg.model.batchnorm is False and cfg.regularization.weight_decay == 0
    assert (cfg.trainer.max_epochs, cfg.data.batch_size, cfg.data.normalize) == (15, 100, "minmax")
    net = instantiate(cfg.model, in_shape=[1, 28, 28], num_classes=10)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linears] == [*hidden, 10]
    assert sum(isinstance(m, nn.Dropout) for m in net.modules()) == (len(hidden) if dropout else 0)


def test_the_keras_cnn_is_the_notes_net_and_recipe() -> None:
    cfg = compose_train(["experiment=mnist_keras_cnn"])
    assert problems(cfg) == []
    net = instantiate(cfg.model, in_shape=[1, 28, 28], num_classes=10)
    assert isinstance(net, CNN)
    described = [
        (type(m).__name__, getattr(m, "in_channels", getattr(m, "in_features", None)),
         getattr(m, "out_channels", getattr(m, "out_features", getattr(m, "p", None))))
        for m in net.layers
    ]  # fmt: skip
    assert described == [
        ("Conv2d", 1, 32), ("ReLU", None, None), ("Conv2d", 32, 64), ("ReLU", None, None),
        ("MaxPool2d", None, None), ("Dropout", None, 0.25), ("Flatten", None, None),
        ("Linear", 12 * 12 * 64, 128), ("ReLU", None, None), ("Dropout", None, 0.5), ("Linear", 128, 10),
    ]  # fmt: skip
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert cfg.optimizer._target_ == "torch.optim.Adam" and cfg.optimizer.lr == 0.001
    assert cfg.data.batch_size == 200 and "_target_" not in cfg.scheduler and cfg.init.name == "xavier_uniform"
    early = cfg.regularization.early_stopping
    assert (early.monitor, early.mode, early.patience) == ("val/acc", "max", 10)
    best = cfg.callbacks.model_checkpoint  # the best epoch by val/acc is kept and tested
    assert (best.monitor, best.mode, cfg.test) == ("val/acc", "max", True)


def test_the_fast_cnn_has_batch_norm_and_a_one_cycle_lr() -> None:
    cfg = compose_train(["experiment=mnist_fast_cnn"])
    assert problems(cfg) == []
    net = instantiate(cfg.model, in_shape=[1, 28, 28], num_classes=10)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in net.modules()) == 2
    assert cfg.scheduler._target_ == "trainlab.optimization.OneCycleLR" and cfg.trainer.max_epochs == 2


OPTIMIZERS = {
    "sgd": ("torch.optim.SGD", 0.01),
    "momentum": ("torch.optim.SGD", 0.01),
    "nesterov": ("torch.optim.SGD", 0.01),
    "adagrad": ("torch.optim.Adagrad", 0.01),
    "rmsprop": ("torch.optim.RMSprop", 0.001),
    "adam": ("torch.optim.Adam", 0.001),
    "adamw": ("torch.optim.AdamW", 0.003),
    "momentum_ewma": ("trainlab.optimization.EWMAMomentumSGD", 0.1),
}


def test_the_optimizer_sweep_trains_one_mlp_for_one_budget_with_each_optimizer() -> None:
    assert swept("optimizers") == {"optimizer": list(OPTIMIZERS)}
    runs = {name: compose_train(["experiment=optimizers", f"optimizer={name}"]) for name in OPTIMIZERS}
    for name, cfg in runs.items():
        assert problems(cfg) == []
        assert (cfg.optimizer._target_, cfg.optimizer.lr) == OPTIMIZERS[name]
    shared = {(str(c.model), str(c.init), str(c.data.batch_size), c.trainer.max_epochs) for c in runs.values()}
    assert len(shared) == 1 and runs["sgd"].model.hidden == [256, 256] and runs["sgd"].model.batchnorm is False
    assert runs["momentum"].optimizer.momentum == 0.9 and runs["nesterov"].optimizer.nesterov is True
