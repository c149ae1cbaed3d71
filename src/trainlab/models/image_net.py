"""What the image nets share: a forward through `self.layers` and three speed/accuracy switches of the model config.

- `channels_last`: weights and inputs in NHWC memory format, the layout GPU tensor cores (and oneDNN) run fastest.
- `compile`: the layers go through `torch.compile` (compiled on the first batch; later ones reuse the kernels).
- `tta_flip`: test-time augmentation for mirror-symmetric data: in eval mode the logits are the mean of the
  image's and its left-right mirror's; training is untouched.
- `tta_translate` (fast_cnn): airbench's level-2 test-time augmentation: half the (flip-averaged) logits of the
  image, half the mean of those of its two copies shifted by one pixel diagonally (reflect-padded).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class ImageNet(nn.Module):
    """Base of the conv nets; a subclass builds `self.layers` and then calls `set_switches`."""

    layers: nn.Module

    def set_switches(
        self, channels_last: bool = False, compile: bool = False, tta_flip: bool = False, tta_translate: bool = False
    ) -> None:
        self.channels_last, self.tta_flip, self.tta_translate = channels_last, tta_flip, tta_translate
        if channels_last:
            self.to(memory_format=torch.channels_last)
        # Kept out of the module tree (a plain attribute): the state dict and parameters stay those of `layers`.
        self.__dict__["run_layers"] = torch.compile(self.layers) if compile else self.layers

    def forward(self, x: Tensor) -> Tensor:
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        if self.training:
            return self.run_layers(x)
        logits = self.flip_averaged(x)
        if self.tta_translate:
            padded = F.pad(x, (1, 1, 1, 1), mode="reflect")
            shifted = self.flip_averaged(padded[..., :-2, :-2]) + self.flip_averaged(padded[..., 2:, 2:])
            logits = logits / 2 + shifted / 4
        return logits

    def flip_averaged(self, x: Tensor) -> Tensor:
        logits = self.run_layers(x)
        return (logits + self.run_layers(x.flip(3))) / 2 if self.tta_flip else logits


class Residual(nn.Module):
    """x + body(x): the skip connection of a residual block (the body keeps the channel count)."""

    def __init__(self, *body: nn.Module) -> None:
        super().__init__()
        self.body = nn.Sequential(*body)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class Scale(nn.Module):
    """Multiply by a constant: ResNet-9 and airbench scale their logits down (0.125, 1/9) instead of a smaller init."""

    def __init__(self, factor: float) -> None:
        super().__init__()
        self.factor = factor

    def forward(self, x: Tensor) -> Tensor:
        return x * self.factor

    def extra_repr(self) -> str:
        return f"factor={self.factor}"
