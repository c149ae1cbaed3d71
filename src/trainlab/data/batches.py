"""Mini-batches cut straight out of in-memory tensors.

A per-sample Dataset plus a collate function costs far more than the MLP step it feeds; indexing one big uint8
tensor with a permutation costs almost nothing, and on a GPU the whole epoch never leaves the device.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch import Tensor


class TensorBatches:
    """An iterable of `(x, y)` batches; images are stored as uint8 and scaled to float batch by batch.

    `scale` and `shift` are per-channel: `x = uint8 * scale + shift`, which covers every input scaling.
    With `shuffle`, each pass draws a fresh permutation from `generator`, so epochs differ but runs repeat.
    """

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        batch_size: int,
        scale: Tensor,
        shift: Tensor,
        shuffle: bool = False,
        generator: torch.Generator | None = None,
    ) -> None:
        self.images, self.labels = images, labels
        self.batch_size = batch_size
        self.scale = scale.to(images.device).view(1, -1, 1, 1)
        self.shift = shift.to(images.device).view(1, -1, 1, 1)
        self.shuffle = shuffle
        self.generator = generator

    def __len__(self) -> int:
        return -(-len(self.labels) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        n = len(self.labels)
        order = (
            torch.randperm(n, generator=self.generator, device="cpu").to(self.images.device) if self.shuffle else None
        )
        for start in range(0, n, self.batch_size):
            if order is None:
                x, y = self.images[start : start + self.batch_size], self.labels[start : start + self.batch_size]
            else:
                take = order[start : start + self.batch_size]
                x, y = self.images[take], self.labels[take]
            yield torch.addcmul(self.shift, x.float(), self.scale), y
