"""An airbench-style net (Keller Jordan's airbench94): a small stem and three wide conv groups with batch norm."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import nn

from trainlab.models.blocks import BlockSpec
from trainlab.models.image_net import ImageNet, Scale


class FastCNN(ImageNet):
    """stem conv 2×2 (`stem` channels) → activation → per width w of `widths`: [conv 3×3 → max pool 2 → (BN) →
    activation → conv 3×3 → (BN) → activation] → global max pool → Linear (no bias) → ×1/9.

    airbench94's widths are stem 24 and (64, 256, 256) with GELU. Its other tricks are not here: the stem is
    trained like every other layer (airbench initializes it to whiten patches and freezes it), and batch norm is
    PyTorch's with its default momentum.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        stem: int = 24,
        widths: Sequence[int] = (64, 256, 256),
        activation: str = "gelu",
        channels_last: bool = False,
        compile: bool = False,
        tta_flip: bool = False,
        **block: Any,
    ) -> None:
        super().__init__()
        if stem < 1 or not widths or any(w < 1 for w in widths):
            raise ValueError(f"model.stem={stem} and model.widths={list(widths)} must be positive")
        spec = BlockSpec(activation, **block)
        layers: list[nn.Module] = [nn.Conv2d(in_shape[0], stem * spec.pieces, 2), spec.activation_module()]
        c_in = stem
        for width in widths:
            first = nn.Conv2d(c_in, width * spec.pieces, 3, padding=1, bias=not spec.norm_before)
            layers += spec.block(nn.Sequential(first, nn.MaxPool2d(2)), width, nn.BatchNorm2d)
            second = nn.Conv2d(width, width * spec.pieces, 3, padding=1, bias=not spec.norm_before)
            layers += spec.block(second, width, nn.BatchNorm2d)
            c_in = width
        layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten(), nn.Linear(c_in, num_classes, bias=False), Scale(1 / 9)]
        self.layers = nn.Sequential(*layers)
        self.set_switches(channels_last, compile, tta_flip)
