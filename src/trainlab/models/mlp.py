"""A fully connected network: the course's workhorse for studying capacity and regularization."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from trainlab.models.activations import make_activation


class MLP(nn.Module):
    """Flatten → [Linear → (BatchNorm) → activation → (Dropout)] per hidden size → Linear to the classes."""

    def __init__(
        self,
        in_shape: Sequence[int],
        num_classes: int,
        hidden: Sequence[int] = (256, 256),
        activation: str = "relu",
        dropout: float = 0.0,
        batchnorm: bool = False,
    ) -> None:
        super().__init__()
        if any(h < 1 for h in hidden):
            raise ValueError(f"model.hidden={list(hidden)} must hold positive sizes")
        layers: list[nn.Module] = [nn.Flatten()]
        width = 1
        for size in in_shape:
            width *= size
        for size in hidden:
            layers.append(nn.Linear(width, size, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm1d(size))
            layers.append(make_activation(activation))
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.layers(x)
