"""The config tree: every option of every group composes, and options combine as documented."""

from __future__ import annotations

import pytest
from helpers.config import GROUPS, compose_train, options
from hydra.utils import instantiate

from trainlab.training import build_model


@pytest.mark.parametrize(
    "override", [f"{group}={option}" for group in GROUPS for option in options(group)], ids=lambda o: o
)
def test_every_group_option_composes(override: str) -> None:
    cfg = compose_train([override])
    assert cfg.model._target_.startswith("trainlab.models.")
    assert cfg.trainer._target_ == "lightning.Trainer"


def test_every_group_has_options() -> None:
    for group in GROUPS:
        assert options(group), f"conf/{group} has no options"


def test_accelerator_is_a_nested_trainer_group() -> None:
    assert compose_train(["trainer/accelerator=gpu"]).trainer.accelerator == "gpu"
    assert compose_train(["trainer/accelerator=cpu"]).trainer.devices == 1
    assert compose_train([]).trainer.accelerator == "auto"


def test_trainer_keys_are_trainer_arguments() -> None:
    import inspect

    import lightning

    accepted = set(inspect.signature(lightning.Trainer.__init__).parameters)
    cfg = compose_train(["trainer.max_epochs=2", "++trainer.limit_train_batches=0.1"])
    assert cfg.trainer.max_epochs == 2 and cfg.trainer.limit_train_batches == 0.1
    assert set(cfg.trainer) - {"_target_"} <= accepted


def test_regularization_list_merges_both_options() -> None:
    cfg = compose_train(["regularization=[dropout,l2]"])
    assert cfg.regularization.dropout == 0.2
    assert cfg.regularization.l2 == 1e-5
    assert cfg.regularization.l1 == 0.0  # base value kept
    alone = compose_train(["regularization=l2"])
    assert alone.regularization.dropout == 0.0 and alone.regularization.l2 == 1e-5


def test_regularization_list_acts_on_the_model(mnist_dir) -> None:
    import torch

    cfg = compose_train(["regularization=[dropout,l2]", f"paths.data_dir={mnist_dir}"])
    model = build_model(cfg, instantiate(cfg.data))
    dropouts = [m for m in model.net.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(dropouts) == 2 and all(d.p == 0.2 for d in dropouts)
    expected = 1e-5 * sum(p.pow(2).sum() for p in model.net.parameters() if p.ndim > 1)
    assert torch.allclose(model.penalty(), expected)


def test_interfaces_named_by_later_issues_exist() -> None:
    cfg = compose_train([])
    for key in [
        "model.activation",
        "model.hidden",
        "optimizer.lr",
        "data.batch_size",
        "data.val_size",
        "data.normalize",
        "regularization.l1",
        "regularization.l2",
        "regularization.weight_decay",
        "regularization.dropout",
        "seed",
        "ckpt_path",
        "optimized_metric",
    ]:
        node, *path = key.split(".")
        value = cfg[node]
        for part in path:
            assert part in value, key
            value = value[part]
