"""Diagnostics on real (short) runs: the verdict of an overfitting and of an underfitting net, and the
vanishing-gradient warning of a deep sigmoid net, which a ReLU net with He init does not get."""

from __future__ import annotations

import logging

import pytest
from helpers.config import QUICK

TEST_OFF = ["test=false", "print_config=false"]


@pytest.mark.slow
def test_a_big_net_on_a_tiny_training_set_has_high_variance(train_run) -> None:
    # 500 training examples (data.val_size leaves them), a 1024-1024 net, 15 epochs: it memorizes them.
    metrics = train_run(
        "data.val_size=59500",
        "data.batch_size=100",
        "model.hidden=[1024,1024]",
        "trainer.max_epochs=15",
        "++trainer.limit_val_batches=2",
        *TEST_OFF,
    )
    assert metrics["diagnosis/verdict"] == "high variance", metrics
    assert metrics["diagnosis/train_error"] < 0.02 < metrics["diagnosis/gap"]


@pytest.mark.slow
def test_a_one_unit_hidden_layer_has_high_bias(train_run) -> None:
    metrics = train_run(*QUICK, "model.hidden=[1]", *TEST_OFF)
    assert metrics["diagnosis/verdict"] == "high bias", metrics
    assert metrics["diagnosis/avoidable_bias"] > 0.3


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "warned"),
    [
        (["model.activation=sigmoid", "init=default"], True),
        (["model.activation=relu", "init=he"], False),
    ],
)
def test_a_deep_sigmoid_net_warns_of_vanishing_gradients(train_run, caplog, overrides, warned) -> None:
    caplog.set_level(logging.WARNING)
    train_run(*QUICK, "model.hidden=[32,32,32,32,32,32,32,32,32]", "regularization=none", *overrides, *TEST_OFF)
    lines = [r.getMessage() for r in caplog.records if "vanishing gradients" in r.getMessage()]
    assert bool(lines) == warned, lines
    if warned:
        assert lines[0].startswith("vanishing gradients: the first layer's gradient norm (layers.1:")
