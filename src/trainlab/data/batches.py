"""Mini-batches cut straight out of in-memory tensors.

A per-sample Dataset plus a collate function costs far more than the MLP step it feeds; indexing one big uint8
tensor with a permutation costs almost nothing, and on a GPU the whole epoch never leaves the device.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch
from torch import Tensor


def channel_view(per_channel: Tensor, ndim: int = 4) -> Tensor:
    """A per-channel vector (C,) shaped (1, C, 1, 1), to broadcast over a batch of images (N, C, H, W); with
    `ndim=2`, (1, F) for a batch of feature vectors (N, F) (a table's per-column scaling)."""
    return per_channel.view(1, -1, *([1] * (ndim - 2)))


def scale_inputs(images: Tensor, scale: Tensor, shift: Tensor) -> Tensor:
    """`images * scale + shift` in `scale`'s dtype: the one place stored uint8 values become network inputs.

    `scale` and `shift` broadcast over the batch (see `channel_view`); one fused kernel, no temporaries.
    """
    return torch.addcmul(shift, images.to(scale.dtype), scale)


class TensorBatches:
    """An iterable of `(x, y)` batches; images are stored as uint8 and scaled to float batch by batch.

    `scale` and `shift` are per-channel: `x = uint8 * scale + shift`, which covers every input scaling.
    With `shuffle`, pass e draws its permutation from a generator seeded with `seed + EPOCH_STRIDE * e`, so epochs
    differ but runs repeat; `epoch` (a callable, e.g. the trainer's current epoch) says which pass this is, so a
    resumed run sees the very permutations of an uninterrupted one (without it, passes are counted here).

    Under DDP (`world_size` > 1) every rank draws the same permutation and takes every `world_size`-th sample of it
    from position `rank`: the ranks' samples are disjoint and together cover the data once per pass. With `pad`
    (training) the order is first padded with its own start to a multiple of `world_size`, so every rank makes
    the same number of steps (as DistributedSampler does); without it (evaluation) nothing is repeated.
    The indices of the last batch are kept in `last_batch_indices` (a reference, no copy) for inspection.

    Stateful the way Lightning checkpoints a train loader: `state_dict()` says which pass is running and how many
    of its batches were served; after `load_state_dict()` the next pass of that epoch starts right after them, so
    a run resumed from a mid-epoch checkpoint sees exactly the batches of an uninterrupted one. (Lightning fetches
    no batch ahead from a loader with a length, so "served" is "trained on" when a checkpoint is saved.)
    """

    EPOCH_STRIDE = 1_000_003

    def __init__(
        self,
        images: Tensor,
        labels: Tensor,
        batch_size: int,
        scale: Tensor,
        shift: Tensor,
        shuffle: bool = False,
        seed: int = 0,
        epoch: Callable[[], int] | None = None,
        rank: int = 0,
        world_size: int = 1,
        pad: bool = False,
    ) -> None:
        self.images, self.labels = images, labels
        self.batch_size = batch_size
        self.scale = channel_view(scale.to(images.device), images.ndim)
        self.shift = channel_view(shift.to(images.device), images.ndim)
        self.shuffle = shuffle
        self.seed, self.epoch = seed, epoch
        self.passes = 0
        self.rank, self.world_size, self.pad = rank, world_size, pad
        self.last_batch_indices: Tensor | None = None
        self.pass_epoch, self.served = 0, 0  # the running pass and the batches it has served so far
        self.resume_at: tuple[int, int] | None = None  # (epoch, batches) from load_state_dict, for the next pass

    def state_dict(self) -> dict[str, int]:
        """Where the running pass is: its epoch and the batches served (what Lightning saves in a checkpoint)."""
        return {"epoch": self.pass_epoch, "batches": self.served}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Start the next pass after the batches `state` says were served, if that pass is of the same epoch."""
        self.resume_at = (int(state["epoch"]), int(state["batches"]))
        if self.epoch is None:
            self.passes = self.resume_at[0]

    def num_samples(self) -> int:
        """Samples this rank sees per pass."""
        n = len(self.labels)
        if self.world_size == 1:
            return n
        if self.pad:
            return -(-n // self.world_size)
        return len(range(self.rank, n, self.world_size))

    def __len__(self) -> int:
        return -(-self.num_samples() // self.batch_size)

    def order(self) -> Tensor | None:
        """This pass's sample indices for this rank (None: all samples in order, the fast path of one process)."""
        n = len(self.labels)
        order = None
        epoch = self.epoch() if self.epoch is not None else self.passes
        self.passes, self.pass_epoch = epoch + 1, epoch
        if self.shuffle:
            generator = torch.Generator().manual_seed(self.seed + self.EPOCH_STRIDE * epoch)
            order = torch.randperm(n, generator=generator, device="cpu")
        if self.world_size > 1:
            order = order if order is not None else torch.arange(n)
            if self.pad and n % self.world_size:
                order = torch.cat([order, order[: self.world_size - n % self.world_size]])
            order = order[self.rank :: self.world_size]
        return order.to(self.images.device) if order is not None else None

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        order = self.order()
        n = len(self.labels) if order is None else len(order)
        skip = 0
        if self.resume_at is not None and self.resume_at[0] == self.pass_epoch:
            skip = self.resume_at[1]
        self.resume_at, self.served = None, skip
        for start in range(skip * self.batch_size, n, self.batch_size):
            self.served += 1
            if order is None:
                x, y = self.images[start : start + self.batch_size], self.labels[start : start + self.batch_size]
                self.last_batch_indices = None
            else:
                take = order[start : start + self.batch_size]
                x, y = self.images[take], self.labels[take]
                self.last_batch_indices = take
            yield scale_inputs(x, self.scale, self.shift), y
