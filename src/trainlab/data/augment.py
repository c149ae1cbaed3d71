"""Data augmentation done on whole batches of tensors: no per-sample Python, no host sync.

Every function draws one random choice per image on the batch's own device, so on a GPU the batch never leaves it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def random_crop(x: Tensor, padding: int, mode: str = "reflect", generator: torch.Generator | None = None) -> Tensor:
    """Pad each image of `x` (N, C, H, W) by `padding` px (`mode`: reflect, replicate, …) and crop it back to
    H × W at its own random offset: a shift of up to `padding` px in y and in x, per image."""
    if padding <= 0:
        return x
    n, _, height, width = x.shape
    padded = F.pad(x, (padding,) * 4, mode=mode)
    offsets = torch.randint(0, 2 * padding + 1, (2, n), device=x.device, generator=generator)
    rows = offsets[0, :, None] + torch.arange(height, device=x.device)  # (N, H)
    cols = offsets[1, :, None] + torch.arange(width, device=x.device)  # (N, W)
    batch = torch.arange(n, device=x.device)[:, None, None]
    # Advanced indexing puts the indexed dims first: (N, H, W, C) → back to (N, C, H, W).
    return padded.permute(0, 2, 3, 1)[batch, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)


def random_shift(x: Tensor, max_shift: int, generator: torch.Generator | None = None) -> Tensor:
    """Shift each image of `x` (N, C, H, W) by its own random (dy, dx), each in [-max_shift, max_shift] px.

    Pixels shifted in repeat the border (MNIST's border is background, so this is shifting onto background).
    """
    return random_crop(x, max_shift, mode="replicate", generator=generator)


def random_flip(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Mirror each image of `x` (N, C, H, W) left-right with probability 1/2, drawn per image."""
    flip = torch.rand(x.shape[0], device=x.device, generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], x.flip(3), x)
