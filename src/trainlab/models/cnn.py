"""The course's Keras MNIST convnet, with its widths and dropouts as arguments; any input shape (MNIST, CIFAR-10)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from trainlab.models.blocks import BlockSpec
from trainlab.models.image_net import ImageNet


class CNN(ImageNet):
    """Conv(c1, 3×3) → Conv(c2, 3×3) → MaxPool 2 → Dropout → Flatten → Dense → Dropout → Dense(classes).

    `batchnorm` adds BatchNorm2d after each conv (before or after its activation); with maxout each conv or
    dense layer makes `maxout_pieces`× the channels or units and the activation takes their max.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        channels: Sequence[int] = (32, 64),
        dense: int = 128,
        activation: str = "relu",
        conv_dropout: float = 0.25,
        dense_dropout: float = 0.5,
        channels_last: bool = False,
        compile: bool = False,
        tta_flip: bool = False,
        **block: Any,
    ) -> None:
        super().__init__()
        spec = BlockSpec(activation, **block)  # batchnorm, batchnorm_order and the activation's parameters
        in_channels, height, width = in_shape
        layers: list[nn.Module] = []
        for out_channels in channels:
            conv = nn.Conv2d(in_channels, out_channels * spec.pieces, kernel_size=3, bias=not spec.norm_before)
            layers += spec.block(conv, out_channels, nn.BatchNorm2d)
            in_channels, height, width = out_channels, height - 2, width - 2
        layers += [nn.MaxPool2d(2), nn.Dropout(conv_dropout), nn.Flatten()]
        flat = in_channels * (height // 2) * (width // 2)
        layers += [nn.Linear(flat, dense * spec.pieces), spec.activation_module(), nn.Dropout(dense_dropout)]
        layers.append(nn.Linear(dense, num_classes))
        self.layers = nn.Sequential(*layers)
        self.set_switches(channels_last, compile, tta_flip)
