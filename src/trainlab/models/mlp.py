"""A fully connected network: the course's workhorse for studying capacity and regularization."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from torch import Tensor, nn

from trainlab.models.blocks import BlockSpec


class MLP(nn.Module):
    """Flatten → [Linear → (BatchNorm) → activation → (Dropout)] per hidden size → Linear to the classes.

    Dropout comes after the activation, as the notes recommend. `batchnorm_order="after_activation"` moves
    BatchNorm behind the activation (Linear → activation → BN → Dropout). With maxout each Linear makes
    `maxout_pieces`× the units and the activation takes their max.
    """

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        **block: Any,
    ) -> None:
        super().__init__()
        if any(h < 1 for h in hidden):
            raise ValueError(f"model.hidden={list(hidden)} must hold positive sizes")
        spec = BlockSpec(activation, **block)  # batchnorm, batchnorm_order and the activation's parameters
        layers: list[nn.Module] = [nn.Flatten()]
        width = 1
        for size in in_shape:
            width *= size
        for size in hidden:
            linear = nn.Linear(width, size * spec.pieces, bias=not spec.norm_before)
            layers += spec.block(linear, size, nn.BatchNorm1d)
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
