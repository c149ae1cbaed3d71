"""Diagnostics on real (short) runs: the verdict of an overfitting and of an underfitting net, and the
vanishing-gradient warning of a deep sigmoid net, which a ReLU net with He init does not get."""

from __future__ import annotations

import logging

import pytest
import torch
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
        (["model.activation=sigmoid", "init=normal"], True),  # the acceptance net, on the default recipe
        (["model.activation=relu", "init=he"], False),
    ],
)
def test_a_deep_sigmoid_net_warns_of_vanishing_gradients(train_run, caplog, overrides, warned) -> None:
    caplog.set_level(logging.WARNING)
    train_run(*QUICK, "model.hidden=[64,64,64,64,64,64,64,64]", *overrides, *TEST_OFF)
    lines = [r.getMessage() for r in caplog.records if "vanishing gradients" in r.getMessage()]
    assert bool(lines) == warned, lines
    if warned:
        assert lines[0].startswith("vanishing gradients: the first layer's gradient norm (layers.1:")


@pytest.mark.slow
def test_a_run_from_a_checkpoint_continues_the_history_and_the_monitors(train_run, tmp_path) -> None:
    first = train_run(*QUICK, *TEST_OFF, run_dir=tmp_path / "first")
    ckpt = tmp_path / "first" / "checkpoints" / "last.ckpt"
    second = train_run(*QUICK, *TEST_OFF, "trainer.max_epochs=2", f"ckpt_path={ckpt}", run_dir=tmp_path / "second")
    # The checkpoint was saved as epoch 1 ended, before its row was taken: the row travels in it all the same.
    assert [row["epoch"] for row in second["history"]] == [1, 2]
    assert second["history"][0] == first["history"][0]
    assert (tmp_path / "second" / "curves.png").is_file()
    states = torch.load(tmp_path / "second" / "checkpoints" / "last.ckpt", weights_only=True)["callbacks"]
    gradients = next(state for key, state in states.items() if key.startswith("GradientFlow"))
    activations = next(state for key, state in states.items() if key.startswith("ActivationMonitor"))
    assert min(gradients["steps"]) < 20 < max(gradients["steps"])  # records of both sessions
    assert activations["epochs"] == [1, 2]
