"""Augmentation per data set, batched: CIFAR-10 crops (4 px, reflected) and flips each image on its own, MNIST only
shifts (±2 px, no flip); both act on training batches only."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import Tensor

from trainlab.data import CIFAR10DataModule, MNISTDataModule
from trainlab.data.augment import random_crop, random_flip


def crop_offsets(out: Tensor, image: Tensor, pad: int, mode: str) -> list[tuple[int, int] | None]:
    """For each image of `out`, the (dy, dx) at which it is a crop of `image` padded by `pad` (None: it is not)."""
    padded = F.pad(image[None], (pad,) * 4, mode=mode)[0]
    size = image.shape[-1]
    crops = {
        (dy, dx): padded[:, dy : dy + size, dx : dx + size] for dy in range(2 * pad + 1) for dx in range(2 * pad + 1)
    }
    return [next((o for o, crop in crops.items() if torch.equal(x, crop)), None) for x in out]


def test_crops_shift_each_image_by_its_own_offset_with_reflected_borders() -> None:
    image = torch.rand(3, 32, 32)
    out = random_crop(image.expand(64, -1, -1, -1), 4)
    offsets = crop_offsets(out, image, 4, "reflect")
    assert None not in offsets  # every output is a crop of the reflect-padded image
    assert len(set(offsets)) > 20  # drawn per image, not once per batch
    one = image[None]
    assert random_crop(one, 0) is one  # no padding: nothing to do


def test_flips_mirror_about_half_the_images_each_on_its_own() -> None:
    x = torch.rand(200, 3, 8, 8)
    out = random_flip(x)
    same = (out == x).flatten(1).all(1)
    mirrored = (out == x.flip(3)).flatten(1).all(1)
    assert (same ^ mirrored).all()  # each image is either kept or mirrored left-right
    assert 60 < mirrored.sum() < 140


def training(dm: object, on: bool) -> object:
    dm.trainer = SimpleNamespace(training=on)  # what on_after_batch_transfer reads of the trainer
    return dm


def test_cifar_augments_training_batches_only(tmp_path: Path) -> None:
    dm = CIFAR10DataModule(tmp_path, tmp_path, augment=True)
    image = torch.rand(3, 32, 32)
    x, y = image.expand(64, -1, -1, -1), torch.zeros(64, dtype=torch.long)
    out, _ = training(dm, True).on_after_batch_transfer((x, y), 0)
    plain = crop_offsets(out, image, 4, "reflect")
    mirrored = crop_offsets(out.flip(3), image, 4, "reflect")
    assert all(p is not None or m is not None for p, m in zip(plain, mirrored, strict=True))
    assert sum(m is not None for m in mirrored) > 10 and sum(p is not None for p in plain) > 10  # flips, per image
    assert len(set(plain + mirrored)) > 20  # crops, per image
    val, _ = training(dm, False).on_after_batch_transfer((x, y), 0)
    assert val is x  # validation and test: untouched


def test_cifar_flip_can_be_switched_off(tmp_path: Path) -> None:
    dm = CIFAR10DataModule(tmp_path, tmp_path, augment=True, augment_flip=False, augment_crop=0)
    x = torch.rand(16, 3, 32, 32)
    assert torch.equal(dm.augment_batch(x), x)


def test_mnist_shifts_by_two_pixels_and_never_flips(tmp_path: Path) -> None:
    dm = MNISTDataModule(tmp_path, tmp_path, augment=True)
    image = torch.rand(1, 28, 28)
    out, _ = training(dm, True).on_after_batch_transfer((image.expand(64, -1, -1, -1), torch.zeros(64)), 0)
    offsets = crop_offsets(out, image, 2, "replicate")
    assert None not in offsets and len(set(offsets)) > 10  # ±2 px shifts per image, none mirrored
