"""A small residual net for 32×32 images in the shape of David Page's ResNet-9 (the DAWNBench CIFAR-10 record)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from trainlab.models.blocks import BlockSpec
from trainlab.models.image_net import ImageNet, Residual, Scale


class ResNet(ImageNet):
    """prep conv(w0) → conv(w1), pool, residual(conv(w1), conv(w1)) → conv(w2), pool → conv(w3), pool,
    residual(conv(w3), conv(w3)) → global max pool → (Dropout) → Linear → ×0.125.

    Every conv is 3×3 and followed by the hidden block (BatchNorm with `batchnorm`, then the activation).
    `widths` = (w0, w1, w2, w3): Page's net is (64, 128, 256, 512); the default here is a quarter of its
    compute, (32, 64, 128, 256), so it trains on a CPU too.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        widths: Sequence[int] = (32, 64, 128, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        channels_last: bool = False,
        compile: bool = False,
        tta_flip: bool = False,
        **block: Any,
    ) -> None:
        super().__init__()
        if len(widths) != 4 or any(w < 1 for w in widths):
            raise ValueError(f"model.widths={list(widths)} must be 4 positive widths (prep, layer 1, 2, 3)")
        spec = BlockSpec(activation, **block)

        def conv(c_in: int, c_out: int) -> list[nn.Module]:
            layer = nn.Conv2d(c_in, c_out * spec.pieces, 3, padding=1, bias=not spec.norm_before)
            return spec.block(layer, c_out, nn.BatchNorm2d)

        w0, w1, w2, w3 = widths
        layers: list[nn.Module] = [*conv(in_shape[0], w0)]
        layers += [*conv(w0, w1), nn.MaxPool2d(2), Residual(*conv(w1, w1), *conv(w1, w1))]
        layers += [*conv(w1, w2), nn.MaxPool2d(2)]
        layers += [*conv(w2, w3), nn.MaxPool2d(2), Residual(*conv(w3, w3), *conv(w3, w3))]
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers += [nn.Linear(w3, num_classes, bias=False), Scale(0.125)]
        self.layers = nn.Sequential(*layers)
        self.set_switches(channels_last, compile, tta_flip)
