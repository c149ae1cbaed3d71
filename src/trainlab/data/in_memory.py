"""The LightningDataModule shared by every in-memory image data set.

A subclass says how to load its arrays (`load`), what they look like (`shape`, `num_classes`) and, optionally,
its own augmentation (`augment_batch`, applied to training batches on the device when `augment` is true);
splitting, input scaling (`scale_inputs`, the one place uint8 becomes float) and batching are the same for all.
The module's `_target_` is recorded with its hyperparameters, so a checkpoint can rebuild it (`src/eval.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import lightning as L
import torch
from torch import Tensor

from trainlab.config.choices import NORMALIZE_CHOICES
from trainlab.data.batches import TensorBatches, channel_view, scale_inputs
from trainlab.data.splits import validation_split


class InMemoryDataModule(L.LightningDataModule):
    """Train/val/test splits of a data set held whole in memory as uint8 tensors."""

    shape: ClassVar[tuple[int, int, int]]
    num_classes: ClassVar[int]

    def __init__(
        self,
        data_dir: str | Path,
        cache_dir: str | Path,
        batch_size: int = 128,
        eval_batch_size: int = 1000,
        val_size: int = 5000,
        normalize: str = "standardize",
        seed: int = 0,
        mirrors: list[str] | None = None,
        augment: bool = False,
        folds: int | None = None,
        fold: int | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(logger=False)  # in checkpoints, so eval rebuilds exactly this split and scaling
        # With its class, the checkpoint's `datamodule_hyper_parameters` is a config `instantiate` can rebuild.
        self.hparams["_target_"] = f"{type(self).__module__}.{type(self).__qualname__}"
        if normalize not in NORMALIZE_CHOICES:
            raise ValueError(f"data.normalize={normalize!r} is not one of {', '.join(NORMALIZE_CHOICES)}")
        self.data_dir, self.cache_dir = Path(data_dir), Path(cache_dir)
        self.batch_size, self.eval_batch_size = batch_size, eval_batch_size
        self.val_size, self.normalize, self.seed = val_size, normalize, seed
        self.augment = augment
        self.folds, self.fold = folds, fold  # k-fold CV: fold `fold` of `folds` validates (data/splits.py)
        self.mirrors = list(mirrors) if mirrors is not None else self.default_mirrors()
        self.splits: dict[str, tuple[Tensor, Tensor]] = {}
        self.scale = self.shift = torch.empty(0)
        self._prepared: dict[str, Tensor] | None = None  # what prepare_data loaded, handed to setup once

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names by label, for reports and predictions ("0", "1", … unless a data set names them)."""
        return tuple(str(label) for label in range(self.num_classes))

    def default_mirrors(self) -> list[str]:
        return []

    def load(self) -> dict[str, Tensor]:
        """Return uint8 `train_images` (N, C, H, W), int64 `train_labels`, and the same for `test`."""
        raise NotImplementedError

    def prepare_data(self) -> None:
        """Download and fill the cache once, before any process needs it. Lightning calls this before fit and
        again before test: once the splits exist there is nothing to do, and setup reuses what was loaded here."""
        if not self.splits and self._prepared is None:
            self._prepared = self.load()

    def setup(self, stage: str | None = None) -> None:
        if self.splits:
            return
        data = self._prepared if self._prepared is not None else self.load()
        self._prepared = None
        train_x, train_y = data["train_images"], data["train_labels"]
        train_idx, val_idx = validation_split(train_y, self.val_size, self.seed, self.folds, self.fold)
        self.splits = {
            "train": (train_x[train_idx], train_y[train_idx]),
            "val": (train_x[val_idx], train_y[val_idx]),
            "test": (data["test_images"], data["test_labels"]),
        }
        self.fit_on_train_split()

    def fit_on_train_split(self) -> None:
        """What the inputs need from the training split only: the input scaling here (a table also fits its
        imputation and one-hot encoding, `trainlab.data.tabular`)."""
        self.scale, self.shift = input_scaling(self.splits["train"][0], self.normalize)

    def scale_inputs(self, images: Tensor, dtype: torch.dtype = torch.float32) -> Tensor:
        """uint8 images → network inputs by the configured `normalize` (what every batch goes through)."""
        scale, shift = (channel_view(t.to(images.device, dtype), images.ndim) for t in (self.scale, self.shift))
        return scale_inputs(images, scale, shift)

    def training_inputs(
        self, count: int, shuffle: bool = True, dtype: torch.dtype = torch.float32
    ) -> tuple[Tensor, Tensor]:
        """`count` scaled training samples and their labels, drawn at random (`shuffle`) or the first ones: the batch
        LSUV measures variances on, the samples gradcheck differentiates on."""
        self.setup("fit")
        images, labels = self.splits["train"]
        take = torch.randperm(len(images))[:count] if shuffle else torch.arange(min(count, len(images)))
        return self.scale_inputs(images[take], dtype), labels[take]

    def augment_batch(self, x: Tensor) -> Tensor:
        """The data set's augmentation of one training batch of scaled inputs (none here; MNIST shifts)."""
        return x

    def on_after_batch_transfer(self, batch: tuple[Tensor, Tensor], dataloader_idx: int) -> tuple[Tensor, Tensor]:
        """Lightning's hook on every batch once on its device: augments training batches only."""
        if self.augment and self.trainer is not None and self.trainer.training:
            x, y = batch
            return self.augment_batch(x), y
        return batch

    def _device(self) -> torch.device:
        return self.trainer.strategy.root_device if self.trainer is not None else torch.device("cpu")

    def _batches(self, split: str, batch_size: int, shuffle: bool = False) -> TensorBatches:
        device = self._device()
        x, y = self.splits[split]
        if x.device != device:  # move each split to the training device once, not batch by batch
            x, y = x.to(device), y.to(device)
            self.splits[split] = (x, y)
        trainer = self.trainer
        rank, world_size = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        epoch = (lambda: trainer.current_epoch) if trainer is not None else None
        return TensorBatches(
            x,
            y,
            batch_size,
            self.scale,
            self.shift,
            shuffle=shuffle,
            seed=self.seed,
            epoch=epoch,
            rank=rank,
            world_size=world_size,
            pad=shuffle,  # training: equal step counts on every rank; evaluation: each sample exactly once
        )

    def train_dataloader(self) -> TensorBatches:
        # As Lightning does for its own loaders: with trainer.overfit_batches the same batches come every epoch.
        overfit = self.trainer is not None and self.trainer.overfit_batches > 0
        return self._batches("train", self.batch_size, shuffle=not overfit)

    def val_dataloader(self) -> TensorBatches:
        return self._batches("val", self.eval_batch_size)

    def test_dataloader(self) -> TensorBatches:
        return self._batches("test", self.eval_batch_size)


def input_scaling(images: Tensor, normalize: str) -> tuple[Tensor, Tensor]:
    """Per-channel `(scale, shift)` so that `uint8 * scale + shift` is the requested input scaling.

    Statistics come from the training split only, so validation and test data never leak into them.
    """
    channels = images.shape[1]
    if normalize == "standardize":
        # Exact mean/std from a 256-bin histogram per channel: no float copy of the whole data set.
        pixels = images.transpose(0, 1).reshape(channels, -1)
        counts = torch.stack([torch.bincount(row, minlength=256) for row in pixels]).double()
        values = torch.arange(256, dtype=torch.float64) / 255
        n = counts.sum(dim=1)
        mean = (counts * values).sum(dim=1) / n
        std = ((counts * (values - mean[:, None]) ** 2).sum(dim=1) / (n - 1)).sqrt()
        scale, shift = 1 / (255 * std), -mean / std
    elif normalize == "minmax":
        scale, shift = torch.full((channels,), 1 / 255), torch.zeros(channels)
    elif normalize == "symmetric":
        scale, shift = torch.full((channels,), 2 / 255), torch.full((channels,), -1.0)
    else:
        scale, shift = torch.ones(channels), torch.zeros(channels)
    return scale.float(), shift.float()
