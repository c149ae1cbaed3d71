"""The same seed gives the same metrics on CPU, with and without `trainer.deterministic=true`."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.training import read_metrics, train_in_process

SHORT = [
    "trainer.max_epochs=1",
    "++trainer.limit_train_batches=8",
    "++trainer.limit_val_batches=2",
    "++trainer.limit_test_batches=2",
    "print_config=false",
    "trainer/accelerator=cpu",
]
# Timing and where the checkpoint went differ from run to run by nature.
VARIES = {"fit_seconds", "ckpt_best"}


def train(run_dir: Path, cache_dir: Path, *overrides: str) -> dict:
    train_in_process([*SHORT, *overrides], run_dir, cache_dir)
    return {k: v for k, v in read_metrics(run_dir).items() if k not in VARIES}


@pytest.fixture(scope="module")
def seed0(tmp_path_factory: pytest.TempPathFactory, mnist_dir: Path, cache_dir: Path) -> dict:
    return train(tmp_path_factory.mktemp("seed0"), cache_dir, "seed=0")


def test_same_seed_same_metrics(seed0: dict, tmp_path: Path, cache_dir: Path) -> None:
    assert train(tmp_path, cache_dir, "seed=0") == seed0
    assert seed0["train/loss"] > 0 and seed0["status"] == "completed"


def test_deterministic_algorithms_run_and_agree(seed0: dict, tmp_path: Path, cache_dir: Path) -> None:
    assert train(tmp_path, cache_dir, "seed=0", "trainer.deterministic=true") == seed0


def test_another_seed_gives_other_metrics(seed0: dict, tmp_path: Path, cache_dir: Path) -> None:
    other = train(tmp_path, cache_dir, "seed=1")
    assert other["val/loss"] != seed0["val/loss"]


@pytest.mark.slow
def test_cnn_with_random_augmentation_is_deterministic(tmp_path: Path, cache_dir: Path, mnist_dir: Path) -> None:
    # The CNN's dropouts are its own (model.conv_dropout, model.dense_dropout); regularization=dropout is the MLP's.
    args = ["model=cnn", "regularization=[augment,batchnorm]", "init=lsuv", "trainer.deterministic=true"]
    assert train(tmp_path / "a", cache_dir, *args) == train(tmp_path / "b", cache_dir, *args)
