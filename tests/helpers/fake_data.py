"""Small MNIST look-alikes: the four IDX files (gzip) of random images, with checksum pins that match them."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import torch

from trainlab.data import MNISTDataModule
from trainlab.data.files import RemoteFile
from trainlab.data.idx import write_idx


def fake_mnist(folder: Path, n_train: int = 60, n_test: int = 20) -> dict[str, RemoteFile]:
    """Write a tiny MNIST look-alike into `folder` and return pins (md5 of the .gz, sha256 of its content) for it,
    to put in place of `MNISTDataModule.files`. Labels cycle through 0-9; images are seeded random bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    arrays = {
        "train_images": torch.randint(0, 256, (n_train, 28, 28), dtype=torch.uint8, generator=gen),
        "train_labels": torch.arange(n_train, dtype=torch.uint8) % 10,
        "test_images": torch.randint(0, 256, (n_test, 28, 28), dtype=torch.uint8, generator=gen),
        "test_labels": torch.arange(n_test, dtype=torch.uint8) % 10,
    }
    pins = {}
    for key, file in MNISTDataModule.files.items():
        path = folder / file.name
        write_idx(path, arrays[key])
        content = gzip.decompress(path.read_bytes())
        pins[key] = RemoteFile(
            file.name, md5=hashlib.md5(path.read_bytes()).hexdigest(), sha256=hashlib.sha256(content).hexdigest()
        )
    return pins
