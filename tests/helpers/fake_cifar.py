"""Small CIFAR-10 look-alikes: python-pickle batch files of random images, and the pins that match them."""

from __future__ import annotations

import hashlib
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np

from trainlab.data.cifar10 import BatchPins

TRAIN = [f"data_batch_{i}" for i in range(1, 6)]


def write_batch(path: Path, data: np.ndarray, labels: list[int], **extra: object) -> None:
    """A batch file in the original layout (protocol 2, `batch_label`, `labels`, `data`)."""
    with open(path, "wb") as f:
        pickle.dump({"batch_label": path.name, "labels": labels, "data": data, **extra}, f, protocol=2)


def fake_cifar(folder: Path, per_batch: int = 4, seed: int = 0) -> tuple[dict[str, BatchPins], dict[str, BatchPins]]:
    """Write `folder/cifar-10-batches-py/` with `per_batch` random images per batch file; return the pins of its
    train and test batches, to put in place of `CIFAR10DataModule.train_batches` and `.test_batches`."""
    rng = np.random.default_rng(seed)
    batches = folder / "cifar-10-batches-py"
    batches.mkdir(parents=True, exist_ok=True)
    pins = {}
    for i, name in enumerate([*TRAIN, "test_batch"]):
        data = rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8)
        labels = [(i + j) % 10 for j in range(per_batch)]
        write_batch(batches / name, data, labels)
        pins[name] = BatchPins(
            hashlib.sha256(data.tobytes()).hexdigest(),
            hashlib.sha256(np.array(labels, dtype=np.uint8).tobytes()).hexdigest(),
            per_batch,
        )
    return {n: pins[n] for n in TRAIN}, {"test_batch": pins["test_batch"]}


def tar_gz(path: Path, source: Path | None, extra: dict[str, bytes] | None = None) -> str:
    """Pack the folder `source` (as its own name) and `extra` members (name → content) into `path`; its md5."""
    with tarfile.open(path, "w:gz") as tar:
        if source is not None:
            tar.add(source, arcname=source.name)
        for name, content in (extra or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return hashlib.md5(path.read_bytes()).hexdigest()
