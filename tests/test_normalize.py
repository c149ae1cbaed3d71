"""`data.normalize` scales real MNIST batches as its name says, with statistics from the training split only."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from trainlab.data import MNISTDataModule


@pytest.fixture(scope="module")
def batches(mnist_dir: Path, cache_dir: Path) -> dict[str, dict[str, torch.Tensor]]:
    """Every option's train and test batches, concatenated (the whole split, float64 for exact statistics)."""
    out = {}
    for normalize in ("standardize", "minmax", "symmetric", "none"):
        dm = MNISTDataModule(mnist_dir, cache_dir, batch_size=4096, eval_batch_size=5000, normalize=normalize)
        dm.setup("fit")
        out[normalize] = {
            "train": torch.cat([x.double() for x, _ in dm.train_dataloader()]),
            "test": torch.cat([x.double() for x, _ in dm.test_dataloader()]),
        }
    return out


def test_standardize_gives_zero_mean_unit_std_on_the_training_split(batches) -> None:
    train, test = batches["standardize"]["train"], batches["standardize"]["test"]
    assert len(train) == 55000
    assert abs(train.mean().item()) < 1e-5  # float32 scaling of exact statistics
    assert abs(train.std().item() - 1) < 1e-5
    # The test split is scaled with the training statistics: close to, but not exactly, 0 and 1.
    assert 0 < abs(test.mean().item()) < 0.05
    assert abs(test.std().item() - 1) < 0.05


@pytest.mark.parametrize(("normalize", "low", "high"), [("minmax", 0, 1), ("symmetric", -1, 1), ("none", 0, 255)])
def test_range_scalings_span_their_interval(batches, normalize: str, low: float, high: float) -> None:
    for split in ("train", "test"):
        x = batches[normalize][split]
        assert x.min().item() == pytest.approx(low, abs=1e-6)
        assert x.max().item() == pytest.approx(high, abs=1e-5)
    # The same images, affinely mapped: the pixel mean sits at the same relative place in every range.
    raw = batches["none"]["train"].mean().item() / 255
    assert (batches[normalize]["train"].mean().item() - low) / (high - low) == pytest.approx(raw, abs=1e-5)
