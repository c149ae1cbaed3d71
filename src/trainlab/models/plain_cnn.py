"""A deep plain convnet, no skip connections: the net of the init × activation study (LSUV paper, CIFAR-10)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from trainlab.models.blocks import BlockSpec
from trainlab.models.image_net import ImageNet


class PlainCNN(ImageNet):
    """[conv 3×3 → (BN) → activation] per width of `channels`, a 2×2 max pool after every `pool_every` convs,
    → global average pool → (Dropout) → Linear.

    Without batch norm (`regularization.batchnorm=false`, e.g. `regularization=none`) nothing rescales the
    signal between layers, so whether a deep one trains at all depends on the init and the activation.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (32, 32, 64, 64, 128, 128),
        pool_every: int = 2,
        activation: str = "relu",
        dropout: float = 0.0,
        channels_last: bool = False,
        compile: bool = False,
        tta_flip: bool = False,
        **block: Any,
    ) -> None:
        super().__init__()
        if not channels or any(c < 1 for c in channels) or pool_every < 1:
            raise ValueError(f"model.channels={list(channels)} and model.pool_every={pool_every} must be positive")
        spec = BlockSpec(activation, **block)
        layers: list[nn.Module] = []
        c_in, size = in_shape[0], min(in_shape[1:])
        for i, width in enumerate(channels, start=1):
            layer = nn.Conv2d(c_in, width * spec.pieces, 3, padding=1, bias=not spec.norm_before)
            layers += spec.block(layer, width, nn.BatchNorm2d)
            if i % pool_every == 0 and size >= 2:
                layers.append(nn.MaxPool2d(2))
                size //= 2
            c_in = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(c_in, num_classes))
        self.layers = nn.Sequential(*layers)
        self.set_switches(channels_last, compile, tta_flip)
