"""CIFAR-10 from its python-pickle batch files, verified by the SHA-256 of the decoded arrays.

Local copies may be re-pickled (e.g. without the `filenames` field), so the pickle bytes are not pinned: the
uint8 pixel array (N×3072, channel-major rows) and the labels (as uint8) of each batch file are. Their
concatenations in batch order give the whole-set SHA-256s published with the data (see `SET_SHA256`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from trainlab.data.archives import extract_tar, read_pickle
from trainlab.data.augment import random_crop, random_flip
from trainlab.data.files import RemoteFile, cached_tensors, check_sha256, fetch
from trainlab.data.idx import DataFileError
from trainlab.data.in_memory import InMemoryDataModule

FOLDER = "cifar-10-batches-py"
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


@dataclass(frozen=True)
class BatchPins:
    """SHA-256 of one batch file's decoded pixel array and labels, and its number of images."""

    data: str
    labels: str
    count: int = 10000


# Per batch file; computed from ../shared/data/cifar10 after checking that their concatenations give SET_SHA256.
TRAIN_BATCHES = {
    "data_batch_1": BatchPins(
        "a50e8b48728e1667d682a807155c375279d5ae321fb12242c02e3104a6bc8b21",
        "d829dbdf32167c9d7b3687cee66d92d80d46c441308b5aca0d11e8b69e27dac9",
    ),
    "data_batch_2": BatchPins(
        "0b825e5592c3b72ea18d6ec2ff5f5b19d33e41a75f5039054a9bb87be3cf69a0",
        "5d18f7371ed35ea9ade77952fe958b0660a45cd6c8b8a8970030f21612cfd7e3",
    ),
    "data_batch_3": BatchPins(
        "c6ee1dd4601a69ec085d8ebf53ee6441775491a6839a0a9ae8fa198e88a3a429",
        "32cf77b0ee2e790b1c4384d2d82e42dc1571b87e67f6da8f444b2725b2973f65",
    ),
    "data_batch_4": BatchPins(
        "1f6b6c799cff375a9f8fae2fac909d51ee09f38a6a60eebb9e8fec6f47ddc48f",
        "d2815e3f8f656272864920fc0edde56b04ec9cf81bf397c0dd3069f4aea51aeb",
    ),
    "data_batch_5": BatchPins(
        "58e3bbf713e28357476a351d3a05d056372f94c681d04ca9d62a076fdf2a643b",
        "2ddf3ab27d5d04409c94ce7b56849c243129c10de1058ae0bfe14c77e934800c",
    ),
}
TEST_BATCHES = {
    "test_batch": BatchPins(
        "177777c33ba79825320efa646ad04a94bdc3c80e4ebe3bd21724f8cdfd4b9d56",
        "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
    ),
}
# The whole-set pins published with the data (../shared/data/README.md), for reference and for the test that
# checks the per-file pins above against them.
SET_SHA256 = {
    "train_data": "9d5c2eddadb0deff02c14c350c0385aab7b1d5ff1edfeb4997c8dc8644960111",
    "train_labels": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
    "test_data": "177777c33ba79825320efa646ad04a94bdc3c80e4ebe3bd21724f8cdfd4b9d56",
    "test_labels": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
}
# The official archive (its md5 as published); `sha256` is the pin of the train pixels it decodes to.
ARCHIVE = RemoteFile("cifar-10-python.tar.gz", md5="c58f30108f718f92721af3b95e74349a", sha256=SET_SHA256["train_data"])
MIRRORS = ["https://www.cs.toronto.edu/~kriz/"]


def array_sha256(array: np.ndarray | Tensor) -> str:
    values = array.numpy() if isinstance(array, Tensor) else array
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


def read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file's pixels (N×3072 uint8) and labels (N, uint8); `filenames` and other keys are ignored."""
    content = read_pickle(path)
    try:
        data = np.asarray(content["data"], dtype=np.uint8)
        labels = np.asarray(content["labels"], dtype=np.int64)
    except KeyError as err:
        raise ValueError(f"{path}: no {err} field; not a CIFAR batch file") from err
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(f"{path}: data of shape {data.shape} with {len(labels)} labels; expected N×3072 and N")
    return data, labels.astype(np.uint8)


class CIFAR10DataModule(InMemoryDataModule):
    """CIFAR-10: 50k training images (a seeded validation split comes off them, 5k by default) and the 10k test
    images, 3×32×32 RGB. Reads `<data_dir>/cifar10/cifar-10-batches-py/`, else downloads and extracts the official
    archive.

    Augmentation (`augment=true`, set by `regularization=augment`): a random crop of the image padded by
    `augment_crop` px (reflected) and, with `augment_flip`, a horizontal flip of every other image on average.
    """

    shape = (3, 32, 32)
    num_classes = 10
    classes = CLASSES
    archive = ARCHIVE
    train_batches = TRAIN_BATCHES
    test_batches = TEST_BATCHES

    def __init__(self, *args: Any, augment_crop: int = 4, augment_flip: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.augment_crop, self.augment_flip = augment_crop, augment_flip

    def augment_batch(self, x: Tensor) -> Tensor:
        x = random_crop(x, self.augment_crop)
        return random_flip(x) if self.augment_flip else x

    def default_mirrors(self) -> list[str]:
        return list(MIRRORS)

    def load(self) -> dict[str, Tensor]:
        pins = "".join(p.data[:4] for p in (*self.train_batches.values(), *self.test_batches.values()))
        return cached_tensors(self.cache_dir / f"cifar10-{pins}.pt", build=self._decode, verify=self._verify)

    def batch_folder(self) -> Path:
        """The folder of batch files: the local copy, else the official archive downloaded and extracted."""
        folder = self.data_dir / "cifar10"
        batches = folder / FOLDER
        missing = [name for name in (*self.train_batches, *self.test_batches) if not (batches / name).is_file()]
        if not missing:
            return batches
        if batches.is_dir():
            raise DataFileError(
                f"{batches} lacks {', '.join(missing)}. Fix: delete that folder so trainlab downloads and extracts "
                "the archive again, or copy the missing batch files there"
            )
        return extract_tar(fetch(self.archive, folder, self.mirrors), folder, FOLDER)

    def _decode(self) -> dict[str, Tensor]:
        folder = self.batch_folder()
        tensors = {}
        for split, batches in (("train", self.train_batches), ("test", self.test_batches)):
            images, labels = [], []
            for name, pins in batches.items():
                data, y = read_batch(folder / name)
                fix = f"delete {folder} so trainlab downloads the archive again, or copy intact batch files there"
                check_sha256(f"{folder / name} (pixels)", data.tobytes(), pins.data, fix=fix)
                check_sha256(f"{folder / name} (labels)", y.tobytes(), pins.labels, fix=fix)
                images.append(torch.from_numpy(data.reshape(-1, 3, 32, 32)))
                labels.append(torch.from_numpy(y.astype(np.int64)))
            tensors[f"{split}_images"], tensors[f"{split}_labels"] = torch.cat(images), torch.cat(labels)
        return tensors

    def _verify(self, tensors: dict[str, Tensor]) -> None:
        for split, batches in (("train", self.train_batches), ("test", self.test_batches)):
            start = 0
            for name, pins in batches.items():
                part = slice(start, start + pins.count)
                data = tensors[f"{split}_images"][part].reshape(pins.count, -1)
                labels = tensors[f"{split}_labels"][part].to(torch.uint8)
                if array_sha256(data) != pins.data or array_sha256(labels) != pins.labels:
                    raise ValueError(f"the cached {split} set does not match the pinned checksums of {name}")
                start += pins.count
