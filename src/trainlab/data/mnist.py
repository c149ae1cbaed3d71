"""MNIST from its four official IDX files, verified by the SHA-256 of their uncompressed content."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from trainlab.data.augment import random_shift
from trainlab.data.files import RemoteFile, cached_tensors, fetch, read_pinned
from trainlab.data.idx import idx_sha256, parse_idx, read_idx_bytes
from trainlab.data.in_memory import InMemoryDataModule

# md5: the official archives; sha256: their uncompressed IDX content (pinned in ../shared/data/README.md).
FILES = {
    "train_images": RemoteFile(
        "train-images-idx3-ubyte.gz",
        md5="f68b3c2dcbeaaa9fbdd348bbdeb94873",
        sha256="ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    ),
    "train_labels": RemoteFile(
        "train-labels-idx1-ubyte.gz",
        md5="d53e105ee54ea40749a09fcbcd1e9432",
        sha256="65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    ),
    "test_images": RemoteFile(
        "t10k-images-idx3-ubyte.gz",
        md5="9fb629c4189551a2d022fa330f9573f3",
        sha256="0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    ),
    "test_labels": RemoteFile(
        "t10k-labels-idx1-ubyte.gz",
        md5="ec29112dd5afa0611ce80d1b7f02629c",
        sha256="ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    ),
}

# Tried in order: the mirror torchvision uses first, the CVDF mirror, then Yann LeCun's original page.
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
]


class MNISTDataModule(InMemoryDataModule):
    """MNIST: 60k training images (a seeded validation split comes off them) and the official 10k test images.

    Augmentation (`augment=true`, set by `regularization=augment`): random shifts of up to `augment_shift` px.
    """

    shape = (1, 28, 28)
    num_classes = 10
    classes = tuple("0123456789")
    files = FILES

    def __init__(self, *args: Any, augment_shift: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.augment_shift = augment_shift

    def augment_batch(self, x: Tensor) -> Tensor:
        return random_shift(x, self.augment_shift)

    def default_mirrors(self) -> list[str]:
        return list(MIRRORS)

    def load(self) -> dict[str, Tensor]:
        pins = "".join(f.sha256[:8] for f in self.files.values())
        return cached_tensors(self.cache_dir / f"mnist-{pins}.pt", build=self._decode, verify=self._verify)

    def _decode(self) -> dict[str, Tensor]:
        folder = self.data_dir / "mnist"
        tensors = {}
        for key, file in self.files.items():
            path = fetch(file, folder, self.mirrors)
            content = read_pinned(path, file, read_idx_bytes)
            tensors[key] = parse_idx(content, str(path))
        return {
            "train_images": tensors["train_images"].unsqueeze(1),
            "train_labels": tensors["train_labels"].long(),
            "test_images": tensors["test_images"].unsqueeze(1),
            "test_labels": tensors["test_labels"].long(),
        }

    def _verify(self, tensors: dict[str, Tensor]) -> None:
        for key, file in self.files.items():
            array = tensors[key]
            array = array.squeeze(1) if key.endswith("images") else array.to(torch.uint8)
            if idx_sha256(array) != file.sha256:
                raise ValueError(f"{key} does not match the pinned checksum of {file.name}")
